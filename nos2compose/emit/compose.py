"""Typed job -> Compose documents (plain dicts, in the key order they are written).

One service per container/run op, named after the op; every op of the job
lives in one Compose project, so all ops share the project's network and reach
each other by op id. `job_document` orders groups with depends_on barriers;
`group_documents` writes one file per group for a runner to bring up in turn.
"""

from __future__ import annotations

import json

from .. import contract as c
from .. import scripts
from ..contract import Variable
from ..model import Job, RunOp, Template
from ..plan.layout import Layout
from .healthcheck import check_kinds, healthcheck, probe_config
from .render import render

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


def service(op: RunOp, layout: Layout, group_order: int) -> dict:
    svc: dict = {"image": op.image}
    if op.entrypoint is not None:
        svc["entrypoint"] = list(op.entrypoint)
    if op.cmd is not None:
        svc["command"] = list(op.cmd)
    if op.work_dir is not None:
        svc["working_dir"] = op.work_dir
    if op.env:
        svc["environment"] = dict(op.env)
    if op.expose or op.expose_from:
        svc["ports"] = [
            f"{LOCAL_ADDRESS}:{_span(layout.ports[(op.id, e.port)], e.count)}:{_span(e.port, e.count)}"
            for e in op.expose
        ]
        # ports that come from an earlier op's results: `up` writes one entry per value
        svc["ports"] += [Template([f"{LOCAL_ADDRESS}:", p, ":", p]) for p in op.expose_from]
    check = None if op.id in layout.probes else healthcheck(op, layout.timing)
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
        svc["configs"] = [_script(c.PROBE_CONFIG)]
    if op.aliases:
        svc["networks"] = {"default": {"aliases": list(op.aliases)}}
    if op.restart is not None:
        svc["restart"] = op.restart
    extra = _extension(op)
    if extra:
        svc[c.EXTENSION] = extra
    svc["labels"] = {c.OP_LABEL: op.id, **_group_labels(op, group_order)}
    return svc


def _span(first: int, count: int) -> str:
    return str(first) if count == 1 else f"{first}-{first + count - 1}"


def _script(config: str) -> dict:
    """A service's mount of a script the file carries as a config."""
    return {"source": config, "target": c.SCRIPT_PATHS[config]}


def _group_labels(op: RunOp, group_order: int) -> dict:
    return {c.GROUP_LABEL: op.group, c.GROUP_ORDER_LABEL: str(group_order)}


def _extension(op: RunOp) -> dict:
    """What the supervisor needs that Compose has no key for: results to extract, stop_if_dependent_stops."""
    out: dict = {}
    if op.results:
        out[c.RESULTS_KEY] = {
            r.key: {"regex": r.regex, **({"logType": list(r.streams)} if r.streams is not None else {})}
            for r in op.results
        }
    if op.stop_if_dependent_stops:
        out[c.STOP_IF_DEPENDENT_STOPS_KEY] = True
    if op.env_from:
        out[c.ENVIRONMENT_FROM_KEY] = [Template([p]) for p in op.env_from]
    if op.unresolved:
        out[c.UNRESOLVED_KEY] = list(op.unresolved)
    if op.engine_refuses:
        out[c.ENGINE_REFUSES_KEY] = list(op.engine_refuses)
    return out


def probe_service(op: RunOp, layout: Layout, group_order: int) -> dict:
    """A sidecar that probes the op over the job's network, as a Nosana node does."""
    config = probe_config(layout.probe_image)
    check = healthcheck(op, layout.timing, host=layout.services[op.id])
    assert check is not None
    check["test"][2] = c.SCRIPT_PATHS[config]
    return {
        "image": layout.probe_image,
        "command": list(IDLE),
        "healthcheck": check,
        "depends_on": {layout.services[op.id]: {"condition": "service_started"}},
        "configs": [_script(config)],
        "labels": {c.PROBE_FOR_LABEL: op.id, **_group_labels(op, group_order)},
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
                "configs": [_script(c.OLLAMA_CONFIG)],
            }
        else:
            svc = {
                "image": layout.fetch_image,
                "command": ["python3", c.SCRIPT_PATHS[c.FETCH_CONFIG], r.kind.lower(), "/cache", r.spec],
            }
            if r.secrets:
                svc["environment"] = {env: Variable(layout.secret_variables[(op.id, f.n, env)]) for env, _ in r.secrets}
            svc["volumes"] = [{"type": "volume", "source": f.cache, "target": "/cache"}]
            svc["configs"] = [_script(c.FETCH_CONFIG)]
        svc["labels"] = {c.FETCH_FOR_LABEL: op.id, **_group_labels(op, group_order)}
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


