"""The published shapes of well-known credentials, matched in one string (secrets.py calls this only for a string
its cheap SUSPECT pattern picked out: importing detect-secrets costs about 100 ms).

detect-secrets' plugins cover OpenAI (project and service-account keys too), AWS, GitHub's classic tokens,
GitLab, Slack, Stripe, SendGrid, PyPI, JWTs, private keys and passwords in URLs: their patterns are used as
they are. The plugins' own analyze_string yields a regex's first group, which for some shapes is only the
prefix (GitHub's `ghp`), so each match is taken whole here, or by the group that holds the secret.
The shapes detect-secrets 1.5.0 lacks are written here: Hugging Face, Anthropic, Google API keys and GitHub's
fine-grained tokens.
"""

from __future__ import annotations

import re

from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.basic_auth import BasicAuthDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.jwt import JwtTokenDetector
from detect_secrets.plugins.openai import OpenAIDetector
from detect_secrets.plugins.private_key import PrivateKeyDetector
from detect_secrets.plugins.pypi_token import PypiTokenDetector
from detect_secrets.plugins.sendgrid import SendGridDetector
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.stripe import StripeDetector

# (detector, what it finds, which group holds the secret for each of its patterns (0: the whole match))
LIBRARY = (
    (OpenAIDetector, "an OpenAI API key", (0,)),
    (AWSKeyDetector, "an AWS access key", (0, 1)),
    (GitHubTokenDetector, "a GitHub token", (0,)),
    (GitLabTokenDetector, "a GitLab token", (0,) * 7),
    (SlackDetector, "a Slack token", (0, 0)),
    (StripeDetector, "a Stripe key", (0,)),
    (SendGridDetector, "a SendGrid API key", (0,)),
    (PypiTokenDetector, "a PyPI token", (0, 0)),
    (JwtTokenDetector, "a JSON Web Token", (0,)),
)
OWN = (
    (re.compile(r"(?<![A-Za-z0-9_])hf_[A-Za-z]{34}(?![A-Za-z0-9])"), "a Hugging Face token"),
    (re.compile(r"sk-ant-(?:api|admin)\d\d-[A-Za-z0-9_-]{80,}"), "an Anthropic API key"),
    (re.compile(r"AIza[0-9A-Za-z_-]{35}"), "a Google API key"),
    (re.compile(r"github_pat_[A-Za-z0-9_]{70,}"), "a GitHub fine-grained token"),
)


def known_shapes(text: str) -> list[tuple[str, str, str]]:
    """(code, what it is, the secret) for each credential of a known shape in `text`."""
    found: list[tuple[str, str, str]] = []
    for detector, kind, groups in LIBRARY:
        for regex, group in zip(detector.denylist, groups, strict=True):
            for m in regex.finditer(text):
                value = m.group(group) if m.lastindex and group else m.group(0)
                if detector is JwtTokenDetector and not JwtTokenDetector.is_formally_valid(value):
                    continue
                found.append(("NOS201", kind, value))
    for regex, kind in OWN:
        found.extend(("NOS201", kind, m.group(0)) for m in regex.finditer(text))
    if any(regex.search(text) for regex in PrivateKeyDetector.denylist):
        found.append(("NOS201", "a private key", text.strip()))  # the whole block is the secret
    for m in BasicAuthDetector.denylist[0].finditer(text):
        found.append(("NOS203", "a password in a URL", m.group(1)))
    return found
