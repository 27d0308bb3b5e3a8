#!/bin/sh
# nos2compose health probe: makes a job's health-check requests, as a Nosana node does.
#
#   probe.sh CHECK [CHECK ...]        exit 0 when every check passes
#   CHECK is one of
#     http --method=M --url=U --expect-status=N [--header=NAME: VALUE]... [--body=TEXT] [--startup-only]
#     websocket --url=ws://HOST:PORT/ --expect-text=TEXT [--startup-only]
#
# Job values arrive only as arguments, never as shell text. The request is made with
# curl, else wget (busybox or GNU), else python3, else bash's /dev/tcp (websockets:
# python3, bash or nc), so it runs in most images; nos2compose leaves out the parts a
# job does not need. Once every check has passed, the service itself is asked again
# only after N2C_PROBE_RECHECK seconds (30, the node's cadence), however often Docker
# runs this; a failure is retried at Docker's next interval. A --startup-only check
# (continuous: false) stops counting once every check has passed, until the container
# restarts. State lives in N2C_PROBE_STATE (default /tmp).

state=${N2C_PROBE_STATE:-/tmp}
recheck=${N2C_PROBE_RECHECK:-30}

have() { command -v "$1" >/dev/null 2>&1; }

# the start time of the container's first process (field 22 of /proc/1/stat, after pid and (comm))
starttime() { shift 19; printf %s "$1"; }
stat=
read -r stat </proc/1/stat 2>/dev/null
# shellcheck disable=SC2086  # the fields after "(comm) " are meant to split
boot=$(starttime ${stat##*) })
now=0
up=
read -r up _ </proc/uptime 2>/dev/null && now=${up%%.*}
passed=
[ -r "$state/.nos2compose-passed" ] && read -r passed <"$state/.nos2compose-passed"

# @section http
# http METHOD URL STATUS HASBODY BODY [HEADER...]
http() {
  method=$1 url=$2 want=$3 hasbody=$4 body=$5
  shift 5
  if have curl; then
    for h do set -- "$@" -H "$h"; shift; done
    if [ "$hasbody" = 1 ]; then  # on standard input: curl would read a body starting with @ as a file name
      got=$(printf %s "$body" | curl -s -o /dev/null -m 5 -w '%{http_code}' -X "$method" "$@" --data-binary @- -- "$url")
    else
      got=$(curl -s -o /dev/null -m 5 -w '%{http_code}' -X "$method" "$@" -- "$url")
    fi
# @section fallback
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
    got=$(python3 - "$method" "$url" "$hasbody" "$body" "$@" 2>/dev/null <<'NOS2COMPOSE_PY'
# @embed probe_http.py
NOS2COMPOSE_PY
)
  elif have bash; then
    got=$(bash -s "$method" "$url" "$hasbody" "$body" "$@" 2>/dev/null <<'NOS2COMPOSE_BASH'
# @embed probe_http.bash
NOS2COMPOSE_BASH
)
# @end fallback
  else
    echo "nos2compose probe: no curl, wget, python3 or bash in this image; use --health-probe sidecar" >&2
    return 1
  fi
  [ "$got" = "$want" ] || { echo "$method $url: got ${got:-no answer}, want $want" >&2; return 1; }
}
# @end http

# @section websocket
# websocket URL EXPECTED
websocket() {
  if have python3; then
    python3 - "$1" "$2" 2>/dev/null <<'NOS2COMPOSE_PY'
# @embed probe_ws.py
NOS2COMPOSE_PY
  elif have bash; then
    bash -s "$1" "$2" 2>/dev/null <<'NOS2COMPOSE_BASH'
# @embed probe_ws.bash
NOS2COMPOSE_BASH
  elif have nc; then
    hostport=${1#ws://}
    hostport=${hostport%%/*}
    printf 'GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: bm9zMmNvbXBvc2UtcHJvYmU=\r\nSec-WebSocket-Version: 13\r\n\r\n' "$hostport" \
      | { cat; sleep 3; } | nc -w 3 "${hostport%:*}" "${hostport##*:}" 2>/dev/null | grep -F -q -e "$2"
  else
    echo "nos2compose probe: no python3, bash or nc for a websocket check; use --health-probe sidecar" >&2
    return 1
  fi || { echo "websocket $1: the reply does not contain \"$2\"" >&2; return 1; }
}
# @end websocket

# one KIND [OPTION...]: runs the first check of its arguments (the next KIND ends it)
one() {
  kind=$1
  shift
  n=0
  for a do
    case $a in http | websocket) break ;; esac
    n=$((n + 1))
  done
  total=$#
  i=0
  for a do
    [ "$i" -lt "$n" ] && set -- "$@" "$a"
    i=$((i + 1))
  done
  shift "$total"
  method=GET url='' want='' expect='' body='' hasbody=0 startup=0
  for a do  # every option is shifted off; headers go round to the end, in order
    shift
    case $a in
      --method=*) method=${a#*=} ;;
      --url=*) url=${a#*=} ;;
      --expect-status=*) want=${a#*=} ;;
      --expect-text=*) expect=${a#*=} ;;
      --body=*) body=${a#*=} hasbody=1 ;;
      --startup-only) startup=1 ;;
      --header=*) set -- "$@" "${a#*=}" ;;
      *) echo "nos2compose probe: unknown option $a" >&2; return 2 ;;
    esac
  done
  if [ "$startup" = 1 ] && [ -n "$boot" ] && [ "$started" = "$boot" ]; then return 0; fi
  case $kind in
    http) http "$method" "$url" "$want" "$hasbody" "$body" "$@" ;;
    websocket) websocket "$url" "$expect" ;;
  esac
}

started=
[ -r "$state/.nos2compose-started" ] && read -r started <"$state/.nos2compose-started"
last=${passed#* }
if [ -n "$passed" ] && [ "${passed%% *}" = "$boot" ] && [ "$now" -ge "$last" ] 2>/dev/null \
    && [ $((now - last)) -lt "$recheck" ]; then
  exit 0  # passed less than $recheck s ago: the service is not asked again yet
fi
status=0
i=0
for a do
  case $a in
    http | websocket) (shift "$i"; one "$@") || status=1 ;;
  esac
  i=$((i + 1))
done
if [ "$status" = 0 ]; then
  [ "$started" = "$boot" ] || printf '%s\n' "$boot" >"$state/.nos2compose-started" 2>/dev/null
  printf '%s %s\n' "$boot" "$now" >"$state/.nos2compose-passed" 2>/dev/null
fi
exit "$status"
