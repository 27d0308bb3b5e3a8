"""The one place that runs Docker Compose: `docker compose config --format json`.

Compose does all the reading: file discovery, `.env`, interpolation, extends,
include, anchors, `!override`/`!reset`, profiles and validation. What comes back
is Compose's own normalized model; nothing here parses Compose files by hand.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable

TIMEOUT = 120  # seconds; `config` with a remote include may fetch

# logrus lines on Compose's stderr: time="..." level=warning msg="..."
_LOGRUS = re.compile(r'^time="[^"]*" level=(\w+) msg="((?:[^"\\]|\\.)*)"')


class ImportProblem(Exception):
    """Compose could not give a project: status 1 when it is missing, 2 for bad input."""

    def __init__(self, message: str, status: int = 2):
        super().__init__(message)
        self.message = message
        self.status = status


def compose_args(
    files: list[str], project_directory: str | None, env_files: list[str], profiles: list[str]
) -> list[str]:
    """The arguments after `docker`: global Compose options, then `config --format json`."""
    args = ["compose"]
    for f in files:
        args += ["-f", f]
    if project_directory is not None:
        args += ["--project-directory", project_directory]
    for f in env_files:
        args += ["--env-file", f]
    for p in profiles:
        args += ["--profile", p]
    return args + ["config", "--format", "json"]


def load_project(
    files: list[str],
    project_directory: str | None,
    env_files: list[str],
    profiles: list[str],
    env: dict | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> dict:
    """Compose's normalized project as a dict.

    No `files`: Compose finds compose.yaml (or docker-compose.yml) itself, and the
    .env beside it, as `docker compose` does. `env` is the whole environment
    Compose sees (interpolation, COMPOSE_* settings); None inherits ours.
    Compose's own warnings (an unset variable, an obsolete `version`) go to
    `on_warning`, one message each. Raises ImportProblem.
    """
    docker = shutil.which("docker", path=(env or {}).get("PATH") if env is not None else None)
    if docker is None:
        raise ImportProblem("docker compose (Compose v2) is not installed: no `docker` command on PATH", 1)
    stdin = None if "-" in files else subprocess.DEVNULL  # `-f -` reads the file from our standard input
    try:
        proc = subprocess.run(
            [docker, *compose_args(files, project_directory, env_files, profiles)],
            capture_output=True,
            text=True,
            env=env,
            stdin=stdin,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        raise ImportProblem(f"docker compose config did not finish within {TIMEOUT} s", 2) from None
    except OSError as exc:
        raise ImportProblem(
            f"docker compose (Compose v2) is not installed: cannot run {docker}: {exc.strerror}", 1
        ) from None
    warnings, errors = _split_stderr(proc.stderr)
    if proc.returncode != 0:
        missing = _compose_missing(docker, env)
        if missing is not None:
            raise ImportProblem(f"docker compose (Compose v2) is not installed: {missing}", 1)
        raise ImportProblem(errors[0] if errors else f"docker compose config failed (exit status {proc.returncode})", 2)
    for message in warnings:
        if on_warning is not None:
            on_warning(message)
    try:
        project = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise ImportProblem(f"docker compose config printed no JSON ({exc.msg}); is this Compose v2?", 2) from None
    if not isinstance(project, dict):
        raise ImportProblem("docker compose config printed JSON that is not a project", 2)
    return project


def _split_stderr(stderr: str) -> tuple[list[str], list[str]]:
    """(warning messages, other lines) from Compose's standard error."""
    warnings, errors = [], []
    for line in stderr.splitlines():
        line = line.strip()
        if not line:
            continue
        m = _LOGRUS.match(line)
        if m is None:
            errors.append(line)
            continue
        message = json.loads(f'"{m.group(2)}"')  # logrus quotes the message as a Go string
        (warnings if m.group(1) in ("warning", "info") else errors).append(message)
    return warnings, errors


def _compose_missing(docker: str, env: dict | None) -> str | None:
    """Why `docker compose` is unavailable, or None when it answers."""
    try:
        proc = subprocess.run(
            [docker, "compose", "version"],
            capture_output=True,
            text=True,
            env=env,
            stdin=subprocess.DEVNULL,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"`docker compose version` failed ({exc})"
    if proc.returncode == 0:
        return None
    said = (proc.stderr or proc.stdout).strip().splitlines()
    return f"`docker compose version` says: {said[0]}" if said else "`docker compose version` failed"
