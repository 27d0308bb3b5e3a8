"""The use cases the CLI and the API share: open a job to run it, find a running job, act on its ops.

`up` opens a job (a compiled job file, or a directory of group files) and runs
it; every other command finds the job by its project name alone and reads the
rest from the engine and the job's state record, so it still works after the
job file was edited, broken or deleted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from ..compose.contract import OVERRIDE_SUFFIX
from ..engine.protocol import Engine, EngineError
from ..run_plan import PlanError, PlannedGroup, PlannedOp, RunPlan, from_json
from . import record
from .states import OpStatus, statuses_of


class Opened(NamedTuple):
    """A job ready to run: its run plan, and what stays in memory only."""

    plan: RunPlan
    meta: dict  # the job's meta (GPU memory wishes)
    logins: list  # RegistryLogin from `authentication`
    secrets: dict  # resource credentials by Compose variable
    job_definition: dict | None  # the job as given, credentials masked (for the API)


def open_compiled(result, write_to: Path, job_definition: dict | None) -> Opened:
    """A compiled job: the compiler's run plan, its group files and the scripts they mount written to `write_to`
    (record.files_dir for `up`: an earlier run's files there are replaced) for Compose to read."""
    plan, files = result.run_plan()
    write_to.mkdir(parents=True, exist_ok=True)
    wanted = {name for name, _ in files}
    for old in write_to.iterdir():
        if old.name not in wanted and old.is_file():
            old.unlink()
    for name, text in files:
        (write_to / name).write_text(text, encoding="utf-8")
    return Opened(plan.at(write_to), result.meta or {}, list(result.logins), result.secrets, job_definition)


def open_directory(directory: Path, project: str | None, warn=lambda line: None) -> Opened:
    """Group files written by `convert -o`, each with its NN-GROUP.override.yaml where the user has one,
    applied as `docker compose -f NN-GROUP.yaml -f NN-GROUP.override.yaml` would; PlanError when there are
    none. Other YAML files there are not run, and `warn` names them."""
    from ..compose.codec import is_group_file, override_of
    from ..compose.plans import missing_files, read_group_files
    from ..compose.project import ImportProblem, merged
    from ..engine.compose_config import ComposeConfig

    files = {p: p.read_text(encoding="utf-8") for p in sorted(directory.glob("*.y*ml")) if p.is_file()}
    groups = [(p, t) for p, t in files.items() if is_group_file(p, t)]
    overrides = {}
    for path, _ in groups:
        override = override_of(path)
        if override in files:
            try:
                both = merged([str(path), str(override)], ComposeConfig())
            except ImportProblem as exc:
                raise PlanError(f"{override}: Compose cannot merge it with {path.name} ({exc.message})") from None
            overrides[path] = (override, both.get("services") or {})
    for path in files:
        if path not in dict(groups) and path not in {o for o, _ in overrides.values()}:
            warn(f"warning: {path} is neither a group file nor a group file's {OVERRIDE_SUFFIX}: `up` does not run it")
    for path, name, file in missing_files(groups):
        raise PlanError(
            f"{path} mounts {file} (configs: {name}), which is not in {directory}: "
            f"convert the job with -o {directory} again to write it"
        )
    plan = read_group_files(groups, overrides=overrides)
    return Opened(plan._replace(project=project) if project else plan, {}, [], {}, None)


_NAME_LINE = re.compile(r"^name: *\"?([a-z0-9][a-z0-9_-]*)\"?\s*$", re.M)


def directory_project(directory: Path) -> str | None:
    """The project a directory of group files names (their top-level `name:`), read without parsing YAML."""
    for path in sorted(directory.glob("*.y*ml")):
        try:
            found = _NAME_LINE.search(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            continue
        if found:
            return found.group(1)
    return None


class Attached(NamedTuple):
    """A job found on the engine: its plan (from the state record, else the containers' labels)."""

    plan: RunPlan
    record: dict  # what the engine cannot hold; {} without a record
    rows: tuple = ()  # the containers read to find the plan (no record): the look `statuses` needs too


def attach(project: str, engine: Engine) -> Attached | None:
    """The job of `project` as the record and the engine know it; None when neither knows it."""
    found = record.read(project)
    plan = from_json(found["plan"]) if found and isinstance(found.get("plan"), dict) else None
    if plan is not None:
        return Attached(plan, found)
    rows = engine.containers()
    plan = plan_from_labels(project, rows)
    return Attached(plan, found or {}, tuple(rows)) if plan.groups else None


def plan_from_labels(project: str, rows: list) -> RunPlan:
    """What the containers' labels say of the job: its ops, groups and their order, probes and fetchers."""
    probes = {c.probe_for: c.service for c in rows if c.probe_for}
    fetchers: dict[str, list[str]] = {}
    for c in rows:
        if c.fetch_for:
            fetchers.setdefault(c.fetch_for, []).append(c.service)
    groups: dict[str, list] = {}
    order: dict[str, int] = {}
    for c in rows:
        if c.probe_for or c.fetch_for:
            continue
        op_id, group = c.op or c.service, c.group or "default"
        op = PlannedOp(
            op_id,
            c.service,
            group,
            bool(c.health) or op_id in probes,
            tuple((p, p) for p in c.published),
            False,
            probe=probes.get(op_id),
            fetch=tuple(fetchers.get(op_id, ())),
        )
        groups.setdefault(group, []).append(op)
        order.setdefault(group, int(c.group_order) if c.group_order.isdigit() else 0)
    ordered = sorted(groups, key=lambda g: (order[g], g))
    return RunPlan(project, tuple(PlannedGroup(g, i, Path(), tuple(groups[g])) for i, g in enumerate(ordered)), {})


def statuses(attached: Attached, engine: Engine) -> list[OpStatus]:
    """Every op's status: the engine's word, with what only the record knows laid over it."""
    from .states import with_record

    rows = list(attached.rows) or engine.containers()
    return with_record(statuses_of(attached.plan.ops, rows), attached.record.get("ops") or {})


def act(
    engine: Engine,
    plan: RunPlan,
    ops: list[PlannedOp],
    action: str,
    timeout: int | None = None,
    say: Callable[[str], None] | None = None,
) -> None:
    """Stop or restart ops, with their probe sidecars; a stop asked for reads `stopped` from then on. `say`
    hears how long the stop of running containers may take (their grace period), while it runs."""
    chosen = {op.id for op in ops}
    rows = engine.containers()
    services = [name for op in ops for name in op.containers]
    services += [c.service for c in rows if c.probe_for in chosen and c.service not in services]
    by_service = {c.service: c for c in rows}
    for op in ops:  # noted first, so that no one reads the stop as a failure while it happens
        if action == "stop" and by_service.get(op.service):
            record.note(plan.project, op.id, record.STOPPED, "stopped on request", by_service[op.service].id)
        elif action == "restart":
            record.note(plan.project, op.id, None)
    if services:
        running = [op.id for op in ops if _running(by_service.get(op.service))]
        with _grace(engine, running, timeout, say, "stopping" if action == "stop" else "restarting"):
            getattr(engine, action)(services, timeout=timeout)


def _running(row) -> bool:
    return row is not None and row.state in ("running", "restarting", "paused")


def _grace(engine: Engine, running: list[str], timeout: int | None, say, verb: str):
    """The grace line while running containers stop (nothing when none runs or no one listens)."""
    from contextlib import nullcontext

    if not running or say is None or timeout == 0:
        return nullcontext()
    from .grace import grace_line, said

    signals = {d.get("stop_signal") or "SIGTERM" for d in engine.inspect_all() if d.get("service")}
    return said(grace_line(running, signals, timeout, verb), say)


def stop_running(
    engine: Engine, plan: RunPlan, reason: str, timeout: int | None = None, say: Callable[[str], None] | None = None
) -> None:
    """Stop every op of the job that is running (Ctrl-C, SIGTERM); each reads `stopped` from then on, as after
    `nos2compose stop`, not `failed` with the exit code the stop gave it."""
    rows = {c.service: c for c in engine.containers()}
    for op in plan.ops:
        row = rows.get(op.service)
        if row is not None and row.state in ("running", "restarting", "paused", "created"):
            record.note(plan.project, op.id, record.STOPPED, reason, row.id)
    running = [op.id for op in plan.ops if _running(rows.get(op.service))]
    with _grace(engine, running, timeout, say, "stopping"):
        engine.stop(timeout=timeout)


def down(engine: Engine, project: str, volumes: bool, timeout: int | None = None, say=None) -> bool:
    """Remove the job's containers and network (and its volumes), saying the grace period of those still
    running, and its state record; whether there was anything to remove."""
    rows = engine.containers()
    had = bool(rows) or record.read(project) is not None
    running = sorted({(c.op or c.service) for c in rows if _running(c) and not (c.probe_for or c.fetch_for)})
    with _grace(engine, running, timeout, say, "stopping"):
        engine.down(volumes, timeout)
    record.remove(project)
    return had


__all__ = [
    "Attached",
    "EngineError",
    "Opened",
    "PlanError",
    "act",
    "attach",
    "directory_project",
    "down",
    "open_compiled",
    "open_directory",
    "statuses",
    "stop_running",
]
