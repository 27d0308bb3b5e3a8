"""The supervisor: brings a job's groups up in order on the engine and reports every op's state.

Like a Nosana node it starts one group at a time and lets failed ops be
(later groups go on) unless asked to abort. Unlike a node, by default a group
counts as done once it is *ready* (barrier "ready"); barrier "exit" waits, as
the node does, until every op of the group has exited.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from typing import NamedTuple

from ..run_plan import PlannedGroup, RunPlan
from .images import check_images
from .preflight import check_ports
from .progress import LoopbackNotes, Progress
from .report import early_exit_warning, follow_logs, results_of, status_table
from .start import LOG_TAIL, POLL, RUNTIME_ERROR, Failures, GroupStart, StartOptions
from .states import (
    COMPLETED,
    ENDED,
    FAILED,
    OpStatus,
    exited_early,
    is_ready,
    started,
    statuses_of,
    succeeded,
    with_record,
)

SETTLE = 3.0  # a task of the last group still running after this counts as started, for -d


class UpOptions(NamedTuple):
    detach: bool = False
    timeout: float = 3600.0
    barrier: str = "ready"  # or "exit"
    abort_on_failure: bool = False
    pull: str = "missing"
    workdir: str | None = None  # where override files for filled-in results go


class Interrupted(BaseException):
    """Ctrl-C or SIGTERM: a BaseException, as KeyboardInterrupt is, so that no step's `except Exception`
    (a start that failed, an engine call) can take it for a failure and go on."""

    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


class Supervisor:
    """Runs one plan against one engine; `say` prints a line (the CLI passes click.echo), `warn` a warning (the
    CLI: to standard error; by default `say`)."""

    def __init__(
        self,
        plan: RunPlan,
        engine,
        say: Callable[[str], None],
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        logins: list | None = None,
        secrets: dict | None = None,
        note: Callable[..., None] | None = None,
        progress: bool = False,
        notes: Callable[[], dict] | None = None,
        warn: Callable[[str], None] | None = None,
    ):
        self.plan, self.engine, self.say = plan, engine, say
        self._warn_line = warn or say
        # while waiting: a live line in a terminal, or a plain line after 5 s and then every 10 s
        self.progress = Progress(say, self._probe_answer) if progress else None
        if self.progress is not None:
            self.say = self.progress.say
        self.loopback = LoopbackNotes(self.say, self._probe_answer)
        self.note = note or (lambda op_id, state, reason, exit_code=None, error=None: None)  # the state record
        self.notes = notes or dict  # reads what the record says of ops (a stop asked for through the API)
        self.logins = list(logins or [])  # RegistryLogin from the job's `authentication`, in memory only
        self.secrets = dict(secrets or {})  # resource credentials, handed to Compose as environment only
        self.clock, self.sleep = clock, sleep
        self.last: dict[str, tuple] = {}  # op id -> last reported (state, exit code)
        self.running_since: dict[str, float] = {}
        self.failures = Failures(self._noted)  # ops the supervisor itself failed, with the node's exit code
        self.unavailable: dict[str, str] = {}  # image -> why the pre-flight could not have it
        self._deadline = 0.0
        self._stopped_with_dependency: set[str] = set()
        self.seen: list[OpStatus] | None = None  # the last look, while nothing has changed since (one ps saved)
        self.warned_early: set[str] = set()  # ops NOS110 was said of (once each)
        self._stopping = False  # the supervisor stops the job: exits from now on are its own doing

    def _probe_answer(self, status: OpStatus) -> str:
        """The last health-probe output Docker kept for the op (its sidecar's, with --health-probe sidecar)."""
        if not status.op.has_health_check or not status.container_id:
            return ""
        if status.op.probe:
            rows = {c.service: c for c in self.engine.containers()}
            probe = rows.get(status.op.probe)
            return self.engine.health_log(probe.id) if probe is not None and probe.id else ""
        return self.engine.health_log(status.container_id)

    def _noted(
        self, op_id: str, state: str, reason: str, exit_code: int | None = None, error: dict | None = None
    ) -> None:
        """A failure the supervisor decided (0 as exit code for a literal it cannot resolve, as the node):
        what it last saw no longer holds, and the state record keeps it with the node's error event."""
        self.seen = None
        self.note(op_id, state, reason, exit_code, error)

    def _fail(self, op_id: str, reason: str, exit_code: int | None = None, **error) -> None:
        self.failures.fail(op_id, reason, exit_code, **error)

    # -- looking -------------------------------------------------------------------------

    def statuses(self) -> list[OpStatus]:
        """Every op's status in one engine call."""
        now = self.clock()
        out = []
        for status in with_record(statuses_of(self.plan.ops, self.engine.containers()), self.notes()):
            op = status.op
            if op.id in self.failures and status.state != FAILED and not succeeded(status):
                code = status.exit_code if status.exit_code is not None else self.failures.codes.get(op.id)
                status = status._replace(state=FAILED, reason=self.failures.reasons[op.id], exit_code=code)
            if status.state in ("running", "healthy", "starting", "unhealthy"):
                self.running_since.setdefault(op.id, now)
            out.append(status)
        self.seen = out
        return out

    def follow_dependencies(self, statuses: list[OpStatus]) -> None:
        """execution.stop_if_dependent_stops: stop an op once an op it depends on has ended."""
        by_service = {s.op.service: s for s in statuses}
        for s in statuses:
            if (
                not s.op.stop_if_dependent_stops
                or s.op.id in self._stopped_with_dependency
                or s.exited
                or not s.present
            ):
                continue
            ended = [by_service[d].op.id for d in s.op.depends if d in by_service and by_service[d].exited]
            if ended:
                self._stopped_with_dependency.add(s.op.id)
                self.say(f"{s.op.group}  {s.op.id}: stopping, as {', '.join(ended)} ended (stop_if_dependent_stops)")
                self.engine.stop([s.op.service])
                self.seen = None

    def report(self, statuses: list[OpStatus]) -> None:
        """One plain line per state change."""
        for s in statuses:
            key = (s.state, s.exit_code)
            if self.last.get(s.op.id) == key:
                continue
            self.last[s.op.id] = key
            detail = f" (exit code {s.exit_code})" if s.exit_code is not None and s.state == FAILED else ""
            if s.state == FAILED and s.reason and (not detail or not s.present or s.container_state == "created"):
                detail = f" ({s.reason})"
            self.say(f"{s.op.group}  {s.op.id}: {s.state}{detail}")
            if s.state == FAILED:
                for line in self.engine.log_tail(s.op.service, LOG_TAIL):
                    self.say(f"  {s.op.id} | {line}")
            if s.op.is_service and s.exited:
                self._early_exit(s)

    def _early_exit(self, status: OpStatus) -> None:
        """NOS110, always on in `up` (it has no lint options): a service whose command returned within a few
        seconds of its start, by the engine's own start and finish times; once per op, never for an exit the
        supervisor caused (stop_if_dependent_stops, --abort-on-failure)."""
        op_id = status.op.id
        if op_id in self.warned_early or op_id in self._stopped_with_dependency or self._stopping:
            return
        try:
            details = [d for d in self.engine.inspect_all() if d.get("service") == status.op.service]
        except Exception:  # a warning is not worth failing `up` for: the engine's own error shows elsewhere
            return
        seconds = exited_early(status, details[0]) if details else None
        if seconds is not None:
            self.warned_early.add(op_id)
            self.warn(early_exit_warning(status, seconds))

    def warn(self, line: str) -> None:
        """A warning line, after clearing the live progress line (both are on standard error in a terminal)."""
        if self.progress is not None:
            self.progress.clear()
        self._warn_line(line)

    # -- running -------------------------------------------------------------------------

    def up(self, options: UpOptions, overrides: dict | None = None) -> int:
        """Bring every group up in order; returns the exit status (0: every op completed or running).
        The host ports of every group are checked before the first group starts (PortInUse: nothing runs)."""
        current = self.statuses()
        ours = {port for s in current for port in s.published}
        done = {s.op.id for s in current if s.present and s.state != FAILED}
        check_ports([op for group in self.plan.groups for op in group.ops if op.id not in done], ours)
        logged_in = {login.op for login in self.logins}  # their images are pulled after the login, at group start
        self.unavailable = check_images(
            self.engine, self.plan, options.pull, options.abort_on_failure, self.warn, logged_in
        )
        for group in self.plan.groups:
            last = group is self.plan.groups[-1]
            if group is not self.plan.groups[0]:
                current = self.statuses()  # one look serves the check below and the group's first layer
            if self._group_done(group, current, options, last):
                self.say(f"group {group.name}: already up")
                continue
            self.say(f"group {group.name}: starting {', '.join(op.id for op in group.ops)}")
            steps = GroupStart(
                self.engine,
                self.say,
                self.failures,
                StartOptions(options.pull, options.workdir, self.unavailable),
                self.logins,
                self.secrets,
                self.clock,
                self.sleep,
            )
            filled, env = steps.fill(group, self._results_for(group, current))
            files = [group.file, *group.overrides, *(overrides or {}).get(group.name, []), *filled]
            ok = self._start(group, files, env, steps, current, options)
            ok = self._wait(group.ops, options, last, self._deadline) and ok
            if not ok and options.abort_on_failure:
                return self._abort()
        final = self.seen if self.seen is not None else self.statuses()  # the last group's last look is current
        self.report(final)
        return 0 if all(succeeded(s) for s in final) else 1

    def _results_for(self, group: PlannedGroup, current: list[OpStatus]) -> dict[str, dict]:
        """Results of the ops whose results the group's files use (read from their logs once they exited)."""
        needed = {placeholder.op for placeholder in group.runtime.values()}
        return results_of(self.engine, [s for s in current if s.op.id in needed]) if needed else {}

    def _start(
        self, group: PlannedGroup, files: list, env: dict, steps: GroupStart, current: list, options: UpOptions
    ) -> bool:
        """Start the group's ops in dependency order, each once its dependencies reported startup success;
        `current` is what the engine showed just before (each later layer looks again).

        The supervisor does this itself rather than leave it to `compose up`, which would
        block on an unhealthy dependency for the whole start period, beyond --timeout.
        """
        self._deadline = self.clock() + options.timeout
        ok = True
        layers = dependency_layers(group.ops)
        for layer in layers:
            if layer is not layers[0]:
                current = self.statuses()
            failed = {s.op.service for s in current if s.state == FAILED}
            finished = {s.op.id for s in current if s.state == COMPLETED}  # up again: tasks that ran are not re-run
            runnable = []
            for op in (op for op in layer if op.id not in finished):
                bad = [d for d in op.depends if d in failed]
                if op.id in self.failures:  # a literal it needs has no value
                    ok = False
                elif op.unresolved:  # as on the node: fails before it starts, with the node's words, exit code 0
                    self._fail(op.id, "; ".join(op.unresolved), exit_code=0, event=None)
                    ok = False
                elif op.engine_refuses:  # the node's Docker refuses its container: exit code 2, nothing runs
                    # the engine refuses the node's create body with a 500, which the node reads from its words
                    self._fail(op.id, "; ".join(op.engine_refuses), exit_code=2, event=RUNTIME_ERROR, code=500)
                    ok = False
                elif bad:  # on a node it would wait forever for a startup success that never comes
                    self._fail(op.id, f"not started: its dependency {', '.join(bad)} failed")
                    ok = False
                else:
                    runnable.append(op)
            runnable = steps.log_in(runnable)
            runnable = steps.pull(runnable, files, env)
            runnable = steps.fetch(runnable, files, env, self._deadline)
            self.seen = None  # the engine has changed: what the supervisor last saw no longer holds
            if runnable:
                for op in runnable:
                    self.note(op.id, None, "")  # what an earlier run recorded of it no longer holds
                ok = steps.up(runnable, files, env) and ok
            if layer is not layers[-1]:
                ok = self._wait(runnable, options, False, self._deadline, started_only=True) and ok
        return ok

    def _group_done(self, group: PlannedGroup, statuses: list[OpStatus], options: UpOptions, last: bool) -> bool:
        mine = [s for s in statuses if s.op in group.ops]
        return (
            bool(mine)
            and all(s.state != "pending" and succeeded(s) for s in mine)
            and all(is_ready(s, options.barrier, last, 0.0, SETTLE) for s in mine)
        )

    def _wait(self, ops, options: UpOptions, last: bool, deadline: float, started_only: bool = False) -> bool:
        """Until every op passes the barrier (or, with started_only, reports startup success), or the
        deadline; False if any failed."""
        ops = tuple(ops)
        while True:
            statuses = [s for s in self.statuses() if s.op in ops]
            self.follow_dependencies(statuses)
            self.report(statuses)
            now = self.clock()
            self.loopback.look(statuses, now)
            if started_only:
                ready = [started(s) for s in statuses]
            else:
                ready = [
                    is_ready(s, options.barrier, last, now - self.running_since.get(s.op.id, now), SETTLE)
                    for s in statuses
                ]
            if self.progress is not None:
                self.progress.waiting([s for s, r in zip(statuses, ready, strict=True) if not r], now)
            if all(ready):
                return not any(s.state == FAILED for s in statuses)
            if now >= deadline:
                for s, r in zip(statuses, ready, strict=True):
                    if not r:
                        what = "its health check did not pass" if s.op.has_health_check else "it did not get ready"
                        answer = self._probe_answer(s)
                        last = f"; the last probe said: {answer}" if answer else ""
                        self._fail(s.op.id, f"{what} within {options.timeout:g} s (--timeout){last}")
                self.report([s for s in self.statuses() if s.op in ops])
                return False
            self.sleep(POLL)

    def _abort(self) -> int:
        self.say("stopping the job (--abort-on-failure)")
        self._stopping = True
        self.engine.stop()
        self.report(self.statuses())
        return 1

    def table(self, statuses: list[OpStatus] | None = None) -> list[str]:
        statuses = statuses if statuses is not None else self.seen if self.seen is not None else self.statuses()
        return status_table(statuses, results_of(self.engine, statuses))

    # -- foreground ----------------------------------------------------------------------

    def follow(self) -> int:
        """Print every op's log, prefixed by its op id, until every op has exited; 0 if all completed."""
        lock = threading.Lock()
        threads = follow_logs(self.engine, [s for s in self.statuses() if not s.op.volume], self.say, lock)
        try:
            while True:
                statuses = self.statuses()
                self.follow_dependencies(statuses)
                with lock:
                    self.report(statuses)
                if all(s.state in ENDED or not s.present for s in statuses):  # ended, or can never start
                    break
                self.sleep(1.0)
            for t in threads:
                t.join(timeout=2)
        finally:  # a follower of an op that never started, or of one still running at Ctrl-C, would stay behind
            self.engine.stop_following()
        return 0 if all(succeeded(s) for s in statuses) else 1


def dependency_layers(ops) -> list[list]:
    """Ops in start order: first those with no dependency in the group, then those whose dependencies came before."""
    remaining = list(ops)
    names = {op.service for op in ops}
    placed: set[str] = set()
    layers = []
    while remaining:
        layer = [op for op in remaining if all(d in placed or d not in names for d in op.depends)]
        if not layer:  # a cycle (the compiler refuses those); start the rest together
            layer = remaining
        layers.append(layer)
        placed.update(op.service for op in layer)
        remaining = [op for op in remaining if op not in layer]
    return layers or [[]]


def handle_signals() -> None:
    """Ctrl-C and SIGTERM become Interrupted(130 or 143), so the job is stopped cleanly."""

    def interrupted(signum, _frame):
        raise Interrupted(130 if signum == signal.SIGINT else 143)

    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
