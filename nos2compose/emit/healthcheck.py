"""Compose healthchecks that make the node's health-check requests from inside the op's container.

The probe is a fixed shell function; every value from the job (path, header,
body, method) reaches it only as a positional argument, never as shell text,
so nothing in a job can run as a command. It uses curl when the image has it,
else wget (busybox or GNU), and passes only on the exact expected status.
"""
from __future__ import annotations

from ..model import Expose, HttpCheck, RunOp, WebSocketCheck

# How often Docker probes, and how long a probe may take. Docker 20.10 refuses
# start_interval, so the interval itself must be short for a service that
# becomes healthy to be noticed within about 2 s.
INTERVAL = "1s"
TIMEOUT = "10s"
RETRIES = 3
# The node probes until the checks pass, with no limit; locally a service has an
# hour before Docker calls it unhealthy (failures before then do not count).
START_PERIOD = "1h"

HTTP_PROBE = r"""probe() {
  port=$1 method=$2 path=$3 want=$4 hasbody=$5 body=$6
  shift 6
  url="http://127.0.0.1:$port$path"
  if command -v curl >/dev/null 2>&1; then
    for h do set -- "$@" -H "$h"; shift; done
    [ "$hasbody" = 1 ] && set -- "$@" --data-binary "$body"
    got=$(curl -s -o /dev/null -m 5 -w '%{http_code}' -X "$method" "$@" -- "$url")
  else
    for h do set -- "$@" --header "$h"; shift; done
    [ "$hasbody" = 1 ] && set -- "$@" --post-data "$body"
    [ "$method" = GET ] || [ "$method" = POST ] || set -- "$@" --method="$method"
    got=$(wget -S -q -O /dev/null "$@" "$url" 2>&1 | sed -n 's/^ *HTTP\/[0-9.]* \([0-9][0-9]*\).*/\1/p' | head -n 1)
  fi
  [ "$got" = "$want" ]
}
"""
# websocket checks, approximated: the port accepts a connection (busybox nc has no -z)
TCP_PROBE = r"""tcp() {
  nc -z -w 5 127.0.0.1 "$1" 2>/dev/null || nc -w 2 127.0.0.1 "$1" </dev/null >/dev/null 2>&1
}
"""


def healthcheck(op: RunOp) -> dict | None:
    """The Compose healthcheck for all of an op's checks (every check must pass), or None."""
    calls: list[str] = []
    args: list[str] = []
    for exposed in op.expose:
        for check in exposed.health_checks:
            call, values = _call(exposed, check, first=len(args) + 1)
            calls.append(call)
            args.extend(values)
    if not calls:
        return None
    script = "".join(fn for fn, name in ((HTTP_PROBE, "probe "), (TCP_PROBE, "tcp ")) if any(c.startswith(name) for c in calls))
    script += " && ".join(calls) + "\n"
    return {
        "test": ["CMD", "sh", "-c", script, "nos2compose-probe", *args],
        "interval": INTERVAL,
        "timeout": TIMEOUT,
        "retries": RETRIES,
        "start_period": START_PERIOD,
    }


def _call(exposed: Expose, check: HttpCheck | WebSocketCheck, first: int) -> tuple[str, list[str]]:
    """`probe "${1}" "${2}" ...` for one check, and the values that fill those positions."""
    if isinstance(check, WebSocketCheck):
        values = [str(exposed.port)]
        fn = "tcp"
    else:
        values = [str(exposed.port), check.method, check.path, str(check.expected_status),
                  "1" if check.body is not None else "0", check.body or ""]
        values += [f"{name}: {value}" for name, value in check.headers]
        fn = "probe"
    refs = " ".join(f'"${{{n}}}"' for n in range(first, first + len(values)))
    return f"{fn} {refs}", values
