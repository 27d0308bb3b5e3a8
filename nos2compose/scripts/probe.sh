#!/bin/sh
# nos2compose health probe: makes a job's health-check requests, as a Nosana node does.
#
#   probe.sh [--self=NAME] CHECK [CHECK ...]        exit 0 when every check passes
#   CHECK is one of
#     http --method=M --url=U --expect-status=N [--header=NAME: VALUE]... [--body=TEXT] [--startup-only]
#     websocket --url=ws://HOST:PORT/ --expect-text=TEXT [--startup-only]
#
# --self=NAME: the probe runs inside NAME's own container. A node probes NAME from another
# container, over the job's network, so a URL asking NAME is asked at this container's own
# address on that network (its /etc/hosts line), never at 127.0.0.1: a server that listens
# only on its loopback does not pass. When that address gets no answer and 127.0.0.1 does,
# the last line says so ("port P answers only on 127.0.0.1 (loopback) ...").
#
# Job values arrive only as arguments, never as shell text. The request is made with
# curl, else wget (busybox or GNU, for what it can send as the node does), else python3,
# else bash's /dev/tcp, else nc (websockets: python3, bash or nc), so it runs in most
# images (the single file nos2compose prints carries only the parts its job needs; the
# file beside group files holds them all).
# Once every check has passed, the service itself is asked again
# only after N2C_PROBE_RECHECK seconds (30, the node's cadence), however often Docker
# runs this; a failure is retried at Docker's next interval. A --startup-only check
# (continuous: false) stops counting once every check has passed, until the container
# restarts. State lives in N2C_PROBE_STATE (default /tmp); the container's hosts and
# hostname files in N2C_PROBE_ETC (default /etc; tests point both elsewhere).

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

# @section self
etc=${N2C_PROBE_ETC:-/etc}  # where the container's hosts and hostname files are

# this container's IPv4 address on the job network: the /etc/hosts line of its own host name (no name lookup)
self_address() {
  name=
  read -r name <"$etc/hostname" 2>/dev/null
  address=
  [ -n "$name" ] || return 1
  while read -r ip names; do
    case $ip in 127.0.0.1 | *[!0-9.]* | '') continue ;; esac
    for n in $names; do
      [ "$n" = "$name" ] && { address=$ip; return 0; }
    done
  done <"$etc/hosts"
  return 1
}

