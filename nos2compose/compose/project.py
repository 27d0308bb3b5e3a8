"""Reading a Compose project the way Compose reads it: `docker compose config --format json`.

The engine boundary starts the process (engine/compose_config.py ComposeConfig, handed in as `run`); this decides
what to ask and reads the answer. Compose does all the reading: file discovery, `.env`, interpolation, extends,
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
import secrets
import sys
from collections.abc import Callable
from typing import NamedTuple, Protocol

from . import codec

TIMEOUT = 120  # seconds; `config` with a remote include may fetch


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


class ConfigAnswer(NamedTuple):
    """What `docker compose … config` answered (the engine boundary runs it: engine/compose_config.py ComposeConfig)."""

    status: int  # its exit status; -1: it could not run, -2: it did not finish in time (errors[0] says why)
    stdout: str
    warnings: list[str]  # Compose's own warnings (an unset variable, an obsolete `version`)
    errors: list[str]


class ConfigRunner(Protocol):
    """Runs `docker ARGS` (a `compose … config`) with `stdin`; engine/compose_config.py ComposeConfig is the real
    one."""

    docker: str | None  # the docker command found, None when there is none

    def __call__(self, args: list[str], stdin: str | None = None, timeout: float = TIMEOUT) -> ConfigAnswer: ...
    def missing(self) -> str | None: ...


def load_project(
    files: list[str],
    project_directory: str | None,
    env_files: list[str],
    profiles: list[str],
    run: ConfigRunner,
    on_warning: Callable[[str], None] | None = None,
) -> dict:
    """Compose's normalized project as a dict.

    No `files`: Compose finds compose.yaml (or docker-compose.yml) itself, and the
    .env beside it, as `docker compose` does. `run` runs Compose (with the environment
    it sees). Compose's own warnings (an unset variable, an obsolete `version`) go to
    `on_warning`, one message each. Raises ImportProblem.

    For a file nos2compose convert wrote, the project also holds each service's
    `x-nos2compose` block, and each recorded `${N2C_…}` reference as it stands in
    the file (in a port, the whole entry as written), as `convert` wrote them.
    """
    if run.docker is None:
        raise ImportProblem("docker compose (Compose v2) is not installed: no `docker` command on PATH", 1)
    stdin = sys.stdin.read() if "-" in files else None  # `-f -`: read once, given to every run
    problem: ImportProblem | None = None
    try:
        project, warnings = _project(run, compose_args(files, project_directory, env_files, profiles), stdin)
    except ImportProblem as exc:
        if exc.status != 2:
            raise
        project, warnings, problem = None, [], exc
    if project is None or codec.has_meta(project):
        found = _generated(run, files, project_directory, env_files, profiles, stdin, project)
        if found is not None:
            project, warnings = found
        elif problem is not None:
            raise problem
    for message in warnings:
        if on_warning is not None:
            on_warning(message)
    return project


def merged(files: list[str], run: ConfigRunner) -> dict:
    """The project as Compose merges `files` (a group file and its override), without interpolation."""
    project, _ = _project(run, compose_args(files, None, [], [], ("--no-interpolate",)), None)
    return project


def _project(run: ConfigRunner, args: list[str], stdin: str | None) -> tuple[dict, list[str]]:
    """Compose's JSON for these arguments, and its warnings; ImportProblem when it fails."""
    answer = run(args, stdin)
    if answer.status == -1:
        raise ImportProblem(f"docker compose (Compose v2) is not installed: {answer.errors[0]}", 1)
    if answer.status == -2:
        raise ImportProblem(answer.errors[0], 2)
    if answer.status != 0:
        missing = run.missing()
        if missing is not None:
            raise ImportProblem(f"docker compose (Compose v2) is not installed: {missing}", 1)
        raise ImportProblem(
            answer.errors[0] if answer.errors else f"docker compose config failed (exit status {answer.status})", 2
        )
    try:
        project = json.loads(answer.stdout)
    except json.JSONDecodeError as exc:
        raise ImportProblem(f"docker compose config printed no JSON ({exc.msg}); is this Compose v2?", 2) from None
    if not isinstance(project, dict):
        raise ImportProblem("docker compose config printed JSON that is not a project", 2)
    return project, answer.warnings


def _generated(
    run: ConfigRunner,
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
        raw, _ = _project(
            run, compose_args(files, project_directory, env_files, profiles, ("--no-interpolate",)), stdin
        )
    except ImportProblem:
        return None
    if not codec.has_meta(raw):
        return None
    recorded = codec.read_file_meta(raw).variables
    marked, ports, markers = _mark(raw, recorded)
    if markers or interpolated is None:
        base = project_directory or (os.path.dirname(os.path.abspath(files[0])) if files and files[0] != "-" else None)
        args = compose_args(["-"], base or os.getcwd(), env_files, profiles)
        project, warnings = _project(run, args, json.dumps(marked))
        project = _unmark(project, markers)
    else:
        project, warnings = interpolated, []
    for name, svc in (project.get("services") or {}).items():
        own = (raw.get("services") or {}).get(name) or {}
        if name in ports:
            svc["ports"] = [*(svc.get("ports") or []), *ports[name]]
        if codec.extension_of(own):
            svc.update(codec.keep_extension({}, own))
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
            return codec.substitute(value, marker) if "${" in value else value
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
            held = [p for p in svc["ports"] if set(codec.references(json.dumps(p))) & recorded]
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
                value = value.replace(found, codec.reference(var))
        return value
    if isinstance(value, list):
        return [_unmark(v, markers) for v in value]
    if isinstance(value, dict):
        return {_unmark(k, markers): _unmark(v, markers) for k, v in value.items()}
    return value
