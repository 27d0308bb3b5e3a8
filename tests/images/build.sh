#!/usr/bin/env bash
# Build the local test images used by nos2compose's Docker tests.
#
# No registry is reachable from the test machines, so every image is made with
# `docker import` of a tar of a root file system assembled here from the host's own
# files (Debian 12; a missing package is installed with apt). Every image has PATH set,
# /etc/passwd, /etc/group (root, nobody), /tmp (1777) and the test server
# /usr/local/bin/n2c-testserver (static, from testserver.c; routes at the end of this
# comment). The non-busybox images use Debian's merged-/usr layout (/bin -> usr/bin,
# /lib -> usr/lib, /lib64 -> usr/lib64, /sbin -> usr/sbin); their dynamic binaries
# come with exactly the shared libraries `ldd` lists for them.
#
# nos2compose-test/busybox:1
#   Made from Debian's `busybox-static` (installed with apt if missing).
#   - /bin/busybox (static, needs no libraries) plus a symlink for every applet at
#     its usual place (/bin/sh, /usr/bin/wget, /usr/sbin/httpd, /usr/bin/nc, sleep,
#     echo, cat, sed, grep, head, tail, tr, printf, env, true, false, ls, mkdir,
#     test, [, timeout, ...); PATH is set; CMD is ["sh"].
#   - /etc/passwd, /etc/group (root, nobody), /tmp (1777).
#   - /usr/local/bin/n2c-testserver (see the end of this comment).
#   - A tiny HTTP test server: busybox httpd serving /www with CGI scripts.
#     Start it (foreground) with:
#         httpd -f -p 8080 -h /www          (add -vv to log requests to stderr)
#     /etc/httpd.conf is read automatically. Endpoints:
#       GET /ok                      200, body "ok"            (static file)
#       /auth                        401 (Basic realm); 200 with user:pass
#                                    (wget http://user:pass@127.0.0.1:8080/auth)
#       any unknown path             404
#       /cgi-bin/status?CODE         answers HTTP CODE (default 200), body "status CODE"
#       /cgi-bin/redirect?URL        302 to URL (URL-decoded; default /ok);
#                                    /cgi-bin/redirect?loop redirects to itself forever
#       /cgi-bin/sleep?N             waits N seconds, then 200
#       /cgi-bin/echo                200; body shows method, query, content type,
#                                    request body and the HTTP_* variables httpd passes
#       /cgi-bin/expect?method=M&body=B&code=C
#                                    answers C (default 200) when the request method
#                                    is M and the body is exactly B (each check only
#                                    if given; values URL-decoded), else 417 with the
#                                    reason in the body
#       /cgi-bin/state[?set=CODE]    answers the code stored in /tmp/http-status
#                                    (default 200); ?set=CODE stores a new one (and
#                                    answers 200). Also: `echo 503 >/tmp/http-status`
#       /cgi-bin/flaky?N             503 for the first N requests (counted in
#                                    /tmp/flaky.count), then 200
#   CGI scripts see every method (GET, HEAD, POST, PUT, DELETE, ...) and every request
#   header as HTTP_<NAME> (X-Token -> HTTP_X_TOKEN). Busybox wget itself sends only
#   GET (also with --spider) or POST (--post-data); for other methods use nc:
#     printf 'PUT /cgi-bin/echo HTTP/1.0\r\nHost: x\r\n\r\n' | nc -w 5 127.0.0.1 8080
#   WARNING: this busybox's `wget -T N` segfaults (exit 139; FEATURE_WGET_TIMEOUT is
#   off in Debian's build): bound requests with `timeout N wget ...` instead.
#
# nos2compose-test/curl:1            CMD ["n2c-testserver", "8080"]
#   curl (+ its libraries, TLS ones included) and /bin/sh = Debian's dash.
#   Nothing else: no wget, python3, bash, nc, sed, grep, cat, ...
#
# nos2compose-test/python:1          CMD ["n2c-testserver", "8080"]
#   Debian's python3 (/usr/bin/python3 -> python3.X, from python3-minimal and
#   libpython3-stdlib) with its standard library, trimmed: no test packages, idlelib,
#   ensurepip, tkinter, turtledemo, lib2to3, pydoc_data, distutils, sqlite3, curses,
#   readline, dbm C modules, config-*; http.client, socket, ssl, hashlib, json,
#   ctypes, ... work. /bin/sh = dash. No curl, wget, bash, nc, coreutils.
#
# nos2compose-test/bash:1            CMD ["n2c-testserver", "8080"]
#   bash with /bin/sh -> bash (/dev/tcp works), plus coreutils' cat, sleep, timeout,
#   printf, head and tr. No curl, wget, python3, nc, sed, grep.
#
# nos2compose-test/distroless:1      CMD ["n2c-testserver", "8080"]
#   Only the test server: no shell, no tools (a healthcheck cannot run in it).
#
# Test server: n2c-testserver [ADDRESS:]PORT [[ADDRESS:]PORT...]
#   Listens on 0.0.0.0:PORT for each PORT (and on [::]:PORT where IPv6 works), or on
#   ADDRESS:PORT only (127.0.0.1:8080: loopback only, as a misconfigured app); one
#   request per connection, each in a forked child (Connection: close); reads the
#   whole request (body by Content-Length or chunked, up to 1 MiB; answers
#   "Expect: 100-continue"); logs one line per request to stderr; exits 0 on SIGTERM.
#   Query values are URL-decoded. Bodies are text/plain without a trailing newline.
#   Routes (any method; HEAD gets no body):
#     /status/CODE        CODE (200..599), body "status CODE"
#     /expect?method=M&body=B&header=Name:Value&code=C
#                         C (default 200) when the method is M, the body is exactly B
#                         and the request has a header Name (case-insensitive) whose
#                         value is exactly Value; each check only if given, header=
#                         may be repeated; else 417 with the reason in the body
#                         ("method is GET, expected POST", "header X-Token missing...")
#     /state              the code stored in /tmp/n2c-state (default 200), body
#                         "state CODE"; also `echo 503 >/tmp/n2c-state`
#     /state?set=CODE     stores CODE (200..599), answers 200
#     /redirect           302, Location: /status/200
#     /ok                 200, body "ok"
#     anything else       404; malformed requests 400 (431/413 when too large)
#   WebSocket: a GET with "Upgrade: websocket" and a Sec-WebSocket-Key on any path
#   answers "101 Switching Protocols" with the right Sec-WebSocket-Accept, then sends
#   one unmasked text frame whose payload is the query parameter `say` (default
#   "pong"), keeps the connection open ~5 s (less if the client closes it or sends a
#   close frame), then sends a close frame and closes.
#   Examples inside a container:
#     n2c-testserver 8080 8081 &
#     curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8080/status/503
#     wget -q -O- 'http://127.0.0.1:8080/expect?method=POST&body=hi' --post-data hi
#
# Idempotent: an image whose label nos2compose.build matches the hash of this script,
# testserver.c and the host files it is made of is kept; otherwise it is (re)built.
# FORCE=1 rebuilds every image.
set -euo pipefail

