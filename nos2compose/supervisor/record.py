"""A job's state record: what the engine cannot hold, kept beside it so every command tells the same truth.

The engine is the source of truth for what it knows (containers, their states and
exit codes). It cannot know the job's plan once the job file is gone (which ops
exist, their groups, results to extract), nor that an op failed before it had a
container (a pull, an unresolved literal, a failed dependency), nor that a stop
was asked for. `up` writes those here; `ps`, `logs`, `stop`, `restart`, the API
read them; `down` removes the record.

One JSON file per project under the user's state directory
(`$NOS2COMPOSE_STATE_DIR`, else `$XDG_STATE_HOME/nos2compose`, else
`~/.local/state/nos2compose`), replaced atomically (write, fsync, rename) under an
exclusive lock, so two commands at once never lose each other's changes. It never
holds a credential: the job definition is stored masked. Beside it, `files/PROJECT/`
holds the group files and scripts `up JOB` wrote (files_dir), which `down` removes too.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..run_plan import RunPlan, to_json

VERSION = 2  # 2: the plan's ops carry their probe's image
FAILED, STOPPED = "failed", "stopped"


def state_dir() -> Path:
    explicit = os.environ.get("NOS2COMPOSE_STATE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "nos2compose"


def path_of(project: str) -> Path:
    return state_dir() / f"{project}.json"


def files_dir(project: str) -> Path:
    """Where `up JOB` writes the job's group files and the scripts they mount: kept until `down`, since the engine
    mounts a script from there again each time it restarts a container (`restart`, the API, a restart policy)."""
    return state_dir() / "files" / project


def read(project: str) -> dict | None:
    """The record, or None when there is none (or it cannot be read: the engine alone then answers)."""
    try:
        data = json.loads(path_of(project).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("version") == VERSION else None


@contextmanager
def _locked(project: str) -> Iterator[None]:
    import fcntl

    directory = state_dir()
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / f"{project}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def update(project: str, change: Callable[[dict], None]) -> dict:
    """Read, change and replace the record atomically, under the project's lock."""
    with _locked(project):
        data = read(project) or {"version": VERSION, "project": project, "ops": {}}
        change(data)
        target = path_of(project)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        with open(tmp, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=1, sort_keys=True)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
        return data


def remove(project: str) -> None:
    """The record, and the files `up JOB` wrote for the project."""
    import shutil

    with _locked(project):
        for path in (path_of(project), state_dir() / f"{project}.lock"):
            try:
                path.unlink()
            except FileNotFoundError:
                pass
        shutil.rmtree(files_dir(project), ignore_errors=True)


# -- what goes in it ------------------------------------------------------------------------


def begin(project: str, plan: RunPlan, job_definition: dict | None) -> None:
    """`up` starts: the plan as it runs now; earlier notes of ops it will start again are dropped by `note`."""

    def change(data: dict) -> None:
        data["plan"] = to_json(plan)
        data["job_definition"] = job_definition
        data.setdefault("ops", {})

    update(project, change)


def note(
    project: str,
    op_id: str,
    state: str | None,
    reason: str = "",
    container: str = "",
    exit_code: int | None = None,
    error: dict | None = None,
) -> None:
    """Record that an op failed before it had a container (with the node's error event {event, message, code?}
    where the node records one), or was stopped on request; None clears it.

    Best effort: where the state directory cannot be written, the engine alone answers later."""

    def change(data: dict) -> None:
        ops = data.setdefault("ops", {})
        if state is None:
            ops.pop(op_id, None)
        else:
            ops[op_id] = {
                "state": state,
                "reason": reason,
                "container": container,
                "exit_code": exit_code,
                "at": int(time.time() * 1000),
                **({"error": error} if error else {}),
            }

    try:
        update(project, change)
    except OSError:
        pass
