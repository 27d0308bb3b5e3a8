"""Compose healthchecks -> Nosana http health checks.

A node probes an exposed port itself, with an HTTP request from a sidecar. So a
Compose test becomes a check only when it is an HTTP call that a node could
make in its place: curl or wget against the container itself (localhost,
127.0.0.1, 0.0.0.0, ::1 or its own name) on a port the op exposes. Anything
else is left out with a warning naming the test.
"""

from __future__ import annotations

import re
import shlex
from urllib.parse import urlsplit

from ..compose.contract import PROBE_CONFIG, SCRIPT_PATHS
from ..diagnostics import Diagnostics
from .http_commands import _SHELLS, HttpProbe, NotHttp, http_probe, render_test
from .model import RunOp

LOCAL_HOSTS = {"localhost", "127.0.0.1", "0.0.0.0", "::1", "[::1]"}
METHODS = {"GET", "POST", "PUT", "DELETE"}
TIMING_KEYS = ("interval", "timeout", "retries", "start_period", "start_interval")
PROBE = SCRIPT_PATHS[PROBE_CONFIG]  # nos2compose's own probe: its arguments are the job's checks, word for word
_PROBE_URL = re.compile(r"(?P<scheme>https?|wss?)://(?P<host>\[[^\]]*\]|[^/:?#]*)(?::(?P<port>\d+))?(?P<path>.*)", re.S)


def check_for(probe: HttpProbe, self_names: set[str]) -> tuple[int, dict]:
    """(port, Nosana http check) for a probe aimed at the container itself; raises NotHttp otherwise."""
    url = probe.url if "://" in probe.url else "http://" + probe.url
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise NotHttp(f"its URL does not parse ({exc})") from None
    if parts.scheme != "http":
        raise NotHttp(f"it asks over {parts.scheme}; a node's check speaks plain HTTP")
    host = (parts.hostname or "").lower()
    if host not in LOCAL_HOSTS and host not in self_names:
        raise NotHttp(f"it asks host {host or '(none)'}, not the container itself")
    if probe.method not in METHODS:
        if probe.method != "HEAD":
            raise NotHttp(f"a node's check cannot send {probe.method}")
        probe.method = "GET"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    check: dict = {"type": "http", "path": path, "method": probe.method, "expected_status": 200}
    if probe.headers:
        check["headers"] = dict(probe.headers)
    if probe.body is not None and probe.method in ("POST", "PUT"):
        check["body"] = probe.body
    check["continuous"] = True
    return (port if port is not None else 80), check


def probe_args(test) -> list[str] | None:
    """The arguments of nos2compose's probe (`sh /nos2compose/probe.sh CHECK...`), or None when the test is
    something else."""
    if not isinstance(test, list) or not test:
        return None
    if test[0] == "CMD-SHELL":
        try:
            argv = shlex.split(" ".join(test[1:]))
        except ValueError:
            return None
    elif test[0] == "CMD":
        argv = list(test[1:])
    else:
        return None
    if len(argv) >= 2 and argv[0].rsplit("/", 1)[-1] in _SHELLS and argv[1] == PROBE:
        return argv[2:]
    return None


def probe_checks(args: list[str], self_names: set[str]) -> tuple[list[tuple[int, dict]], list[str]]:
    """(port, Nosana health check) for each check the probe makes, and what could not be kept.

    The probe's arguments are convert's spelling of the job's checks, so they go back exactly:
    `http --method=M --url=http://HOST:PORT/PATH --expect-status=N [--header=NAME: VALUE]...
    [--body=TEXT] [--startup-only]` and `websocket --url=ws://HOST:PORT/ --expect-text=T [--startup-only]`;
    HOST is the container itself (127.0.0.1) or, from a sidecar, the op's service name.
    """
    checks: list[tuple[int, dict]] = []
    problems: list[str] = []
    words: list[list[str]] = []
    for a in args:
        if a in ("http", "websocket"):
            words.append([a])
        elif words:
            words[-1].append(a)
        else:
            problems.append(f"probe argument {a!r} comes before any check: ignored")
    for kind, *options in words:
        try:
            checks.append(_probe_check(kind, options, self_names))
        except NotHttp as exc:
            problems.append(f"{kind} check `{shlex.join([kind, *options])}`: {exc}: left out")
    return checks, problems


