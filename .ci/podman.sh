#!/usr/bin/env bash
# Make Podman available as a service for the fidelity suite: the Podman provider of Nosana's
# node (the one production nodes run) talks to it (tests/fidelity/PODMAN.md says how and why).
#
#   .ci/podman.sh                 install, configure, start, load the images (idempotent)
#   .ci/podman.sh --load IMG...   only load these images from Docker into Podman (the service
#                                 must be running; tests/fidelity/oracle/setup.sh loads the
#                                 tunnel stand-in this way once it has built it)
#
# Meant for Debian 12 as root without systemd, like .ci/engine.sh (which must have run: the
# images come from its Docker engine). Every step is skipped when already done:
#   1. podman from apt (4.3.1 on Debian 12)                  if `podman` is missing
#   2. /etc/containers/containers.conf.d/50-nos2compose.conf  (a drop-in, so an admin's own
#      containers.conf is left alone; drop-ins are read after it):
#      - default_ulimits: the sandbox refuses Podman's defaults ("error setting rlimit
#        type 7: operation not permitted");
#      - runtime "runc": crun, which Podman prefers when both are installed, refuses this
#        host's hybrid cgroups;
#   3. `podman system service --time=0 unix://$SOCKET` in the background, detached (setsid),
#      in a network namespace of its own (`unshare -n`): the Docker engine here already has
#      the node's network NOSANA_GATEWAY on 192.168.101.0/24, and Podman refuses a subnet
#      that is in use on the host, while the node's Podman provider needs that network with
#      that subnet. In its own namespace Podman's bridges collide with nothing, and its
#      containers have no route off the machine (nothing can be pulled). So every container
#      and network operation goes through the service (`podman --remote --url unix://$SOCKET`
#      or `docker -H unix://$SOCKET`); image commands (load, tag) work with plain `podman`.
#      Log: /tmp/nos2compose-podman.log; pid: /run/nos2compose-podman.pid. Then wait up to
#      ~30 s until it answers;
#   4. the test images (nos2compose-test/*, built by tests/images/build.sh) and the tunnel
#      stand-in registry.hub.docker.com/nosana/frpc:v1.0.32 when Docker has it:
#      `docker save IMG | podman load`, skipped when Podman has the same image id. An image
#      named without a registry is also tagged docker.io/NAME, as a pull would name it (Podman
#      names a loaded image localhost/NAME; the node looks images up as NAME, docker.io/NAME
#      or registry.hub.docker.com/NAME, and Podman's Docker-compatible API reads NAME as
#      docker.io/NAME).
#
#   NOS2COMPOSE_PODMAN_SOCKET   the socket (default /run/nos2compose-podman.sock)
# Any failure exits non-zero with one line ".ci/podman.sh: ERROR: ...".
set -euo pipefail

SOCKET=${NOS2COMPOSE_PODMAN_SOCKET:-/run/nos2compose-podman.sock}
PIDFILE=/run/nos2compose-podman.pid
LOG=/tmp/nos2compose-podman.log
CONF=/etc/containers/containers.conf.d/50-nos2compose.conf
FRPC_IMAGE=registry.hub.docker.com/nosana/frpc:v1.0.32
WAIT_SECONDS=30

log() { printf '.ci/podman.sh: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
need_root() { [ "$(id -u)" = 0 ] || die "must run as root to $*"; }

remote() { podman --remote --url "unix://$SOCKET" "$@"; }
service_up() { timeout 10 podman --remote --url "unix://$SOCKET" version >/dev/null 2>&1; }

# --- images --------------------------------------------------------------------------

podman_id() { podman image inspect -f '{{.Id}}' "$1" 2>/dev/null || true; }

load_image() {
    local image=$1 want have old qualified first
    want=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null) || die "Docker has no image $image"
    want=${want#sha256:}
    # As Docker reads a name: its first part names a registry when there is a slash after it
    # and it has a dot or a colon or is localhost; else the name is docker.io's.
    first=${image%%/*}
    if [[ $image == */* ]] && [[ $first == *.* || $first == *:* || $first == localhost ]]; then
        qualified=$image
    else
        qualified=docker.io/$image
    fi
    have=$(podman_id "$qualified")
    if [ "$have" = "$want" ]; then
        return 0
    fi
    old=$have
    log "loading $image into Podman (docker save | podman load)"
    docker save "$image" | podman load -q >/dev/null || die "docker save $image | podman load failed"
    if [ "$qualified" != "$image" ]; then
        podman tag "$want" "$qualified" || die "podman tag $want $qualified failed"
    fi
    [ "$(podman_id "$qualified")" = "$want" ] || die "after loading, Podman's $qualified is not Docker's $image"
    # The image it replaces, now untagged (kept if a container still uses it).
    if [ -n "$old" ] && [ "$old" != "$want" ]; then
        podman rmi "$old" >/dev/null 2>&1 || true
    fi
}

