"""Compose healthchecks -> Nosana http health checks.

A node probes an exposed port itself, with an HTTP request from a sidecar. So a
Compose test becomes a check only when it is an HTTP call that a node could
make in its place: curl or wget against the container itself (localhost,
127.0.0.1, 0.0.0.0, ::1 or its own name) on a port the op exposes. Anything
else is left out with a warning naming the test.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ..compose import codec
from ..diagnostics import Diagnostics
from .http_commands import HttpProbe, NotHttp, http_probe, render_test
from .model import DraftOp

LOCAL_HOSTS = {"localhost", "127.0.0.1", "0.0.0.0", "::1", "[::1]"}
METHODS = {"GET", "POST", "PUT", "DELETE"}
TIMING_KEYS = ("interval", "timeout", "retries", "start_period", "start_interval")


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


def probe_checks(args: list[str], self_names: set[str]) -> tuple[list[tuple[int, dict]], list[str]]:
    """(port, Nosana health check) for each check nos2compose's probe makes of the op itself (by one of its
    names), and what could not be kept."""
    found, problems = codec.read_probe_args(args, LOCAL_HOSTS | self_names)
    return [(c.port, c.check) for c in found], problems


def apply_probe(
    service: str, key: tuple, args: list[str], op: DraftOp, self_names: set[str], diags: Diagnostics
) -> None:
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


def apply_healthcheck(service: str, hc: dict, op: DraftOp, self_names: set[str], diags: Diagnostics) -> None:
    """Adds the http check `hc` stands for to the op's exposed port, or warns why there is none."""
    path = ("services", service, "healthcheck")
    if hc.get("disable") is True:
        return
    test = hc.get("test")
    args = codec.read_probe_test(test)
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
