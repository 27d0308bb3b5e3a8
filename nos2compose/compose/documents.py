"""Typed job -> Compose documents (plain dicts, in the key order they are written).

One service per container/run op, named after the op; every op of the job
lives in one Compose project, so all ops share the project's network and reach
each other by op id. `job_document` orders groups with depends_on barriers;
`group_documents` writes one file per group for a runner to bring up in turn.
"""

from __future__ import annotations

import json

from .. import scripts
from ..model import Job, RunOp, Template, Variable, Words
from . import codec
from . import contract as c
from .healthcheck import healthcheck, probe_needs
from .layout import Layout
from .node_defaults import block, environment
from .render import render
from .yaml_text import MERGE

LOCAL_ADDRESS = "127.0.0.1"
GPU_REQUEST = {"driver": "nvidia", "count": "all", "capabilities": ["gpu"]}
# A probe sidecar only needs to stay up; its healthcheck does the work.
IDLE = ["sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 1; done"]


def barrier_condition(op: RunOp) -> str:
    """How a later group waits for this op: healthy, running, or finished with exit 0."""
    if op.has_health_checks:
        return "service_healthy"
    if op.expose:
        return "service_started"
    return "service_completed_successfully"


def service(op: RunOp, layout: Layout, group_order: int, words: Words | None = None) -> dict:
    """The op's service: the node's container (merged from the file's NODE_BLOCK), then the op's own keys;
    `words`: the job's own words where the service says them another way (written.py)."""
    svc: dict = {MERGE: block(), "image": op.image}
    if op.entrypoint is not None:
        svc["entrypoint"] = list(op.entrypoint)
    if op.cmd is not None:
        svc["command"] = list(op.cmd)
    if op.work_dir is not None:
        svc["working_dir"] = op.work_dir
    svc["environment"] = {MERGE: environment(), **dict(op.env)}  # the node's (Podman's) first, the job's over it
    if op.expose or op.expose_from:
        svc["ports"] = [
            f"{LOCAL_ADDRESS}:{_span(layout.ports[(op.id, e.port)], e.count)}:{_span(e.port, e.count)}"
            for e in op.expose
        ]
        # ports that come from an earlier op's results: `up` writes one entry per value
        svc["ports"] += [Template([f"{LOCAL_ADDRESS}:", p, ":", p]) for p in op.expose_from]
    check = None if op.id in layout.probes else healthcheck(op, layout.timing, layout.services[op.id], inside=True)
    if check is not None:
        svc["healthcheck"] = check
    if op.gpu:
        svc["deploy"] = {"resources": {"reservations": {"devices": [dict(GPU_REQUEST)]}}}
    mounts = [{"type": "volume", "source": m.volume, "target": m.dest} for m in op.mounts]
    for n, r in enumerate(op.resources, 1):  # fetched into a shared cache volume, or a directory the user has
        local = layout.mounted.get(r.target)
        mounts.append(
            {"type": "bind", "source": local, "target": r.target}
            if local
            else {"type": "volume", "source": layout.cache_of(op, n), "target": r.target}
        )
    if mounts:  # the long syntax: a `:` in a destination stays part of the path
        svc["volumes"] = mounts
    if check is not None:  # the probe script, carried once by the file
        svc["configs"] = [codec.script_mount(c.PROBE_CONFIG)]
    if op.aliases:
        svc["networks"] = {"default": {"aliases": list(op.aliases)}}
    if op.restart is not None:
        svc["restart"] = op.restart
    extra = {**codec.service_extension(op), **codec.words_block(words)}
    if extra:
        svc[c.EXTENSION] = extra
    svc["labels"] = codec.op_labels(op.id, op.group, group_order)
    return svc


def _span(first: int, count: int) -> str:
    return str(first) if count == 1 else f"{first}-{first + count - 1}"


def probe_service(op: RunOp, layout: Layout, group_order: int) -> dict:
    """A sidecar that probes the op over the job's network, as a Nosana node does."""
    check = healthcheck(op, layout.timing, host=layout.services[op.id])
    assert check is not None
    return {
        "image": layout.probe_image,
        "command": list(IDLE),
        "healthcheck": check,
        "depends_on": {layout.services[op.id]: {"condition": "service_started"}},
        "configs": [codec.script_mount(c.PROBE_CONFIG)],
        "labels": codec.probe_labels(op.id, op.group, group_order),
    }


def fetchers(op: RunOp, layout: Layout, group_order: int) -> dict:
    """Init services that fetch the op's resources into their cache volumes before it starts, as a node does."""
    out = {}
    for f in layout.fetchers.get(op.id, ()):
        r = f.resource
        if r.kind == "Ollama":
            model = json.loads(r.spec)["model"]
            svc: dict = {
                "image": layout.ollama_image or op.image,
                "entrypoint": ["/bin/sh", c.SCRIPT_PATHS[c.OLLAMA_CONFIG]],
                "command": [model],
                "volumes": [{"type": "volume", "source": f.cache, "target": "/root/.ollama"}],
                "configs": [codec.script_mount(c.OLLAMA_CONFIG)],
            }
        else:
            svc = {
                "image": layout.fetch_image,
                "command": ["python3", c.SCRIPT_PATHS[c.FETCH_CONFIG], r.kind.lower(), "/cache", spec_argument(r.spec)],
            }
            if r.secrets:
                svc["environment"] = {env: Variable(layout.secret_variables[(op.id, f.n, env)]) for env, _ in r.secrets}
            svc["volumes"] = [{"type": "volume", "source": f.cache, "target": "/cache"}]
            svc["configs"] = [codec.script_mount(c.FETCH_CONFIG)]
        svc["labels"] = codec.fetch_labels(op.id, op.group, group_order)
        out[f.service] = svc
    return out