if [ "${1:-}" = --load ]; then
    shift
    command -v podman >/dev/null 2>&1 || die "podman is not installed (run .ci/podman.sh)"
    for image in "$@"; do
        load_image "$image"
    done
    exit 0
fi
[ $# = 0 ] || die "usage: .ci/podman.sh [--load IMAGE...]"

# --- 1. podman -------------------------------------------------------------------------

export DEBIAN_FRONTEND=noninteractive
if ! command -v podman >/dev/null 2>&1; then
    need_root "install podman"
    log "podman missing: installing it with apt"
    apt-get install -y -qq podman >/dev/null 2>&1 \
        || { apt-get update -qq && apt-get install -y -qq podman >/dev/null; } \
        || die "apt-get install podman failed"
    command -v podman >/dev/null 2>&1 || die "podman still missing after installing it"
fi
command -v docker >/dev/null 2>&1 || die "docker CLI missing (run .ci/engine.sh first)"
command -v unshare >/dev/null 2>&1 || die "unshare missing (util-linux)"

# --- 2. configuration ----------------------------------------------------------------------

read -r -d '' WANT_CONF <<'EOF' || true
# Written by nos2compose's .ci/podman.sh (tests/fidelity/PODMAN.md).
[containers]
# This sandbox refuses Podman's default rlimits ("error setting rlimit type 7/6").
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]

[engine]
# crun refuses this host's hybrid cgroups; Podman prefers it when it is installed.
runtime = "runc"
EOF
if [ "$(cat "$CONF" 2>/dev/null)" != "$WANT_CONF" ]; then
    need_root "write $CONF"
    log "writing $CONF"
    mkdir -p "$(dirname "$CONF")"
    printf '%s\n' "$WANT_CONF" >"$CONF.tmp" || die "cannot write $CONF.tmp"
    mv -f "$CONF.tmp" "$CONF" || die "cannot write $CONF"
fi

# --- 3. the service ----------------------------------------------------------------------

service_alive() {
    local pid
    pid=$(cat "$PIDFILE" 2>/dev/null || true)
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = podman ]
}
if ! service_up; then
    if service_alive; then
        log "podman service (pid $(cat "$PIDFILE")) running but not answering yet: waiting"
    else
        need_root "start the podman service"
        [ -S "$SOCKET" ] && rm -f "$SOCKET"
        log "starting podman system service on $SOCKET, in a network namespace of its own (log: $LOG)"
        # Detached: own session, no inherited stdio, so it outlives this script and does not
        # hold the caller's pipes open. setsid, unshare and sh each exec the next: the pid is
        # the service's. ($0 is expanded by that sh: it is the socket.)
        # shellcheck disable=SC2016
        setsid unshare -n sh -c \
            'ip link set lo up 2>/dev/null; exec podman system service --time=0 "unix://$0"' "$SOCKET" \
            </dev/null >>"$LOG" 2>&1 &
        echo $! >"$PIDFILE"
    fi
    deadline=$((SECONDS + WAIT_SECONDS))
    until service_up; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            log "last lines of $LOG:"
            tail -n 20 "$LOG" >&2 || true
            die "the podman service did not answer on $SOCKET within ${WAIT_SECONDS}s"
        fi
        sleep 0.5
    done
fi
[ "$(remote info --format '{{.Host.OCIRuntime.Name}}' 2>/dev/null)" = runc ] \
    || die "the podman service does not use runc (is $CONF read?)"
log "podman $(remote version --format '{{.Server.Version}}' 2>/dev/null) answers on $SOCKET"

# --- 4. images -------------------------------------------------------------------------------

docker info >/dev/null 2>&1 || die "docker engine not reachable (run .ci/engine.sh first)"
mapfile -t images < <(docker images --filter 'reference=nos2compose-test/*' --format '{{.Repository}}:{{.Tag}}' | sort)
[ "${#images[@]}" -gt 0 ] || die "Docker has no nos2compose-test/* images (run tests/images/build.sh)"
if docker image inspect "$FRPC_IMAGE" >/dev/null 2>&1; then
    images+=("$FRPC_IMAGE")
else
    log "Docker has no $FRPC_IMAGE yet (tests/fidelity/oracle/setup.sh builds it and loads it here)"
fi
for image in "${images[@]}"; do
    load_image "$image"
done
log "ready: ${#images[@]} images in Podman"
