#!/usr/bin/env bash
# Build the local test images used by nos2compose's Docker tests.
#
# No registry is reachable from the test machines, so every image is made with
# `docker import` of a tar of a root file system assembled here.
#
# nos2compose-test/busybox:1
#   Made from Debian's `busybox-static` (installed with apt if missing).
#   - /bin/busybox (static, needs no libraries) plus a symlink for every applet at
#     its usual place (/bin/sh, /usr/bin/wget, /usr/sbin/httpd, /usr/bin/nc, sleep,
#     echo, cat, sed, grep, head, tail, tr, printf, env, true, false, ls, mkdir,
#     test, [, timeout, ...); PATH is set; CMD is ["sh"].
#   - /etc/passwd, /etc/group (root, nobody), /tmp (1777).
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
# Idempotent: an image whose label nos2compose.build matches the hash of this script
# and of the busybox binary is kept; otherwise it is (re)built. FORCE=1 rebuilds.
set -euo pipefail

BUSYBOX_IMAGE=nos2compose-test/busybox:1
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

log() { printf 'tests/images/build.sh: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

command -v docker >/dev/null 2>&1 || die "docker CLI not found"
docker info >/dev/null 2>&1 || die "docker engine not reachable (run .ci/engine.sh)"

ensure_busybox_static() {
    if dpkg -s busybox-static >/dev/null 2>&1 && [ -x /bin/busybox ]; then
        return
    fi
    log "installing busybox-static with apt"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || die "apt-get update failed"
    apt-get install -y -qq busybox-static >/dev/null || die "apt-get install busybox-static failed"
    [ -x /bin/busybox ] || die "/bin/busybox missing after installing busybox-static"
}

image_label() { # image label -> value or empty
    docker image inspect -f "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true
}

# Write a CGI script: cgi NAME <<'EOF' ... EOF
cgi() {
    cat >"$ROOT/www/cgi-bin/$1"
    chmod 0755 "$ROOT/www/cgi-bin/$1"
}

build_busybox() {
    ensure_busybox_static
    local hash
    hash=$(cat "$HERE/build.sh" /bin/busybox | sha256sum | cut -c1-16)
    if [ "${FORCE:-0}" != 1 ] && [ "$(image_label "$BUSYBOX_IMAGE" nos2compose.build)" = "$hash" ]; then
        log "$BUSYBOX_IMAGE is up to date ($hash)"
        return
    fi
    log "building $BUSYBOX_IMAGE ($hash)"
    local old_id
    old_id=$(docker image inspect -f '{{.Id}}' "$BUSYBOX_IMAGE" 2>/dev/null || true)

    ROOT=$(mktemp -d /tmp/nos2compose-rootfs.XXXXXX)
    trap 'rm -rf "$ROOT"' EXIT

    mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp,proc,sys,dev,www/cgi-bin,var/run}
    chmod 1777 "$ROOT/tmp"
    cp /bin/busybox "$ROOT/bin/busybox"
    chmod 0755 "$ROOT/bin/busybox"
    local applet
    while IFS= read -r applet; do
        [ -n "$applet" ] && [ "$applet" != bin/busybox ] || continue
        mkdir -p "$ROOT/$(dirname "$applet")"
        ln -sf /bin/busybox "$ROOT/$applet"
    done < <(/bin/busybox --list-full)
    for applet in sh wget httpd nc sleep echo cat sed grep head tail tr printf env true false ls mkdir test [; do
        [ -e "$ROOT/bin/$applet" ] || [ -e "$ROOT/usr/bin/$applet" ] || [ -e "$ROOT/sbin/$applet" ] \
            || [ -e "$ROOT/usr/sbin/$applet" ] || die "busybox lacks applet $applet"
    done

    printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$ROOT/etc/passwd"
    printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >"$ROOT/etc/group"

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

    tar --numeric-owner --owner=0 --group=0 -C "$ROOT" -c . \
        | docker import \
            --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            --change 'CMD ["sh"]' \
            --change "LABEL nos2compose.build=$hash" \
            --message "nos2compose test image (busybox-static)" \
            - "$BUSYBOX_IMAGE" >/dev/null \
        || die "docker import of $BUSYBOX_IMAGE failed"
    [ "$(image_label "$BUSYBOX_IMAGE" nos2compose.build)" = "$hash" ] || die "$BUSYBOX_IMAGE missing after import"
    # Drop the stale image it replaced (fails harmlessly if a container still uses it).
    [ -z "$old_id" ] || docker rmi "$old_id" >/dev/null 2>&1 || true
    log "built $BUSYBOX_IMAGE"
}

build_busybox
