"""Credentials in a job: the published shapes (NOS201), random values under secrets' names (NOS202), passwords in
URLs (NOS203); placeholders that must not fire; masking; detect-secrets loaded only when a value is suspicious.

Token-shaped values are made here at run time from a seeded generator, so no credential-shaped text is committed.
"""

from __future__ import annotations

import base64
import json
import random
import string
import subprocess
import sys

import pytest
from helpers import job, run_op

from nos2compose.diagnostics import format_path
from nos2compose.lint.secrets import find_secrets, is_placeholder, mask, masked

RNG = random.Random(20240519)
ALNUM = string.ascii_letters + string.digits


def rand(n: int, alphabet: str = ALNUM) -> str:
    return "".join(RNG.choice(alphabet) for _ in range(n))


def _jwt() -> str:
    part = lambda obj: base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")  # noqa: E731
    return (
        f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part({'sub': rand(8), 'iat': 1716000000})}.{rand(43, ALNUM + '-_')}"
    )


SHAPES = {  # what it is -> a value of its shape
    "a Hugging Face token": "hf_" + rand(34, string.ascii_letters),
    "an OpenAI API key": "sk-proj-" + rand(40, ALNUM + "-_") + rand(20) + "T3BlbkFJ" + rand(20),
    "an Anthropic API key": "sk-ant-api03-" + rand(93, ALNUM + "-_") + "AA",
    "an AWS access key": "AKIA" + rand(16, string.ascii_uppercase + string.digits),
    "a GitHub token": "ghp_" + rand(36),
    "a GitHub fine-grained token": "github_pat_" + rand(22) + "_" + rand(59),
    "a GitLab token": "glpat-" + rand(20, ALNUM + "-_"),
    "a Slack token": "xoxb-"
    + rand(12, string.digits)
    + "-"
    + rand(13, string.digits)
    + "-"
    + rand(24, string.ascii_lowercase + string.digits),
    "a Stripe key": "sk_live_" + rand(24),
    "a Google API key": "AIza" + rand(35, ALNUM + "-_"),
    "a SendGrid API key": "SG." + rand(22) + "." + rand(43),
    "a JSON Web Token": _jwt(),
    "a private key": "-----BEGIN OPENSSH PRIVATE KEY-----\n" + rand(64) + "\n-----END OPENSSH PRIVATE KEY-----",
}


def found(data: dict) -> dict[str, tuple[str, str]]:
    """path -> (code, kind) of every secret found."""
    return {format_path(s.path): (s.code, s.kind) for s in find_secrets(data)}


@pytest.mark.parametrize("kind", sorted(SHAPES))
def test_every_published_shape_is_found_in_env(kind):
    data = job(run_op("a", env={"SOME_VALUE": SHAPES[kind]}))
    assert found(data) == {"$.ops[0].args.env.SOME_VALUE": ("NOS201", kind)}


def test_shapes_are_found_in_every_place_the_issue_names():
    hf, gh, aws = SHAPES["a Hugging Face token"], SHAPES["a GitHub token"], SHAPES["an AWS access key"]
    check = {"type": "http", "path": "/", "method": "POST", "expected_status": 200, "continuous": False}
    data = job(
        run_op(
            "a",
            cmd=["serve", f"--hf {hf}"],
            entrypoint=["/bin/sh", "-c", f"export GH={gh}; exec app"],
            expose=[{"port": 80, "health_checks": [{**check, "headers": {"X-Key": aws}, "body": {"key": hf}}]}],
            resources=[{"type": "S3", "url": f"https://bucket.example/p?AWSAccessKeyId={aws}", "target": "/data"}],
        ),
        **{"global": {"variables": {"V": gh}}},
    )
    assert set(found(data)) == {
        "$.ops[0].args.cmd[1]",
        "$.ops[0].args.entrypoint[2]",
        '$.ops[0].args.expose[0].health_checks[0].headers["X-Key"]',
        "$.ops[0].args.expose[0].health_checks[0].body.key",
        "$.ops[0].args.resources[0].url",
        "$.global.variables.V",
    }


PLACEHOLDERS = [
    "MY_SECRET_TOKEN",
    "<your-token>",
    "<your-hf-token>",
    "${HF_TOKEN}",
    "$HF_TOKEN",
    "%%global.variables.HF_TOKEN%%",
    "{{ hf_token }}",
    "",
    "''",
    "hf_" + "x" * 34,
    "AKIAIOSFODNN7EXAMPLE",
    "your-api-key-here",
    "sk-...",
    "changeme",
    "abcdefghijklmnopqrstuvwxyz",
]


