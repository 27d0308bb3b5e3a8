"""Compose healthchecks -> Nosana http health checks.

A node probes an exposed port itself, with an HTTP request from a sidecar. So a
Compose test becomes a check only when it is an HTTP call that a node could
make in its place: curl or wget against the container itself (localhost,
127.0.0.1, 0.0.0.0, ::1 or its own name) on a port the op exposes. Anything
else is left out with a warning naming the test.
"""

from __future__ import annotations

import base64
import re
import shlex
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..diagnostics import Diagnostics
from .model import RunOp

LOCAL_HOSTS = {"localhost", "127.0.0.1", "0.0.0.0", "::1", "[::1]"}
METHODS = {"GET", "POST", "PUT", "DELETE"}
TIMING_KEYS = ("interval", "timeout", "retries", "start_period", "start_interval")

_EXIT_SUFFIX = re.compile(r"\s*\|\|\s*(exit(\s+\d+)?|false)\s*$")
_REDIRECT = re.compile(r"\s*(\d?>>?|&>)\s*(/dev/null|&[12])")
_SHELLS = {"sh", "bash", "ash", "dash"}


@dataclass
class HttpProbe:
    url: str
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    notes: list[str] = field(default_factory=list)  # where the node's check differs from the test


class NotHttp(Exception):
    """The test is not an HTTP call a node can make in its place; the message says why."""


# curl: options that take a value (short letters, long names), and flags that change nothing here
_CURL_VALUE_SHORT = set("XHodmuAewbcEKrxyYzCQtT")
_CURL_VALUE_LONG = {
    "request",
    "header",
    "output",
    "data",
    "data-raw",
    "data-binary",
    "data-ascii",
    "max-time",
    "connect-timeout",
    "retry",
    "retry-delay",
    "retry-max-time",
    "user",
    "user-agent",
    "write-out",
    "referer",
    "cookie",
    "cookie-jar",
    "cacert",
    "cert",
    "resolve",
    "proxy",
    "noproxy",
    "interface",
    "limit-rate",
    "unix-socket",
    "abstract-unix-socket",
    "url",
    "expect100-timeout",
    "speed-time",
    "speed-limit",
    "stderr",
    "trace",
    "trace-ascii",
    "config",
    "range",
    "time-cond",
}
_CURL_FLAGS_SHORT = set("fsSLkvqgNI46#0123ZnR")
_CURL_FLAGS_LONG = {
    "fail",
    "fail-with-body",
    "fail-early",
    "silent",
    "show-error",
    "location",
    "insecure",
    "verbose",
    "globoff",
    "no-buffer",
    "head",
    "ipv4",
    "ipv6",
    "http1.0",
    "http1.1",
    "http2",
    "http2-prior-knowledge",
    "no-progress-meter",
    "compressed",
    "no-keepalive",
    "retry-connrefused",
    "retry-all-errors",
    "path-as-is",
    "progress-bar",
    "netrc",
    "no-sessionid",
    "tcp-nodelay",
}
# wget (GNU and busybox)
_WGET_VALUE_SHORT = set("OoTtUYeP")
_WGET_VALUE_LONG = {
    "output-document",
    "output-file",
    "timeout",
    "tries",
    "user-agent",
    "header",
    "method",
    "post-data",
    "body-data",
    "wait",
    "waitretry",
    "proxy",
    "execute",
    "directory-prefix",
    "dns-timeout",
    "connect-timeout",
    "read-timeout",
    "user",
    "password",
    "http-user",
    "http-password",
    "append-output",
    "limit-rate",
    "bind-address",
}
_WGET_FLAGS_SHORT = set("qSsc46")
_WGET_FLAGS_LONG = {
    "spider",
    "quiet",
    "no-verbose",
    "server-response",
    "no-check-certificate",
    "no-proxy",
    "retry-connrefused",
    "continue",
    "inet4-only",
    "inet6-only",
    "no-cache",
    "no-dns-cache",
    "content-on-error",
    "verbose",
    "no-hsts",
}


def render_test(test: list[str]) -> str:
    """The test as a user wrote it: the shell string, or the command line."""
    if test and test[0] == "CMD-SHELL":
        return " ".join(test[1:])
    if test and test[0] == "CMD":
        return shlex.join(test[1:])
    return shlex.join(test)


def http_probe(test: list[str]) -> HttpProbe:
    """The HTTP request a healthcheck test makes; raises NotHttp when it is something else."""
    if not test or test[0] not in ("CMD", "CMD-SHELL"):
        raise NotHttp("a test starts with CMD or CMD-SHELL")
    if test[0] == "CMD-SHELL":
        argv = _shell_words(" ".join(test[1:]))
    else:
        argv = list(test[1:])
        if len(argv) == 3 and argv[0].rsplit("/", 1)[-1] in _SHELLS and argv[1] == "-c":
            argv = _shell_words(argv[2])
    if not argv:
        raise NotHttp("the test is empty")
    program = argv[0].rsplit("/", 1)[-1]
    if program == "curl":
        return _curl(argv[1:])
    if program == "wget":
        return _wget(argv[1:])
    raise NotHttp(f"it runs {program}, not curl or wget")


