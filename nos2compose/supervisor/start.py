"""The steps before an op's container starts, as a node takes them: registry login, image pull, resource
fetch, and results of earlier ops filled in. Each step fails only the op it cannot help, with a reason.

Values a group's start needs (results of earlier ops, resource credentials) go to the engine's Compose calls
as their process's environment (`env`), never into this process's own.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from ..engine.protocol import Engine
from ..run_plan import PlannedGroup, PlannedOp
from .preflight import NO_IMAGE, engine_status, pull_problem

POLL = 0.2  # seconds between looks at the engine while a fetch runs
LOG_TAIL = 10  # log lines shown with a failure


# the node's events for an op that failed (its errors[]): eventType on the engine's errors, else operation-error
PULL_ERROR, RESOURCE_ERROR, RUNTIME_ERROR, OPERATION_ERROR = (
    "image-pull-error",
    "resource-error",
    "container-runtime-error",
    "operation-error",
)


def node_error(event: str, message: str, code: int | None = None) -> dict:
    """One entry of the node's errors[]: {event, message, code?}; `code` is the engine's HTTP status, as the node
    reads it from the engine's answer ("HTTP code 404")."""
    return {"event": event, "message": message, **({"code": code} if code else {})}


class Failures:
    """Ops the supervisor itself failed (they never ran, or never got ready), with the exit code the node
    reports for such a failure where it has one, and the node's error event (None where the node records
    none, as for an unresolved literal); each is passed on to `note` (the job's state record)."""

    def __init__(self, note: Callable[..., None]):
        self.note = note
        self.reasons: dict[str, str] = {}
        self.codes: dict[str, int | None] = {}

    def fail(
        self, op_id: str, reason: str, exit_code: int | None = None, event: str | None = OPERATION_ERROR, code=None
    ) -> None:
        self.reasons[op_id] = reason
        self.codes[op_id] = exit_code
        self.note(op_id, "failed", reason, exit_code, node_error(event, reason, code) if event else None)

    def __contains__(self, op_id: str) -> bool:
        return op_id in self.reasons


class StartOptions(NamedTuple):
    pull: str = "missing"  # missing, always, never
    workdir: str | None = None  # where override files for filled-in results go
    unavailable: dict = {}  # noqa: RUF012 (never mutated)  image -> why the pre-flight could not have it


