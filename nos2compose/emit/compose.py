"""Typed job -> Compose documents (plain dicts, in the key order they are written).

One service per container/run op, named after the op; every op of the job
lives in one Compose project, so all ops share the project's network and reach
each other by op id. `job_document` orders groups with depends_on barriers;
`group_documents` writes one file per group for a runner to bring up in turn.
"""
from __future__ import annotations

import json
from typing import NamedTuple

from ..load.literals import SENTINEL, sentinel
from ..model import Job, RunOp
from .healthcheck import HealthTiming, healthcheck

LOCAL_ADDRESS = "127.0.0.1"
LABEL = "io.nosana"  # label prefix: the supervisor finds ops by these
GPU_REQUEST = {"driver": "nvidia", "count": "all", "capabilities": ["gpu"]}
# A probe sidecar only needs to stay up; its healthcheck does the work.
IDLE = ["sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 1; done"]


class Layout(NamedTuple):
    """What the planner decided: service names, host ports, group order, how health is probed."""

    services: dict[str, str]  # op id -> service name
    ports: dict[tuple[str, int], int]  # (op id, container port) -> host port
    members: dict[str, list[RunOp]]  # groups that run something, in order, with their ops
    timing: HealthTiming = HealthTiming()
    probes: dict[str, str] = {}  # op id -> its probe sidecar's service name (--health-probe sidecar)
    probe_image: str = ""
    runtime: dict[str, dict] = {}  # placeholder var -> {op, key, splice}: results `up` fills in
    fetch_image: str = "python:3.12-alpine"  # runs the S3 / Hugging Face fetcher (any image with python3)
    ollama_image: str | None = None  # pulls Ollama models; None: the op's own image
    resource_dirs: dict[str, str] = {}  # target -> a host directory that already holds the resource

    def gate(self, op: RunOp) -> str:
        """The service whose health says the op is ready: its probe sidecar if it has one."""
        return self.probes.get(op.id, self.services[op.id])

    @property
    def run_groups(self) -> tuple[str, ...]:
        return tuple(self.members)


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
    if op.expose or op.runtime_ports:
        svc["ports"] = [f"{LOCAL_ADDRESS}:{layout.ports[(op.id, e.port)]}:{e.port}" for e in op.expose]
        # ports that come from an earlier op's results: `up` writes one entry per value
        svc["ports"] += [f"{LOCAL_ADDRESS}:{sentinel(var)}:{sentinel(var)}" for var in op.runtime_ports]
    check = None if op.id in layout.probes else healthcheck(op, layout.timing)
    if check is not None:
        svc["healthcheck"] = check
    if op.gpu:
        svc["deploy"] = {"resources": {"reservations": {"devices": [dict(GPU_REQUEST)]}}}
    mounts = [{"type": "volume", "source": m.volume, "target": m.dest} for m in op.mounts]
    for r in op.resources:  # fetched into a shared cache volume, or a directory the user already has
        local = layout.resource_dirs.get(r.target)
        mounts.append({"type": "bind", "source": local, "target": r.target} if local else
                      {"type": "volume", "source": r.cache, "target": r.target})
    if mounts:  # the long syntax: a `:` in a destination stays part of the path
        svc["volumes"] = mounts
    if op.aliases:
        svc["networks"] = {"default": {"aliases": list(op.aliases)}}
    if op.restart is not None:
        svc["restart"] = op.restart
    extra = _extension(op)
    if extra:
        svc["x-nos2compose"] = extra
    svc["labels"] = {
        f"{LABEL}.op": op.id,
        f"{LABEL}.group": op.group,
        f"{LABEL}.group-order": str(group_order),
    }
    return svc


def _extension(op: RunOp) -> dict:
    """What the supervisor needs that Compose has no key for: results to extract, stop_if_dependent_stops."""
    out: dict = {}
    if op.results:
        out["results"] = {r.key: {"regex": r.regex, **({"logType": list(r.streams)} if r.streams is not None else {})}
                          for r in op.results}
    if op.stop_if_dependent_stops:
        out["stop_if_dependent_stops"] = True
    if op.runtime_env:
        out["environment_from"] = [sentinel(var) for var in op.runtime_env]
    return out


def probe_service(op: RunOp, layout: Layout, group_order: int) -> dict:
    """A sidecar that probes the op over the job's network, as a Nosana node does."""
    return {
        "image": layout.probe_image,
        "command": list(IDLE),
        "healthcheck": healthcheck(op, layout.timing, host=layout.services[op.id]),
        "depends_on": {layout.services[op.id]: {"condition": "service_started"}},
        "labels": {f"{LABEL}.probe-for": op.id, f"{LABEL}.group": op.group, f"{LABEL}.group-order": str(group_order)},
    }


