"""A local job seen the way a Nosana node's API shows it: node status words, groups, stop and restart.

No HTTP here (api/app.py is the thin web layer): this reads the engine through
the same boundary as `ps`, so the answers are right whoever started the job.
"""

from __future__ import annotations

import threading
import time

from ..runtime import record
from ..runtime.plan import Plan, PlannedGroup, PlannedOp
from ..runtime.states import ENDED, PENDING, STARTING, STOPPED, OpStatus, statuses_of, with_record

LOG_LINES = 20


class NodeRefusal(Exception):
    """An action the node would refuse; `status` is the HTTP status it answers with."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message, self.status = message, status


def node_status(status: OpStatus) -> str:
    """nos2compose's state in the node API's words: any exit is `finished`; `failed` means it could not run."""
    if status.state == PENDING:
        return "pending"
    if status.state == STARTING:
        return "starting"
    if status.state == STOPPED:
        return "stopped"
    if status.state in ENDED:
        return "finished" if status.exit_code is not None else "failed"
    return "running"


class LocalNode:
    def __init__(self, plan: Plan, engine, job_definition: dict | None = None):
        self.plan, self.engine, self.job_definition = plan, engine, job_definition
        self.lock = threading.Lock()

    # -- reading -------------------------------------------------------------------------

    def statuses(self) -> list[OpStatus]:
        """The engine's word with the job's state record over it: the same states `ps` shows."""
        notes = (record.read(self.plan.project) or {}).get("ops") or {}
        return with_record(statuses_of(self.plan.ops, self.engine.containers()), notes)

    def ops(self, statuses: list[OpStatus] | None = None) -> dict[str, str]:
        statuses = statuses if statuses is not None else self.statuses()
        return {s.op.id: node_status(s) for s in statuses}

    def op(self, op_id: str) -> str:
        if self.plan.op(op_id) is None:
            raise NodeRefusal(f"operation {op_id} not found", 404)
        return self.ops()[op_id]

    def group(self, name: str) -> PlannedGroup:
        for group in self.plan.groups:
            if group.name == name:
                return group
        raise NodeRefusal(f"group {name} not found", 404)

    def current_group(self, statuses: list[OpStatus] | None = None) -> PlannedGroup:
        """The group running now: the last one in order with an op that has started."""
        statuses = statuses if statuses is not None else self.statuses()
        begun = {s.op.group for s in statuses if s.state != PENDING}
        current = self.plan.groups[0]
        for group in self.plan.groups:
            if group.name in begun:
                current = group
        return current

    def group_ops(self, name: str) -> dict[str, str]:
        group = self.current_group() if name == "current" else self.group(name)
        return {k: v for k, v in self.ops().items() if k in {op.id for op in group.ops}}

    # -- acting --------------------------------------------------------------------------

    def _member(self, group_name: str, op_id: str) -> PlannedOp:
        group = self.group(group_name)
        for op in group.ops:
            if op.id == op_id:
                return op
        raise NodeRefusal(f"operation {op_id} is not in group {group_name}", 400)

    def _active_only(self, group_name: str, action: str) -> None:
        current = self.current_group()
        if current.name != group_name:
            raise NodeRefusal(f"cannot {action} group {group_name}: it is not the active group ({current.name})", 400)

    def _act(self, ops, action: str) -> None:
        """Stop or restart ops (with their probe sidecars), as `nos2compose stop`/`restart` do."""
        from ..runtime.session import act

        with self.lock:
            act(self.engine, self.plan, list(ops), action)

    def stop_op(self, group_name: str, op_id: str) -> str:
        self._act([self._member(group_name, op_id)], "stop")
        return f"operation {op_id} stopped"

    def restart_op(self, group_name: str, op_id: str) -> str:
        op = self._member(group_name, op_id)
        self._active_only(group_name, "restart an operation of")
        self._act([op], "restart")
        return f"operation {op_id} restarted"

    def stop_group(self, group_name: str) -> str:
        group = self.group(group_name)
        self._active_only(group_name, "stop")
        self._act(group.ops, "stop")
        return f"group {group_name} stopped"

    def restart_group(self, group_name: str) -> str:
        group = self.group(group_name)
        self._active_only(group_name, "restart")
        self._act(group.ops, "restart")
        return f"group {group_name} restarted"

    def stop_job(self) -> str:
        self._act(self.plan.ops, "stop")
        return "job stopped"

    # -- reports -------------------------------------------------------------------------

    def results(self) -> dict:
        """The node's FlowState: every op with status, times (ms), exit code, logs, results."""
        from ..runtime.supervisor import results_of

        statuses = self.statuses()
        details = {d["service"]: d for d in self.engine.inspect_all()}
        results = results_of(self.engine, statuses)
        op_states = []
        for s in statuses:
            d = details.get(s.op.service, {})
            op_states.append(
                {
                    "providerId": d.get("id"),
                    "operationId": s.op.id,
                    "group": s.op.group,
                    "status": node_status(s),
                    "startTime": d.get("started"),
                    "endTime": d.get("finished") if s.state in ENDED else None,
                    "exitCode": s.exit_code,
                    "logs": [],
                    "results": results.get(s.op.id, {}),
                    "diagnostics": {
                        "reason": {"hostShutDown": False, "jobStopped": s.state == STOPPED, "jobExpired": False}
                    },
                }
            )
        starts = [o["startTime"] for o in op_states if o["startTime"] is not None]
        running = any(o["status"] in ("pending", "starting", "running") for o in op_states)
        ends = [o["endTime"] for o in op_states if o["endTime"] is not None]
        return {
            "status": "running" if running else "finished",
            "startTime": min(starts) if starts else int(time.time() * 1000),
            "endTime": None if running or not ends else max(ends),
            "errors": [],
            "opStates": op_states,
        }

    def local_status(self, log_lines: int = LOG_LINES) -> dict:
        """What the status page shows: each op with group, states, health, exit code, URLs, last log lines."""
        statuses = self.statuses()
        current = self.current_group(statuses)
        return {
            "job": self.plan.project,
            "current_group": current.name,
            "groups": [g.name for g in self.plan.groups],
            "ops": [
                {
                    "id": s.op.id,
                    "group": s.op.group,
                    "state": s.state,
                    "status": node_status(s),
                    "health": s.health or None,
                    "exit_code": s.exit_code,
                    "urls": s.urls(),
                    "reason": s.reason or None,
                    "logs": self.engine.log_tail(s.op.service, log_lines) if s.state != PENDING else [],
                }
                for s in statuses
            ],
        }
