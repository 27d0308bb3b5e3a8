"""Compose's normalized project -> a Nosana job definition. Pure: no I/O, never raises for bad input.

`job_from_project` reads as its list of passes; each lives in its own module.
"""

from __future__ import annotations

from ..compose import codec, contract
from ..diagnostics import Diagnostics
from ..model import Words
from . import generated
from .groups import collect_edges, plan_groups, plan_labelled_groups
from .health import apply_healthcheck
from .keys import Handling, top_level_key
from .model import DraftOp, Group
from .network import self_names
from .services import is_helper, leave_out_reason, run_op
from .volumes import check_project_volume, volume_op_ids

TRIGGER = "cli"


def job_from_project(
    project: dict, group_by: str = "dependencies", error_on_warning: bool = False
) -> tuple[dict | None, Diagnostics]:
    """The job for a project that `docker compose config --format json` printed, and what was lost on the way.

    group_by: "dependencies" (services tied by service_started/service_healthy share a
    group) or "single" (one group, except where service_completed_successfully forces
    an earlier one). error_on_warning: every warning is an error, and no job is returned.
    """
    diags = Diagnostics()
    gen = generated.read(project)  # a file nos2compose convert wrote: its groups, results, run-time values
    if gen is not None:
        project = generated.restore(project, gen)  # ${N2C_…} -> %%ops.OP.results.KEY%%, before $$ is undone
    project = unescape(project)
    services: dict = project.get("services") or {}
    check_top_level(project, diags, gen)  # name, networks, secrets, x-*, ...

    roles = generated.helpers(services)  # nos2compose's own probe sidecars and resource fetchers
    helpers = roles.names | {name for name, svc in services.items() if is_helper(svc)}
    left_out: dict[str, str] = {}
    ops: dict[str, DraftOp] = {}
    links: list[tuple[str, str, str]] = []
    for name, svc in services.items():  # Compose's order: by name
        if name in helpers:
            continue
        reason = leave_out_reason(name, svc, diags)  # build only, provider, 0 replicas
        if reason is not None:
            left_out[name] = reason
        else:
            ops[name] = run_op(name, svc, diags, links)  # every key: handled or warned
            apply_machinery(ops[name], name, svc, services, roles, diags)
    if not ops:
        shown = ", ".join(f"{n} ({r})" for n, r in left_out.items()) or "the project has no services"
        diags.error(("services",), f"no service with an image: {shown}")
        return _finish(None, diags, error_on_warning)
    apply_links(links, ops, left_out, diags)

    edges = collect_edges(services, ops, left_out, helpers, diags, roles.probes)
    if gen is not None and any(op.op_id is not None for op in ops.values()):  # groups as convert wrote them
        plan = plan_labelled_groups(list(ops), edges, ops, services, gen.groups, diags)
        if gen.words is None:  # a file of an older version, which records no meta
            warn_what_a_file_cannot_hold(ops, diags)
    else:
        plan = plan_groups(list(ops), edges, ops, group_by, diags)  # groups, same-group depends_on
    if plan is None:
        return _finish(None, diags, error_on_warning)
    groups, depends = plan

    volumes = project_volumes(project, ops, diags)  # create-volume ops, first group
    recorded = gen.volume_ops if gen is not None else {}  # convert's record of the job's create-volume ops
    job = assemble(ops, groups, depends, volumes, recorded)
    if gen is not None:  # the job's own words, where the file says them another way
        job = restore_words(job, project, ops, diags)
    else:
        warn_what_the_node_parses(job, ops, diags)
    return _finish(job, diags, error_on_warning)


NODE_PARSES = ("NOS305", "NOS306")  # text the node reads as JSON in an op's own fields; Compose passes it as it is
COMPOSE_KEYS = {"cmd": "command", "env": "environment", "work_dir": "working_dir"}


def warn_what_the_node_parses(job: dict, ops: dict[str, DraftOp], diags: Diagnostics) -> None:
    """A Compose value that starts with [ or { and parses as JSON is text to Compose, but the node parses it in an
    op's own fields (an env value '{"a": 1}' becomes [object Object]): the compiler's own warning, at the service."""
    from ..compiler import Options, compile_job

    services = {op.job_id: name for name, op in ops.items()}
    found = compile_job(job, Options(name="job", to_run=False)).diagnostics
    for d in found.items:
        if d.code in NODE_PARSES and len(d.path) > 2 and d.path[0] == "ops" and isinstance(d.path[1], int):
            op_id = job["ops"][d.path[1]]["id"]
            where = [COMPOSE_KEYS.get(str(p), p) for p in d.path[3:]] if d.path[2] == "args" else list(d.path[2:])
            message = d.message.replace("the Compose file does the same", "Compose passes it as text")
            message = message.replace("`nos2compose up` does the same", "under Compose it runs")
            diags.warning(("services", services.get(op_id, op_id), *where), message, op_id, d.code)


def restore_words(job: dict, project: dict, ops: dict[str, DraftOp], diags: Diagnostics) -> dict:
    """The very job a file convert wrote came from, with the edits made to the file (restore.py)."""
    from .restore import restore

    meta = codec.read_file_meta(project)  # after Compose's $$ are undone
    services = {op.op_id: name for name, op in ops.items() if op.op_id is not None}
    words = {op_id: codec.read_service_extension(project["services"][name]).words for op_id, name in services.items()}
    words.update({op_id: meta.volume_words.get(op_id, Words()) for op_id in meta.volume_ops})
    return restore(job, meta, words, services, diags)