OLLAMA_PULL = ("ollama serve >/dev/null 2>&1 & n=0; until ollama list >/dev/null 2>&1; do n=$((n+1)); "
               "[ $n -gt 60 ] && exit 1; sleep 1; done; exec ollama pull \"$1\"")


def fetchers(op: RunOp, layout: Layout, group_order: int) -> dict:
    """Init services that fetch the op's resources into their cache volumes before it starts, as a node does."""
    from .fetch_script import FETCH_PY

    out = {}
    for n, r in enumerate(op.resources, 1):
        if r.target in layout.resource_dirs:
            continue
        name = f"{layout.services[op.id]}-fetch-{n}"
        if r.kind == "Ollama":
            model = json.loads(r.spec)["model"]
            svc: dict = {"image": layout.ollama_image or op.image, "entrypoint": ["/bin/sh", "-c", OLLAMA_PULL, "fetch"],
                         "command": [model], "volumes": [{"type": "volume", "source": r.cache, "target": "/root/.ollama"}]}
        else:
            svc = {"image": layout.fetch_image, "command": ["python3", "-c", FETCH_PY, r.kind.lower(), "/cache", r.spec],
                   "volumes": [{"type": "volume", "source": r.cache, "target": "/cache"}]}
            if r.secrets:
                svc["environment"] = {env: sentinel(secret_var(op, n, env)) for env, _ in r.secrets}
        svc["labels"] = {f"{LABEL}.fetch-for": op.id, f"{LABEL}.group": op.group, f"{LABEL}.group-order": str(group_order)}
        out[name] = svc
    return out


def secret_var(op: RunOp, n: int, env: str) -> str:
    """The Compose variable `up` fills with a resource credential (never written into a file)."""
    import re

    return "N2C_SECRET_" + re.sub(r"[^A-Za-z0-9]+", "_", f"{op.id}_{n}_{env[4:]}").strip("_").upper()


def _depends_on(op: RunOp, by_id: dict[str, RunOp], layout: Layout, barrier: list[RunOp]) -> dict:
    deps: dict = {}
    for n, r in enumerate(op.resources, 1):
        if r.target not in layout.resource_dirs:
            deps[f"{layout.services[op.id]}-fetch-{n}"] = {"condition": "service_completed_successfully"}
    for dep in barrier:
        deps[layout.gate(dep)] = {"condition": barrier_condition(dep)}
    for dep_id in op.depends_on:
        dep = by_id.get(dep_id)
        if dep is None:  # a create-volume op: its volume exists before any container starts
            continue
        deps[layout.gate(dep)] = {"condition": "service_healthy" if dep.has_health_checks else "service_started"}
    return deps


def runtime_vars(value) -> set[str]:
    """The placeholders used anywhere in a document part."""
    if isinstance(value, str):
        return set(SENTINEL.findall(value))
    if isinstance(value, list):
        return set().union(*map(runtime_vars, value)) if value else set()
    if isinstance(value, dict):
        return set().union(*(runtime_vars(k) | runtime_vars(v) for k, v in value.items())) if value else set()
    return set()


def _volumes(ops: list[RunOp], layout: Layout) -> dict:
    """The job's own volumes, then the shared resource caches (external: `down -v` keeps them)."""
    out: dict = {name: {} for name in sorted({m.volume for op in ops for m in op.mounts})}
    for cache in sorted({r.cache for op in ops for r in op.resources if r.target not in layout.resource_dirs}):
        out[cache] = {"name": cache, "external": True}
    return out


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
    used = runtime_vars(services)
    if used & set(layout.runtime):
        meta = {**meta, "runtime": {var: layout.runtime[var] for var in layout.runtime if var in used}}
    secrets = sorted(v for v in used if v.startswith("N2C_SECRET_"))
    if secrets:  # names only: `up` supplies the values; by hand, export them first
        meta = {**meta, "secrets": secrets}
    doc: dict = {"name": job.name, "x-nos2compose": meta, "services": services}
    volumes = _volumes(ops, layout)
    if volumes:
        doc["volumes"] = volumes
    return doc


def job_document(job: Job, layout: Layout, source: str) -> dict:
    """The whole job in one file: each group's ops wait for the previous group through depends_on."""
    barriers: dict[str, list[RunOp]] = {}
    previous: list[RunOp] = []
    for group, ops in layout.members.items():
        barriers[group] = previous
        previous = ops
    meta = {"job": job.name, "source": source, "groups": list(layout.run_groups)}
    return _document(job, layout, list(job.run_ops), meta, barriers)


def group_documents(job: Job, layout: Layout, source: str) -> list[tuple[str, dict]]:
    """One file per group that runs something: (group, document), in group order."""
    out = []
    for order, (group, ops) in enumerate(layout.members.items()):
        meta = {"job": job.name, "group": group, "order": order, "source": source}
        out.append((group, _document(job, layout, ops, meta, {})))
    return out