def _probe_check(kind: str, options: list[str], self_names: set[str]) -> tuple[int, dict]:
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
        elif name in ("--method", "--url", "--expect-status", "--expect-text", "--body") and eq:
            values[name[2:]] = value
        else:
            raise NotHttp(f"the probe has no option {o!r}")
    m = _PROBE_URL.fullmatch(values.get("url", ""))
    if m is None:
        raise NotHttp("its --url is not http://HOST:PORT/PATH")
    host = m.group("host").lower()
    if host not in LOCAL_HOSTS and host not in self_names:
        raise NotHttp(f"it asks host {host or '(none)'}, not the op itself")
    want = "ws" if kind == "websocket" else "http"
    if m.group("scheme") != want:
        raise NotHttp(f"a {kind} check asks {want}://, not {m.group('scheme')}://")
    port = int(m.group("port") or 80)
    if kind == "websocket":
        if m.group("path") not in ("", "/"):
            raise NotHttp("a node's websocket check asks the path /, and a job cannot name another")
        if "expect-text" not in values:
            raise NotHttp("it has no --expect-text")
        return port, {"type": "websocket", "expected_response": values["expect-text"], "continuous": not startup}
    method = values.get("method", "GET")
    if method not in METHODS:
        raise NotHttp(f"a node's check cannot send {method}")
    try:
        status = int(values["expect-status"])
    except (KeyError, ValueError):
        raise NotHttp("it has no --expect-status=N") from None
    check: dict = {"type": "http", "path": m.group("path"), "method": method, "expected_status": status}
    if headers:
        check["headers"] = headers
    if "body" in values:
        check["body"] = values["body"]
    check["continuous"] = not startup
    return port, check


def apply_probe(service: str, key: tuple, args: list[str], op: RunOp, self_names: set[str], diags: Diagnostics) -> None:
    """The checks of nos2compose's probe (in the op's own healthcheck, or its sidecar's) on the op's ports."""
    path = ("services", service, *key)
    checks, problems = probe_checks(args, self_names)
    for problem in problems:
        diags.warning(path, problem)
    for port, check in checks:
        exposed = op.exposed(port)
        if exposed is None:
            diags.warning(
                path,
                f"the probe checks port {port}, which {op.id} does not expose: left out "
                "(publish the port in ports: or expose: to keep it)",
            )
        else:
            exposed.health_checks.append(check)


def apply_healthcheck(service: str, hc: dict, op: RunOp, self_names: set[str], diags: Diagnostics) -> None:
    """Adds the http check `hc` stands for to the op's exposed port, or warns why there is none."""
    path = ("services", service, "healthcheck")
    if hc.get("disable") is True:
        return
    test = hc.get("test")
    args = probe_args(test)
    if args is not None:  # nos2compose's probe: its timing is nos2compose's own (--health-* options), not the job's
        op.has_compose_healthcheck = True
        apply_probe(service, ("healthcheck", "test"), args, op, self_names, diags)
        return
    if not test:
        if any(k in hc for k in TIMING_KEYS):
            diags.warning(
                path,
                "healthcheck without a test tunes the image's own HEALTHCHECK, which a node does not run: left out",
            )
        return
    if test == ["NONE"]:
        return
    op.has_compose_healthcheck = True
    shown = render_test(test)
    try:
        probe = http_probe(test)
        port, check = check_for(probe, self_names)
    except NotHttp as exc:
        diags.warning(
            path + ("test",),
            f"healthcheck `{shown}` is not an HTTP call a node can make ({exc}): "
            "left out; a node checks only exposed ports, over HTTP",
        )
        return
    exposed = op.exposed(port)
    if exposed is None:
        diags.warning(
            path + ("test",),
            f"healthcheck `{shown}` asks port {port}, which the service does not "
            "expose: left out (publish the port in ports: or expose: to keep it)",
        )
        return
    exposed.health_checks.append(check)
    for note in probe.notes:
        diags.warning(path + ("test",), f"healthcheck `{shown}`: {note}")
    timing = [k for k in TIMING_KEYS if k in hc]
    if timing:
        diags.warning(
            path + (timing[0],),
            f"healthcheck {', '.join(timing)}: not kept; a node probes every 5 s "
            "until the check passes (no limit), then every 30 s",
        )
