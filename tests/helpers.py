"""Shared test helpers: the repository's paths, the CLI in-process and as a process, the real Docker tools.

Imported as `from helpers import …` (pytest puts tests/ on the path: see pyproject.toml).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "convert"
CORPUS = Path(os.environ.get("NOS2COMPOSE_CORPUS") or ROOT.parent / "shared" / "corpus" / "nosana-templates")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# `nos2compose` as a separate process (for signals, exit codes and real engine work)
CLI = [sys.executable, "-c", "import sys; from nos2compose.cli import main; sys.exit(main())"]


def nos2compose(*args: str, env: dict | None = None, timeout: float = 240, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        CLI + list(args), capture_output=True, text=True, timeout=timeout, cwd=cwd, env={**os.environ, **(env or {})}
    )


def docker(*args: str, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120, input=input, check=False)


def run_cli(*args: str, input: str | None = None, cwd: Path = ROOT):
    """Run `nos2compose ARGS` in-process from `cwd`; returns click's Result (exit_code, stdout, stderr)."""
    from nos2compose.cli import main

    old = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, list(args), input=input, catch_exceptions=True)
    finally:
        os.chdir(old)


def need(what: str, ok: bool) -> None:
    """A prerequisite of a test: in CI a missing one fails the test; elsewhere it skips, naming `make test`."""
    if ok:
        return
    if IN_CI:
        pytest.fail(f"{what} is missing in CI; .ci/run (make test) must set it up")
    pytest.skip(f"{what} is not set up here: `make test` sets up everything the suite needs")


def compose_config_errors(compose: list[str], files: list[Path]) -> str:
    """'' when `docker compose config -q` accepts each file, else what it said."""
    import yaml

    problems = []
    for f in files:
        # results of earlier ops and credentials are ${VAR}s that `up` fills in: give them a value Compose can load
        meta = (yaml.safe_load(f.read_text()) or {}).get("x-nos2compose") or {}
        filled = dict.fromkeys([*(meta.get("runtime") or {}), *(meta.get("secrets") or [])], "1")
        proc = subprocess.run(
            compose + ["-f", str(f), "config", "-q"],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "COMPOSE_PROJECT_NAME": "", **filled},
        )
        if proc.returncode != 0:
            problems.append(f"{f}: {proc.stderr.strip()}")
    return "\n".join(problems)


def job(*ops, **top) -> dict:
    """A job definition around `ops` (top-level keys as keywords; `global` as **{"global": …})."""
    return {"version": "0.1", "type": "container", **top, "ops": list(ops)}


def run_op(op_id: str, **args) -> dict:
    """A container/run op with image x and these args."""
    return {"type": "container/run", "id": op_id, "args": {"image": "x", **args}}


def free_port() -> int:
    """A port nothing listens on now, on 127.0.0.1."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serving(path: str, token: str, *extra: str):
    """`nos2compose serve JOB --port P` as a process, with the token; (process, base URL) once it answers."""
    import time

    import httpx

    port = free_port()
    proc = subprocess.Popen(
        CLI + ["serve", path, "--port", str(port), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "NOS2COMPOSE_API_TOKEN": token},
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(base + "/openapi.json", timeout=1, headers={"Authorization": f"Bearer {token}"})
            return proc, base
        except httpx.TransportError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise AssertionError(proc.stdout.read().decode() if proc.stdout else "serve did not answer") from None
            time.sleep(0.2)
