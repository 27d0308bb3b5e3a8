"""Nosana literals (`%%global.variables.X%%`, `%%ops.ID.host%%`, ...) and their operators.

The node resolves these inside an op's `args` when the op starts
(interpolateOperation.ts, transformCollections.ts in its code), with two
patterns: `%%ops|global.KEY.PATH%%` and `%%global|globals.KEY%%`; other text is
left as it is. Those known before anything runs are resolved here with the
node's rules; results of earlier ops become placeholders `up` fills in; a
literal the node could not resolve fails that op when it would start, on the
node and under `up` alike, with the node's own message.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..contract import Placeholder
from ..diagnostics import Diagnostics, Path
from ..model import Template

# the node's patterns: three parts (ops or global, a key without dots, a path), or two (global(s) and a key)
LITERAL = re.compile(r"%%((?:ops|global)\.[^.]+\.[A-Za-z0-9._-]+|globals?\.[^.]+)%%")
REMOVE_IF_EMPTY = "__remove-if-empty__"
SPREAD = "__spread__"
PAIRS = "__pairs__"
LOCAL_HOST = "127.0.0.1"

RUN_TIME = "run-time"  # known only to the node, never locally (its tunnel server's address)
RESULT = "result"  # %%ops.X.results.K%%: filled in by the supervisor when a later group starts
UNKNOWN = "unknown"  # the node finds no value: the op fails before it starts


DEFAULT_OUTPUT_LIMIT = 50 * 1024 * 1024
OUTPUT_LIMIT_ENV = "NOS2COMPOSE_MAX_OUTPUT_BYTES"


def output_limit() -> int:
    """Bytes of Compose a job may expand to (50 MiB, or NOS2COMPOSE_MAX_OUTPUT_BYTES)."""
    import os

    try:
        return max(1, int(os.environ.get(OUTPUT_LIMIT_ENV, "")))
    except ValueError:
        return DEFAULT_OUTPUT_LIMIT


class TooLarge(Exception):
    """The job would expand past the output limit; raised where it happens, before the output is built."""

    def __init__(self, path: Path, limit: int):
        super().__init__(path)
        self.path, self.limit = path, limit

    @property
    def message(self) -> str:
        return (
            f"the job would expand to more than {self.limit // (1024 * 1024)} MiB of Compose here (its literals "
            f"splice their values again and again); the limit is {OUTPUT_LIMIT_ENV}"
        )


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
        exposed: dict[str, set] | None = None,
    ):
        self.job_name = job_name
        self.variables = variables
        self.service_names = service_names  # op id -> Compose service name
        self.group_order = group_order or {}  # op id -> its group's position
        self.result_keys = result_keys or {}  # op id -> the keys of its results
        self.exposed = exposed or {}  # op id -> its exposed ports as text (for %%ops.ID.endpoint.PORT%%)
        self.first_use: dict[Placeholder, tuple[Path, str]] = {}  # where each placeholder first appears
        self.unresolved: dict[str, list[str]] = {}  # op id -> the node's messages for what fails it at its start
        self.limit = output_limit()
        self.spent = 0  # bytes the literals' values have added so far
        self._values: dict[str, tuple[Any, int]] = {}  # literal -> (its value, parsed; its size as JSON)

    def charge(self, literal: str, path: Path) -> Any:
        """A literal's value as the node uses it (parsed once per literal; Unresolved when there is none),
        counted against the output limit: TooLarge as soon as the job would expand past it (a small job can
        splice a big value many times)."""
        known = self._values.get(literal)
        if known is None:
            value = _parsed(self.value(literal))
            known = self._values[literal] = (value, len(json.dumps(value, ensure_ascii=False, default=str)))
        self.spent += known[1]
        if self.spent > self.limit:
            raise TooLarge(path, self.limit)
        value = known[0]
        return list(value) if isinstance(value, list) else value

    def placeholder(self, op_id: str, key: str, splice: str, where: tuple[Path, str]) -> Template:
        """A result the supervisor fills in, as a value standing alone (the planner names its variable)."""
        found = Placeholder(op_id, key, splice)
        self.first_use.setdefault(found, where)
        return Template([found])

    def result_literal(self, literal: str, user_group: int) -> tuple[str, str]:
        """(op id, key) of a results literal the supervisor can fill in for an op of group `user_group`."""
        _, op_id, _, key = literal.split(".", 3)
        if key not in self.result_keys.get(op_id, ()):
            raise Unresolved(literal, UNKNOWN, f"op '{op_id}' declares no result '{key}'")
        if self.group_order.get(op_id, 0) >= user_group:
            raise Unresolved(
                literal,
                UNKNOWN,
                f"results of op '{op_id}' exist only once it has exited, which is "
                "never before an op of its own or an earlier group starts",
            )
        return op_id, key

    def value(self, literal: str) -> Any:
        """The value the node gives a literal (the text between the %%), as far as convert time knows it."""
        root, key, *rest = literal.split(".", 2)
        path = rest[0] if rest else None
        if root in ("global", "globals"):
            return self._global(literal, key, path)
        if key not in self.service_names:
            raise Unresolved(literal, UNKNOWN, f"there is no op '{key}' in this job")
        if path == "host":
            return self.service_names[key]
        head, _, tail = path.partition(".")
        if head == "endpoint" and tail in self.exposed.get(key, ()):
            return f"{self.service_names[key]}:{tail}"  # the node gives a host name; here the op's service and port
        if head == "results" and tail and "." not in tail:
            raise Unresolved(literal, RESULT, f"its value is only known at run time (results of op '{key}')")
        raise Unresolved(literal, UNKNOWN, f"op '{key}' has no {path}")

    def _global(self, literal: str, key: str, path: str | None) -> Any:
        if key == "variables" and path is not None:
            if path not in self.variables or self.variables[path] == "":
                raise Unresolved(literal, UNKNOWN, f"global.variables has no '{path}'")
            return self.variables[path]
        if path is None and key in ("job", "project"):
            return self.job_name
        if path is None and key == "host":
            return LOCAL_HOST
        if path is None and key == "frps_address":
            raise Unresolved(literal, RUN_TIME, "the node's tunnel server address has no local equivalent")
        raise Unresolved(
            literal,
            UNKNOWN,
            "not a value the node knows (global.variables.X, global.job, "
            "global.host, global.project, global.frps_address)",
        )

    @staticmethod
    def node_message(literal: str) -> str:
        """The node's words when it cannot resolve a literal (interpolateOperation.ts)."""
        root, key, *rest = literal.split(".", 2)
        if root == "ops":
            return f'Unresolved literal: "%%{literal}%%" (opId="{key}", path="{rest[0]}")'
        return f'Unresolved literal: "%%{literal}%%" (key="{key}{"." + rest[0] if rest else ""}")'


