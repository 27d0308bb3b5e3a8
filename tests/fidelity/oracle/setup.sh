#!/usr/bin/env bash
# Build Nosana's own node (the snapshot in ../shared/oracle/) as a test oracle and
# prepare the Docker engine, and the Podman service when it runs, for it. Idempotent; see
# README.md beside this file.
#
#   NOS2COMPOSE_ORACLE_TARBALL  the snapshot (default: $REPO/../shared/oracle/nosana-cli-1d3a04c.tar.gz)
#   NOS2COMPOSE_ORACLE_BUILD    where to build (default: this directory's build/)
#   NOS2COMPOSE_ORACLE_PODMAN   auto (default): prepare Podman when its service answers, else say
#                               so and skip it; require: fail when it does not answer; skip
#   NOS2COMPOSE_PODMAN_SOCKET   the Podman service (default /run/nos2compose-podman.sock)
#   FORCE=1                     rebuild the node and the tunnel stand-in
#
# Steps (each skipped when already done):
#   1. unpack, `npm install --ignore-scripts @nosana/sdk@0.4.69`, ts-patch + typia patch,
#      `tsc -p .` (exits 2 on 17 type errors but emits dist/), copy the .env files into
#      dist/; a stamp keyed on the tarball's sha256 marks a finished build;
#   2. the network NOSANA_GATEWAY (192.168.101.0/24), which the node cannot create
#      itself on this engine (it asks for IPAM driver "bridge");
#   3. a local stand-in for the tunnel client image registry.hub.docker.com/nosana/frpc:v1.0.32
#      (curl + sh + an /entrypoint.sh that waits), made from nos2compose-test/curl:1 without a
#      pull, and checked by curling a test server in another container over NOSANA_GATEWAY;
#   4. the same for the node's Podman provider on the Podman service (.ci/podman.sh starts it,
#      in a network namespace of its own: ../PODMAN.md): NOSANA_GATEWAY with the same subnet,
#      the stand-in loaded from Docker (`.ci/podman.sh --load`), checked there the same way.
# Every failure exits 1 with one line "tests/fidelity/oracle/setup.sh: ERROR: ...".
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
TARBALL=${NOS2COMPOSE_ORACLE_TARBALL:-$REPO/../shared/oracle/nosana-cli-1d3a04c.tar.gz}
BUILD=${NOS2COMPOSE_ORACLE_BUILD:-$HERE/build}
NODE_DIR=$BUILD/nosana-cli
# tests/conftest.py looks for this file to tell whether the oracle is built (marker `oracle`).
STAMP=$BUILD/.stamp
SDK_VERSION=0.4.69
# Bump when the build recipe changes, so existing builds are redone.
RECIPE=1
NETWORK=NOSANA_GATEWAY
SUBNET=192.168.101.0/24
GATEWAY=192.168.101.1
FRPC_IMAGE=registry.hub.docker.com/nosana/frpc:v1.0.32
STUB_BASE=nos2compose-test/curl:1
BUSYBOX_IMAGE=nos2compose-test/busybox:1
STUB_LABEL=nos2compose.oracle.stub
PODMAN_SOCKET=${NOS2COMPOSE_PODMAN_SOCKET:-/run/nos2compose-podman.sock}
PODMAN_MODE=${NOS2COMPOSE_ORACLE_PODMAN:-auto}
# The stand-in checked on Podman (its image id), so the check runs once per stand-in.
PODMAN_STAMP=$BUILD/.podman-stub
# Bump when the stand-in's recipe changes.
STUB_RECIPE=1

log() { printf 'tests/fidelity/oracle/setup.sh: %s\n' "$*" >&2; }
die() { printf 'tests/fidelity/oracle/setup.sh: ERROR: %s\n' "$*" >&2; exit 1; }

for tool in node npm tar sha256sum docker; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found on PATH"
done
[ -f "$TARBALL" ] || die "snapshot not found: $TARBALL (set NOS2COMPOSE_ORACLE_TARBALL)"
docker info >/dev/null 2>&1 || die "docker engine not reachable"

TMPS=()
cleanup() { for t in "${TMPS[@]}"; do rm -rf "$t"; done; }
trap cleanup EXIT