def used_variables(value) -> set[str]:
    """The generated variables a rendered document part uses."""
    if isinstance(value, str):
        return set(c.references(value)) if "${" in value else set()
    if isinstance(value, list):  # plain strings skipped: no empty set per item of a list of millions
        return set().union(*(used_variables(v) for v in value if not isinstance(v, str) or "${" in v))
    if isinstance(value, dict):
        return set().union(*(used_variables(v) for v in value.values() if not isinstance(v, str) or "${" in v))
    return set()


def _volumes(ops: list[RunOp], layout: Layout) -> dict:
    """The job's own volumes, then the shared resource caches: a fixed name, so every job and plain
    `docker compose` share one; `nos2compose down -v` keeps them (`nos2compose cache clear` empties them)."""
    out: dict = {name: {} for name in sorted({m.volume for op in ops for m in op.mounts})}
    for cache in sorted({f.cache for op in ops for f in layout.fetchers.get(op.id, ())}):
        out[cache] = {"name": cache, "labels": {c.CACHE_LABEL: "1"}}
    return out


def _configs(ops: list[RunOp], layout: Layout, services: dict) -> dict:
    """The scripts the file's services mount, each carried once."""
    used = {m["source"] for svc in services.values() for m in svc.get("configs", ())}
    kinds = {c.PROBE_CONFIG: frozenset(), c.CURL_PROBE_CONFIG: frozenset()}
    for op in ops:
        config = probe_config(layout.probe_image) if op.id in layout.probes else c.PROBE_CONFIG
        kinds[config] |= check_kinds(op)
    contents = {
        c.PROBE_CONFIG: lambda: scripts.probe(kinds[c.PROBE_CONFIG]),
        c.CURL_PROBE_CONFIG: lambda: scripts.probe(kinds[c.CURL_PROBE_CONFIG], fallbacks=False),
        c.FETCH_CONFIG: lambda: scripts.text("fetch.py"),
        c.OLLAMA_CONFIG: lambda: scripts.text("ollama_pull.sh"),
    }
    return {name: {"content": make()} for name, make in contents.items() if name in used}


def _document(job: Job, layout: Layout, ops: list[RunOp], meta: dict, barriers: dict[str, list[RunOp]]) -> dict:
    order = {g: i for i, g in enumerate(layout.run_groups)}
    by_id = {o.id: o for o in job.run_ops}
    services: dict = {}
    for op in ops:
        svc = service(op, layout, order[op.group])
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
    used = used_variables(services)
    runtime = {var: p.record() for p, var in layout.variables.items() if var in used}
    if runtime:
        meta = {**meta, c.RUNTIME_KEY: runtime}
    secrets = sorted(v for v in used if v.startswith(c.SECRET_PREFIX))
    if secrets:  # names only: `up` supplies the values; by hand, export them first
        meta = {**meta, c.SECRETS_KEY: secrets}
    doc: dict = {"name": job.name, c.EXTENSION: render(meta, {}), "services": services}
    volumes = _volumes(ops, layout)
    if volumes:
        doc["volumes"] = render(volumes, {})
    configs = _configs(ops, layout, services)
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
    meta = {c.JOB_KEY: job.name, c.SOURCE_KEY: source, c.GROUPS_KEY: list(layout.run_groups)}
    meta.update(_create_volumes([v for vs in layout.volume_ops.values() for v in vs]))
    return _document(job, layout, list(job.run_ops), meta, barriers)


def group_documents(job: Job, layout: Layout, source: str) -> list[tuple[str, dict]]:
    """One file per group that runs something: (group, document), in group order."""
    out = []
    for order, (group, ops) in enumerate(layout.members.items()):
        meta = {c.JOB_KEY: job.name, c.GROUP_KEY: group, c.ORDER_KEY: order, c.SOURCE_KEY: source}
        meta.update(_create_volumes(layout.volume_ops.get(group, ())))
        out.append((group, _document(job, layout, ops, meta, {})))
    return out


def _create_volumes(ops) -> dict:
    """The create-volume ops a file stands for, so `ps` and the API show them as the node does."""
    return {c.CREATE_VOLUMES_KEY: {op.id: {"group": op.group, "name": op.name} for op in ops}} if ops else {}
