"""Credentials in a job definition (NOS201-203), and masking them in every message.

A job posted to Nosana is public unless it is confidential. Known token shapes are looked for in every string
of the job; a random-looking value under a secret's name (NOS202) only where names are given: env,
global.variables, health-check headers, `--flag value` in cmd and entrypoint, and the job's credential fields.
The whole job is searched once, as JSON, for what every shape holds (a run of 16 token characters, or `://`
and `@`); then each string meets one pattern of the shapes' tell-tale parts (SUSPECT); only a string that
matches it loads shapes.py and, with it, detect-secrets, so a job without suspicious values never imports it.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from functools import cache
from itertools import pairwise
from typing import Any, NamedTuple

from ..diagnostics import Diagnostic, Path
from .health import checks_of
from .walk import RawOp, finding, op_id_at, run_ops, section, strings

# The shapes' tell-tale parts (shapes.py has the full patterns): a string without any never holds one.
SUSPECT = re.compile(
    r"hf_[A-Za-z]{30}|(?<![A-Za-z0-9])sk-|[rs]k_live_|(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{12}"
    r"|gh[pousr]_[A-Za-z0-9_]{30}|github_pat_|gl(?:pat|dt|ft|soat|rt|cbt|imt|ptt|agent|oas)-|GR1348941"
    r"|[Xx][Oo][Xx][aboprsABOPRS]-|hooks\.slack\.com|AIza[0-9A-Za-z_-]{30}|eyJ[A-Za-z0-9_=-]{8,}\.[A-Za-z0-9_=-]{8,}"
    r"|PRIVATE KEY|PuTTY-User-Key|SG\.[A-Za-z0-9_-]{20}|pypi-AgE|[Aa][Ww][Ss].{0,40}[\"']|://[^\s/@]*:[^\s/@]+@"
)
_LONG_RUN = re.compile(r"[A-Za-z0-9_\-+/=]{16,}")  # one character class: the fastest search over a big job
# Names of secrets, as words of an env name, a variable, a header or a flag (HF_TOKEN, apiKey, --hf-token).
SECRET_WORDS = {"TOKEN", "SECRET", "PASSWORD", "PASSWD", "PWD", "PASS", "KEY", "APIKEY", "CREDENTIAL", "CREDENTIALS"}
SECRET_WORDS |= {"AUTH", "AUTHORIZATION", "ACCESSTOKEN", "PRIVATEKEY", "SECRETKEY", "ACCESSKEY"}
_TEMPLATED = re.compile(r"%%|\$\{|\{\{|<[^<>]*>|^\$[A-Za-z_]")
_PLACEHOLDER_WORDS = ("your", "example", "placeholder", "changeme", "change_me", "change-me", "redacted", "dummy")
_PLACEHOLDER_WORDS += ("replace", "insert", "xxxx", "****", "...", "…", "sample", "fake", "todo", "here")
_CAPS_NAME = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")  # MY_SECRET_TOKEN: the name of a value, not one
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_\-+/=~]+")
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_AUTH_SCHEME = re.compile(r"^(?:bearer|basic|token|apikey)\s+", re.IGNORECASE)
_FLAG = re.compile(r"^-{1,2}([A-Za-z][\w.-]*)(?:=(.*))?$|^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
MIN_ENTROPY = 3.5  # bits per character; a random 16-character token has about 3.8, words and slugs less


class Secret(NamedTuple):
    code: str  # NOS201, NOS202 or NOS203
    path: Path
    kind: str  # what it is, for the message: "a Hugging Face token", "HF_TOKEN's value", "the registry password"
    value: str  # the credential itself: only ever used to mask it, never printed
    hint: bool = False  # found by its name alone (NOS202): it looks random


def find_secrets(data: Any) -> list[Secret]:
    """Every credential of the job, once per place (a known shape wins over a name's hint)."""
    found: dict[tuple[Path, str], Secret] = {}
    for path, text in strings(data, ()) if _suspicious(data) else ():
        if SUSPECT.search(text):
            from .shapes import known_shapes  # detect-secrets: only now

            for code, kind, value in known_shapes(text):
                if not is_placeholder(value):
                    found.setdefault((path, value), Secret(code, path, kind, value))
    shaped = {path for path, _ in found}
    for path, kind, value, field in _named_values(data):
        if path not in shaped and _secret_under_name(value, field):
            value = _bare(value)
            found.setdefault((path, value), Secret("NOS202", path, kind, value, not field))
    return list(found.values())


def _suspicious(data: Any) -> bool:
    """Whether any string may hold a shape, from one search over the whole job as JSON (made at C speed): every
    shape holds a run of 16 token characters, but a password in a URL, which needs `://` and `@`."""
    try:
        whole = json.dumps(data, ensure_ascii=False, default=str, skipkeys=True)
    except (TypeError, ValueError, RecursionError):  # not JSON's data (the compiler says so): look at each string
        return True
    return _LONG_RUN.search(whole) is not None or ("://" in whole and "@" in whole)


def secret_findings(data: Any, secrets: Iterable[Secret]) -> Iterator[Diagnostic]:
    """NOS201-203 for the secrets found: each names what it is, with at most a masked prefix of it."""
    for secret in secrets:
        shown = masked(secret.value)
        if secret.code == "NOS203":
            what = f"a URL with a password in it (…:{shown}@…)"
        elif secret.hint:
            what = f"{secret.kind} ({shown}) looks random, most likely a secret"
        elif secret.code == "NOS202":
            what = f"{secret.kind} ({shown}) is written in the job"
        else:
            what = f"{secret.kind} ({shown})"
        yield finding(
            secret.code,
            secret.path,
            f"{what}: a job definition posted to Nosana is public unless the job is confidential, so anyone can "
            "read and use it; make the job confidential, or supply the value when the job runs (and revoke this one)",
            op_id_at(data, secret.path),
        )


def masked(value: str) -> str:
    """A short prefix and an ellipsis: enough to recognize which credential, never enough to use it."""
    return value[: min(5, len(value) // 4)] + "…"


def mask(text: str, values: Iterable[str]) -> str:
    """`text` with every credential in `values` masked, also where a message shows only part of one (a value cut
    at 60 characters): any run of 8 or more characters taken from a credential is replaced."""
    values = [v for v in values if v]
    if not values or not text:
        return text
    for value in sorted((v for v in values if len(v) < 8), key=len, reverse=True):
        text = text.replace(value, masked(value))
    grams = {v[i : i + 8] for v in values if len(v) >= 8 for i in range(len(v) - 7)}
    marked = [False] * len(text)
    for i in range(len(text) - 7):
        if text[i : i + 8] in grams:
            marked[i : i + 8] = [True] * 8
    if not any(marked):
        return text
    out, i = [], 0
    while i < len(text):
        if not marked[i]:
            out.append(text[i])
            i += 1
            continue
        end = i
        while end < len(text) and marked[end]:
            end += 1
        out.append(masked(text[i:end]))
        i = end
    return "".join(out)


def is_placeholder(value: str) -> bool:
    """A value that stands for a credential without being one: a literal or variable, <your-token>,
    MY_SECRET_TOKEN, xxxx, an example."""
    value = value.strip().strip("'\"")
    low = value.lower()
    if not value or _TEMPLATED.search(value) or any(word in low for word in _PLACEHOLDER_WORDS):
        return True
    if _CAPS_NAME.fullmatch(value) and sum(c.isdigit() for c in value) <= 2:
        return True
    return len(value) >= 8 and (len(set(value)) < 5 or _ascending(low))


def looks_random(value: str) -> bool:
    """A token-like value with the entropy of a random one (not a word, a slug, a path, a version, a host)."""
    if not 16 <= len(value) <= 4096 or not _TOKEN_CHARS.fullmatch(value):
        return False
    if "/" in value and not _BASE64.fullmatch(value):
        return False  # a path or a model id
    if max(len(part) for part in re.split(r"[-_]", value)) < 12:
        return False  # words joined: llama-3-8b-instruct, my_model_v2 (a UUID has a part of 12)
    classes = any(c.islower() for c in value) + any(c.isupper() for c in value) + any(c.isdigit() for c in value)
    return classes >= 2 and entropy(value) >= MIN_ENTROPY


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def is_secret_name(name: Any) -> bool:
    """Whether a name says a secret (a YAML job may have keys that are numbers or null: never)."""
    return isinstance(name, str) and _is_secret_name(name)


@cache
def _is_secret_name(name: str) -> bool:
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).upper()
    parts = [p for p in re.split(r"[^A-Z0-9]+", words) if p]
    return "SECRET" in words or "PASSWORD" in words or any(p in SECRET_WORDS or p.endswith("TOKEN") for p in parts)


def _secret_under_name(value: Any, field: bool) -> bool:
    if not isinstance(value, str):
        return False
    bare = _bare(value)
    if not bare or is_placeholder(bare):
        return False
    return len(bare) >= 4 if field else looks_random(bare)


def _bare(value: str) -> str:
    """The credential in a value: quotes and an Authorization scheme (Bearer, Basic) taken off."""
    return _AUTH_SCHEME.sub("", value.strip()).strip("'\"")


def _named_values(data: Any) -> Iterator[tuple[Path, str, Any, bool]]:
    """(path, what it is, value, is a credential field) for each place where a value has a secret's name."""
    for key in ("env", "variables"):
        for name, value in section(data, "global", key).items():
            if is_secret_name(name):
                yield ("global", key, name), f"{name}'s value", value, False
    for op in run_ops(data):
        yield from _named_in_op(op)


def _named_in_op(op: RawOp) -> Iterator[tuple[Path, str, Any, bool]]:
    env = op.args.get("env")
    for name, value in env.items() if isinstance(env, dict) else ():
        if isinstance(name, str) and is_secret_name(name):
            yield op.at("env", name), f"{name}'s value", value, False
    for path, check in checks_of(op):
        headers = check.get("headers")
        for name, value in headers.items() if isinstance(headers, dict) else ():
            if isinstance(name, str) and is_secret_name(name):
                yield (*path, "headers", name), f"{name}'s value", value, False
    for key in ("cmd", "entrypoint"):
        yield from _flag_values(op, key)
    docker = section(op.args, "authentication", "docker")
    if "password" in docker:
        yield op.at("authentication", "docker", "password"), "the registry password", docker["password"], True
    resources = op.args.get("resources")
    for i, res in enumerate(resources if isinstance(resources, list) else ()):
        if isinstance(res, dict) and "accessToken" in res:
            yield op.at("resources", i, "accessToken"), "the resource's accessToken", res["accessToken"], True
        secret_key = section(res, "IAM").get("SECRET_ACCESS_KEY")
        if secret_key is not None:
            yield op.at("resources", i, "IAM", "SECRET_ACCESS_KEY"), "the resource's S3 secret key", secret_key, True


def _flag_values(op: RawOp, key: str) -> Iterator[tuple[Path, str, Any, bool]]:
    """`--token VALUE`, `--token=VALUE` and `TOKEN=VALUE` in an array's items, or in a string's words."""
    written = op.args.get(key)
    if isinstance(written, str):
        words = [(op.at(key), w) for w in written.split()]
    elif isinstance(written, list):
        words = [(op.at(key, i), w) for i, w in enumerate(written) if isinstance(w, str)]
    else:
        return
    for n, (path, word) in enumerate(words):
        m = _FLAG.match(word) if word.startswith("-") or "=" in word else None
        if m is None:
            continue
        name, value = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        if value is None and n + 1 < len(words) and not words[n + 1][1].startswith("-"):
            path, value = words[n + 1]
        if value is not None and is_secret_name(name):
            yield path, f"{name}'s value", value, False


def _ascending(low: str) -> bool:
    """abcdefgh, 12345678: a sequence someone typed, not a credential."""
    steps = sum(1 for a, b in pairwise(low) if ord(b) - ord(a) == 1)
    return steps >= 0.8 * (len(low) - 1)