def json_if_it_looks_like(value: Any) -> Any:
    """The node parses a text that starts with [ or { (after spaces) as JSON, and keeps it as text if it fails."""
    if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _parsed(value: Any) -> Any:
    """A literal's value as the node uses it: JSON-looking text parsed, arrays flattened."""
    value = json_if_it_looks_like(value)
    return flatten(value) if isinstance(value, list) else value


def flatten(items: list) -> list:
    out: list = []
    for item in items:
        out.extend(flatten(item) if isinstance(item, list) else [item])
    return out


def env_string(value: Any) -> str:
    """An env value as the node makes it a string (finalizeEnv.ts): String() of a scalar, JSON of the rest."""
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return as_text(value)


def as_text(value: Any) -> str:
    """A value inside a longer string, as the node spells it: JavaScript's String() of each token, spaces between."""
    if isinstance(value, list):
        return " ".join(as_text(v) for v in value)
    if isinstance(value, dict):
        return "[object Object]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class Resolver:
    """Walks one op's args, replacing every literal it can and recording the rest."""

    def __init__(self, ctx: LiteralContext, diags: Diagnostics, op_id: str):
        self.ctx, self.diags, self.op_id = ctx, diags, op_id
        self.failed = False
        self.group = ctx.group_order.get(op_id, 0)

    def fails(self, path: Path, node_message: str, why: str, on_the_node: bool = True) -> None:
        """Something that cannot be resolved when the op starts: the op fails then (on the node and under
        `up` alike; with on_the_node False, only under `up`: the node knows the value)."""
        messages = self.ctx.unresolved.setdefault(self.op_id, [])
        if node_message not in messages:
            messages.append(node_message)
        if on_the_node:
            consequence = (
                f"on a node this op fails before it starts ({node_message}), and the other ops go on; "
                "`nos2compose up` does the same"
            )
        else:
            consequence = "`nos2compose up` fails this op before it starts (the other ops go on)"
        self.diags.warning(path, f"{why}: {consequence}", self.op_id)

    def _lookup(self, literal: str, path: Path, splice: str = "text") -> Any:
        """The literal's value; a result of an earlier op becomes a placeholder the supervisor fills in."""
        try:
            try:
                return self.ctx.charge(literal, path)
            except Unresolved as exc:
                if exc.kind != RESULT:
                    raise
                return self.ctx.placeholder(*self.ctx.result_literal(literal, self.group), splice, (path, self.op_id))
        except Unresolved as exc:
            self.unresolved(path, literal, exc)
            raise

    def unresolved(self, path: Path, literal: str, exc: Unresolved) -> None:
        if exc.kind == RUN_TIME:  # the node has a value; there is none locally
            self.fails(path, f"%%{literal}%% has no value locally", f"literal %%{literal}%%: {exc.message}", False)
        else:
            self.fails(
                path, self.ctx.node_message(literal), f"literal %%{literal}%% cannot be resolved ({exc.message})"
            )

    def string(self, text: str, path: Path, splice: str = "text") -> Any:
        """A string: a whole-string literal becomes its value; embedded ones become text."""
        if "%%" not in text:
            return text
        _note_lookalike(self, text, path)
        whole = LITERAL.fullmatch(text)
        if whole:
            try:
                value = self._lookup(whole.group(1), path, splice)
            except Unresolved:
                return text
            if splice == "text" and isinstance(value, list):  # a string field's value (normalizeByOrigin)
                return value[0] if len(value) == 1 else as_text(value)
            return value
        parts: list = []
        at = 0
        for m in LITERAL.finditer(text):
            parts.append(text[at : m.start()])
            at = m.end()
            try:
                value = self._lookup(m.group(1), path, splice="embedded")
            except Unresolved:
                parts.append(m.group(0))
                continue
            parts.extend(value.parts if isinstance(value, Template) else [as_text(value)])
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

    def array(self, items: list, path: Path) -> list:
        out: list = []
        for index, item in enumerate(items):
            here = (*path, index)
            if isinstance(item, dict) and (SPREAD in item or PAIRS in item):
                marker = SPREAD if SPREAD in item else PAIRS
                spliced = self._spread(
                    {SPREAD: item[marker], "chunked": item.get("chunked")}, here, want=list, pairs=marker == PAIRS
                )
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
            out.append(self.value(item, here))
        return out

    def mapping(self, obj: dict, path: Path) -> dict:
        """An object: its own keys, then what __spread__ and __pairs__ bring, which win (as on the node)."""
        out: dict = {}
        patches: list = []
        for key, item in obj.items():
            here = (*path, key)
            if key in (SPREAD, PAIRS) and isinstance(item, str) and LITERAL.search(item):
                merged = self._spread({SPREAD: item}, here, want=dict, pairs=key == PAIRS)
                patches.append({key: item} if merged is None else merged)
                continue
            out[key] = self.value(item, here)
        for patch in patches:
            out.update(patch)
        return out

    def _spread(self, spec: dict, path: Path, want: type, pairs: bool = False) -> Any:
        """The spliced value; None when it is left for run time, or fails the op (then self.failed is set)."""
        self.failed = False
        literal = spec.get(SPREAD)
        if not isinstance(literal, str) or not LITERAL.fullmatch(literal):
            return None
        inner = LITERAL.fullmatch(literal).group(1)
        try:
            raw = self.ctx.value(inner)
        except Unresolved as exc:
            if exc.kind == RESULT:
                try:
                    op_id, key = self.ctx.result_literal(inner, self.group)
                except Unresolved as bad:
                    self.unresolved(path, inner, bad)
                    self.failed = True
                    return None
                splice = "items" if want is list else ("pairs" if pairs else "object")
                if spec.get("chunked") is True:
                    splice += "_chunked"
                mark = self.ctx.placeholder(op_id, key, splice, (path, self.op_id))
                return [mark] if want is list else {mark: ""}
            self.unresolved(path, inner, exc)
            self.failed = True
            return None
        value, problem = spread_value(raw, want, pairs, spec.get("chunked") is True)
        if problem is not None:
            self.fails(path, problem, f"{'__pairs__' if pairs else '__spread__'} of {literal}: {problem}")
            self.failed = True
            return None
        return value


