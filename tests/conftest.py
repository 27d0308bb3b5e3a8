"""Shared test helpers: the CLI in-process, the repo's paths, and the real Docker tools.

Tests that need Docker Compose or an engine skip on a developer machine without
them, but fail in CI (CI=true): there they must run.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from nos2compose.cli import main

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
CORPUS = ROOT.parent / "shared" / "corpus" / "nosana-templates"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


# `nos2compose` as a separate process (for signals, exit codes and real engine work)
CLI = [sys.executable, "-c", "import sys; from nos2compose.cli import main; sys.exit(main())"]


def nos2compose(*args: str, env: dict | None = None, timeout: float = 240, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(CLI + list(args), capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          env={**os.environ, **(env or {})})


def docker(*args: str, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120, input=input)


def run_cli(*args: str, input: str | None = None, cwd: Path = ROOT):
    """Run `nos2compose ARGS` in-process from `cwd`; returns click's Result (exit_code, stdout, stderr)."""
    old = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, list(args), input=input, catch_exceptions=True)
    finally:
        os.chdir(old)


def _need(what: str, ok: bool) -> None:
    if ok:
        return
    if IN_CI:
        pytest.fail(f"{what} is missing in CI; .ci/run must install it")
    pytest.skip(f"{what} is not available here (run .ci/engine.sh)")


def _compose_works() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0


@pytest.fixture(scope="session")
def compose() -> list[str]:
    """The real Compose v2 CLI (needs no engine for `config`)."""
    _need("docker compose (Compose v2)", _compose_works())
    return ["docker", "compose"]


@pytest.fixture(scope="session")
def engine(compose) -> list[str]:
    """A running Docker engine, with the locally built test images."""
    ok = subprocess.run(["docker", "info"], capture_output=True).returncode == 0
    _need("a running Docker engine", ok)
    image = subprocess.run(["docker", "image", "inspect", "nos2compose-test/busybox:1"], capture_output=True)
    _need("the test image nos2compose-test/busybox:1 (tests/images/build.sh)", image.returncode == 0)
    return compose


def compose_config_errors(compose: list[str], files: list[Path]) -> str:
    """'' when `docker compose config -q` accepts each file, else what it said."""
    import yaml

    problems = []
    for f in files:
        # results of earlier ops are ${VAR}s that `up` fills in: give them a value Compose can load
        meta = (yaml.safe_load(f.read_text()) or {}).get("x-nos2compose") or {}
        filled = {var: "1" for var in [*(meta.get("runtime") or {}), *(meta.get("secrets") or [])]}
        proc = subprocess.run(compose + ["-f", str(f), "config", "-q"], capture_output=True, text=True,
                              env={**os.environ, "COMPOSE_PROJECT_NAME": "", **filled})
        if proc.returncode != 0:
            problems.append(f"{f}: {proc.stderr.strip()}")
    return "\n".join(problems)
