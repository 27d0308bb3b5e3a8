"""A local job seen the way a Nosana node's API shows it: the node's status words, groups, stop, restart, move.

No HTTP here (api/app.py is the thin web layer): this reads the engine through
the same boundary as `ps`, so the answers are right whoever started the job.
LocalNode plays the part of the node's TaskManager (services/NodeManager/node/task
in nosana-cli): its actions raise TaskError with the codes the TaskManager throws
(GROUP_NOT_FOUND, GROUP_NOT_ACTIVE, ...), which the routes turn into the node's answers.

Two differences by design. A node forgets a job's task when its flow ends and then
answers `invalid job id`; a local job stays readable until `down`, with no active
group once every op has ended (so restarts are refused as on a node whose flow is
over). And where the node's answer depends on what a local run does not have (a
Solana address, the tunnel, public URLs, the market), the same shapes carry local
values; nos2compose/api/openapi.json says which.
"""

from __future__ import annotations

import threading

from ..run_plan import Plan, PlannedGroup, PlannedOp
from ..supervisor import record
from ..supervisor.states import ENDED, PENDING, OpStatus, statuses_of, with_record
from .reports import NodeReports
from .words import EXPIRED_REASON, LOG_LINES, MAX_LOGS, TaskError, _ms, flow_status, has_run, node_status  # noqa: F401


class LocalNode(NodeReports):
    def __init__(self, plan: Plan, engine, job_definition: dict | None = None):
        self.plan, self.engine, self.job_definition = plan, engine, job_definition
        self.lock = threading.Lock()  # one engine action at a time
        self._guard = threading.Lock()  # for the fields below
        self.busy: dict[str, str] = {}  # op id -> STOPPING | RESTARTING while an action on it runs
        self.moved_to: str | None = None  # the group a move made current
        self.expired: dict[str, int] = {}  # op id -> when POST /job/<id>/stop ended it (ms)
        self.started = _ms()  # the local node's uptime starts here
        self._machine: dict | None = None

    # -- reading -------------------------------------------------------------------------

    def statuses(self) -> list[OpStatus]:
        """The engine's word with the job's state record over it: the same states `ps` shows."""
        notes = (record.read(self.plan.project) or {}).get("ops") or {}
        return with_record(statuses_of(self.plan.ops, self.engine.containers()), notes)

    def _ended(self, s: OpStatus) -> bool:
        return s.state in ENDED or (s.state == PENDING and s.op.id in self.expired)

    def ended(self, statuses: list[OpStatus]) -> bool:
        """Whether the flow is over: every op has ended (the node's last group is then done)."""
        return all(self._ended(s) for s in statuses)

    def group_named(self, name: str) -> PlannedGroup | None:
        return next((g for g in self.plan.groups if g.name == name), None)

    def active_group(self, statuses: list[OpStatus] | None = None) -> PlannedGroup | None:
        """The group running now (the node's `currentGroup`): the group a move made current while it has
        an op that has not ended, else the last group in order that has begun and has such an op;
        None once every op has ended."""
        statuses = statuses if statuses is not None else self.statuses()
        live = {s.op.group for s in statuses if not self._ended(s)}
        begun = {s.op.group for s in statuses if s.state != PENDING}
        if self.moved_to in live:
            return self.group_named(self.moved_to)
        active = None
        for group in self.plan.groups:
            if group.name in live and group.name in begun:
                active = group
        return active

    def ops(self, statuses: list[OpStatus] | None = None) -> dict[str, str]:
        """{op id: status} in the node's words; `waiting` for an op of the active group that waits for its
        dependencies, `stopping`/`restarting` while an action on it runs."""
        statuses = statuses if statuses is not None else self.statuses()
        active = self.active_group(statuses)
        out = {}
        for s in statuses:
            word = node_status(s)
            if s.state == PENDING and s.op.id in self.expired:
                word = "stopped"
            elif word == "pending" and active is not None and s.op.group == active.name and s.op.depends:
                word = "waiting"
            out[s.op.id] = self.busy.get(s.op.id, word.upper()).lower()
        return out

    def op(self, op_id: str) -> dict[str, str | None]:
        """The node's `{op id: status}`; `{op id: null}` for an id the job does not have (the node never
        answers its 404 here: its lookup always returns that object)."""
        return {op_id: self.ops().get(op_id)}

    def group_ops(self, name: str) -> dict[str, str]:
        """Statuses of a group's ops; {} for an unknown group, or for `current` once the flow has ended."""
        statuses = self.statuses()
        group = self.active_group(statuses) if name == "current" else self.group_named(name)
        if group is None:
            return {}
        ids = {op.id for op in group.ops}
        return {k: v for k, v in self.ops(statuses).items() if k in ids}

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
        live = [s.op for s in statuses if not self._ended(s)]
        for op in live:
            self.expired[op.id] = now
        self._act(live, "stop", "STOPPING", skip_busy=True)

    # -- the flow state ------------------------------------------------------------------