def _depends_on(op: RunOp, by_id: dict[str, RunOp], layout: Layout, barrier: list[RunOp]) -> dict:
    deps: dict = {}
    for f in layout.fetchers.get(op.id, ()):
        deps[f.service] = {"condition": "service_completed_successfully"}
    for dep in barrier:
        deps[layout.gate(dep)] = {"condition": barrier_condition(dep)}
    for dep_id in op.depends_on:
        dep = by_id.get(dep_id)
        if dep is None or dep.group != op.group:  # a create-volume op (its volume exists before any container
            continue  # starts), or an ungrouped op of an earlier group (the group order already waits for it)
        deps[layout.gate(dep)] = {"condition": "service_healthy" if dep.has_health_checks else "service_started"}
    return deps


def _volumes(ops: list[RunOp], layout: Layout) -> dict:
    """The job's own volumes, then the shared resource caches: a fixed name, so every job and plain
    `docker compose` share one; `nos2compose down -v` keeps them (`nos2compose cache clear` empties them)."""
    out: dict = {name: {} for name in sorted({m.volume for op in ops for m in op.mounts})}
    for cache in sorted({f.cache for op in ops for f in layout.fetchers.get(op.id, ())}):
        out[cache] = {"name": cache, "labels": dict(codec.CACHE_LABELS)}
    return out


def spec_argument(spec: str) -> str:
    """The fetcher's SPEC_JSON as indented JSON, one field a line: written as a literal block, it reads without
    escapes and folds a resource's long file lists (JSON escapes every character a block cannot hold)."""
    return json.dumps(json.loads(spec), indent=2, sort_keys=True)


def script_text(config: str, parts: frozenset[str] = scripts.PROBE_PARTS, fallbacks: bool = True) -> str:
    """The script a config carries; the probe with the sections given (every one by default)."""
    if config == c.PROBE_CONFIG:
        return scripts.probe(parts, fallbacks=fallbacks)
    return scripts.text("fetch.py" if config == c.FETCH_CONFIG else "ollama_pull.sh")


def _configs(ops: list[RunOp], layout: Layout, services: dict, inline: bool) -> dict:
    """The scripts the file's services mount, each named once: as the files beside the group files (`file:`,
    relative to the group file), or inline in the single file, the probe with only what its ops need."""
    used = {m["source"] for svc in services.values() for m in svc.get("configs", ())}
    names = [name for name in c.SCRIPT_FILES if name in used]
    if not inline:
        return {name: {"file": c.SCRIPT_FILES[name]} for name in names}
    parts, fallbacks = probe_needs(ops, layout)
    return {name: {"content": script_text(name, parts, fallbacks)} for name in names}


def _document(
    job: Job, layout: Layout, ops: list[RunOp], meta: dict, barriers: dict[str, list[RunOp]], inline: bool
) -> dict:
    order = {g: i for i, g in enumerate(layout.run_groups)}
    by_id = {o.id: o for o in job.run_ops}
    services: dict = {}
    for op in ops:
        svc = service(op, layout, order[op.group], job.written.ops.get(op.id) if job.written else None)
        deps = _depends_on(op, by_id, layout, barriers.get(op.group, []))
        if deps:
            # depends_on goes right after healthcheck, where readers look for ordering
            keys = list(svc)
            at = keys.index("healthcheck") + 1 if "healthcheck" in keys else keys.index("labels")
            svc = dict(list(svc.items())[:at] + [("depends_on", deps)] + list(svc.items())[at:])
        services.update(fetchers(op, layout, order[op.group]))
        services[layout.services[op.id]] = svc
        if op.id in layout.probes:
            services[layout.probes[op.id]] = probe_service(op, layout, order[op.group])
    services = render(services, layout.variables)
    used = codec.used_variables(services)
    runtime = {var: p for p, var in layout.variables.items() if var in used}
    # names only: `up` supplies the values; by hand, export them first
    meta = codec.with_variables(meta, runtime, [v for v in used if v.startswith(c.SECRET_PREFIX)])
    doc: dict = {"name": job.name, c.EXTENSION: render(meta, {}), c.NODE_BLOCK: block(), "services": services}
    volumes = _volumes(ops, layout)
    if volumes:
        doc["volumes"] = render(volumes, {})
    configs = _configs(ops, layout, services, inline)
    if configs:
        doc["configs"] = render(configs, {})
    return doc


def job_document(job: Job, layout: Layout, source: str) -> dict:
    """The whole job in one file: each group's ops wait for the previous group through depends_on."""
    barriers: dict[str, list[RunOp]] = {}
    previous: list[RunOp] = []
    for group, ops in layout.members.items():
        barriers[group] = previous
        previous = ops
    volume_ops = [v for vs in layout.volume_ops.values() for v in vs]
    meta = codec.file_meta(job.name, source, groups=list(layout.run_groups), volume_ops=volume_ops, written=job.written)
    return _document(job, layout, list(job.run_ops), meta, barriers, inline=True)


def group_documents(job: Job, layout: Layout, source: str) -> list[tuple[str, dict]]:
    """One file per group that runs something: (group, document), in group order."""
    out = []
    for order, (group, ops) in enumerate(layout.members.items()):
        volume_ops = layout.volume_ops.get(group, ())
        meta = codec.file_meta(job.name, source, group=group, order=order, volume_ops=volume_ops, written=job.written)
        out.append((group, _document(job, layout, ops, meta, {}, inline=False)))
    return out