BUSYBOX_IMAGE=nos2compose-test/busybox:1
CURL_IMAGE=nos2compose-test/curl:1
PYTHON_IMAGE=nos2compose-test/python:1
BASH_IMAGE=nos2compose-test/bash:1
DISTROLESS_IMAGE=nos2compose-test/distroless:1
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SERVER_SRC=$HERE/testserver.c
PATH_ENV=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log() { printf 'tests/images/build.sh: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

command -v docker >/dev/null 2>&1 || die "docker CLI not found"
docker info >/dev/null 2>&1 || die "docker engine not reachable (run .ci/engine.sh)"
[ -f "$SERVER_SRC" ] || die "$SERVER_SRC missing"

WORK=$(mktemp -d /tmp/nos2compose-images.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

APT_UPDATED=0
apt_install() { # PACKAGE...
    log "installing $* with apt"
    export DEBIAN_FRONTEND=noninteractive
    if [ "$APT_UPDATED" = 0 ]; then
        apt-get update -qq || die "apt-get update failed"
        APT_UPDATED=1
    fi
    apt-get install -y -qq "$@" >/dev/null || die "apt-get install $* failed"
}

ensure_busybox_static() {
    if dpkg -s busybox-static >/dev/null 2>&1 && [ -x /bin/busybox ]; then
        return
    fi
    apt_install busybox-static
    [ -x /bin/busybox ] || die "/bin/busybox missing after installing busybox-static"
}

ensure_cmd() { # COMMAND PACKAGE: install PACKAGE unless /usr/bin/COMMAND exists
    [ -x "/usr/bin/$1" ] || apt_install "$2"
    [ -x "/usr/bin/$1" ] || die "/usr/bin/$1 missing after installing $2"
}

image_label() { # image label -> value or empty
    docker image inspect -f "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true
}

# up_to_date IMAGE HASH: true (and logs) when IMAGE was built from HASH and FORCE!=1
up_to_date() {
    if [ "${FORCE:-0}" != 1 ] && [ "$(image_label "$1" nos2compose.build)" = "$2" ]; then
        log "$1 is up to date ($2)"
        return 0
    fi
    return 1
}

# The test server, compiled at most once per run (only when an image needs it).
compile_testserver() {
    [ ! -x "$WORK/n2c-testserver" ] || return 0
    command -v gcc >/dev/null 2>&1 || apt_install gcc libc6-dev
    gcc -O2 -static -s -Wall -o "$WORK/n2c-testserver" "$SERVER_SRC" \
        || die "compiling $SERVER_SRC failed"
}

# new_root NAME: an empty root file system with the files every image has
# (/etc/passwd, /etc/group, /tmp, the test server). Sets ROOT.
new_root() {
    ROOT=$WORK/$1
    mkdir -p "$ROOT"/{etc,root,tmp,proc,sys,dev,usr/local/bin}
    chmod 1777 "$ROOT/tmp"
    printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$ROOT/etc/passwd"
    printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >"$ROOT/etc/group"
    compile_testserver
    cp "$WORK/n2c-testserver" "$ROOT/usr/local/bin/n2c-testserver"
    chmod 0755 "$ROOT/usr/local/bin/n2c-testserver"
}

# merged_usr: Debian's merged-/usr layout in $ROOT, so host paths such as
# /lib/x86_64-linux-gnu/libc.so.6 or /bin/sh can be copied to the same place.
merged_usr() {
    local d
    mkdir -p "$ROOT"/usr/{bin,sbin,lib,lib64}
    for d in bin sbin lib lib64; do ln -s "usr/$d" "$ROOT/$d"; done
    printf '%s\n' 'hosts: files dns' >"$ROOT/etc/nsswitch.conf"
}

# ldd_libs FILE...: every shared library the files need (as ldd lists them:
# transitive, including the dynamic loader), one path a line.
ldd_libs() {
    local f out
    for f in "$@"; do
        out=$(ldd "$f" 2>/dev/null) || continue # static or not an ELF file
        if grep -q 'not found' <<<"$out"; then
            die "ldd $f: $(grep 'not found' <<<"$out" | tr -s ' \t\n' ' ')"
        fi
        awk '$2 == "=>" && $3 ~ /^\// { print $3; next } $1 ~ /^\// { print $1 }' <<<"$out"
    done | sort -u
}

# copy_files PATH...: copy host files (dereferenced) to the same paths in $ROOT.
copy_files() {
    local f
    for f in "$@"; do
        mkdir -p "$ROOT$(dirname "$f")"
        cp -L --preserve=mode "$f" "$ROOT$f" || die "cannot copy $f"
    done
}

# build_hash FILE...: 16 hex digits over this script, the server source and the
# files' names and contents.
build_hash() {
    { sha256sum "$HERE/build.sh" "$SERVER_SRC"; [ $# = 0 ] || sha256sum -- "$@"; } | sha256sum | cut -c1-16
}

# import_root IMAGE HASH CMD MESSAGE: docker import $ROOT as IMAGE, labelled with HASH.
import_root() {
    local image=$1 hash=$2 cmd=$3 message=$4 old_id
    old_id=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
    tar --numeric-owner --owner=0 --group=0 -C "$ROOT" -c . \
        | docker import \
            --change "ENV PATH=$PATH_ENV" \
            --change "CMD $cmd" \
            --change "LABEL nos2compose.build=$hash" \
            --message "$message" \
            - "$image" >/dev/null \
        || die "docker import of $image failed"
    [ "$(image_label "$image" nos2compose.build)" = "$hash" ] || die "$image missing after import"
    # Drop the stale image it replaced (fails harmlessly if a container still uses it).
    [ -z "$old_id" ] || [ "$old_id" = "$(docker image inspect -f '{{.Id}}' "$image")" ] \
        || docker rmi "$old_id" >/dev/null 2>&1 || true
    rm -rf "$ROOT"
    log "built $image"
}

# Write a CGI script: cgi NAME <<'EOF' ... EOF
cgi() {
    cat >"$ROOT/www/cgi-bin/$1"
    chmod 0755 "$ROOT/www/cgi-bin/$1"
}

build_busybox() {
    ensure_busybox_static
    local hash
    hash=$(build_hash /bin/busybox)
    up_to_date "$BUSYBOX_IMAGE" "$hash" && return
    log "building $BUSYBOX_IMAGE ($hash)"
    new_root busybox

    mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,www/cgi-bin,var/run}
    cp /bin/busybox "$ROOT/bin/busybox"
    chmod 0755 "$ROOT/bin/busybox"
    local applet
    while IFS= read -r applet; do
        if [ -z "$applet" ] || [ "$applet" = bin/busybox ]; then continue; fi
        mkdir -p "$ROOT/$(dirname "$applet")"
        ln -sf /bin/busybox "$ROOT/$applet"
    done < <(/bin/busybox --list-full)
    for applet in sh wget httpd nc sleep echo cat sed grep head tail tr printf env true false ls mkdir test [; do
        [ -e "$ROOT/bin/$applet" ] || [ -e "$ROOT/usr/bin/$applet" ] || [ -e "$ROOT/sbin/$applet" ] \
            || [ -e "$ROOT/usr/sbin/$applet" ] || die "busybox lacks applet $applet"
    done

    # --- test web server -------------------------------------------------------
    printf '%s\n' '/auth:user:pass' >"$ROOT/etc/httpd.conf"
    printf 'ok\n' >"$ROOT/www/ok"
    printf 'authorized\n' >"$ROOT/www/auth"
    printf 'nos2compose test server\n' >"$ROOT/www/index.html"

    # Shared helpers. Scripts print their own status line ("HTTP/1.0 CODE ...");
    # busybox httpd passes CGI output starting with "HTTP/1." through unchanged.
    cat >"$ROOT/www/cgi-bin/.lib.sh" <<'EOF'
# qs NAME: URL-decoded value of NAME in $QUERY_STRING (empty if absent)
qs() {
    v=$(printf '%s' "$QUERY_STRING" | tr '&' '\n' | sed -n "s/^$1=//p" | head -n 1)
    httpd -d "$v"
}
has_qs() { printf '%s' "$QUERY_STRING" | tr '&' '\n' | grep -q "^$1="; }
reason() {
    case $1 in
        200) echo OK ;; 201) echo Created ;; 202) echo Accepted ;; 204) echo No Content ;;
        301) echo Moved Permanently ;; 302) echo Found ;; 304) echo Not Modified ;;
        400) echo Bad Request ;; 401) echo Unauthorized ;; 403) echo Forbidden ;;
        404) echo Not Found ;; 405) echo Method Not Allowed ;; 417) echo Expectation Failed ;;
        500) echo Internal Server Error ;; 502) echo Bad Gateway ;;
        503) echo Service Unavailable ;; 504) echo Gateway Timeout ;; *) echo Status ;;
    esac
}
# reply CODE [BODY]
reply() {
    printf 'HTTP/1.0 %s %s\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n' "$1" "$(reason "$1")"
    [ $# -lt 2 ] || printf '%s\n' "$2"
}
is_code() { printf '%s' "$1" | grep -qE '^[1-5][0-9][0-9]$'; }
read_body() {
    if [ -n "${CONTENT_LENGTH:-}" ] && [ "$CONTENT_LENGTH" -gt 0 ] 2>/dev/null; then
        head -c "$CONTENT_LENGTH"
    fi
}
EOF
    cgi status <<'EOF'
#!/bin/sh
. ./.lib.sh
code=${QUERY_STRING:-200}
is_code "$code" || code=400
reply "$code" "status $code"
EOF
    cgi redirect <<'EOF'
#!/bin/sh
. ./.lib.sh
to=$(httpd -d "${QUERY_STRING:-/ok}")
[ "$QUERY_STRING" != loop ] || to=/cgi-bin/redirect?loop
printf 'HTTP/1.0 302 Found\r\nLocation: %s\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nredirect to %s\n' "$to" "$to"
EOF
    cgi sleep <<'EOF'
#!/bin/sh
. ./.lib.sh
n=${QUERY_STRING:-1}
printf '%s' "$n" | grep -qE '^[0-9]+$' || { reply 400 "bad seconds"; exit 0; }
sleep "$n"
reply 200 "slept $n"
EOF
    cgi echo <<'EOF'
#!/bin/sh
. ./.lib.sh
body=$(read_body)
reply 200
printf 'method=%s\nquery=%s\ncontent_type=%s\nbody=%s\n' \
    "$REQUEST_METHOD" "${QUERY_STRING:-}" "${CONTENT_TYPE:-}" "$body"
env | grep '^HTTP_' | sort
EOF
    cgi expect <<'EOF'
#!/bin/sh
. ./.lib.sh
body=$(read_body)
code=200
if has_qs code; then code=$(qs code); is_code "$code" || { reply 400 "bad code"; exit 0; }; fi
if has_qs method && [ "$REQUEST_METHOD" != "$(qs method)" ]; then
    reply 417 "method is $REQUEST_METHOD, expected $(qs method)"; exit 0
fi
if has_qs body && [ "$body" != "$(qs body)" ]; then
    reply 417 "body is '$body', expected '$(qs body)'"; exit 0
fi
reply "$code" "method=$REQUEST_METHOD body=$body"
EOF
    cgi state <<'EOF'
#!/bin/sh
. ./.lib.sh
if has_qs set; then
    c=$(qs set); is_code "$c" || { reply 400 "bad code"; exit 0; }
    echo "$c" >/tmp/http-status
    reply 200 "state set to $c"; exit 0
fi
c=$(cat /tmp/http-status 2>/dev/null | tr -d ' \r\n')
is_code "$c" || c=200
reply "$c" "state $c"
EOF
    cgi flaky <<'EOF'
#!/bin/sh
. ./.lib.sh
n=${QUERY_STRING:-1}
printf '%s' "$n" | grep -qE '^[0-9]+$' || { reply 400 "bad count"; exit 0; }
c=$(cat /tmp/flaky.count 2>/dev/null || echo 0)
c=$((c + 1))
echo "$c" >/tmp/flaky.count
if [ "$c" -le "$n" ]; then reply 503 "attempt $c of $n failing"; else reply 200 "attempt $c ok"; fi
EOF

    import_root "$BUSYBOX_IMAGE" "$hash" '["sh"]' "nos2compose test image (busybox-static)"
}

