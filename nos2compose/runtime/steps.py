"""The steps before an op's container starts, as a node takes them: registry login, image pull, resource
fetch, and results of earlier ops filled in. Each step fails only the op it cannot help, with a reason."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from .plan import PlannedGroup
from .preflight import NO_IMAGE, pull_problem
from .report import results_of

if TYPE_CHECKING:
    from .supervisor import UpOptions

POLL = 0.2  # seconds between looks at the engine while a fetch runs
LOG_TAIL = 10  # log lines shown with a failure


class StartSteps:
    """Mixed into the Supervisor: uses its engine, say, clock, sleep, failures, seen and _fail."""

    def _pull(self, ops: list, files: list, options: UpOptions, group: PlannedGroup) -> list:
        """Pull what the ops need (what is missing, or all with --pull always), one op at a time, so a pull that
        fails fails only its op, naming the image and why (exit code 2, as the node reports a pull error)."""
        if options.pull == "never" or not ops:
            return ops

        def images(op) -> list[str]:
            found = [op.image] + [str((group.services.get(op.probe) or {}).get("image") or "")] * bool(op.probe)
            return [i for i in found if i]

        wanted = {i for op in ops for i in images(op)}
        missing = wanted if options.pull == "always" else self.engine.missing_images(sorted(wanted))
        ready = []
        for op in ops:
            need = [i for i in images(op) if i in missing]
            if not need:
                ready.append(op)
                continue
            self.say(f"{op.group}  {op.id}: pulling {', '.join(need)}")
            try:
                self.engine.pull(files, list(op.containers))
            except Exception as exc:  # EngineError: the engine's own words
                self._fail(op.id, pull_problem(need[0], str(exc)), exit_code=2)
                continue
            missing -= set(need)
            ready.append(op)
        return ready

    def _fetch(self, ops: list, files: list, options: UpOptions) -> list:
        """Run the init services that fetch the ops' resources, and wait for them; an op whose fetch
        fails is not started (its fetcher's log says why)."""
        fetching = [op for op in ops if op.fetch]
        if not fetching:
            return ops
        services = [name for op in fetching for name in op.fetch]
        self.say(f"fetching resources: {', '.join(services)}")
        self.seen = None
        try:
            self.engine.up(files, options.pull, services)
        except Exception as exc:
            for op in fetching:
                self._fail(op.id, f"fetching its resources failed: {exc}")
            return [op for op in ops if not op.fetch]
        while True:
            rows = {c.service: c for c in self.engine.containers() if c.service in services}
            done = [name for name in services if rows.get(name) and rows[name].state in ("exited", "dead")]
            if len(done) == len(services) or self.clock() >= self._deadline:
                break
            self.sleep(POLL)
        ready = []
        for op in ops:
            bad = [n for n in op.fetch if not (rows.get(n) and rows[n].state == "exited" and rows[n].exit_code == 0)]
            if not bad:
                ready.append(op)
                continue
            self._fail(op.id, f"fetching its resources failed ({', '.join(bad)})")
            for name in bad:
                for line in self.engine.log_tail(name, LOG_TAIL):
                    self.say(f"  {name} | {line}")
        return ready

    def _up(self, ops: list, files: list, options: UpOptions) -> bool:
        """Start the ops' containers; when Compose fails, each op again on its own, so that only the op that
        cannot start (a missing image, ...) fails, as on the node, and its siblings run."""
        self.seen = None  # what the supervisor last saw no longer holds
        try:
            self.engine.up(files, options.pull, [name for op in ops for name in op.containers])
            return True
        except Exception as exc:  # EngineError: Compose refused or failed
            if len(ops) == 1:
                self._fail_start(ops[0], str(exc))
                return False
        ok = True
        for op in ops:
            try:
                self.engine.up(files, options.pull, list(op.containers))
            except Exception as exc:
                self._fail_start(op, str(exc))
                ok = False
        return ok

    def _fail_start(self, op, said: str) -> None:
        """An image the engine does not have is the node's pull error (exit code 2); else Compose's words, with
        the exit code of a container the runtime could not start (127: no such executable), as the node has it."""
        if NO_IMAGE.search(said):
            self._fail(op.id, pull_problem(op.image, said), exit_code=2)
            return
        codes = [d.get("exit_code") for d in self.engine.inspect_all() if d.get("service") == op.service]
        self._fail(op.id, said, exit_code=next((c for c in codes if isinstance(c, int) and c), None))

    def _log_in(self, ops: list) -> list:
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
                    self._fail(op.id, str(exc))
                    ok = False
            if ok:
                ready.append(op)
        return ready

    def _prepare(self, group: PlannedGroup) -> None:
        """Credentials are in the environment Compose reads (Compose creates the shared caches itself)."""
        os.environ.update(self.secrets)

    def _fill(self, group: PlannedGroup, options: UpOptions) -> list:
        """Results of earlier ops for the group's placeholders: environment values, and an override file
        for splices. An op whose literal has no value fails with a message naming it, and is not started."""
        if not group.runtime:
            return []
        from .fill import Overflow, Unfilled, override, used_vars, value_of

        needed = {placeholder.op for placeholder in group.runtime.values()}
        results = results_of(self.engine, [s for s in self.statuses() if s.op.id in needed])
        values: dict = {}
        for var, placeholder in group.runtime.items():
            try:
                values[var] = value_of(placeholder, results)
            except Unfilled as problem:
                for op in group.ops:
                    if var in used_vars(group.services.get(op.service)):
                        if op.id not in self.failures:
                            self._fail(op.id, str(problem))
                os.environ[var] = "0"  # keeps the file loadable; the op using it is not started
        for var, value in values.items():
            # a list is spliced by the override; the group file itself must still load (Compose reads ports
            # in each file on its own), so its variable holds one valid item
            os.environ[var] = (
                (value[0] if value else "1")
                if isinstance(value, list)
                else json.dumps(value)
                if isinstance(value, dict)
                else value
            )
        try:
            text = override(group.services, values)
        except Overflow as problem:  # splices past the output limit: the ops using them fail, as unfilled ones do
            spliced = {var for var, value in values.items() if not isinstance(value, str)}
            for op in group.ops:
                if op.id not in self.failures and used_vars(group.services.get(op.service)) & spliced:
                    self._fail(op.id, str(problem))
            return []
        if text is None or options.workdir is None:
            return []
        path = Path(options.workdir) / f"results-{group.order:03d}.yaml"
        path.write_text(text, encoding="utf-8")
        return [path]
