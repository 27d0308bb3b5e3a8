"""What the node's task manager logs for a job, rebuilt from the engine for the WebSocket routes: the TaskLog
entries of /flog (each op's container lines and its task-manager lines), the node log of /log, the state
messages of /status.

The node keeps these in memory from the moment it runs the job; `serve` may start later, so the history is read
back from the engine when the first client asks (container logs with Docker's stamps, start and end times from
inspect, failures from the state record), then kept up to date: each running container's log is followed, and
the job's state is looked at every second. As on the node (loggers/logManager.ts), entries' ms timestamps are
made strictly increasing per job.
"""

from __future__ import annotations

import threading
import time

from ..engine.logs import stamp_key, stamp_ms
from ..supervisor import record
from ..supervisor.states import ENDED, FAILED, OpStatus, started
from .view import JobView
from .words import has_run

LOOK_EVERY = 1.0  # seconds between looks at the job's state
PLACE_EVERY = 0.2  # seconds between placing followed lines
KEEP = 200_000  # entries kept per kind; the oldest go first


class Journal:
    """The job's task log (TaskLog), node log and state messages, in order; read with since()."""

    def __init__(self, view: JobView, node_address: str = "127.0.0.1"):
        self.view, self.node_address = view, node_address
        self.kinds: dict[str, list[dict]] = {"flog": [], "state": []}
        self.dropped = {"flog": 0, "state": 0}  # entries gone from the front (cursors stay absolute)
        self._lock = threading.Lock()
        self._pending: list[tuple[int, dict]] = []  # (natural ms, TaskLog) waiting to be placed
        self._last = 0  # the last TaskLog timestamp given
        self._marks: set[tuple] = set()  # what was logged once: (kind, op id, when)
        self._last_stamp: dict[str, str] = {}  # container id -> the stamp of the last line read
        self._following: set[str] = set()
        self._details: dict = {}
        self._signature: tuple = ()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    # -- reading ------------------------------------------------------------------------

    def since(self, kind: str, cursor: int) -> tuple[list[dict], int]:
        """Entries of `kind` (flog, state) from the absolute position `cursor` on, and the next cursor."""
        with self._lock:
            entries, dropped = self.kinds[kind], self.dropped[kind]
            start = max(cursor, dropped)
            return entries[start - dropped :], dropped + len(entries)

    def start(self) -> None:
        """Read the history now (once) and keep following in a thread of its own."""
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="n2c-journal", daemon=True)
        self.look()
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()

    def _run(self) -> None:
        last_look = time.monotonic()
        while not self._stopped.wait(PLACE_EVERY):
            if time.monotonic() - last_look >= LOOK_EVERY:
                last_look = time.monotonic()
                try:
                    self.look()
                except Exception:  # the engine went away for a moment: look again later
                    continue
            else:
                self._place([])

    # -- looking ------------------------------------------------------------------------

    def look(self) -> None:
        """One look at the job: new runs, exits and failures become entries; new runs' logs are read."""
        statuses = self.view.statuses()
        signature = tuple((s.op.id, s.container_id, s.container_state, s.state) for s in statuses)
        if signature != self._signature:
            self._details = {d["service"]: d for d in self.view.engine.inspect_all()}
            self._signature = signature
        events: list[tuple[int, dict]] = []
        for index, s in enumerate(statuses):
            events += self._op_events(s, self._details.get(s.op.service) or {}, index)
        self._place(events)

    def _op_events(self, s: OpStatus, detail: dict, index: int) -> list[tuple[int, dict]]:
        """The op's new entries, in cause order: started, its lines, start-up success, completed (Docker may stamp
        a short task's end a hair before its start, so no entry goes before what caused it)."""
        op, now = s.op, int(time.time() * 1000)
        out: list[tuple[int, dict]] = []
        begun = detail.get("started")
        ran = has_run(s) and isinstance(begun, int)
        if ran and self._once("start", op.id, begun):
            out.append((begun, self._log(s, "info", f"Operation Started: {op.id}")))
            self._state("running-operation", s, index, begun)
        if ran:
            out += [(max(at, begun), entry) for at, entry in self._read_lines(s)]
        if ran and started(s) and self._once("up", op.id, begun):
            out.append((now if op.has_health_check else begun, self._log(s, "info", "Operation StartUp Success")))
        finished = detail.get("finished")
        if ran and s.state in ENDED and self._once("end", op.id, finished or begun):
            last = max([begun, finished or now, *(at for at, _ in out)])
            out.append((last, self._log(s, "info", f"Operation Completed: {op.id}")))
            word = "running-operation-success" if s.exit_code == 0 else "running-operation-failed"
            self._state("stop-operation-success" if s.state == "stopped" else word, s, index, last)
        if s.state == FAILED and not has_run(s) and self._once("failed", op.id, s.reason):
            at = self._failed_at(op.id) or now
            out.append((at, self._log(s, "error", "Operation Failed")))
            out.append((at, self._log(s, "error", s.reason)))
            self._state("running-operation-failed", s, index, at)
        if s.container_state in ("running", "restarting") and s.container_id not in self._following:
            self._follow(s)
        return out

    def _failed_at(self, op_id: str) -> int | None:
        """When the supervisor failed the op (the state record's time), if it did."""
        note = ((record.read(self.view.plan.project) or {}).get("ops") or {}).get(op_id) or {}
        return note.get("at") if isinstance(note.get("at"), int) else None

    def _once(self, *mark) -> bool:
        if mark in self._marks:
            return False
        self._marks.add(mark)
        return True

    def _log(self, s: OpStatus, kind: str, message: str) -> dict:
        return {"opId": s.op.id, "group": s.op.group, "type": kind, "timestamp": 0, "message": message}

    def _state(self, status: str, s: OpStatus, index: int, at: int) -> None:
        """A /status message in the node's words (NodeState: {status, state, timestamp, index})."""
        with self._lock:
            count = self.dropped["state"] + len(self.kinds["state"])
            state = {"node": self.node_address, "job": self.view.plan.project, "operation": s.op.id}
            state |= {"flow": self.view.plan.project, "opIndex": index}
            self._keep("state", {"status": status, "state": state, "timestamp": at, "index": count})

    def _read_lines(self, s: OpStatus) -> list[tuple[int, dict]]:
        """The op's container lines not read yet (in one go, so that a history is in order)."""
        if not s.container_id or s.container_id in self._following:
            return []
        since = self._last_stamp.get(s.container_id)
        out = []
        for _stream, text, stamp in self.view.engine.stamped_lines(s.container_id):
            if since is None or _after(stamp, since):
                out.append((stamp_ms(stamp), self._line(s, text)))
                self._last_stamp[s.container_id] = stamp
        return out

    def _line(self, s: OpStatus, text: str) -> dict:
        return {"opId": s.op.id, "group": s.op.group, "type": "container", "timestamp": 0, "message": text}

    def _follow(self, s: OpStatus) -> None:
        """Follow a running container's log from its last line read, until it stops."""
        cid = s.container_id
        self._following.add(cid)

        def follow() -> None:
            try:
                for _stream, text, stamp in self.view.engine.follow_stamped(cid, self._last_stamp.get(cid)):
                    self._last_stamp[cid] = stamp
                    with self._lock:
                        self._pending.append((stamp_ms(stamp), self._line(s, text)))
            finally:
                self._following.discard(cid)

        threading.Thread(target=follow, name=f"n2c-follow-{s.op.id}", daemon=True).start()

    # -- placing ------------------------------------------------------------------------

    def _place(self, events: list[tuple[int, dict]]) -> None:
        """Entries in time order, each with a timestamp strictly after the last one given (the node's rule)."""
        with self._lock:
            batch, self._pending = self._pending + events, []
            batch.sort(key=lambda pair: pair[0])
            for natural, entry in batch:
                self._last = natural if natural > self._last else self._last + 1
                entry["timestamp"] = self._last
                self._keep("flog", entry)

    def _keep(self, kind: str, entry: dict) -> None:
        entries = self.kinds[kind]
        entries.append(entry)
        if len(entries) > KEEP:
            gone = len(entries) - KEEP
            del entries[:gone]
            self.dropped[kind] += gone


def _after(stamp: str, since: str) -> bool:
    return stamp_key(stamp) > stamp_key(since)