def _shell_words(script: str) -> list[str]:
    """The words of a one-command shell script; `|| exit 1` and output redirections are dropped."""
    script = _REDIRECT.sub("", _EXIT_SUFFIX.sub("", script.strip()))
    lexer = shlex.shlex(script, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        words = list(lexer)
    except ValueError as exc:
        raise NotHttp(f"the shell command does not parse ({exc})") from None
    for w in words:
        if w and all(c in "();<>|&" for c in w):
            raise NotHttp(f"the shell command is more than one call (it uses {w})")
        if "$" in w or "`" in w:
            raise NotHttp("the shell command uses a variable or substitution only the container knows")
    return words


def _options(
    args: list[str],
    value_short: set[str],
    value_long: set[str],
    flags_short: set[str],
    flags_long: set[str],
    program: str,
) -> tuple[list[tuple[str, str | None]], list[str]]:
    """([(option, value)], [positional words]); short clusters such as -fsS or -qO- are split."""
    opts: list[tuple[str, str | None]] = []
    positional: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if a == "--":
            positional += args[i:]
            break
        if a.startswith("--"):
            name, eq, value = a[2:].partition("=")
            if name in value_long:
                if not eq:
                    if i >= len(args):
                        raise NotHttp(f"{program} option --{name} has no value")
                    value, i = args[i], i + 1
                opts.append((name, value))
            elif name in flags_long and not eq:
                opts.append((name, None))
            else:
                raise NotHttp(f"{program} option --{name} is not one the importer understands")
        elif a.startswith("-") and len(a) > 1:
            j = 1
            while j < len(a):
                c = a[j]
                if c in value_short:
                    value = a[j + 1 :]
                    if not value:
                        if i >= len(args):
                            raise NotHttp(f"{program} option -{c} has no value")
                        value, i = args[i], i + 1
                    opts.append((c, value))
                    break
                if c not in flags_short:
                    raise NotHttp(f"{program} option -{c} is not one the importer understands")
                opts.append((c, None))
                j += 1
        else:
            positional.append(a)
    return opts, positional


def _header(probe: HttpProbe, text: str) -> None:
    name, colon, value = text.partition(":")
    if not colon or not name.strip() or not value.strip():
        raise NotHttp(f"header {text!r} is not 'Name: value'")
    probe.headers[name.strip()] = value.strip()


def _curl(args: list[str]) -> HttpProbe:
    opts, urls = _options(args, _CURL_VALUE_SHORT, _CURL_VALUE_LONG, _CURL_FLAGS_SHORT, _CURL_FLAGS_LONG, "curl")
    urls += [v for o, v in opts if o == "url" and v is not None]
    if len(urls) != 1:
        raise NotHttp(f"curl is given {len(urls)} URLs")
    probe = HttpProbe(urls[0])
    fail = False
    for name, value in opts:
        if name in ("f", "fail", "fail-with-body"):
            fail = True
        elif name in ("X", "request"):
            probe.method = value.upper()
        elif name in ("I", "head"):
            probe.method = "HEAD"
        elif name in ("H", "header"):
            _header(probe, value)
        elif name in ("d", "data", "data-raw", "data-binary", "data-ascii"):
            if value.startswith("@") and name != "data-raw":
                raise NotHttp("curl sends a file as the body")
            probe.body = value
            if probe.method == "GET":
                probe.method = "POST"
        elif name in ("u", "user"):
            probe.headers["Authorization"] = "Basic " + base64.b64encode(value.encode()).decode()
        elif name in ("A", "user-agent"):
            probe.headers["User-Agent"] = value
        elif name in ("L", "location"):
            probe.notes.append(
                "curl follows redirects (-L); a node's check does not: it expects 200 from the URL itself"
            )
        elif name in ("unix-socket", "abstract-unix-socket", "x", "proxy", "resolve", "T", "range", "r"):
            raise NotHttp(f"curl option {'-' if len(name) == 1 else '--'}{name} changes where or what it asks")
    if not fail:
        probe.notes.append("curl without --fail passes on any HTTP answer; a node's check passes only on status 200")
    return probe


def _wget(args: list[str]) -> HttpProbe:
    opts, urls = _options(args, _WGET_VALUE_SHORT, _WGET_VALUE_LONG, _WGET_FLAGS_SHORT, _WGET_FLAGS_LONG, "wget")
    if len(urls) != 1:
        raise NotHttp(f"wget is given {len(urls)} URLs")
    probe = HttpProbe(urls[0])
    for name, value in opts:
        if name in ("header",):
            _header(probe, value)
        elif name in ("U", "user-agent"):
            probe.headers["User-Agent"] = value
        elif name == "method":
            probe.method = value.upper()
        elif name in ("post-data", "body-data"):
            probe.body = value
            if probe.method == "GET":
                probe.method = "POST"
        elif name in ("Y", "proxy") and value not in ("off", "no"):
            raise NotHttp("wget goes through a proxy")
    return probe


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


def apply_healthcheck(service: str, hc: dict, op: RunOp, self_names: set[str], diags: Diagnostics) -> None:
    """Adds the http check `hc` stands for to the op's exposed port, or warns why there is none."""
    path = ("services", service, "healthcheck")
    if hc.get("disable") is True:
        return
    test = hc.get("test")
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
