"""The run plan of a job laid out as Compose group files, made two ways that must agree:

- `compiled`: from the typed job and its layout, as `convert` writes the files (`up job.json` never
  parses the YAML it has just written);
- `read_group_files`: from group files a person may have edited (`up DIR`), through the codec, so
  hand edits are respected, never regenerated.
tests/unit/test_plans.py checks that both give the same plan for every fixture.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..model import Job, RunOp
from ..run_plan import PlanError, PlannedGroup, PlannedOp, RunPlan
from . import codec
from .documents import group_documents
from .files import group_texts, script_files
from .layout import Layout
from .yaml_text import resolved

# -- from the typed job -----------------------------------------------------------------------------


def compiled(job: Job, layout: Layout, source: str, meta: dict | None = None) -> tuple[RunPlan, list[tuple[str, str]]]:
    """The run plan of a checked job, and its files (name, text) to write where the plan's files are: the group
    files, then the scripts they mount from beside them."""
    docs = group_documents(job, layout, source)
    by_id = {op.id: op for op in job.run_ops}
    groups = []
    for order, (group, doc) in enumerate(docs):
        services = resolved(doc["services"])  # as the file reads back: each op with the node's keys merged in
        ops = tuple(_planned(op, layout, by_id) for op in layout.members[group])
        hosts = tuple(op.service for op in ops)
        used = codec.used_variables(services)
        runtime = {var: p for p, var in layout.variables.items() if var in used}
        volumes = tuple(_planned_volume(v.id, v.group, v.name, hosts) for v in layout.volume_ops.get(group, ()))
        groups.append(PlannedGroup(group, order, Path(layout.files[group]), ops, runtime, services, volumes))
    return RunPlan(job.name, tuple(groups), meta or {}), group_texts(job, layout, source, docs) + script_files(docs)


def _planned(op: RunOp, layout: Layout, by_id: dict[str, RunOp]) -> PlannedOp:
    same_group = [d for d in op.depends_on if d in by_id and by_id[d].group == op.group and d != op.id]
    probe = layout.probes.get(op.id)
    return PlannedOp(
        id=op.id,
        service=layout.services[op.id],
        group=op.group,
        has_health_check=op.has_health_checks,
        ports=tuple((layout.ports[(op.id, e.port)], e.port) for e in op.expose if e.count == 1),
        gpu=op.gpu,
        probe=probe,
        depends=tuple(dict.fromkeys(layout.services[d] for d in same_group)),
        results=tuple(op.results),
        stop_if_dependent_stops=op.stop_if_dependent_stops,
        fetch=tuple(f.service for f in layout.fetchers.get(op.id, ())),
        unresolved=tuple(op.unresolved),
        engine_refuses=tuple(op.engine_refuses),
        image=op.image,
        probe_image=layout.probe_image if probe else "",
    )


def _planned_volume(op_id: str, group: str, name: str, hosts: tuple[str, ...]) -> PlannedOp:
    """A create-volume op: no container of its own; done once a service of the file that creates it starts."""
    return PlannedOp(op_id, "", group, False, (), False, volume=name, host=hosts)


# -- from group files -------------------------------------------------------------------------------


def read_group_files(files: list[tuple[Path, str]], meta: dict | None = None, overrides: dict | None = None) -> RunPlan:
    """A plan from group files (path and text), in the order of their x-nos2compose order, else file name.

    `overrides` maps a group file to (its override file, the services as Compose merges the two): the
    merged services give the ops' ports, health checks and dependencies; our x-nos2compose blocks, which
    Compose drops when it merges, come from the group file."""
    import yaml

    if not files:
        raise PlanError("no Compose group files to run")
    docs = []
    for path, text in files:
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise PlanError(f"{path}: cannot read it as a Compose file ({exc})") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("services"), dict):
            raise PlanError(f"{path}: not a Compose file with services")
        docs.append((path, doc, codec.read_file_meta(doc)))
    projects = {doc.get("name") for _, doc, _ in docs}
    if len(projects) != 1 or None in projects:
        raise PlanError(
            "the group files must all name the same project (top-level `name:`); "
            "regenerate them with `nos2compose convert JOB -o DIR`"
        )
    docs.sort(key=lambda d: (d[2].order or 0, d[0].name))
    groups = [
        _read_group(order, path, doc["services"], found, (overrides or {}).get(path, (None, None)))
        for order, (path, doc, found) in enumerate(docs)
    ]
    return RunPlan(projects.pop(), tuple(groups), meta or {})


def missing_files(files: list[tuple[Path, str]]) -> list[tuple[Path, str, str]]:
    """(group file, config, file) for each file a group file's top-level configs name (`file:`, relative to the
    group file: the scripts `convert -o` writes beside it) that is not there; Compose would stop at the first
    container that mounts it."""
    import yaml

    out = []
    for path, text in files:
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError:
            continue  # read_group_files says what is wrong with it
        configs = doc.get("configs") if isinstance(doc, dict) else None
        for name, spec in (configs or {}).items() if isinstance(configs, dict) else ():
            file = spec.get("file") if isinstance(spec, dict) else None
            if isinstance(file, str) and not (path.parent / file).exists():
                out.append((path, str(name), file))
    return out


def _read_group(order: int, path: Path, written: dict, meta: codec.FileMeta, override: tuple) -> PlannedGroup:
    group = meta.group if meta.group is not None else path.stem
    override_file, merged = override
    services = written
    if isinstance(merged, dict):  # in the group file's order (Compose sorts them), the override's own last
        at = {name: i for i, name in enumerate(written)}
        services = {
            name: codec.keep_extension(svc, written.get(name))
            for name, svc in sorted(merged.items(), key=lambda item: at.get(item[0], len(at)))
        }
    marks = {name: codec.read_labels(codec.labels_of(svc)) for name, svc in services.items()}
    probes = {m.probe_for: name for name, m in marks.items() if m.probe_for}
    helpers = {name for name, m in marks.items() if m.helper}
    fetchers: dict[str, list[str]] = {}
    for name, m in marks.items():
        if m.fetch_for:
            fetchers.setdefault(m.fetch_for, []).append(name)
    service_of_op = {m.op or name: name for name, m in marks.items()}
    ops = []
    for name, svc in services.items():
        if name in helpers:
            continue
        op = _read_op(name, svc or {}, marks[name], group)
        deps = []
        for dep in _depends(svc):
            if dep in probes.values():  # a dependency on a probe sidecar is one on the op it probes
                dep = service_of_op.get(next(t for t, p in probes.items() if p == dep), dep)
            if dep in services and dep != name and dep not in helpers:
                deps.append(dep)
        probe = probes.get(op.id)
        probe_image = str((services.get(probe) or {}).get("image") or "") if probe else ""
        if probe:
            op = op._replace(probe=probe, has_health_check=True, probe_image=probe_image)
        ops.append(op._replace(depends=tuple(dict.fromkeys(deps)), fetch=tuple(fetchers.get(op.id, ()))))
    hosts = tuple(op.service for op in ops)
    volumes = tuple(_planned_volume(op_id, g, name, hosts) for op_id, (g, name) in meta.volume_ops.items())
    overrides = (override_file,) if override_file else ()
    return PlannedGroup(group, order, path, tuple(ops), meta.runtime, written, volumes, overrides)


def _depends(svc: Any) -> list[str]:
    deps = (svc or {}).get("depends_on") or []
    return list(deps) if isinstance(deps, (dict, list)) else []


def _read_op(service: str, svc: dict, marks: codec.Marks, group: str) -> PlannedOp:
    check = svc.get("healthcheck") or {}
    has_check = bool(check.get("test")) and not check.get("disable") and check.get("test") != ["NONE"]
    devices = (((svc.get("deploy") or {}).get("resources") or {}).get("reservations") or {}).get("devices") or []
    extras = codec.read_service_extension(svc)
    return PlannedOp(
        id=marks.op or service,
        service=service,
        group=marks.group or group,
        has_health_check=has_check,
        ports=tuple(_ports(svc.get("ports") or [])),
        gpu=any("gpu" in (d.get("capabilities") or []) for d in devices if isinstance(d, dict)),
        results=extras.results,
        stop_if_dependent_stops=extras.stop_if_dependent_stops,
        unresolved=extras.unresolved,
        engine_refuses=extras.engine_refuses,
        image=str(svc.get("image") or ""),
    )


def _ports(entries: list) -> list[tuple[int, int]]:
    """Published (host, container) pairs from short ("127.0.0.1:81:80") or long ({published, target}) syntax."""
    out = []
    for entry in entries:
        if isinstance(entry, dict):
            host, target = entry.get("published"), entry.get("target")
        else:
            parts = str(entry).split("/")[0].split(":")
            host, target = (parts[-2], parts[-1]) if len(parts) >= 2 else (None, parts[-1])
        try:
            if host is not None and target is not None:
                out.append((int(host), int(target)))
        except ValueError:
            continue  # a range or a variable: not a single local URL
    return out
