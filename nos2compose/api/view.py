"""A local job read the way a Nosana node's API shows it: the node's status words, its groups, the active one.

No HTTP here (api/app.py is the thin web layer): this reads the engine through
the same boundary as `ps`, so the answers are right whoever started the job.
node.py acts on the job (stop, restart, move) and reports.py reports its flow; both
read it through a JobView, which also keeps what the node would remember of its
actions (ops being stopped or restarted, a moved group, a job that expired). node.py says where a
local job differs from the node's by design.
"""

from __future__ import annotations

import threading

from ..engine.protocol import Engine
from ..run_plan import PlannedGroup, RunPlan
from ..supervisor import record
from ..supervisor.states import ENDED, PENDING, OpStatus, statuses_of, with_record
from .words import _ms, node_status


class JobView:
    def __init__(self, plan: RunPlan, engine: Engine):
        self.plan, self.engine = plan, engine
        self.lock = threading.Lock()  # one engine action at a time
        self._guard = threading.Lock()  # for the fields below
        self.busy: dict[str, str] = {}  # op id -> STOPPING | RESTARTING while an action on it runs
        self.moved_to: str | None = None  # the group a move made current
        self.expired: dict[str, int] = {}  # op id -> when POST /job/<id>/stop ended it (ms)
        self.started = _ms()  # the local node's uptime starts here

    # -- reading -------------------------------------------------------------------------

    def statuses(self) -> list[OpStatus]:
        """The engine's word with the job's state record over it: the same states `ps` shows."""
        notes = (record.read(self.plan.project) or {}).get("ops") or {}
        return with_record(statuses_of(self.plan.ops, self.engine.containers()), notes)

    def present(self) -> bool:
        """Whether the job is still there: its state record (`down` removes it) or a container of it."""
        return record.read(self.plan.project) is not None or bool(self.engine.containers())

    def has_ended(self, s: OpStatus) -> bool:
        return s.state in ENDED or (s.state == PENDING and s.op.id in self.expired)

    def ended(self, statuses: list[OpStatus]) -> bool:
        """Whether the flow is over: every op has ended (the node's last group is then done)."""
        return all(self.has_ended(s) for s in statuses)

    def group_named(self, name: str) -> PlannedGroup | None:
        return next((g for g in self.plan.groups if g.name == name), None)

    def active_group(self, statuses: list[OpStatus] | None = None) -> PlannedGroup | None:
        """The group running now (the node's `currentGroup`): the group a move made current while it has
        an op that has not ended, else the last group in order that has begun and has such an op;
        None once every op has ended."""
        statuses = statuses if statuses is not None else self.statuses()
        live = {s.op.group for s in statuses if not self.has_ended(s)}
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