# --- 1. the node --------------------------------------------------------------------

build_node() {
    local key=$1 work out rc
    log "building the node from $(basename "$TARBALL") in $BUILD (30-60 s)"
    mkdir -p "$BUILD" || die "cannot create $BUILD"
    work=$(mktemp -d "$BUILD/.work.XXXXXX") || die "mktemp in $BUILD failed"
    TMPS+=("$work")
    tar -xzf "$TARBALL" -C "$work" || die "unpacking $TARBALL failed"
    [ -f "$work/nosana-cli/package.json" ] || die "$TARBALL has no nosana-cli/package.json"
    out=$work/npm.log
    log "npm install --ignore-scripts @nosana/sdk@$SDK_VERSION"
    (cd "$work/nosana-cli" && npm install --ignore-scripts --no-audit --no-fund \
        "@nosana/sdk@$SDK_VERSION") >"$out" 2>&1 \
        || die "npm install failed: $(tail -n 3 "$out" | tr '\n' ' ')"
    log "ts-patch install, typia patch"
    (cd "$work/nosana-cli" && npx --no-install ts-patch install && npx --no-install typia patch) \
        >"$out" 2>&1 || die "ts-patch/typia patch failed: $(tail -n 3 "$out" | tr '\n' ' ')"
    log "tsc -p . (type errors expected; JavaScript is emitted anyway)"
    rc=0
    (cd "$work/nosana-cli" && npx --no-install tsc -p .) >"$out" 2>&1 || rc=$?
    # 0: clean; 2: errors but output emitted; anything else: nothing usable.
    if [ "$rc" != 0 ] && [ "$rc" != 2 ]; then
        die "tsc failed (exit $rc): $(grep -m1 error "$out" || tail -n 1 "$out")"
    fi
    log "tsc exit $rc, $(grep -c 'error TS' "$out" || true) type errors (17 expected)"
    for f in dist/src/cli/node/run/action.js dist/src/docker/index.js \
             dist/src/services/sdk.js dist/src/services/NodeManager/configs/configs.js \
             dist/src/services/NodeManager/configs/NodeConfigs.js \
             dist/src/services/NodeManager/monitoring/proxy/loggingProxy.js; do
        [ -f "$work/nosana-cli/$f" ] || die "tsc did not emit $f"
    done
    for f in .env .env.prd .env.dev; do
        cp "$work/nosana-cli/$f" "$work/nosana-cli/dist/" || die "copying $f into dist/ failed"
    done
    rm -rf "$NODE_DIR" || die "cannot remove the old build $NODE_DIR"
    mv "$work/nosana-cli" "$NODE_DIR" || die "cannot move the build into $NODE_DIR"
    printf '%s\n' "$key" >"$STAMP" || die "cannot write $STAMP"
    log "node built: $NODE_DIR/dist"
}

KEY="$(sha256sum "$TARBALL" | cut -d' ' -f1) recipe=$RECIPE sdk=$SDK_VERSION node=$(node --version)"
# Builds made before the stamp was renamed wrote build/stamp, which tests/conftest.py never saw.
if [ -f "$BUILD/stamp" ] && [ ! -f "$STAMP" ]; then
    mv "$BUILD/stamp" "$STAMP" || die "cannot rename $BUILD/stamp to $STAMP"
