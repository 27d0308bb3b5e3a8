"""Helpers for the `nos2compose import` tests: paths, a pinned environment, the real tools.

Tests that need Docker Compose, Node.js or Nosana's validator skip on a developer
machine without them, but fail in CI (CI=true): there they must run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from nos2compose.cli.importing import import_command

ROOT = Path(__file__).resolve().parents[2]
CASES_DIR = ROOT / "fixtures" / "import"
VALIDATOR = ROOT / "tests" / "validators" / "nosana"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
UPDATE = os.environ.get("NOS2COMPOSE_UPDATE_GOLDENS") == "1"
KEEP = ("PATH", "HOME", "DOCKER_CONFIG")  # what Compose needs to run; nothing that changes a project


def need(what: str, ok: bool) -> None:
    if ok:
        return
    if IN_CI:
        pytest.fail(f"{what} is missing in CI; .ci/run must install it")
    pytest.skip(f"{what} is not available here")


def compose_works() -> bool:
    docker = shutil.which("docker")
    return bool(docker) and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0


def need_compose() -> None:
    need("docker compose (Compose v2)", compose_works())


def pinned_env(extra: dict[str, str] | None = None) -> dict[str, str | None]:
    """CliRunner env overrides: every variable of ours removed but KEEP, then `extra` set."""
    env: dict[str, str | None] = {k: None for k in os.environ if k not in KEEP}
    env.update(extra or {})
    return env


def read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split("\n")[:-1] if path.exists() else []


def case_env(case: Path) -> dict[str, str]:
    """The shell environment a case is imported with: fixtures/import/<case>/shell-env, KEY=VALUE lines."""
    return dict(line.split("=", 1) for line in read_lines(case / "shell-env") if line and not line.startswith("#"))


def run_import(*args: str, cwd: Path, env: dict[str, str] | None = None):
    """`nos2compose import ARGS` in-process from `cwd`, with a pinned environment; click's Result."""
    old = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(import_command, list(args), env=pinned_env(env), catch_exceptions=True)
    finally:
        os.chdir(old)


def import_case(case: Path):
    return run_import(*read_lines(case / "args"), cwd=case, env=case_env(case))


def compare(path: Path, actual: str) -> None:
    """Byte for byte against the golden, or rewrite it with NOS2COMPOSE_UPDATE_GOLDENS=1."""
    if UPDATE:
        path.write_text(actual, encoding="utf-8", newline="\n")
        return
    assert path.exists(), f"missing golden {path.relative_to(ROOT)}; run with NOS2COMPOSE_UPDATE_GOLDENS=1"
    assert actual == path.read_text(encoding="utf-8"), f"{path.relative_to(ROOT)} differs from the output"


def network_verdicts(jobs: list[dict]) -> list[dict]:
    """Nosana's strict validator (@nosana/types, under Node.js) on each job: {success, errors}."""
    node = shutil.which("node")
    installed = (VALIDATOR / "node_modules" / "@nosana" / "types").is_dir()
    need("Node.js and tests/validators/nosana/node_modules (npm ci there)", bool(node and installed))
    proc = subprocess.run(
        [node, str(VALIDATOR / "validate.mjs")],
        input=json.dumps(jobs, allow_nan=False),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(proc.stdout)


def strict_errors(job: dict) -> list[str]:
    """What `nos2compose validate --strict` refuses in the job (Nosana's strict validator, reproduced)."""
    from nos2compose.compiler import Options, compile_job

    result = compile_job(job, Options(name="x", strict=True, to_run=False))
    return [d.describe() for d in result.diagnostics.errors]
