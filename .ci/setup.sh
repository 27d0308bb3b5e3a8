#!/usr/bin/env bash
# Set up everything the test suite needs on Debian 12 (as root), idempotently; `make test` runs it.
#   1. the Docker engine, Compose v2 and the test images      (.ci/engine.sh)
#   2. Debian packages: chromium + chromedriver (status page), docker-registry + apache2-utils
#      (registry logins), shellcheck (the scripts), openssh-client (ssh-keygen: the key checker's tests)
#   3. .venv with the package and its test extras              (again only when pyproject.toml changed)
#   4. Nosana's validators under Node.js                       (tests/validators/nosana, npm ci)
#   5. Podman as a service on a unix socket, the node's production provider (.ci/podman.sh)
#   6. Nosana's node, built from the snapshot                  (tests/fidelity/oracle/setup.sh)
# A second run only checks: it installs nothing that is there already.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf '.ci/setup.sh: %s\n' "$*" >&2; }
export DEBIAN_FRONTEND=noninteractive

bash .ci/engine.sh

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || missing+=(apache2-utils)
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)
command -v node >/dev/null 2>&1 || missing+=(nodejs npm)
python3 -m venv --help >/dev/null 2>&1 || missing+=(python3-venv)
if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]}"
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ -e .venv ] && ! .venv/bin/python -c '' >/dev/null 2>&1; then
    log "removing broken .venv"
    rm -rf .venv
fi
if [ ! -e .venv/.installed ] || [ pyproject.toml -nt .venv/.installed ]; then
    log "installing the package and its test extras into .venv"
    [ -e .venv ] || python3 -m venv .venv
    .venv/bin/python -m pip install --disable-pip-version-check -q -e '.[test]'
    touch .venv/.installed
fi

validator=tests/validators/nosana
if [ ! -e "$validator/node_modules/.installed" ] || [ "$validator/package-lock.json" -nt "$validator/node_modules/.installed" ]; then
    log "installing Nosana's validators ($validator)"
    (cd "$validator" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    touch "$validator/node_modules/.installed"
fi

bash .ci/podman.sh
if [ -f tests/fidelity/oracle/setup.sh ]; then
    bash tests/fidelity/oracle/setup.sh
fi
log "ready"
