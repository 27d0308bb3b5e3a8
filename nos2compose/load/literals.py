"""Nosana literals (`%%global.variables.X%%`, `%%ops.ID.host%%`, ...) and their operators.

The node resolves these inside an op's `args` when the op starts. Those known
before anything runs are resolved here, at convert time, with the node's rules
for splicing and parsing; the rest (results, endpoints) are only known at run
time and are reported as such, never left in the output silently.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from ..contract import Placeholder
from ..diagnostics import Diagnostics, Path
from ..model import Template

LITERAL = re.compile(r"%%((?:globals?|ops)\.[^%\s]*)%%")
REMOVE_IF_EMPTY = "__remove-if-empty__"
DROP = object()  # an array that held only __remove-if-empty__ markers: its field goes
SPREAD = "__spread__"
PAIRS = "__pairs__"
LOCAL_HOST = "127.0.0.1"

RUN_TIME = "run-time"
RESULT = "result"  # %%ops.X.results.K%%: filled in by the supervisor when a later group starts


class Unresolved(Exception):
    """A literal that cannot be turned into a value; `kind` says why."""

    def __init__(self, literal: str, kind: str, message: str):
        super().__init__(message)
        self.literal, self.kind, self.message = literal, kind, message


class LiteralContext:
    """What convert time knows: the job's variables, its local name and its service names."""

    def __init__(
        self,
        job_name: str,
        variables: dict[str, Any],
        service_names: dict[str, str],
        group_order: dict[str, int] | None = None,
        result_keys: dict[str, set] | None = None,
    ):
        self.job_name = job_name
        self.variables = variables
        self.service_names = service_names  # op id -> Compose service name
        self.group_order = group_order or {}  # op id -> its group's position
        self.result_keys = result_keys or {}  # op id -> the keys of its results
        self.run_time: list[tuple[Path, str]] = []  # literals left for run time
        self.first_use: dict[Placeholder, tuple[Path, str]] = {}  # where each placeholder first appears

    def placeholder(self, op_id: str, key: str, splice: str, where: tuple[Path, str]) -> Template:
        """A result the supervisor fills in, as a value standing alone (the planner names its variable)."""
        found = Placeholder(op_id, key, splice)
        self.first_use.setdefault(found, where)
        return Template([found])

    def result_literal(self, literal: str, user_group: int) -> tuple[str, str]:
        """(op id, key) of a results literal the supervisor can fill in for an op of group `user_group`."""
        _, op_id, _, key = literal.split(".", 3)
        if key not in self.result_keys.get(op_id, ()):
            raise Unresolved(literal, "unknown", f"op '{op_id}' declares no result '{key}'")
        if self.group_order.get(op_id, 0) >= user_group:
            raise Unresolved(
                literal,
                "unknown",
                f"results of op '{op_id}' exist only once it has exited, so only ops of a later group can use them",
            )
        return op_id, key

    def value(self, literal: str) -> Any:
        parts = literal.split(".")
        root, rest = parts[0], parts[1:]
        if root in ("global", "globals"):
            if rest[:1] == ["variables"] and len(rest) == 2:
                if rest[1] not in self.variables:
                    raise Unresolved(literal, "unknown", f"global.variables has no '{rest[1]}'")
                return self.variables[rest[1]]
            if rest == ["job"]:
                return self.job_name
            if rest == ["host"]:
                return LOCAL_HOST
            if rest == ["project"]:
                return self.job_name
            if rest == ["frps_address"]:
                raise Unresolved(literal, RUN_TIME, "the node's tunnel server address has no local equivalent")
            raise Unresolved(
                literal,
                "malformed",
                "not a literal Nosana knows "
                "(global.variables.X, global.job, global.host, global.project, global.frps_address)",
            )
        # ops.<id>.<what>...: the id part stops at the first dot, as on the node
        if len(rest) >= 2 and rest[0]:
            op_id, what = rest[0], rest[1:]
            if what == ["host"] or (what[0] in ("endpoint", "results") and len(what) == 2 and what[1]):
                if op_id not in self.service_names:
                    raise Unresolved(literal, "unknown", f"there is no op '{op_id}' in this job")
                if what == ["host"]:
                    return self.service_names[op_id]
                if what[0] == "endpoint":
                    if not what[1].isdigit():
                        raise Unresolved(literal, "malformed", "the endpoint's port must be a number")
                    return f"http://{self.service_names[op_id]}:{what[1]}"  # reachable from every op of the job
                raise Unresolved(literal, RESULT, f"its value is only known at run time (results of op '{op_id}')")
        raise Unresolved(
            literal, "malformed", "not a literal Nosana knows (ops.ID.host, ops.ID.endpoint.PORT, ops.ID.results.KEY)"
        )


