# `make test`: set up everything the suite needs (engine, Compose, test images, venv, Node.js
# packages, the node oracle, browser), lint, and run every test. A second run reinstalls nothing.
PY := .venv/bin/python
SCRIPTS := nos2compose/scripts

.PHONY: test setup lint format goldens

test: setup lint
	$(PY) -m pytest -q $(PYTEST_ARGS)

setup:
	bash .ci/setup.sh

lint:
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m vulture nos2compose vulture_whitelist.py --min-confidence 60 | { grep -v '^nos2compose/cli/' || true; } | { ! grep .; }
	shellcheck -s sh $(SCRIPTS)/*.sh
	shellcheck -s bash $(SCRIPTS)/*.bash .ci/run .ci/*.sh tests/images/build.sh tests/fidelity/oracle/setup.sh

format:
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

goldens:
	NOS2COMPOSE_UPDATE_GOLDENS=1 $(PY) -m pytest -q tests/goldens tests/importer