# lately PORT: 127.0.0.1 answered on PORT less than $recheck s ago (so it is not asked again yet)
lately() {
  seen=
  [ -r "$state/.nos2compose-loopback-$1" ] && read -r seen <"$state/.nos2compose-loopback-$1"
  case ${seen#* } in '' | *[!0-9]*) return 1 ;; esac
  [ "${seen%% *}" = "$boot" ] && [ "$now" -ge "${seen#* }" ] && [ $((now - ${seen#* })) -lt "$recheck" ]
}

# only_loopback PORT ANSWERED: when ANSWERED (127.0.0.1 answered), the note on standard output
only_loopback() {
  if [ "$2" = 1 ]; then
    lately "$1" || printf '%s %s\n' "$boot" "$now" >"$state/.nos2compose-loopback-$1" 2>/dev/null
    echo "port $1 answers only on 127.0.0.1 (loopback) inside its container, not at its address $address on the job network"
  else
    : >"$state/.nos2compose-loopback-$1" 2>/dev/null
  fi
}
# @end self

# place URL: `asked`, where the check asks (a URL asking --self: this container's network address),
# and `loopback`, the same URL at 127.0.0.1 (empty unless the URL asks --self); `port` is its port
place() {
  asked=$1 loopback=
  rest=${1#*://}
  hostport=${rest%%/*}
  port=${hostport##*:}
  if [ -n "$self" ] && [ "${hostport%:*}" = "$self" ]; then
    asked="${1%%://*}://$address:$port${rest#"$hostport"}"
    loopback="${1%%://*}://127.0.0.1:$port${rest#"$hostport"}"
  fi
}

# @section http
# http METHOD URL STATUS HASBODY BODY [HEADER...]
http() {
  method=$1 checked=$2 want=$3 hasbody=$4 body=$5
  place "$2"
  shift 5
  request "$method" "$asked" "$hasbody" "$body" "$@" || return 1
  if [ "$got" = "$want" ]; then return 0; fi
  echo "$method $checked${loopback:+ at $address}: got ${got:-no answer}, want $want" >&2
  if [ -z "$got" ] && [ -n "$loopback" ]; then
    answered=1
    lately "$port" || { request "$method" "$loopback" "$hasbody" "$body" "$@" && [ -n "$got" ]; } || answered=0
    only_loopback "$port" "$answered"
  fi
  return 1
}

# request METHOD URL HASBODY BODY [HEADER...]: sets `got`, the status code ('' when nothing answered).
# The request is the node's (curl -X METHOD, --data only with a body): a POST without a body is a POST
# with no Content-Length. A tool that cannot send it exactly is passed over for the next; when none can,
# wget's nearest (`Content-Length: 0`) is sent.
request() {
  method=$1 url=$2 hasbody=$3 body=$4
  shift 4
  if have curl; then
    for h do set -- "$@" -H "$h"; shift; done
    if [ "$hasbody" = 1 ]; then  # on standard input: curl would read a body starting with @ as a file name
      got=$(printf %s "$body" | curl -s -o /dev/null -m 5 -w '%{http_code}' -X "$method" "$@" --data-binary @- -- "$url")
    else
      got=$(curl -s -o /dev/null -m 5 -w '%{http_code}' -X "$method" "$@" -- "$url")
    fi
# @section fallback
  elif have wget && wget_sends "$method" "$hasbody"; then
    by_wget "$method" "$url" "$hasbody" "$body" "$@"
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
  elif have nc; then  # busybox without python3 or bash: the request written out, as probe_http.bash writes it
    rest=${url#*://}
    hostport=${rest%%/*}
    path=/${rest#*/}
    [ "$rest" = "$hostport" ] && path=/
    limit=
    have timeout && limit="timeout 5"
    # shellcheck disable=SC2086  # $limit is a command and its argument, or nothing
    got=$(written "$method" "$path" "$hostport" "$hasbody" "$body" "$@" \
      | $limit nc -w 5 "${hostport%:*}" "${hostport##*:}" 2>/dev/null | status_code)
  elif have wget && { [ "$method" = POST ] || gnu_wget; }; then
    by_wget "$method" "$url" 1 "" "$@"  # the nearest it can send: a POST, PUT or PATCH with `Content-Length: 0`
# @end fallback
  else
    [ "$hasbody" = 1 ] && method="$method with a body"
    echo "nos2compose probe: no curl, wget, python3, bash or nc in this image that can send a $method; use --health-probe sidecar" >&2
    return 1
  fi
  [ "$got" = 000 ] && got=  # curl's word for no answer
  return 0
}

# @section fallback
# plain_wget METHOD HASBODY: a request any wget sends as it is (busybox's has no --method): a GET without a body,
# a POST with one
plain_wget() {
  { [ "$1" = GET ] && [ "$2" = 0 ]; } || { [ "$1" = POST ] && [ "$2" = 1 ]; }
}

# wget_sends METHOD HASBODY: this wget sends the request as the node does (GNU wget's --method gives a POST, PUT
# or PATCH without a body `Content-Length: 0`)
wget_sends() {
  plain_wget "$1" "$2" && return 0
  case $2$1 in 0POST | 0PUT | 0PATCH) return 1 ;; esac
  gnu_wget
}

# gnu_wget: this wget has --method (GNU's; busybox's has not)
gnu_wget() {
  wget --help 2>&1 | grep -q -e --method
}

# by_wget METHOD URL HASBODY BODY [HEADER...]: sets `got`
by_wget() {
  method=$1 url=$2 hasbody=$3 body=$4
  shift 4
  for h do set -- "$@" --header "$h"; shift; done
  if plain_wget "$method" "$hasbody"; then
    [ "$hasbody" = 1 ] && set -- "$@" --post-data "$body"
  else
    set -- "$@" --method="$method"
    [ "$hasbody" = 1 ] && set -- "$@" --body-data "$body"
  fi
  got=$(wget -S -q -O /dev/null "$@" "$url" 2>&1 | status_code)
}

# status_code: the code of the first status line (`HTTP/1.1 200 OK`, indented in wget -S's output) on standard input
status_code() {
  sed -n 's/^ *HTTP\/[0-9.]* \([0-9][0-9]*\).*/\1/p' | head -n 1
}

# written METHOD PATH HOSTPORT HASBODY BODY [HEADER...]: the HTTP/1.0 request, as text
written() {
  printf '%s %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n' "$1" "$2" "$3"
  hasbody=$4 body=$5
  shift 5
  for h do printf '%s\r\n' "$h"; done
  if [ "$hasbody" = 1 ]; then
    printf 'Content-Length: %s\r\n\r\n%s' "$(printf %s "$body" | wc -c | tr -d ' ')" "$body"
  else
    printf '\r\n'
  fi
}
# @end fallback
# @end http

# @section websocket
# websocket URL EXPECTED
websocket() {
  place "$1"
  handshake "$asked" "$2"
  case $? in 0) return 0 ;; 2) return 1 ;; esac
  echo "websocket $1${loopback:+ at $address}: the reply does not contain \"$2\"" >&2
  if [ -n "$loopback" ]; then
    answered=1
    lately "$port" || handshake "$loopback" "$2" || answered=0
    only_loopback "$port" "$answered"
  fi
  return 1
}

# handshake URL EXPECTED: the upgrade handshake; passes when the reply contains EXPECTED (2: no tool for it)
handshake() {
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
    printf '%s\r\n' "GET / HTTP/1.1" "Host: $hostport" "Upgrade: websocket" "Connection: Upgrade" \
      "Sec-WebSocket-Key: bm9zMmNvbXBvc2UtcHJvYmU=" "Sec-WebSocket-Version: 13" "" \
      | { cat; sleep 3; } | nc -w 3 "${hostport%:*}" "${hostport##*:}" 2>/dev/null | grep -F -q -e "$2"
  else
    echo "nos2compose probe: no python3, bash or nc for a websocket check; use --health-probe sidecar" >&2
    return 2
  fi
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
self=
# @section self
for a do
  case $a in
    --self=*) self=${a#*=} ;;
    *) break ;;
  esac
done
if [ -n "$self" ] && ! self_address; then
  echo "nos2compose probe: no address of this container on its network in /etc/hosts (no IPv4 line for its host name ${name:-?}); use --health-probe sidecar" >&2
  exit 1
fi
# @end self
status=0
notes=
i=0
for a do
  case $a in
    http | websocket)
      note=$(shift "$i"; one "$@") || status=1
      [ -z "$note" ] || notes="$notes$note
"
      ;;
  esac
  i=$((i + 1))
done
printf %s "$notes" >&2  # last: `up` reads the last line Docker's health log kept
if [ "$status" = 0 ]; then
  [ "$started" = "$boot" ] || printf '%s\n' "$boot" >"$state/.nos2compose-started" 2>/dev/null
  printf '%s %s\n' "$boot" "$now" >"$state/.nos2compose-passed" 2>/dev/null
fi
exit "$status"
