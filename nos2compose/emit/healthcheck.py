"""Compose healthchecks that make the node's health-check requests.

A Nosana node probes from a sidecar with curl. Here the probe runs inside the
op's own container by default, so it must make do with what the image has: it
uses curl, else wget (busybox or GNU), else python3, else bash's /dev/tcp.
`--health-probe sidecar` runs the same probe from a small service of its own
instead (for images with no shell at all), as the node does.

The probe is a fixed POSIX sh script. Every value from the job (path, header,
body, method, expected text) reaches it only as a positional argument, never
as shell text, so nothing in a job can run as a command.
"""
from __future__ import annotations

from ..model import RunOp, WebSocketCheck
from ..plan.layout import HealthTiming


# Checks with `continuous: false` gate start-up only: once every check has passed,
# this mark makes later probes skip them, until the container restarts (the mark holds
# the start time of the container's first process, read from /proc/1/stat).
STARTED_MARK = "/tmp/.nos2compose-started"

PY_HTTP = r"""import sys, http.client
h, p, m, path, hb, body = sys.argv[1:7]
hd = dict(x.split(": ", 1) for x in sys.argv[7:])
c = http.client.HTTPConnection(h, int(p), timeout=5)
c.request(m, path, body.encode() if hb == "1" else None, hd)
print(c.getresponse().status)
"""

PY_WS = r"""import sys, socket, base64, os, time
h, p, want = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
s = socket.create_connection((h, p), timeout=5)
key = base64.b64encode(os.urandom(16)).decode()
s.sendall(("GET / HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (h, p, key)).encode())
data, end = b"", time.time() + 5
while time.time() < end:
    try:
        chunk = s.recv(4096)
    except socket.timeout:
        break
    if not chunk:
        break
    data += chunk
    head, sep, rest = data.partition(b"\r\n\r\n")
    if sep and b" 101 " in head.split(b"\r\n")[0] and want in rest:
        sys.exit(0)
sys.exit(1)
"""

BASH_HTTP = r"""h=$1 p=$2 m=$3 path=$4 hb=$5 body=$6; shift 6
exec 3<>"/dev/tcp/$h/$p" || exit 1
{
  printf "%s %s HTTP/1.0\r\nHost: %s:%s\r\nConnection: close\r\n" "$m" "$path" "$h" "$p"
  for x in "$@"; do printf "%s\r\n" "$x"; done
  if [ "$hb" = 1 ]; then LC_ALL=C; printf "Content-Length: %s\r\n\r\n%s" "${#body}" "$body"; else printf "\r\n"; fi
} >&3
read -r -t 5 version code rest <&3 && printf "%s" "$code"
"""

BASH_WS = r"""h=$1 p=$2 want=$3
exec 3<>"/dev/tcp/$h/$p" || exit 1
printf "GET / HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: bm9zMmNvbXBvc2UtcHJvYmU=\r\nSec-WebSocket-Version: 13\r\n\r\n" "$h" "$p" >&3
IFS= read -r -t 5 -d "" reply <&3
case "$reply" in *" 101 "*"$want"*) exit 0 ;; esac
exit 1
"""