def spread_value(raw: Any, want: type, pairs: bool, chunked: bool) -> tuple[Any, str | None]:
    """What `{__spread__: raw}` or `{__pairs__: raw}` brings, or the node's error (transformCollections.ts)."""
    label = "__pairs__" if pairs else "__spread__"
    value = json_if_it_looks_like(raw)  # as the node reads a whole-string literal's value
    if chunked and isinstance(value, list) and all(isinstance(s, str) for s in value):
        value = "".join(value)
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            return None, f"{label} is not valid JSON: {exc.msg}"
    if pairs:
        if not isinstance(value, list):
            return None, "__pairs__ must be a JSON array"
        if want is list:
            return value, None
        out = {}
        for item in value:
            if not isinstance(item, dict):
                return None, "__pairs__ items must be objects"
            if not isinstance(item.get("key"), str):
                return None, "__pairs__ item.key must be string"
            out[item["key"]] = "" if item.get("value") is None else item["value"]
        return out, None
    if want is list:
        return (flatten(value), None) if isinstance(value, list) else (None, "__spread__ must be a JSON array")
    return (value, None) if isinstance(value, dict) else (None, "__spread__ must be a JSON object")


_LOOKALIKE = re.compile(r"%%(?:globals?|ops)\.[^%\s]*%%")


def _note_lookalike(resolver: Resolver, text: str, path: Path) -> None:
    """Text shaped like a literal that the node's patterns do not take: it stays text there, and here."""
    for m in _LOOKALIKE.finditer(text):
        if not LITERAL.fullmatch(m.group(0)):
            resolver.diags.warning(
                path,
                f"{m.group(0)} is not a literal the node resolves (it takes "
                "%%ops|global.KEY.PATH%% and %%global|globals.KEY%%): it stays as it is",
                resolver.op_id,
            )


def remove_if_empty(args: dict) -> dict:
    """The node's last step (stanatizeArrays.ts): in each array field of args, the first
    __remove-if-empty__ item goes, and the field too if nothing is left."""
    out = {}
    for key, value in args.items():
        if isinstance(value, list) and REMOVE_IF_EMPTY in value:
            value = list(value)
            value.remove(REMOVE_IF_EMPTY)
            if not value:
                continue
        out[key] = value
    return out


def resolve_args(args: dict, path: Path, ctx: LiteralContext, diags: Diagnostics, op_id: str) -> dict:
    """The op's args with every convert-time literal resolved, and the node's operators applied."""
    return remove_if_empty(Resolver(ctx, diags, op_id).mapping(args, path))