def apply_machinery(
    op: DraftOp, name: str, svc: dict, services: dict, roles: generated.Helpers, diags: Diagnostics
) -> None:
    """What nos2compose's own machinery around a service says about its op: its x-nos2compose record
    (results, stop_if_dependent_stops, environment_from), the checks its probe sidecar makes, and
    the resources its fetchers fetch."""
    generated.apply_extension(op, name, svc.get(contract.EXTENSION), diags)
    for sidecar, target in roles.probes.items():
        if target == name and (services[sidecar] or {}).get("healthcheck"):
            apply_healthcheck(sidecar, services[sidecar]["healthcheck"], op, self_names(name, svc), diags)
    for fetcher in roles.fetchers.get(name, ()):
        found = generated.resource(fetcher, services[fetcher] or {}, svc, op.job_id, diags)
        if found is not None:
            op.resources.append(found)


def warn_what_a_file_cannot_hold(ops: dict[str, DraftOp], diags: Diagnostics) -> None:
    """A job's meta never reaches a Compose file; for a GPU job it says how much GPU memory the market must find."""
    gpu = next((name for name, op in ops.items() if op.gpu), None)
    if gpu is not None:
        diags.warning(
            ("services", gpu, "deploy"),
            'a Compose file holds no job meta: the job gets meta.trigger "cli" and no '
            "meta.system_requirements; add vram_total_mb (MiB) by hand if its ops need a minimum of GPU memory",
        )


def unescape(value):
    """Compose's output writes every `$` as `$$` (so it loads again), in keys too, which it never interpolates; a
    job wants the `$` itself."""
    if isinstance(value, str):
        return value.replace("$$", "$")
    if isinstance(value, list):
        return [unescape(v) for v in value]
    if isinstance(value, dict):
        return {unescape(k): unescape(v) for k, v in value.items()}
    return value


def check_top_level(project: dict, diags: Diagnostics, gen: generated.Generated | None = None) -> None:
    for key, value in project.items():
        if key == contract.EXTENSION and gen is not None:
            continue  # what convert recorded: read by generated.py
        if key == contract.NODE_BLOCK and gen is not None:
            continue  # the node's container, which convert declares once for its ops to merge: not the user's
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
                if key == "configs" and name in contract.SCRIPT_PATHS:
                    continue  # nos2compose's own scripts (probe, fetcher), carried by the file
                diags.warning((key, name), f"{key[:-1]} {name}: not kept; {note}")
        elif handling is Handling.IGNORED:
            diags.warning((key,), f"{key}: {note}")


def apply_links(
    links: list[tuple[str, str, str]], ops: dict[str, DraftOp], left_out: dict[str, str], diags: Diagnostics
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


def project_volumes(project: dict, ops: dict[str, DraftOp], diags: Diagnostics) -> list[str]:
    """The named volumes the job's ops mount, in the project's order; warns about the rest."""
    used = {m["name"] for op in ops.values() for m in op.volumes}
    declared = project.get("volumes") or {}
    for name, spec in declared.items():
        check_project_volume(name, spec or {}, name in used, diags)
    return [n for n in declared if n in used] + sorted(used - set(declared))


def assemble(
    ops: dict[str, DraftOp],
    groups: list[Group],
    depends: dict[str, list[str]],
    volumes: list[str],
    recorded: dict[str, tuple[str, str]] | None = None,
) -> dict:
    """The job, keys in a fixed order: create-volume ops first (in the first group), then groups in run order.

    `recorded` (op id -> (group, volume name)): the create-volume ops a file convert wrote stands for;
    they keep their id and group, a group of nothing but them running first."""
    recorded = recorded or {}
    named = {name for _, name in recorded.values()}
    ids = volume_op_ids([v for v in volumes if v not in named], {op.job_id for op in ops.values()} | set(recorded))
    first = groups[0].name
    job_ops: list[dict] = [
        {"type": "container/create-volume", "id": ids[v], "args": {"name": v}, "execution": {"group": first}}
        for v in volumes
        if v in ids
    ]
    run_groups = {g.name for g in groups}
    volume_groups = [
        Group(group, []) for group in dict.fromkeys(g for g, _ in recorded.values()) if group not in run_groups
    ]
    for g in volume_groups + groups:
        for op_id, (group, name) in recorded.items():
            if group == g.name:
                job_ops.append(
                    {
                        "type": "container/create-volume",
                        "id": op_id,
                        "args": {"name": name},
                        "execution": {"group": group},
                    }
                )
        for name in g.ops:
            op = ops[name]
            execution: dict = {"group": g.name}
            if depends[name]:
                execution["depends_on"] = [ops[d].job_id for d in depends[name]]
            if op.stop_if_dependent_stops:
                execution["stop_if_dependent_stops"] = True
            entry: dict = {"type": "container/run", "id": op.job_id, "args": op.args()}
            if op.results:
                entry["results"] = op.results
            job_ops.append({**entry, "execution": execution})
    return {"version": "0.1", "type": "container", "meta": {"trigger": TRIGGER}, "ops": job_ops}


def _finish(job: dict | None, diags: Diagnostics, error_on_warning: bool) -> tuple[dict | None, Diagnostics]:
    if error_on_warning and diags.warnings:
        escalated = Diagnostics(strict=True)
        for d in diags.items:
            escalated.error(d.path, d.message, d.op)
        diags = escalated
    return (None if diags.has_errors() else job), diags