def _parsed(value: Any) -> Any:
    """A value that looks like JSON is parsed, as the node does; arrays are flattened."""
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    if isinstance(value, list):
        return flatten(value)
    return value


def flatten(items: list) -> list:
    out: list = []
    for item in items:
        out.extend(flatten(item) if isinstance(item, list) else [item])
    return out


def _as_text(value: Any) -> str:
    """A value inside a longer string, spelled as JavaScript's String() and JSON.stringify would."""
    if isinstance(value, list):
        return " ".join(_as_text(v) for v in value)
    if isinstance(value, (dict, bool)) or value is None:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class Resolver:
    """Walks one op's args, replacing every literal it can and recording the rest."""

    def __init__(self, ctx: LiteralContext, diags: Diagnostics, op_id: str, on_run_time: Callable[[Path, str], None]):
        self.ctx, self.diags, self.op_id, self.on_run_time = ctx, diags, op_id, on_run_time
        self.failed = False
        self.group = ctx.group_order.get(op_id, 0)

    def _lookup(self, literal: str, path: Path, splice: str = "text") -> Any:
        """The literal's value; a result of an earlier op becomes a placeholder the supervisor fills in."""
        try:
            try:
                return _parsed(self.ctx.value(literal))
            except Unresolved as exc:
                if exc.kind != RESULT:
                    raise
                return self.ctx.placeholder(*self.ctx.result_literal(literal, self.group), splice, (path, self.op_id))
        except Unresolved as exc:
            if exc.kind == RUN_TIME:
                self.on_run_time(path, literal)
            else:
                self.diags.error(path, f"literal %%{literal}%%: {exc.message}", self.op_id)
            raise

    def string(self, text: str, path: Path, splice: str = "text") -> Any:
        """A string: a whole-string literal becomes its value; embedded ones become text."""
        whole = LITERAL.fullmatch(text)
        if whole:
            try:
                return self._lookup(whole.group(1), path, splice)
            except Unresolved:
                return text

        if "%%" not in text:
            return text
        parts: list = []
        at = 0
        for m in LITERAL.finditer(text):
            parts.append(text[at : m.start()])
            at = m.end()
            try:
                value = self._lookup(m.group(1), path)
            except Unresolved:
                parts.append(m.group(0))
                continue
            parts.extend(value.parts if isinstance(value, Template) else [_as_text(value)])
        parts.append(text[at:])
        return Template(parts) if any(isinstance(p, Placeholder) for p in parts) else "".join(parts)

    def value(self, value: Any, path: Path) -> Any:
        if isinstance(value, str):
            return self.string(value, path)
        if isinstance(value, list):
            return self.array(value, path)
        if isinstance(value, dict):
            if SPREAD in value and set(value) <= {SPREAD, "chunked"}:
                # a lone spread object as a field's value: an object for env, else (expose) a list
                if path and path[-1] == "env":
                    return self.mapping(value, path)
                spliced = self._spread(value, path, want=list)
                return spliced if spliced is not None else value
            return self.mapping(value, path)
        return value

    def array(self, items: list, path: Path) -> Any:
        out: list = []
        marker = False
        for index, item in enumerate(items):
            here = path + (index,)
            if item == REMOVE_IF_EMPTY:
                marker = True
                continue
            if isinstance(item, dict) and SPREAD in item and set(item) <= {SPREAD, "chunked"}:
                spliced = self._spread(item, here, want=list)
                if spliced is None:
                    if not self.failed:
                        out.append(item)  # left for run time
                else:
                    out.extend(spliced)
                continue
            if isinstance(item, str) and LITERAL.fullmatch(item):
                resolved = self.string(item, here, splice="items")
                out.extend(resolved if isinstance(resolved, list) else [resolved])
                continue
            resolved = self.value(item, here)
            if resolved is not DROP:  # a nested array left empty by its markers goes too
                out.append(resolved)
        if marker and not out:
            return DROP  # the caller drops the field
        return out

    def mapping(self, obj: dict, path: Path) -> dict:
        out: dict = {}
        for key, item in obj.items():
            here = path + (key,)
            if key in (SPREAD, PAIRS) and isinstance(item, str) and LITERAL.search(item):
                merged = self._spread({SPREAD: item}, here, want=dict, pairs=key == PAIRS)
                if merged is None:
                    out[key] = item
                else:
                    out.update(merged)
                continue
            resolved = self.value(item, here)
            if resolved is not DROP:
                out[key] = resolved
        return out

    def _spread(self, spec: dict, path: Path, want: type, pairs: bool = False) -> Any:
        """The spliced value; None when it is left for run time, or failed (then self.failed is set)."""
        self.failed = False
        literal = spec.get(SPREAD)
        if not isinstance(literal, str) or not LITERAL.fullmatch(literal):
            return None
        try:
            raw = self.ctx.value(LITERAL.fullmatch(literal).group(1))
        except Unresolved as exc:
            if exc.kind == RESULT:
                try:
                    op_id, key = self.ctx.result_literal(LITERAL.fullmatch(literal).group(1), self.group)
                except Unresolved as bad:
                    self.diags.error(path, f"literal {literal}: {bad.message}", self.op_id)
                    self.failed = True
                    return None
                splice = "items" if want is list else ("pairs" if pairs else "object")
                if spec.get("chunked") is True:
                    splice += "_chunked"
                mark = self.ctx.placeholder(op_id, key, splice, (path, self.op_id))
                return [mark] if want is list else {mark: ""}
            if exc.kind == RUN_TIME:
                self.on_run_time(path, literal.strip("%"))
            else:
                self.diags.error(path, f"literal {literal}: {exc.message}", self.op_id)
                self.failed = True
            return None
        if spec.get("chunked") is True:
            if isinstance(raw, str) and raw[:1] == "[":
                try:
                    raw = json.loads(raw)
                except ValueError:
                    pass
            if not (isinstance(raw, list) and all(isinstance(s, str) for s in raw)):
                self.diags.error(path, f"chunked spread of {literal}: expected an array of strings", self.op_id)
                self.failed = True
                return None
            raw = "".join(raw)
        value = raw
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                pass
        if pairs:
            if isinstance(value, list) and all(isinstance(p, dict) and "key" in p and "value" in p for p in value):
                return {str(p["key"]): p["value"] for p in value}
            self.diags.error(path, f"__pairs__ of {literal}: expected an array of {{key, value}} objects", self.op_id)
            self.failed = True
            return None
        if want is list and isinstance(value, list):
            return flatten(value)
        if want is dict and isinstance(value, dict):
            return value
        kind = "an array" if want is list else "an object"
        self.diags.error(
            path,
            f"__spread__ of {literal}: expected its value to be {kind}, found {json.dumps(value)[:60]}",
            self.op_id,
        )
        self.failed = True
        return None


def resolve_args(args: dict, path: Path, ctx: LiteralContext, diags: Diagnostics, op_id: str) -> dict:
    """The op's args with every convert-time literal resolved."""

    def run_time(where: Path, literal: str) -> None:
        ctx.run_time.append((where, literal))

    return Resolver(ctx, diags, op_id, run_time).mapping(args, path)
