"""The run plan: what the supervisor runs, groups in order, each with its ops and the file that starts them.

The compiler hands it to the runtime for a job file (compose/plans.py builds it from the typed job and
its layout); for a directory of group files a person may have edited, the same plan is read back from
the files through the Compose codec. The state record keeps it as JSON (to_json/from_json), so `ps`,
`stop` and the API know a job's ops after the job file is gone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

from .results import ResultSpec


class PlannedOp(NamedTuple):
    id: str  # the Nosana op id (label io.nosana.op), else the service name
    service: str
    group: str
    has_health_check: bool
    ports: tuple[tuple[int, int], ...]  # (host port, container port) published on the host
    gpu: bool
    probe: str | None = None  # the sidecar service whose health is this op's (--health-probe sidecar)
    depends: tuple[str, ...] = ()  # services of the same file this op waits for (depends_on)
    results: tuple[ResultSpec, ...] = ()  # what to extract from its log once it exits
    stop_if_dependent_stops: bool = False
    fetch: tuple[str, ...] = ()  # init services that fetch its resources before it starts
    unresolved: tuple[str, ...] = ()  # the node's messages for literals it cannot resolve: fails at its start
    engine_refuses: tuple[str, ...] = ()  # Docker refuses the container the node makes for it: fails, exit code 2
    volume: str = ""  # a create-volume op: the volume's name (it has no container of its own)
    host: tuple[str, ...] = ()  # a create-volume op: the services of the file that creates its volume
    image: str = ""  # its image (for messages about pulls)
    probe_image: str = ""  # its probe sidecar's image, when it has one

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

    @property
    def images(self) -> tuple[str, ...]:
        """The images its containers need."""
        return tuple(i for i in (self.image, self.probe_image if self.probe else "") if i)


class PlannedGroup(NamedTuple):
    name: str
    order: int
    file: Path
    ops: tuple[PlannedOp, ...]
    runtime: dict = {}  # noqa: RUF012 (never mutated)  variable -> Placeholder: results filled in at group start
    services: dict = {}  # noqa: RUF012 (never mutated)  the file's services, as written (for those fills)
    volumes: tuple[PlannedOp, ...] = ()  # create-volume ops whose volumes this file creates (no container)
    overrides: tuple[Path, ...] = ()  # the user's NN-GROUP.override.yaml, applied after the group file


class RunPlan(NamedTuple):
    project: str
    groups: tuple[PlannedGroup, ...]
    meta: dict  # the job's meta (GPU memory wishes), when known

    @property
    def ops(self) -> list[PlannedOp]:
        """Every op, create-volume ops included, in group order."""
        return [op for g in self.groups for op in (*g.volumes, *g.ops)]

    def op(self, op_id: str) -> PlannedOp | None:
        return next((op for op in self.ops if op.id == op_id), None)

    def at(self, directory: Path) -> RunPlan:
        """The plan with its group files in `directory` (where they were written)."""
        return self._replace(groups=tuple(g._replace(file=directory / g.file.name) for g in self.groups))


class PlanError(Exception):
    """The directory or its files cannot be run; the message says what to do."""


# -- kept in the state record ----------------------------------------------------------------------


def to_json(plan: RunPlan) -> dict:
    return {
        "project": plan.project,
        "groups": [
            {
                "name": g.name,
                "order": g.order,
                "file": str(g.file),
                "ops": [_op_to_json(op) for op in g.ops],
                "volumes": [_op_to_json(op) for op in g.volumes],
            }
            for g in plan.groups
        ],
    }


def _op_to_json(op: PlannedOp) -> dict:
    out: dict[str, Any] = op._asdict()
    out["ports"] = [list(p) for p in op.ports]
    out["results"] = [[r.key, r.regex, list(r.streams) if r.streams is not None else None] for r in op.results]
    return out


def from_json(data: dict) -> RunPlan | None:
    """The plan a record holds; None when it is not one this version wrote."""
    try:
        groups = []
        for g in data["groups"]:
            ops = tuple(_op_from_json(raw) for raw in g["ops"])
            volumes = tuple(_op_from_json(raw) for raw in g.get("volumes") or ())
            groups.append(PlannedGroup(g["name"], g["order"], Path(g["file"]), ops, volumes=volumes))
        return RunPlan(data["project"], tuple(groups), {})
    except (KeyError, TypeError, ValueError):
        return None


def _op_from_json(raw: dict) -> PlannedOp:
    fields = dict(raw)
    for key in ("depends", "fetch", "unresolved", "engine_refuses", "host"):
        fields[key] = tuple(raw.get(key) or ())
    fields["ports"] = tuple(tuple(p) for p in raw["ports"])
    fields["results"] = tuple(ResultSpec(k, r, tuple(s) if s is not None else None) for k, r, s in raw["results"])
    return PlannedOp(**fields)
