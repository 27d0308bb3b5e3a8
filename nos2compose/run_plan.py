"""What the supervisor runs: groups in order, each a Compose file and its ops.

A plan is read from Compose group files, whether nos2compose just generated them
from a job or the user hand-edited a directory written by `convert -o`: the
files are the truth, so hand edits are respected, never regenerated.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from .compose import contract as c


class PlannedOp(NamedTuple):
    id: str  # the Nosana op id (label io.nosana.op), else the service name
    service: str
    group: str
    has_health_check: bool
    ports: tuple[tuple[int, int], ...]  # (host port, container port) published on the host
    gpu: bool
    probe: str | None = None  # the sidecar service whose health is this op's (--health-probe sidecar)
    depends: tuple[str, ...] = ()  # services of the same file this op waits for (depends_on)
    results: tuple = ()  # ResultSpec: what to extract from its log once it exits
    stop_if_dependent_stops: bool = False
    fetch: tuple[str, ...] = ()  # init services that fetch its resources before it starts
    unresolved: tuple[str, ...] = ()  # the node's messages for literals it cannot resolve: fails at its start
    engine_refuses: tuple[str, ...] = ()  # Docker refuses the container the node makes for it: fails, exit code 2
    volume: str = ""  # a create-volume op: the volume's name (it has no container of its own)
    host: tuple[str, ...] = ()  # a create-volume op: the services of the file that creates its volume
    image: str = ""  # its image (for messages about pulls)

    @property
    def is_service(self) -> bool:
        """An op that exposes ports is a service; one that exposes nothing is a task."""
        return bool(self.ports)

    @property
    def containers(self) -> tuple[str, ...]:
        """The services that make up the op: its own, and its probe sidecar if it has one (none for a
        create-volume op)."""
        if self.volume:
            return ()
        return (self.service, self.probe) if self.probe else (self.service,)


class PlannedGroup(NamedTuple):
    name: str
    order: int
    file: Path
    ops: tuple[PlannedOp, ...]
    runtime: dict = {}  # noqa: RUF012 (never mutated)  variable -> Placeholder: results filled in at group start
    services: dict = {}  # noqa: RUF012 (never mutated)  the file's services, as written (for those fills)
    volumes: tuple[PlannedOp, ...] = ()  # create-volume ops whose volumes this file creates (no container)
    overrides: tuple[Path, ...] = ()  # the user's NN-GROUP.override.yaml, applied after the group file


class Plan(NamedTuple):
    project: str
    groups: tuple[PlannedGroup, ...]
    meta: dict  # the job's meta (GPU memory wishes), when known

    @property
    def ops(self) -> list[PlannedOp]:
        """Every op, create-volume ops included, in group order."""
        return [op for g in self.groups for op in (*g.volumes, *g.ops)]

    def op(self, op_id: str) -> PlannedOp | None:
        return next((op for op in self.ops if op.id == op_id), None)


class PlanError(Exception):
    """The directory or its files cannot be run; the message says what to do."""


def read_plan(files: list[tuple[Path, str]], meta: dict | None = None, overrides: dict | None = None) -> Plan:
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
        docs.append((path, doc))
    projects = {doc.get("name") for _, doc in docs}
    if len(projects) != 1 or None in projects:
        raise PlanError(
            "the group files must all name the same project (top-level `name:`); "
            "regenerate them with `nos2compose convert JOB -o DIR`"
        )
    docs.sort(key=lambda pd: (_order(_meta(pd[1]).get(c.ORDER_KEY)), pd[0].name))
    groups = []
    for order, (path, doc) in enumerate(docs):
        group = str(_meta(doc).get(c.GROUP_KEY, path.stem))
        written = doc["services"]
        override, merged = (overrides or {}).get(path, (None, None))
        services = written
        if isinstance(merged, dict):  # in the group file's order (Compose sorts them), the override's own last
            at = {name: i for i, name in enumerate(written)}
            services = {
                name: {**(svc or {}), c.EXTENSION: (written.get(name) or {}).get(c.EXTENSION)}
                for name, svc in sorted(merged.items(), key=lambda item: at.get(item[0], len(at)))
            }
        probes = {
            str(_labels(svc).get(c.PROBE_FOR_LABEL)): name
            for name, svc in services.items()
            if c.PROBE_FOR_LABEL in _labels(svc)
        }
        fetchers: dict[str, list[str]] = {}
        for name, svc in services.items():
            target = _labels(svc).get(c.FETCH_FOR_LABEL)
            if target is not None:
                fetchers.setdefault(str(target), []).append(name)
        helpers = {n for names in fetchers.values() for n in names}
        ops = []
        for name, svc in services.items():
            if c.PROBE_FOR_LABEL in _labels(svc) or name in helpers:
                continue
            op = _planned_op(name, svc or {}, group)
            if op.id in probes:
                op = op._replace(probe=probes[op.id], has_health_check=True)
            probe_targets = {probe: target for target, probe in probes.items()}
            ids = {_labels(v).get(c.OP_LABEL, n): n for n, v in services.items()}
            deps = []
            for dep in _depends(svc):
                dep = ids.get(probe_targets[dep], dep) if dep in probe_targets else dep
                if dep in services and dep != name and dep not in helpers:
                    deps.append(dep)
            ops.append(op._replace(depends=tuple(dict.fromkeys(deps)), fetch=tuple(fetchers.get(op.id, ()))))
        records = _meta(doc).get(c.RUNTIME_KEY) if isinstance(_meta(doc).get(c.RUNTIME_KEY), dict) else {}
        runtime = {str(var): p for var, p in ((var, c.Placeholder.from_record(r)) for var, r in records.items()) if p}
        hosts = tuple(op.service for op in ops)
        volumes = _meta(doc).get(c.CREATE_VOLUMES_KEY)
        volume_ops = tuple(
            PlannedOp(
                str(op_id), "", str(v.get("group", op_id)), False, (), False, volume=str(v.get("name", "")), host=hosts
            )
            for op_id, v in (volumes.items() if isinstance(volumes, dict) else ())
            if isinstance(v, dict)
        )
        groups.append(
            PlannedGroup(group, order, path, tuple(ops), runtime, written, volume_ops, (override,) if override else ())
        )
    return Plan(projects.pop(), tuple(groups), meta or {})


def _order(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _meta(doc: dict) -> dict:
    meta = doc.get(c.EXTENSION)
    return meta if isinstance(meta, dict) else {}


def _depends(svc) -> list[str]:
    deps = (svc or {}).get("depends_on") or []
    return list(deps) if isinstance(deps, (dict, list)) else []


def _labels(svc) -> dict:
    labels = (svc or {}).get("labels") or {}
    if isinstance(labels, list):  # the list form: ["key=value", ...]
        labels = dict(item.split("=", 1) for item in labels if "=" in item)
    return labels


def _messages(ext: dict, key: str) -> tuple[str, ...]:
    found = ext.get(key)
    return tuple(str(m) for m in found) if isinstance(found, list) else ()


def _planned_op(service: str, svc: dict, group: str) -> PlannedOp:
    labels = _labels(svc)
    check = svc.get("healthcheck") or {}
    has_check = bool(check.get("test")) and not check.get("disable") and check.get("test") != ["NONE"]
    devices = (((svc.get("deploy") or {}).get("resources") or {}).get("reservations") or {}).get("devices") or []
    ext = svc.get(c.EXTENSION) if isinstance(svc.get(c.EXTENSION), dict) else {}
    return PlannedOp(
        results=_result_specs(ext.get(c.RESULTS_KEY)),
        stop_if_dependent_stops=ext.get(c.STOP_IF_DEPENDENT_STOPS_KEY) is True,
        image=str(svc.get("image") or ""),
        unresolved=_messages(ext, c.UNRESOLVED_KEY),
        engine_refuses=_messages(ext, c.ENGINE_REFUSES_KEY),
        id=str(labels.get(c.OP_LABEL, service)),
        service=service,
        group=str(labels.get(c.GROUP_LABEL, group)),
        has_health_check=has_check,
        ports=tuple(_ports(svc.get("ports") or [])),
        gpu=any("gpu" in (d.get("capabilities") or []) for d in devices if isinstance(d, dict)),
    )


def _result_specs(raw) -> tuple:
    from .results import ResultSpec

    if not isinstance(raw, dict):
        return ()
    out = []
    for key, spec in raw.items():
        if isinstance(spec, str):
            out.append(ResultSpec(str(key), spec))
        elif isinstance(spec, dict) and isinstance(spec.get("regex"), str):
            streams = spec.get("logType")
            out.append(ResultSpec(str(key), spec["regex"], tuple(streams) if isinstance(streams, list) else None))
    return tuple(out)


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