class GroupStart:
    """Logs in, pulls, fetches, fills in and starts one group's ops on the engine."""

    def __init__(
        self,
        engine: Engine,
        say: Callable[[str], None],
        failures: Failures,
        options: StartOptions,
        logins: list | None = None,
        secrets: dict | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
    ):
        import time

        self.engine, self.say, self.failures, self.options = engine, say, failures, options
        self.logins = list(logins or [])  # RegistryLogin from the job's `authentication`, in memory only
        self.secrets = dict(secrets or {})  # resource credentials, handed to Compose as environment only
        self.clock, self.sleep = clock or time.monotonic, sleep or time.sleep
        self._logged_in: set = set()

    def log_in(self, ops: list[PlannedOp]) -> list[PlannedOp]:
        """Registry logins the ops' images need, once each; an op whose login fails is not started."""
        ready = []
        for op in ops:
            ok = True
            for login in (line for line in self.logins if line.op == op.id):
                key = (login.server, login.username)
                if key in self._logged_in:
                    continue
                try:
                    self.engine.login(login.server, login.username, login.password)
                    self._logged_in.add(key)
                    self.say(f"{op.group}  {op.id}: logged in to {login.server or 'Docker Hub'} as {login.username}")
                except Exception as exc:  # EngineError: says which server and user, never the password
                    self.failures.fail(op.id, str(exc), event=PULL_ERROR, code=401)
                    ok = False
            if ok:
                ready.append(op)
        return ready

    def pull(self, ops: list[PlannedOp], files: list[Path], env: dict) -> list[PlannedOp]:
        """Pull what the ops need (what is missing, or all with --pull always), one op at a time, so a pull that
        fails fails only its op, naming the image and why (exit code 2, as the node reports a pull error)."""
        if self.options.pull == "never" or not ops:
            return ops
        wanted = {i for op in ops for i in op.images}
        missing = wanted if self.options.pull == "always" else self.engine.missing_images(sorted(wanted))
        ready = []
        for op in ops:
            need = [i for i in op.images if i in missing]
            if not need:
                ready.append(op)
                continue
            known = next((i for i in need if i in self.options.unavailable), None)
            if known is not None:  # the pre-flight tried already: no second wait for the same answer
                said = self.options.unavailable[known]
                self.failures.fail(
                    op.id, pull_problem(known, said), exit_code=2, event=PULL_ERROR, code=engine_status(said)
                )
                continue
            self.say(f"{op.group}  {op.id}: pulling {', '.join(need)}")
            try:
                self.engine.pull(files, list(op.containers), env)
            except Exception as exc:  # EngineError: the engine's own words
                said = str(exc)
                self.failures.fail(
                    op.id, pull_problem(need[0], said), exit_code=2, event=PULL_ERROR, code=engine_status(said)
                )
                continue
            missing -= set(need)
            ready.append(op)
        return ready

    def fetch(self, ops: list[PlannedOp], files: list[Path], env: dict, deadline: float) -> list[PlannedOp]:
        """Run the init services that fetch the ops' resources, and wait for them; an op whose fetch
        fails is not started (its fetcher's log says why)."""
        fetching = [op for op in ops if op.fetch]
        if not fetching:
            return ops
        services = [name for op in fetching for name in op.fetch]
        self.say(f"fetching resources: {', '.join(services)}")
        try:
            self.engine.up(files, self.options.pull, services, env)
        except Exception as exc:
            for op in fetching:
                self.failures.fail(op.id, f"fetching its resources failed: {exc}", event=RESOURCE_ERROR)
            return [op for op in ops if not op.fetch]
        while True:
            rows = {c.service: c for c in self.engine.containers() if c.service in services}
            done = [name for name in services if rows.get(name) and rows[name].state in ("exited", "dead")]
            if len(done) == len(services) or self.clock() >= deadline:
                break
            self.sleep(POLL)
        ready = []
        for op in ops:
            bad = [n for n in op.fetch if not (rows.get(n) and rows[n].state == "exited" and rows[n].exit_code == 0)]
            if not bad:
                ready.append(op)
                continue
            self.failures.fail(op.id, f"fetching its resources failed ({', '.join(bad)})", event=RESOURCE_ERROR)
            for name in bad:
                for line in self.engine.log_tail(name, LOG_TAIL):
                    self.say(f"  {name} | {line}")
        return ready

    def up(self, ops: list[PlannedOp], files: list[Path], env: dict) -> bool:
        """Start the ops' containers; when Compose fails, each op again on its own, so that only the op that
        cannot start (a missing image, ...) fails, as on the node, and its siblings run."""
        try:
            self.engine.up(files, self.options.pull, [name for op in ops for name in op.containers], env)
            return True
        except Exception as exc:  # EngineError: Compose refused or failed
            if len(ops) == 1:
                self._fail_start(ops[0], str(exc))
                return False
        ok = True
        for op in ops:
            try:
                self.engine.up(files, self.options.pull, list(op.containers), env)
            except Exception as exc:
                self._fail_start(op, str(exc))
                ok = False
        return ok

    def _fail_start(self, op: PlannedOp, said: str) -> None:
        """An image the engine does not have is the node's pull error (exit code 2); else Compose's words, with
        the exit code of a container the runtime could not start (127: no such executable), as the node has it."""
        if NO_IMAGE.search(said):
            self.failures.fail(
                op.id, pull_problem(op.image, said), exit_code=2, event=PULL_ERROR, code=engine_status(said)
            )
            return
        codes = [d.get("exit_code") for d in self.engine.inspect_all() if d.get("service") == op.service]
        self.failures.fail(
            op.id,
            said,
            exit_code=next((c for c in codes if isinstance(c, int) and c), None),
            event=RUNTIME_ERROR,
            code=engine_status(said),
        )

    def fill(self, group: PlannedGroup, results: dict[str, dict]) -> tuple[list[Path], dict[str, str]]:
        """What the group's files need to start: override files (splices of results of earlier ops) and the
        environment for Compose (credentials, results as text). An op whose literal has no value fails with
        a message naming it, and is not started."""
        env = dict(self.secrets)
        if not group.runtime:
            return [], env
        from ..compose.codec import used_variables
        from ..compose.overrides import Overflow, results_override
        from .fill import Unfilled, value_of

        values: dict = {}
        for var, placeholder in group.runtime.items():
            try:
                values[var] = value_of(placeholder, results)
            except Unfilled as problem:
                for op in group.ops:
                    if var in used_variables(group.services.get(op.service)) and op.id not in self.failures:
                        self.failures.fail(op.id, str(problem), event=None)  # the node logs it, no error event
                env[var] = "0"  # keeps the file loadable; the op using it is not started
        for var, value in values.items():
            # a list is spliced by the override; the group file itself must still load (Compose reads ports
            # in each file on its own), so its variable holds one valid item
            env[var] = (
                (value[0] if value else "1")
                if isinstance(value, list)
                else json.dumps(value)
                if isinstance(value, dict)
                else value
            )
        try:
            text = results_override(group.services, values)
        except Overflow as problem:  # splices past the output limit: the ops using them fail, as unfilled ones do
            spliced = {var for var, value in values.items() if not isinstance(value, str)}
            for op in group.ops:
                if op.id not in self.failures and used_variables(group.services.get(op.service)) & spliced:
                    self.failures.fail(op.id, str(problem))
            return [], env
        if text is None or self.options.workdir is None:
            return [], env
        path = Path(self.options.workdir) / f"results-{group.order:03d}.yaml"
        path.write_text(text, encoding="utf-8")
        return [path], env
