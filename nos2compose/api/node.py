"""The node's TaskManager for a local job (services/NodeManager/node/task in nosana-cli): stop, restart, move.

Its actions raise TaskError with the codes the TaskManager throws (GROUP_NOT_FOUND, GROUP_NOT_ACTIVE, ...),
which the routes turn into the node's answers. It reads the job through its JobView (view.py); its flow
state, info and endpoints are reported by `reports` (reports.py).

Two differences by design. A node forgets a job's task when its flow ends and then
answers `invalid job id`; a local job stays readable until `down`, with no active
group once every op has ended (so restarts are refused as on a node whose flow is
over). And where the node's answer depends on what a local run does not have (a
Solana address, the tunnel, public URLs, the market), the same shapes carry local
values; nos2compose/api/openapi.json says which.
"""

from __future__ import annotations

from ..engine.protocol import Engine
from ..run_plan import PlannedGroup, PlannedOp, RunPlan
from .reports import FlowReports
from .view import JobView
from .words import TaskError, _ms


class LocalNode(JobView):
    """A JobView that also acts, as the node's TaskManager does."""

    def __init__(self, plan: RunPlan, engine: Engine, job_definition: dict | None = None):
        super().__init__(plan, engine)
        self.job_definition = job_definition
        self.reports = FlowReports(self, job_definition)

    # -- acting (the TaskManager's checks, in its order) --------------------------------

    def _act(self, ops: list[PlannedOp], action: str, word: str, skip_busy: bool = False) -> None:
        """Stop or restart ops (with their probe sidecars), as `nos2compose stop`/`restart` do. An op already
        being stopped or restarted is refused (OPERATION_STOPPING, ...), or skipped in a group action."""
        from ..supervisor.session import act

        with self._guard:
            busy = [op for op in ops if op.id in self.busy]
            if busy and not skip_busy:
                raise TaskError(f"OPERATION_{self.busy[busy[0].id]}")
            ops = [op for op in ops if op.id not in self.busy]
            for op in ops:
                self.busy[op.id] = word
        try:
            if ops:
                with self.lock:
                    act(self.engine, self.plan, ops, action)
        finally:
            with self._guard:
                for op in ops:
                    self.busy.pop(op.id, None)

    def stop_op(self, group_name: str, op_id: str) -> None:
        """Any group's op may be stopped (not only the active group's); one already stopped is left as it is."""
        group = self.group_named(group_name)
        if group is None or op_id not in {op.id for op in group.ops}:
            raise TaskError("GROUP_NOT_FOUND")
        op = next(op for op in group.ops if op.id == op_id)
        with self._guard:
            if op_id in self.busy:
                raise TaskError(f"OPERATION_{self.busy[op_id]}")
        if self.ops().get(op_id) == "stopped":
            return
        self._act([op], "stop", "STOPPING")

    def restart_op(self, group_name: str, op_id: str) -> None:
        """Only in the active group. Like the node, the op itself may be of another group: it runs again."""
        if self.group_named(group_name) is None:
            raise TaskError("GROUP_NOT_FOUND")
        active = self.active_group()
        if active is None or active.name != group_name:
            raise TaskError("GROUP_NOT_ACTIVE")
        with self._guard:
            if op_id in self.busy:
                raise TaskError(f"OPERATION_{self.busy[op_id]}")
        op = self.plan.op(op_id)
        if op is None:
            raise TaskError("INVALID_OPID")
        self._act([op], "restart", "RESTARTING")
        self.expired.pop(op_id, None)

    def _active_only(self, group_name: str) -> PlannedGroup:
        group = self.group_named(group_name)
        if group is None:
            raise TaskError("GROUP_NOT_FOUND")
        active = self.active_group()
        if active is None or active.name != group_name:
            raise TaskError("GROUP_NOT_ACTIVE")
        return group

    def stop_group(self, group_name: str) -> None:
        group = self._active_only(group_name)
        words = self.ops()
        self._act([op for op in group.ops if words.get(op.id) != "stopped"], "stop", "STOPPING", skip_busy=True)

    def restart_group(self, group_name: str) -> None:
        group = self._active_only(group_name)
        self._act(list(group.ops), "restart", "RESTARTING", skip_busy=True)
        for op in group.ops:
            self.expired.pop(op.id, None)

    def move_group(self, group_name: str) -> None:
        """Stop the active group's ops and run this group's again, making it the active one.

        The node can also move to a group that never ran; locally a group starts only through `up`
        (registry logins, resource fetches and results filled in), so such a move is refused."""
        target = self.group_named(group_name)
        if target is None:
            raise TaskError("GROUP_NOT_FOUND")
        statuses = self.statuses()
        active = self.active_group(statuses)
        if active is not None and active.name == group_name:
            raise TaskError("GROUP_ACTIVE")
        if active is None:
            raise TaskError("GROUP_NOT_FOUND")
        never = [s.op.id for s in statuses if s.op.group == group_name and not s.present]
        if never:
            raise TaskError(f"GROUP_NEVER_STARTED: {', '.join(never)} never ran; `nos2compose up` starts them")
        words = self.ops(statuses)
        self._act([op for op in active.ops if words.get(op.id) != "stopped"], "stop", "STOPPING", skip_busy=True)
        self.moved_to = group_name
        self._act(list(target.ops), "restart", "RESTARTING", skip_busy=True)
        for op in target.ops:
            self.expired.pop(op.id, None)

    def stop_job(self) -> None:
        """The node's POST /job/<id>/stop makes the job expire now: every op that has not ended stops, and
        the flow ends `success` (those ops read `success` in the flow state, with `jobExpired`)."""
        statuses = self.statuses()
        now = _ms()
        live = [s.op for s in statuses if not self.has_ended(s)]
        for op in live:
            self.expired[op.id] = now
        self._act(live, "stop", "STOPPING", skip_busy=True)