@pytest.mark.parametrize("value", PLACEHOLDERS)
def test_placeholders_never_fire(value):
    data = job(
        run_op("a", env={"HF_TOKEN": value, "API_KEY": value}, cmd=["serve", "--token", value]),
        **{"global": {"variables": {"OPENCLAW_GATEWAY_TOKEN": value}}},
    )
    assert found(data) == {}
    assert is_placeholder(value)


def test_a_random_value_under_a_secrets_name_is_a_weaker_hint():
    key, password, bearer = rand(40), rand(24), rand(32)
    check = {"type": "http", "path": "/", "method": "GET", "expected_status": 200, "continuous": False}
    data = job(
        run_op(
            "a",
            env={"MY_API_KEY": key, "DB_PASSWORD": password, "MAX_TOKENS": "4096", "CACHE_KEY": "llama-3-8b-instruct"},
            cmd=["serve", "--api-key", key, f"--hfToken={password}", "--model", "meta-llama/Llama-3.1-8B-Instruct"],
            expose=[{"port": 80, "health_checks": [{**check, "headers": {"Authorization": f"Bearer {bearer}"}}]}],
        ),
        **{"global": {"env": {"SECRET": rand(20)}, "variables": {"MODEL_KEY": "gpt-oss:120b"}}},
    )
    assert found(data) == {
        "$.ops[0].args.env.MY_API_KEY": ("NOS202", "MY_API_KEY's value"),
        "$.ops[0].args.env.DB_PASSWORD": ("NOS202", "DB_PASSWORD's value"),
        "$.ops[0].args.cmd[2]": ("NOS202", "api-key's value"),
        "$.ops[0].args.cmd[3]": ("NOS202", "hfToken's value"),
        "$.ops[0].args.expose[0].health_checks[0].headers.Authorization": ("NOS202", "Authorization's value"),
        "$.global.env.SECRET": ("NOS202", "SECRET's value"),
    }


def test_credential_fields_fire_whatever_the_value_looks_like_and_urls_with_passwords():
    data = job(
        run_op(
            "a",
            authentication={"docker": {"username": "me", "password": "hunter2hunter"}},
            resources=[{"type": "HF", "repo": "org/m", "target": "/m", "accessToken": "plainvalue"}],
            env={"DATABASE_URL": "postgres://app:" + rand(16) + "@db:5432/app", "OTHER_URL": "postgres://db:5432/app"},
        )
    )
    assert found(data) == {
        "$.ops[0].args.authentication.docker.password": ("NOS202", "the registry password"),
        "$.ops[0].args.resources[0].accessToken": ("NOS202", "the resource's accessToken"),
        "$.ops[0].args.env.DATABASE_URL": ("NOS203", "a password in a URL"),
    }


def test_masking_leaves_at_most_a_short_prefix_even_of_a_cut_value():
    hf = SHAPES["a Hugging Face token"]
    assert masked(hf) == hf[:5] + "…"
    text = f'the node reads "{{\\"t\\": \\"{hf[:30]}' + '"}" as JSON, and ' + hf + " again"
    out = mask(text, [hf])
    assert hf not in out and hf[5:13] not in out and hf[:30] not in out
    assert out.endswith(" again") and "as JSON, and " in out
    assert mask("nothing to hide", [hf]) == "nothing to hide"
    assert mask("short pw12 here", ["pw12"]) == "short p… here"


def _imports_detect_secrets(data: dict, tmp_path) -> bool:
    path = tmp_path / "job.json"
    path.write_text(json.dumps(data))
    code = (
        "import sys, json; from nos2compose.lint import lint_job; "
        f"lint_job(json.load(open({str(path)!r}))); print('detect_secrets' in sys.modules)"
    )
    return (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
        == "True"
    )


def test_detect_secrets_is_imported_only_for_a_suspicious_value(tmp_path):
    clean = job(
        run_op(
            "a", env={"HF_TOKEN": "<your-hf-token>", "MODEL": "deepseek-ai/DeepSeek-R1"}, cmd=["--api-key", rand(32)]
        )
    )
    assert not _imports_detect_secrets(clean, tmp_path)  # a random value under a name: no import needed
    assert _imports_detect_secrets(job(run_op("a", env={"T": SHAPES["a GitHub token"]})), tmp_path)