SERVER_CMD='["n2c-testserver", "8080"]'

build_curl() {
    ensure_cmd curl curl
    ensure_cmd dash dash
    local hash libs
    libs=$(ldd_libs /usr/bin/curl /usr/bin/dash) || exit 1
    # shellcheck disable=SC2086 # one path a line, no spaces
    hash=$(build_hash /usr/bin/curl /usr/bin/dash $libs)
    up_to_date "$CURL_IMAGE" "$hash" && return
    log "building $CURL_IMAGE ($hash)"
    new_root curl
    merged_usr
    # shellcheck disable=SC2086
    copy_files /usr/bin/curl /usr/bin/dash $libs
    ln -s dash "$ROOT/usr/bin/sh"
    import_root "$CURL_IMAGE" "$hash" "$SERVER_CMD" "nos2compose test image (curl + dash)"
}

# Python: the stdlib parts and C modules left out of the image.
PY_DROP_DIRS=(test tests idlelib ensurepip tkinter turtledemo lib2to3 pydoc_data distutils
    sqlite3 curses 'config-*' __phello__)
PY_DROP_FILES=(turtle.py 'turtle.*.pyc' sitecustomize.py 'sitecustomize.*.pyc' EXTERNALLY-MANAGED
    '*.opt-1.pyc' '*.opt-2.pyc' '_test*.so' '_ctypes_test*.so' 'xx*.so' '_xx*.so' '_curses*.so'
    'readline.*.so' '_dbm.*.so' '_gdbm.*.so' 'nis.*.so' '_sqlite3.*.so' '_tkinter.*.so'
    'ossaudiodev.*.so' 'audioop.*.so')

