"""Command lines of Compose healthchecks, read as HTTP calls: curl and wget (CMD, CMD-SHELL or a string),
their flags and values, as those tools read them. Used by health.py."""

from __future__ import annotations

import base64
import re
import shlex
from dataclasses import dataclass, field

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
