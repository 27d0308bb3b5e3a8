"""Op states, read from what the engine says about each container, and the group barriers.

States use the seed's words (pending, running, completed, failed) plus
starting, healthy and unhealthy. docs/supervisor.md maps them to the node
API's words. Nothing here talks to the engine: it reads rows the engine
boundary returned, so it is tested without Docker.
"""

from __future__ import annotations

from typing import NamedTuple

from ..engine.protocol import Container
from ..run_plan import PlannedOp

PENDING, STARTING, RUNNING, HEALTHY, UNHEALTHY, COMPLETED, FAILED, STOPPED = (
    "pending",
    "starting",
    "running",
    "healthy",
    "unhealthy",
    "completed",
    "failed",
    "stopped",
)
ENDED = (COMPLETED, FAILED, STOPPED)
EARLY_EXIT = 5.0  # seconds: a service whose command returns sooner after its start gets NOS110 from `up`


class OpStatus(NamedTuple):
    op: PlannedOp
    state: str
    exit_code: int | None = None
    health: str = ""
    reason: str = ""
    present: bool = True  # the engine has a container for it
    container_id: str = ""
    published: tuple[int, ...] = ()
    container_state: str = ""  # the engine's word: created, running, exited, ...

    def urls(self) -> list[str]:
        """Local URLs: the ports the engine publishes (none for an op that is not running: nothing serves them)."""
        return [f"http://127.0.0.1:{port}" for port in self.published]

    @property
    def exited(self) -> bool:
        return self.state in ENDED and self.exit_code is not None


def op_status(op: PlannedOp, container: Container | None, probe: Container | None = None) -> OpStatus:
    """The op's state; with a probe sidecar, its health is the sidecar's."""
    if probe is not None and container is not None and container.state == "running":
        container = container._replace(health=probe.health if probe.state == "running" else "starting")
    elif op.probe and container is not None and container.state == "running":
        container = container._replace(health="starting")
    if container is None:
        return OpStatus(op, PENDING, present=False)
    return _status(op, container)._replace(
        container_id=container.id, published=container.published, container_state=container.state
    )


def _status(op: PlannedOp, container: Container) -> OpStatus:
    if container.state in ("exited", "dead"):
        code = container.exit_code
        return OpStatus(
            op,
            COMPLETED if code == 0 and container.state == "exited" else FAILED,
            code,
            reason="" if code == 0 else f"exited with code {code}",
        )
    if container.state in ("created", "restarting"):
        return OpStatus(op, STARTING)
    if container.state == "running" and op.has_health_check:
        health = container.health or "starting"
        state = {"healthy": HEALTHY, "unhealthy": UNHEALTHY}.get(health, STARTING)
        return OpStatus(op, state, health=health)
    return OpStatus(op, RUNNING, health=container.health)


def is_ready(status: OpStatus, barrier: str, last_group: bool, running_for: float, settle: float) -> bool:
    """Whether this op lets the next group start (or `up -d` return).

    barrier "exit" is the node's rule: every op has exited. barrier "ready": a
    service with checks is healthy, one without is running, a task has exited;
    in the last group a task that keeps running past the settle time counts too,
    so a worker or a training run does not hold `up -d`.
    """
    if status.state in ENDED:
        return True
    if barrier == "exit":
        return False
    op = status.op
    if op.has_health_check:
        return status.state == HEALTHY
    if op.is_service:
        return status.state == RUNNING
    return last_group and status.state == RUNNING and running_for >= settle


def started(status: OpStatus) -> bool:
    """The node's "startup success", which lets dependents start: all health checks passed, or
    (without checks) the container started. A failed op counts too: waiting is over."""
    if status.state in ENDED:
        return True
    if status.op.has_health_check:
        return status.state == HEALTHY
    return status.state in (RUNNING, HEALTHY, UNHEALTHY)


