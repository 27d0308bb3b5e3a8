"""The one place that runs Docker Compose: `docker compose config --format json`.

Compose does all the reading: file discovery, `.env`, interpolation, extends,
include, anchors, `!override`/`!reset`, profiles and validation. What comes back
is Compose's own normalized model; nothing here parses Compose files by hand.

A file `nos2compose convert` wrote needs two more things Compose's model drops:
its per-service `x-nos2compose` blocks, and the places where `${N2C_…}` references
stand (results of earlier ops, which a plain `config` would interpolate, or refuse
while they are unset). So for such a project Compose is asked once more without
interpolation; each reference the file's runtime record names is replaced by a
marker, and Compose normalizes that model from standard input. The markers come
back as the references, and the x-nos2compose blocks are put back on their services.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import Callable

from . import contract

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
    files: list[str],
    project_directory: str | None,
    env_files: list[str],
    profiles: list[str],
    config: tuple[str, ...] = (),
) -> list[str]:
    """The arguments after `docker`: global Compose options, then `config [CONFIG...] --format json`."""
    args = ["compose"]
    for f in files:
        args += ["-f", f]
    if project_directory is not None:
        args += ["--project-directory", project_directory]
    for f in env_files:
        args += ["--env-file", f]
    for p in profiles:
        args += ["--profile", p]
    return args + ["config", *config, "--format", "json"]


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

    For a file nos2compose convert wrote, the project also holds each service's
    `x-nos2compose` block, and each recorded `${N2C_…}` reference as it stands in
    the file (in a port, the whole entry as written), as `convert` wrote them.
    """
    docker = shutil.which("docker", path=(env or {}).get("PATH") if env is not None else None)
    if docker is None:
        raise ImportProblem("docker compose (Compose v2) is not installed: no `docker` command on PATH", 1)
    stdin = sys.stdin.read() if "-" in files else None  # `-f -`: read once, given to every run
    run = _Runner(docker, env)
    problem: ImportProblem | None = None
    try:
        project, warnings = run.project(compose_args(files, project_directory, env_files, profiles), stdin)
    except ImportProblem as exc:
        if exc.status != 2:
            raise
        project, warnings, problem = None, [], exc
    if project is None or isinstance(project.get(contract.EXTENSION), dict):
        found = _generated(run, files, project_directory, env_files, profiles, stdin, project)
        if found is not None:
            project, warnings = found
        elif problem is not None:
            raise problem
    for message in warnings:
        if on_warning is not None:
            on_warning(message)
    return project


class _Runner:
    def __init__(self, docker: str, env: dict | None):
        self.docker, self.env = docker, env

    def project(self, args: list[str], stdin: str | None) -> tuple[dict, list[str]]:
        """Compose's JSON for these arguments, and its warnings; ImportProblem when it fails."""
        try:
            proc = subprocess.run(
                [self.docker, *args],
                capture_output=True,
                text=True,
                env=self.env,
                input=stdin,
                stdin=subprocess.DEVNULL if stdin is None else None,
                timeout=TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            raise ImportProblem(f"docker compose config did not finish within {TIMEOUT} s", 2) from None
        except OSError as exc:
            raise ImportProblem(
                f"docker compose (Compose v2) is not installed: cannot run {self.docker}: {exc.strerror}", 1
            ) from None
        warnings, errors = _split_stderr(proc.stderr)
        if proc.returncode != 0:
            missing = _compose_missing(self.docker, self.env)
            if missing is not None:
                raise ImportProblem(f"docker compose (Compose v2) is not installed: {missing}", 1)
            raise ImportProblem(
                errors[0] if errors else f"docker compose config failed (exit status {proc.returncode})", 2
            )
        try:
            project = json.loads(proc.stdout)
        except json.JSONDecodeError as exc:
            raise ImportProblem(f"docker compose config printed no JSON ({exc.msg}); is this Compose v2?", 2) from None
        if not isinstance(project, dict):
            raise ImportProblem("docker compose config printed JSON that is not a project", 2)
        return project, warnings


def _generated(
    run: _Runner,
    files: list[str],
    project_directory: str | None,
    env_files: list[str],
    profiles: list[str],
    stdin: str | None,
    interpolated: dict | None,
) -> tuple[dict, list[str]] | None:
    """The project of a file convert wrote, with its references and x-nos2compose blocks in place;
    None when the project is not one (or Compose cannot read it without interpolation either)."""
    try:
        raw, _ = run.project(compose_args(files, project_directory, env_files, profiles, ("--no-interpolate",)), stdin)
    except ImportProblem:
        return None
    meta = raw.get(contract.EXTENSION)
    if not isinstance(meta, dict):
        return None
    recorded = set(meta.get(contract.RUNTIME_KEY) or {}) | {str(s) for s in meta.get(contract.SECRETS_KEY) or []}
    marked, ports, markers = _mark(raw, recorded)
    if markers or interpolated is None:
        base = project_directory or (os.path.dirname(os.path.abspath(files[0])) if files and files[0] != "-" else None)
        args = compose_args(["-"], base or os.getcwd(), env_files, profiles)
        project, warnings = run.project(args, json.dumps(marked))
        project = _unmark(project, markers)
    else:
        project, warnings = interpolated, []
    for name, svc in (project.get("services") or {}).items():
        own = (raw.get("services") or {}).get(name) or {}
        if name in ports:
            svc["ports"] = [*(svc.get("ports") or []), *ports[name]]
        if isinstance(own.get(contract.EXTENSION), dict):
            svc[contract.EXTENSION] = own[contract.EXTENSION]
    return project, warnings


def _mark(raw: dict, recorded: set[str]) -> tuple[dict, dict[str, list], dict[str, str]]:
    """(the raw project with recorded references as markers Compose leaves alone, the ports that hold
    references (taken out: Compose wants numbers there), marker -> variable)."""
    nonce = secrets.token_hex(6)
    markers: dict[str, str] = {}

    def marker(var: str) -> str | None:
        if var not in recorded:
            return None  # not nos2compose's: Compose interpolates it as in any project
        found = f"n2c{nonce}x{var.lower()}x"
        markers[found] = var
        return found

    def walk(value):
        if isinstance(value, str):
            return contract.substitute(value, marker) if "${" in value else value
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        return value

    ports: dict[str, list] = {}
    services = {}
    for name, svc in (raw.get("services") or {}).items():
        svc = dict(svc or {})
        if isinstance(svc.get("ports"), list):
            held = [p for p in svc["ports"] if set(contract.references(json.dumps(p))) & recorded]
            if held:
                ports[name] = held
                svc["ports"] = [p for p in svc["ports"] if p not in held]
        services[name] = walk(svc)
    return {**walk({k: v for k, v in raw.items() if k != "services"}), "services": services}, ports, markers


def _unmark(value, markers: dict[str, str]):
    """Compose's output with each marker back as the reference it stood for."""
    if isinstance(value, str):
        for found, var in sorted(markers.items(), key=lambda m: -len(m[0])):
            if found in value:
                value = value.replace(found, contract.reference(var))
        return value
    if isinstance(value, list):
        return [_unmark(v, markers) for v in value]
    if isinstance(value, dict):
        return {_unmark(k, markers): _unmark(v, markers) for k, v in value.items()}
    return value


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