build_python() {
    local py=/usr/bin/python3 ver stdlib
    if ! [ -x "$py" ] || ! "$py" -c 'import http.client, json, socket' >/dev/null 2>&1; then
        apt_install python3-minimal libpython3-stdlib
    fi
    [ -x "$py" ] || die "$py missing after installing python3-minimal"
    py=$(readlink -f "$py")           # /usr/bin/python3.11
    ver=${py##*/python}               # 3.11
    stdlib=/usr/lib/python$ver
    if [ ! -f "$stdlib/os.py" ] || [ ! -d "$stdlib/lib-dynload" ]; then die "no standard library at $stdlib"; fi

    local -a tar_excl=() find_excl=()
    local p
    for p in "${PY_DROP_DIRS[@]}" "${PY_DROP_FILES[@]}"; do tar_excl+=(--exclude="$p"); done
    for p in "${PY_DROP_FILES[@]}"; do find_excl+=(! -name "$p"); done
    local -a mods
    mapfile -t mods < <(find "$stdlib/lib-dynload" -name '*.so' "${find_excl[@]}" | sort)

    local hash libs
    libs=$(ldd_libs "$py" /usr/bin/dash "${mods[@]}") || exit 1
    # The stdlib enters the hash by its listing (names, sizes, times), not its contents.
    # shellcheck disable=SC2086
    hash=$({
        build_hash "$py" /usr/bin/dash $libs
        find "$stdlib" -name __pycache__ -prune -o ! -type d -printf '%P %s %T@\n' | sort
    } | sha256sum | cut -c1-16)
    up_to_date "$PYTHON_IMAGE" "$hash" && return
    log "building $PYTHON_IMAGE ($hash)"
    new_root python
    merged_usr
    # shellcheck disable=SC2086
    copy_files "$py" /usr/bin/dash $libs
    ln -s "python$ver" "$ROOT/usr/bin/python3"
    ln -s dash "$ROOT/usr/bin/sh"
    # The stdlib with its compiled __pycache__ (valid: times are kept), minus the drops.
    tar -C "$(dirname "$stdlib")" -c "${tar_excl[@]}" "python$ver" | tar -C "$ROOT/usr/lib" -x \
        || die "copying $stdlib failed"
    import_root "$PYTHON_IMAGE" "$hash" "$SERVER_CMD" "nos2compose test image (python$ver + dash)"
}

BASH_TOOLS=(cat sleep timeout printf head tr)

build_bash() {
    local -a bins=(/usr/bin/bash)
    local t hash libs
    for t in "${BASH_TOOLS[@]}"; do
        [ -x "/usr/bin/$t" ] || die "/usr/bin/$t missing (coreutils)"
        bins+=("/usr/bin/$t")
    done
    libs=$(ldd_libs "${bins[@]}") || exit 1
    # shellcheck disable=SC2086
    hash=$(build_hash "${bins[@]}" $libs)
    up_to_date "$BASH_IMAGE" "$hash" && return
    log "building $BASH_IMAGE ($hash)"
    new_root bash
    merged_usr
    # shellcheck disable=SC2086
    copy_files "${bins[@]}" $libs
    ln -s bash "$ROOT/usr/bin/sh"
    import_root "$BASH_IMAGE" "$hash" "$SERVER_CMD" "nos2compose test image (bash + coreutils)"
}

build_distroless() {
    local hash
    hash=$(build_hash)
    up_to_date "$DISTROLESS_IMAGE" "$hash" && return
    log "building $DISTROLESS_IMAGE ($hash)"
    new_root distroless
    import_root "$DISTROLESS_IMAGE" "$hash" "$SERVER_CMD" "nos2compose test image (test server only)"
}

build_busybox
build_curl
build_python
build_bash
build_distroless