def ran_for(detail: dict) -> float | None:
    """Seconds a container ran, from the engine's start and finish times (ms since the epoch, as
    Engine.inspect_all gives them); None when it never started or is still running. Docker stamps the start
    once the process runs, so a command that returns at once can finish a millisecond "before" it started:
    up to a second of that counts as 0."""
    started, finished = detail.get("started"), detail.get("finished")
    if not isinstance(started, int) or not isinstance(finished, int) or finished < started - 1000:
        return None
    return max(finished - started, 0) / 1000


def exited_early(status: OpStatus, detail: dict, within: float = EARLY_EXIT) -> float | None:
    """How long a service (an op that exposes ports) ran, when its container exited within `within` seconds
    of starting (NOS110: its command returned, so on a node its URL never answers); else None. A stop asked
    for (`stopped`: the record's word) is no return of its command."""
    if not status.op.is_service or status.state == STOPPED or status.container_state not in ("exited", "dead"):
        return None
    seconds = ran_for(detail)
    return seconds if seconds is not None and seconds <= within else None


def succeeded(status: OpStatus) -> bool:
    """For the exit status: completed (or stopped on request), or running (healthy where it has checks)."""
    if status.state in (COMPLETED, STOPPED):
        return True
    if status.op.has_health_check:
        return status.state == HEALTHY
    return status.state == RUNNING


def statuses_of(ops: list[PlannedOp], containers: list[Container]) -> list[OpStatus]:
    """Every op's status from one listing of the job's containers.

    A probe sidecar found on the engine counts even when the plan does not name it
    (the job was started with --health-probe sidecar, `ps` was not told).
    """
    by_service = {c.service: c for c in containers}
    probes = {c.probe_for: c for c in containers if c.probe_for}
    out = []
    for op in ops:
        if op.volume:  # a create-volume op: done (exit 0, as on the node) once its file's group has begun
            begun = any(service in by_service for service in op.host)
            out.append(OpStatus(op, COMPLETED, 0) if begun else OpStatus(op, PENDING, present=False))
            continue
        probe = by_service.get(op.probe) if op.probe else probes.get(op.id)
        if probe is not None and not op.probe:
            op = op._replace(probe=probe.service, has_health_check=True)
        out.append(op_status(op, by_service.get(op.service), probe))
    return out


def with_record(statuses: list[OpStatus], notes: dict) -> list[OpStatus]:
    """What only the job's state record knows, laid over the engine's word: a stop asked for reads
    `stopped` (while the same container stays exited), and an op that failed before it had a running
    container reads `failed` with its reason."""
    out = []
    for s in statuses:
        note = notes.get(s.op.id) if isinstance(notes, dict) else None
        kind = note.get("state") if isinstance(note, dict) else None
        if (
            kind == STOPPED
            and s.container_id
            and s.state in (COMPLETED, FAILED)
            and str(note.get("container", "")).startswith(s.container_id)
        ):
            s = s._replace(state=STOPPED, reason=str(note.get("reason") or "stopped on request"))
        elif kind == FAILED and s.container_state in ("", "created"):
            code = note.get("exit_code")
            s = s._replace(
                state=FAILED,
                reason=str(note.get("reason") or "failed"),
                exit_code=code if isinstance(code, int) else s.exit_code,
            )
        out.append(s)
    return out


def errors_of(status: OpStatus, note: dict | None) -> list[dict]:
    """The node's errors[] for the op: the error event the state record keeps for a failure the supervisor
    decided (a pull, a start the engine refused, a fetch), while that failure is what the op shows."""
    note = note if isinstance(note, dict) else {}
    error = note.get("error")
    if status.state != FAILED or note.get("state") != FAILED or not isinstance(error, dict):
        return []
    if status.container_state not in ("", "created"):  # it ran after all: the engine's word holds
        return []
    return [error]


def ended_state(status: OpStatus, detail: dict | None) -> dict | None:
    """The node's diagnostics.state: the container's inspect State with its RestartCount, once the op has ended. A
    container the runtime could not start (left `created`) has one too: the node inspects every container it
    removes (its ExitCode, 127 for a missing executable, and the runtime's Error)."""
    state = (detail or {}).get("state")
    if status.state not in ENDED or not status.container_id or not isinstance(state, dict):
        return None
    return state
