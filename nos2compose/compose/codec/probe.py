"""The probe's arguments: a job's health checks, word for word, in a healthcheck test."""

from __future__ import annotations

import re
import shlex
from typing import Any, NamedTuple

from ...model import RunOp, WebSocketCheck
from .. import contract as c

# -- the probe's arguments: the job's health checks, word for word -------------------------------------


SELF = "--self"  # the probe runs inside this op's own container: it asks the op at its network address


def probe_args(op: RunOp, host: str, inside: bool = False) -> list[str]:
    """The probe's arguments for every check of the op (all must pass), one named value each; `inside`:
    the probe runs in the op's own container, and asks `host` (the op) at the container's address on the
    job's network, as a node's probe reaches it from outside, never at 127.0.0.1."""
    args: list[str] = []
    for exposed in op.expose:
        for check in exposed.health_checks:
            if isinstance(check, WebSocketCheck):
                args += ["websocket", f"--url=ws://{host}:{exposed.port}/", f"--expect-text={check.expected_response}"]
            else:
                args += [
                    "http",
                    f"--method={check.method}",
                    f"--url=http://{host}:{exposed.port}{check.path}",
                    f"--expect-status={check.expected_status}",
                ]
                args += [f"--header={name}: {value}" for name, value in check.headers]
                if check.body is not None:
                    args.append(f"--body={check.body}")
            if not check.continuous:
                args.append("--startup-only")
    return [f"{SELF}={host}", *args] if inside and args else args


def probe_test(args: list[str], script: str = c.SCRIPT_PATHS[c.PROBE_CONFIG]) -> list[str]:
    """The healthcheck test that runs the probe with these arguments."""
    return ["CMD", "sh", script, *args]


SHELLS = {"sh", "bash", "ash", "dash"}


def read_probe_test(test: Any) -> list[str] | None:
    """The probe's arguments in a healthcheck test (`sh /nos2compose/probe.sh CHECK...`, exec or shell form),
    or None when the test is something else."""
    if not isinstance(test, list) or not test:
        return None
    if test[0] == "CMD-SHELL":
        try:
            argv = shlex.split(" ".join(str(t) for t in test[1:]))
        except ValueError:
            return None
    elif test[0] == "CMD":
        argv = [str(t) for t in test[1:]]
    else:
        return None
    if len(argv) >= 2 and argv[0].rsplit("/", 1)[-1] in SHELLS and argv[1] == c.SCRIPT_PATHS[c.PROBE_CONFIG]:
        return argv[2:]
    return None


class ProbeCheck(NamedTuple):
    """One check the probe makes, as a job's health check on `port`, asked of `host`."""

    host: str
    port: int
    check: dict


class ProbeArgsError(ValueError):
    """Probe arguments that are not a check convert writes (a hand edit)."""


_PROBE_URL = re.compile(r"(?P<scheme>https?|wss?)://(?P<host>\[[^\]]*\]|[^/:?#]*)(?::(?P<port>\d+))?(?P<path>.*)", re.S)
_OPTIONS = ("--method", "--url", "--expect-status", "--expect-text", "--body")


def read_probe_args(args: list[str], hosts: set[str] | None = None) -> tuple[list[ProbeCheck], list[str]]:
    """The checks the probe's arguments make, and what could not be read (one message each); with `hosts`,
    a check asking another host is left out too (the op itself goes by these names).

    `[--self=NAME] http --method=M --url=http://HOST:PORT/PATH --expect-status=N [--header=NAME: VALUE]...
    [--body=TEXT] [--startup-only]` and `websocket --url=ws://HOST:PORT/ --expect-text=T [--startup-only]`."""
    words: list[list[str]] = []
    problems: list[str] = []
    for a in args:
        if not words and a.startswith(f"{SELF}="):  # where the probe runs, not what the job checks
            continue
        if a in ("http", "websocket"):
            words.append([a])
        elif words:
            words[-1].append(a)
        else:
            problems.append(f"probe argument {a!r} comes before any check: ignored")
    checks = []
    for kind, *options in words:
        try:
            checks.append(_probe_check(kind, options, hosts))
        except ProbeArgsError as exc:
            problems.append(f"{kind} check `{shlex.join([kind, *options])}`: {exc}: left out")
    return checks, problems


def _probe_options(options: list[str]) -> tuple[dict[str, str], dict[str, str], bool]:
    values: dict[str, str] = {}
    headers: dict[str, str] = {}
    startup = False
    for o in options:
        name, eq, value = o.partition("=")
        if o == "--startup-only":
            startup = True
        elif name == "--header" and eq:
            key, sep, text = value.partition(": ")
            if not sep:
                key, _, text = value.partition(":")
                text = text.lstrip(" ")
            headers[key] = text
        elif name in _OPTIONS and eq:
            values[name[2:]] = value
        else:
            raise ProbeArgsError(f"the probe has no option {o!r}")
    return values, headers, startup


METHODS = ("GET", "POST", "PUT", "DELETE")  # what a node's http check can send


def _probe_check(kind: str, options: list[str], hosts: set[str] | None) -> ProbeCheck:
    values, headers, startup = _probe_options(options)
    m = _PROBE_URL.fullmatch(values.get("url", ""))
    if m is None:
        raise ProbeArgsError("its --url is not http://HOST:PORT/PATH")
    if hosts is not None and m.group("host").lower() not in hosts:
        raise ProbeArgsError(f"it asks host {m.group('host').lower() or '(none)'}, not the op itself")
    want = "ws" if kind == "websocket" else "http"
    if m.group("scheme") != want:
        raise ProbeArgsError(f"a {kind} check asks {want}://, not {m.group('scheme')}://")
    host, port = m.group("host").lower(), int(m.group("port") or 80)
    if kind == "websocket":
        if m.group("path") not in ("", "/"):
            raise ProbeArgsError("a node's websocket check asks the path /, and a job cannot name another")
        if "expect-text" not in values:
            raise ProbeArgsError("it has no --expect-text")
        check = {"type": "websocket", "expected_response": values["expect-text"], "continuous": not startup}
        return ProbeCheck(host, port, check)
    method = values.get("method", "GET")
    if method not in METHODS:
        raise ProbeArgsError(f"a node's check cannot send {method}")
    try:
        status = int(values["expect-status"])
    except (KeyError, ValueError):
        raise ProbeArgsError("it has no --expect-status=N") from None
    check = {"type": "http", "path": m.group("path"), "method": method, "expected_status": status}
    if headers:
        check["headers"] = headers
    if "body" in values:
        check["body"] = values["body"]
    check["continuous"] = not startup
    return ProbeCheck(host, port, check)


# -- what the probe says: its last line in Docker's health log ------------------------------------------

_LOOPBACK_ONLY = re.compile(r"\bport (\d+) answers only on 127\.0\.0\.1 \(loopback\)")


def loopback_only_port(answer: str) -> int | None:
    """The port the probe found answering only on the container's loopback (scripts/probe.sh's note:
    `port P answers only on 127.0.0.1 (loopback) …`), or None."""
    m = _LOOPBACK_ONLY.search(answer)
    return int(m.group(1)) if m else None