fi
if [ "${FORCE:-0}" != 1 ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$KEY" ] \
        && [ -f "$NODE_DIR/dist/src/cli/node/run/action.js" ]; then
    log "node already built ($NODE_DIR)"
else
    build_node "$KEY"
fi

# --- 2. the network ------------------------------------------------------------------

# The engine the next commands talk to: Docker, or (step 4) Podman's Docker-compatible API.
ENGINE=(docker)
ENGINE_NAME=Docker
eng() { "${ENGINE[@]}" "$@"; }

ensure_network() {
    local have
    if eng network inspect "$NETWORK" >/dev/null 2>&1; then
        have=$(eng network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' "$NETWORK") \
            || die "network inspect $NETWORK failed ($ENGINE_NAME)"
        [ "$have" = "$SUBNET" ] || die "network $NETWORK exists with subnet '$have', not $SUBNET ($ENGINE_NAME)"
        log "network $NETWORK present ($ENGINE_NAME)"
    else
        log "creating network $NETWORK ($SUBNET) ($ENGINE_NAME)"
        eng network create --subnet "$SUBNET" --gateway "$GATEWAY" "$NETWORK" >/dev/null \
            || die "network create $NETWORK failed ($ENGINE_NAME)"
    fi
}
ensure_network

# --- 3. the tunnel client stand-in ------------------------------------------------------

stub_key() {
    # The stand-in is remade when its recipe or its base images change.
    printf 'recipe=%s base=%s busybox=%s' "$STUB_RECIPE" \
        "$(docker image inspect -f '{{.Id}}' "$STUB_BASE" 2>/dev/null)" \
        "$(docker image inspect -f '{{.Id}}' "$BUSYBOX_IMAGE" 2>/dev/null)"
}

build_stub() {
    local key=$1 work cid old
    docker image inspect "$STUB_BASE" >/dev/null 2>&1 \
        || die "image $STUB_BASE missing (build it with tests/images/build.sh)"
    docker image inspect "$BUSYBOX_IMAGE" >/dev/null 2>&1 \
        || die "image $BUSYBOX_IMAGE missing (build it with tests/images/build.sh)"
    log "building the tunnel stand-in $FRPC_IMAGE from $STUB_BASE"
    work=$(mktemp -d /tmp/n2c-oracle-stub.XXXXXX) || die "mktemp failed"
    TMPS+=("$work")
    # The curl image has no sleep: take busybox (static) from the busybox test image.
    cid=$(docker create "$BUSYBOX_IMAGE" true) || die "docker create $BUSYBOX_IMAGE failed"
    docker cp -L "$cid:/bin/busybox" "$work/busybox" >/dev/null 2>&1 \
        || { docker rm -f "$cid" >/dev/null 2>&1; die "docker cp /bin/busybox out of $BUSYBOX_IMAGE failed"; }
    docker rm -f "$cid" >/dev/null 2>&1 || true
    # PID 1 waits and exits at once on SIGTERM (docker stop would otherwise wait 10 s).
    cat >"$work/entrypoint.sh" <<'EOF'
#!/bin/sh
# nos2compose oracle: stand-in for Nosana's tunnel client; only waits, so that the
# node's health checks can run curl in it with docker exec.
trap 'exit 0' TERM INT
/usr/local/bin/busybox sleep 2147483647 &
wait $!
EOF
    chmod 755 "$work/entrypoint.sh" "$work/busybox"
    old=$(docker image inspect -f '{{.Id}}' "$FRPC_IMAGE" 2>/dev/null || true)
    cid=$(docker create "$STUB_BASE") || die "docker create $STUB_BASE failed"
    if ! { docker cp "$work/entrypoint.sh" "$cid:/entrypoint.sh" \
           && docker cp "$work/busybox" "$cid:/usr/local/bin/busybox"; } >/dev/null 2>&1; then
        docker rm -f "$cid" >/dev/null 2>&1
        die "docker cp into the stand-in container failed"
    fi
    if ! docker commit \
            --change 'ENTRYPOINT []' \
            --change 'CMD ["/entrypoint.sh"]' \
            --change "LABEL $STUB_LABEL=\"$key\"" \
            "$cid" "$FRPC_IMAGE" >/dev/null; then
        docker rm -f "$cid" >/dev/null 2>&1
        die "docker commit of $FRPC_IMAGE failed"
    fi
    docker rm -f "$cid" >/dev/null 2>&1 || true
    # The previous stand-in, now untagged (kept if a container still uses it).
    if [ -n "$old" ] && [ "$old" != "$(docker image inspect -f '{{.Id}}' "$FRPC_IMAGE")" ]; then
        docker rmi "$old" >/dev/null 2>&1 || true
    fi
}

check_stub() {
    # curl from inside the stand-in (via exec, as the node does) to a test server in another
    # container on NOSANA_GATEWAY, by container name; on the engine `eng` talks to.
    local tag srv frpc code
    tag=n2c-oracle-check-$$
    srv=$tag-server
    frpc=$tag-frpc
    eng rm -f "$srv" "$frpc" >/dev/null 2>&1 || true
    eng run -d --name "$srv" --network "$NETWORK" "$STUB_BASE" n2c-testserver 8080 >/dev/null \
        || die "starting the check server ($STUB_BASE) failed ($ENGINE_NAME)"
    if ! eng run -d --name "$frpc" --network "$NETWORK" "$FRPC_IMAGE" /entrypoint.sh >/dev/null; then
        eng rm -f "$srv" >/dev/null 2>&1
        die "starting the stand-in $FRPC_IMAGE failed ($ENGINE_NAME)"
    fi
    code=
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        code=$(eng exec "$frpc" curl -s -o /dev/null -w '%{http_code}' \
               --max-time 3 "http://$srv:8080/status/401" 2>/dev/null) || code=
        [ "$code" = 401 ] && break
        sleep 0.3
    done
    local t0 t1
    t0=$(date +%s%N)
    eng stop "$frpc" >/dev/null 2>&1 || true
    t1=$(date +%s%N)
    eng rm -f "$srv" "$frpc" >/dev/null 2>&1 || true
    [ "$code" = 401 ] || die "curl in the stand-in could not reach a test server on $NETWORK (got '${code}', $ENGINE_NAME)"
    [ $(( (t1 - t0) / 1000000 )) -lt 5000 ] || die "the stand-in does not stop promptly on SIGTERM ($ENGINE_NAME)"
}

want=$(stub_key)
have=$(docker image inspect -f "{{index .Config.Labels \"$STUB_LABEL\"}}" "$FRPC_IMAGE" 2>/dev/null || true)
if [ "${FORCE:-0}" != 1 ] && [ "$have" = "$want" ]; then
    log "tunnel stand-in $FRPC_IMAGE present"
else
    if [ -n "$have" ] || ! docker image inspect "$FRPC_IMAGE" >/dev/null 2>&1; then
        build_stub "$want"
    else
        die "$FRPC_IMAGE exists but was not made by this script; remove it first (docker rmi $FRPC_IMAGE)"
    fi
    check_stub
    log "tunnel stand-in $FRPC_IMAGE built and checked (curl via docker exec reaches another container)"
fi

# --- 4. the Podman provider ---------------------------------------------------------------

podman_up() { timeout 10 docker -H "unix://$PODMAN_SOCKET" version >/dev/null 2>&1; }

case $PODMAN_MODE in
    skip) log "Podman: skipped (NOS2COMPOSE_ORACLE_PODMAN=skip)" ;;
    auto|require)
        if ! podman_up; then
            [ "$PODMAN_MODE" = require ] \
                && die "the Podman service does not answer on $PODMAN_SOCKET (.ci/podman.sh starts it)"
            log "Podman: no service answers on $PODMAN_SOCKET (.ci/podman.sh starts it): the node's Podman provider is not prepared"
        else
            ENGINE=(docker -H "unix://$PODMAN_SOCKET")
            ENGINE_NAME=Podman
            ensure_network
            bash "$REPO/.ci/podman.sh" --load "$FRPC_IMAGE" "$STUB_BASE" "$BUSYBOX_IMAGE" \
                || die "loading the tunnel stand-in into Podman failed"
            stub=$(eng image inspect -f '{{.Id}}' "$FRPC_IMAGE") || die "Podman has no $FRPC_IMAGE after loading it"
            if [ "${FORCE:-0}" != 1 ] && [ "$(cat "$PODMAN_STAMP" 2>/dev/null)" = "$stub" ]; then
                log "tunnel stand-in $FRPC_IMAGE present (Podman)"
            else
                check_stub
                printf '%s\n' "$stub" >"$PODMAN_STAMP" || die "cannot write $PODMAN_STAMP"
                log "tunnel stand-in $FRPC_IMAGE loaded and checked (Podman)"
            fi
        fi
        ;;
    *) die "NOS2COMPOSE_ORACLE_PODMAN must be auto, require or skip, not '$PODMAN_MODE'" ;;
esac

log "ready"