PROBE = r"""# nos2compose health probe; the job's values arrive only as positional arguments
have() { command -v "$1" >/dev/null 2>&1; }
http() {
  host=$1 port=$2 method=$3 path=$4 want=$5 hasbody=$6 body=$7
  shift 7
  url="http://$host:$port$path"
  if have curl; then
    for h do set -- "$@" -H "$h"; shift; done
    if [ "$hasbody" = 1 ]; then  # on standard input: curl would read a body starting with @ as a file name
      got=$(printf %s "$body" | curl -s -o /dev/null -m 5 -w '%{http_code}' -X "$method" "$@" --data-binary @- -- "$url")
    else
      got=$(curl -s -o /dev/null -m 5 -w '%{http_code}' -X "$method" "$@" -- "$url")
    fi
  elif have wget && { [ "$method" = GET ] || [ "$method" = POST ] || wget --help 2>&1 | grep -q -e --method; }; then
    for h do set -- "$@" --header "$h"; shift; done
    if [ "$method" = GET ] || [ "$method" = POST ]; then
      [ "$hasbody" = 1 ] && set -- "$@" --post-data "$body"
    else
      set -- "$@" --method="$method"
      [ "$hasbody" = 1 ] && set -- "$@" --body-data "$body"
    fi
    got=$(wget -S -q -O /dev/null "$@" "$url" 2>&1 | sed -n 's/^ *HTTP\/[0-9.]* \([0-9][0-9]*\).*/\1/p' | head -n 1)
  elif have python3; then
    got=$(python3 -c "$py_http" "$host" "$port" "$method" "$path" "$hasbody" "$body" "$@" 2>/dev/null)
  elif have bash; then
    got=$(bash -c "$bash_http" probe "$host" "$port" "$method" "$path" "$hasbody" "$body" "$@" 2>/dev/null)
  else
    echo "nos2compose probe: no curl, wget, python3 or bash in this image; use --health-probe sidecar" >&2
    return 1
  fi
  [ "$got" = "$want" ] || { echo "$method $url: got ${got:-no answer}, want $want" >&2; return 1; }
}
ws() {
  if have python3; then
    python3 -c "$py_ws" "$1" "$2" "$3" 2>/dev/null
  elif have bash; then
    bash -c "$bash_ws" probe "$1" "$2" "$3" 2>/dev/null
  elif have nc; then
    printf 'GET / HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: bm9zMmNvbXBvc2UtcHJvYmU=\r\nSec-WebSocket-Version: 13\r\n\r\n' "$1" "$2" \
      | { cat; sleep 3; } | nc -w 3 "$1" "$2" 2>/dev/null | grep -F -q -e "$3"
  else
    echo "nos2compose probe: no python3, bash or nc for a websocket check; use --health-probe sidecar" >&2
    return 1
  fi || { echo "websocket $1:$2: reply does not contain the expected text" >&2; return 1; }
}
check() {
  if [ "$1" = startup ] && [ -n "$boot" ] && [ "$started" = "$boot" ]; then return 0; fi
  shift
  "$@"
}
"""


def _quoted(code: str) -> str:
    """Our own helper code as one sh single-quoted word (never job values: those are arguments)."""
    assert "'" not in code, "helper code is written without single quotes, so it reads as is"
    return f"'{code}'"


def probe_test(op: RunOp, host: str = "127.0.0.1") -> list[str] | None:
    """The healthcheck `test` running every check of the op (all must pass), or None without checks."""
    calls: list[str] = []
    args: list[str] = []
    uses = set()
    for exposed in op.expose:
        for check in exposed.health_checks:
            when = "always" if check.continuous else "startup"
            if isinstance(check, WebSocketCheck):
                values = [host, str(exposed.port), check.expected_response]
                kind = "ws"
            else:
                values = [host, str(exposed.port), check.method, check.path, str(check.expected_status),
                          "1" if check.body is not None else "0", check.body or ""]
                values += [f"{name}: {value}" for name, value in check.headers]
                kind = "http"
            uses.add(kind)
            first = len(args) + 1
            refs = " ".join(f'"${{{n}}}"' for n in range(first, first + len(values)))
            calls.append(f"check {when} {kind} {refs}")
            args.extend(values)
    if not calls:
        return None
    script = (f"mark={STARTED_MARK}\n"
              "starttime() { shift 19; printf %s \"$1\"; }  # field 22 of /proc/1/stat, after pid and (comm)\n"
              "stat=; read -r stat </proc/1/stat 2>/dev/null; boot=$(starttime ${stat##*) })\n"
              "started=; [ -r \"$mark\" ] && read -r started <\"$mark\"\n")
    if "http" in uses:
        script += f"py_http={_quoted(PY_HTTP)}\nbash_http={_quoted(BASH_HTTP)}\n"
    if "ws" in uses:
        script += f"py_ws={_quoted(PY_WS)}\nbash_ws={_quoted(BASH_WS)}\n"
    script += PROBE
    script += " &&\n".join(calls) + " &&\n{ [ \"$started\" = \"$boot\" ] || printf \"%s\\n\" \"$boot\" >\"$mark\" 2>/dev/null; true; }\n"
    return ["CMD", "sh", "-c", script, "nos2compose-probe", *args]


def healthcheck(op: RunOp, timing: HealthTiming = HealthTiming(), host: str = "127.0.0.1") -> dict | None:
    test = probe_test(op, host)
    if test is None:
        return None
    return {"test": test, "interval": timing.interval, "timeout": timing.timeout,
            "retries": timing.retries, "start_period": timing.start_period}
