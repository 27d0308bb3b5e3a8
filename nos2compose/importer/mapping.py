"""Compose's normalized project -> a Nosana job definition. Pure: no I/O, never raises for bad input.

`job_from_project` reads as its list of passes; each lives in its own module.
"""

from __future__ import annotations

from ..diagnostics import Diagnostic, Diagnostics
from .groups import collect_edges, plan_groups
from .keys import Handling, top_level_key
from .model import Group, RunOp
from .services import is_helper, leave_out_reason, run_op
from .volumes import check_project_volume, volume_op_ids

TRIGGER = "cli"


def job_from_project(
    project: dict, group_by: str = "dependencies", strict: bool = False
) -> tuple[dict | None, Diagnostics]:
    """The job for a project that `docker compose config --format json` printed, and what was lost on the way.

    group_by: "dependencies" (services tied by service_started/service_healthy share a
    group) or "single" (one group, except where service_completed_successfully forces
    an earlier one). strict: every warning is an error, and no job is returned.
    """
    diags = Diagnostics()
    project = unescape(project)
    services: dict = project.get("services") or {}
    check_top_level(project, diags)  # name, networks, secrets, x-*, ...

    helpers = {name for name, svc in services.items() if is_helper(svc)}  # nos2compose's own sidecars
    left_out: dict[str, str] = {}
    ops: dict[str, RunOp] = {}
    links: list[tuple[str, str, str]] = []
    for name, svc in services.items():  # Compose's order: by name
        if name in helpers:
            continue
        reason = leave_out_reason(name, svc, diags)  # build only, provider, 0 replicas
        if reason is not None:
            left_out[name] = reason
        else:
            ops[name] = run_op(name, svc, diags, links)  # every key: handled or warned
    if not ops:
        shown = ", ".join(f"{n} ({r})" for n, r in left_out.items()) or "the project has no services"
        diags.error(("services",), f"no service with an image: {shown}")
        return _finish(None, diags, strict)
    apply_links(links, ops, left_out, diags)

    edges = collect_edges(services, ops, left_out, helpers, diags)
    plan = plan_groups(list(ops), edges, ops, group_by, diags)  # groups, same-group depends_on
    if plan is None:
        return _finish(None, diags, strict)
    groups, depends = plan

    volumes = project_volumes(project, ops, diags)  # create-volume ops, first group
    return _finish(assemble(ops, groups, depends, volumes), diags, strict)


def unescape(value):
    """Compose's output writes every `$` of a value as `$$` (so it loads again); a job wants the `$` itself."""
    if isinstance(value, str):
        return value.replace("$$", "$")
    if isinstance(value, list):
        return [unescape(v) for v in value]
    if isinstance(value, dict):
        return {k: unescape(v) for k, v in value.items()}
    return value


def check_top_level(project: dict, diags: Diagnostics) -> None:
    for key, value in project.items():
        entry = top_level_key(key)
        if entry is None:
            diags.warning((key,), f"{key}: unknown to nos2compose import: left out")
            continue
        handling, note = entry
        if key == "networks":
            for name, spec in (value or {}).items():
                if name != "default" or set(spec or {}) - {"name", "ipam"} or (spec or {}).get("ipam"):
                    diags.warning(
                        ("networks", name),
                        f"network {name}: not kept; a node puts every op of the job "
                        "on one network, where ops reach each other by alias",
                    )
        elif key in ("secrets", "configs", "models"):
            for name in value or {}:
                diags.warning((key, name), f"{key[:-1]} {name}: not kept; {note}")
        elif handling is Handling.IGNORED:
            diags.warning((key,), f"{key}: {note}")


def apply_links(
    links: list[tuple[str, str, str]], ops: dict[str, RunOp], left_out: dict[str, str], diags: Diagnostics
) -> None:
    """`links: [db:database]` -> alias `database` on op db (on a node every op sees it)."""
    for service, target, alias in links:
        if target in ops:
            if alias not in ops[target].aliases:
                ops[target].aliases.append(alias)
        else:
            why = left_out.get(target, "not a service of the project")
            diags.warning(
                ("services", service, "links"), f"link {target}:{alias}: {target} is not in the job ({why}): left out"
            )


def project_volumes(project: dict, ops: dict[str, RunOp], diags: Diagnostics) -> list[str]:
    """The named volumes the job's ops mount, in the project's order; warns about the rest."""
    used = {m["name"] for op in ops.values() for m in op.volumes}
    declared = project.get("volumes") or {}
    for name, spec in declared.items():
        check_project_volume(name, spec or {}, name in used, diags)
    return [n for n in declared if n in used] + sorted(used - set(declared))


def assemble(ops: dict[str, RunOp], groups: list[Group], depends: dict[str, list[str]], volumes: list[str]) -> dict:
    """The job, keys in a fixed order: create-volume ops first (in the first group), then groups in run order."""
    ids = volume_op_ids(volumes, set(ops))
    first = groups[0].name
    job_ops: list[dict] = [
        {"type": "container/create-volume", "id": ids[v], "args": {"name": v}, "execution": {"group": first}}
        for v in volumes
    ]
    for g in groups:
        for op_id in g.ops:
            execution: dict = {"group": g.name}
            if depends[op_id]:
                execution["depends_on"] = depends[op_id]
            job_ops.append({"type": "container/run", "id": op_id, "args": ops[op_id].args(), "execution": execution})
    return {"version": "0.1", "type": "container", "meta": {"trigger": TRIGGER}, "ops": job_ops}


def _finish(job: dict | None, diags: Diagnostics, strict: bool) -> tuple[dict | None, Diagnostics]:
    if strict and diags.warnings:
        escalated = Diagnostics(strict=True)
        escalated.items = [Diagnostic("error", d.path, d.message, d.op) for d in diags.items]
        diags = escalated
    return (None if diags.has_errors() else job), diags
