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

from ..diagnostics import Diagnostics, Path
from ..model import Placeholder, Template
from .expansion import splice_cost
from .limits import TooLarge, output_limit
from .limits import placed as _at
from .node_values import REMOVE_IF_EMPTY as REMOVE_IF_EMPTY  # resources.py's
from .node_values import as_text, flatten, json_if_it_looks_like, remove_if_empty, spread_value, string_field, tokens

# the node's patterns: three parts (ops or global, a key without dots, a path), or two (global(s) and a key)
LITERAL = re.compile(r"%%((?:ops|global)\.[^.]+\.[A-Za-z0-9._-]+|globals?\.[^.]+)%%")
SPREAD = "__spread__"
PAIRS = "__pairs__"
LOCAL_HOST = "127.0.0.1"

RUN_TIME = "run-time"  # known only to the node, never locally (its tunnel server's address)
RESULT = "result"  # %%ops.X.results.K%%: filled in by the supervisor when a later group starts
UNKNOWN = "unknown"  # the node finds no value: the op fails before it starts


class Unresolved(Exception):
    """A literal that cannot be turned into a value; `kind` says why, `code` which warning says so."""

    def __init__(self, literal: str, kind: str, message: str, code: str = "NOS301"):
        super().__init__(message)
        self.literal, self.kind, self.message, self.code = literal, kind, message, code


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
        self._values: dict[str, tuple[Any, dict]] = {}  # literal -> (its value, parsed; its cost by splice)
        self._made: dict[tuple, Any] = {}  # (how, text) -> a literal's value made text or items

    def made(self, key: tuple, path: Path, convert, value: Any) -> Any:
        """convert(value), once per key when its text holds literals: a big value spliced into many fields is
        made text (or items) once, not at every use (which took time in the size of the whole expansion).
        Lists are copied, as `charge` does."""
        found = self._made.get(key)
        if found is None:
            found = _at(path, convert, value)
            if "%%" in key[1] and isinstance(found, (str, list)):
                self._made[key] = found
        return list(found) if isinstance(found, list) else found

    def charge(self, literal: str, path: Path, splice: str = "text") -> Any:
        """A literal's value as the node uses it (parsed once per literal; Unresolved when there is none),
        counted against the output limit at the least this use adds to the file (expansion.py): TooLarge as
        soon as the job would expand past it (a small job can splice a big value many times)."""
        known = self._values.get(literal)
        if known is None:
            known = self._values[literal] = (_at(path, _parsed, self.value(literal)), {})
        value, costs = known
        cost = costs.get(splice)
        if cost is None:
            cost = costs[splice] = _at(path, splice_cost, value, splice)
        self.spent += cost
        if self.spent > self.limit:
            raise TooLarge(path, self.limit)
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
                "NOS302",
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


def _parsed(value: Any) -> Any:
    """A literal's value as the node's first step leaves it: JSON-looking text parsed (each item of an array)."""
    if isinstance(value, list):
        return [json_if_it_looks_like(v) for v in value]
    return json_if_it_looks_like(value)


class Resolver:
    """Walks one op's args as the node does when the op starts: literals resolved, each value normalized by
    where the job wrote it (only in args' own fields, arrays and objects: an object inside an array, such as
    an expose item, keeps its values as resolved), then the spread markers applied. Known values are used
    here; results of earlier ops become placeholders `up` fills in with the same rules (supervisor/fill.py)."""

    def __init__(self, ctx: LiteralContext, diags: Diagnostics, op_id: str):
        self.ctx, self.diags, self.op_id = ctx, diags, op_id
        self.failed = False
        self.group = ctx.group_order.get(op_id, 0)

    def fails(self, path: Path, node_message: str, why: str, code: str, on_the_node: bool = True) -> None:
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
        self.diags.warning(path, f"{why}: {consequence}", self.op_id, code)

    def _lookup(self, literal: str, path: Path, splice: str = "text", cost: str | None = None) -> Any:
        """The literal's value; a result of an earlier op becomes a placeholder the supervisor fills in."""
        try:
            try:
                return self.ctx.charge(literal, path, cost or splice)
            except Unresolved as exc:
                if exc.kind != RESULT:
                    raise
                return self.ctx.placeholder(*self.ctx.result_literal(literal, self.group), splice, (path, self.op_id))
        except Unresolved as exc:
            self.unresolved(path, literal, exc)
            raise

    def unresolved(self, path: Path, literal: str, exc: Unresolved) -> None:
        if exc.kind == RUN_TIME:  # the node has a value; there is none locally
            self.fails(
                path, f"%%{literal}%% has no value locally", f"literal %%{literal}%%: {exc.message}", "NOS903", False
            )
        else:
            self.fails(
                path,
                self.ctx.node_message(literal),
                f"literal %%{literal}%% cannot be resolved ({exc.message})",
                exc.code,
            )

    def string(self, text: str, path: Path, splice: str = "text") -> Any:
        """A string with its literals resolved: a whole-string literal becomes its value, embedded ones text."""
        if "%%" not in text:
            return text
        _note_lookalike(self, text, path)
        whole = LITERAL.fullmatch(text)
        if whole:
            try:
                return self._lookup(whole.group(1), path, splice)
            except Unresolved:
                return text
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
            if isinstance(value, Template):
                parts.extend(value.parts)
            else:
                parts.append(self.ctx.made(("embedded", m.group(0)), path, as_text, value))
        parts.append(text[at:])
        return Template(parts) if any(isinstance(p, Placeholder) for p in parts) else "".join(parts)

    def value(self, value: Any, path: Path, normalize: bool = True) -> Any:
        if isinstance(value, str):
            found = self.string(value, path)
            if isinstance(found, Template) or not normalize:
                return found
            made = self.ctx.made(("field", value), path, string_field, found)
            if isinstance(found, str) and made != found:
                self._parsed_text(path, found, json.dumps(made, ensure_ascii=False))
            return made
        if isinstance(value, list):
            return self.array(value, path, normalize)
        if isinstance(value, dict):
            if SPREAD in value and set(value) <= {SPREAD, "chunked"} and not (path and path[-1] == "env"):
                # a lone spread object as a field's value (expose): a list
                spliced = self._spread(value[SPREAD], path, list, False, value.get("chunked") is True)
                return spliced if spliced is not None else []
            return self.mapping(value, path, normalize)
        return value

    def array(self, items: list, path: Path, normalize: bool = True) -> list:
        out: list = []
        for index, item in enumerate(items):
            here = (*path, index)
            if isinstance(item, dict) and (SPREAD in item or PAIRS in item):
                marker = SPREAD if SPREAD in item else PAIRS
                spliced = self._spread(item[marker], here, list, marker == PAIRS, item.get("chunked") is True)
                out.extend(spliced or ())
            elif isinstance(item, str):
                found = self.string(item, here, splice="items")
                if isinstance(found, Template):
                    out.append(found)
                elif normalize:  # an item of one of args' arrays: its tokens
                    made = self.ctx.made(("items", item), here, tokens, found)
                    if isinstance(found, str) and made != [found]:
                        self._parsed_text(here, found, ", ".join(json.dumps(t, ensure_ascii=False) for t in made))
                    out.extend(made)
                else:
                    out.extend(flatten(found) if isinstance(found, list) else [found])
            elif normalize and isinstance(item, list):
                out.extend(_at(here, tokens, self.array(item, here, False)))
            else:
                out.append(self.value(item, here, False))
        return out

    def mapping(self, obj: dict, path: Path, normalize: bool = True) -> dict:
        """An object: its own keys, then what __spread__ and __pairs__ bring, which win (as on the node)."""
        out: dict = {}
        patches: list = []
        for key, item in obj.items():
            here = (*path, key)
            if key in (SPREAD, PAIRS):
                patches.append(self._spread_into_object(item, here, key == PAIRS, normalize) or {})
                continue
            out[key] = self.value(item, here, normalize)
        for patch in patches:
            out.update(patch)
        return out

    def _parsed_text(self, path: Path, text: str, made: str) -> None:
        """JSON-looking text the node parses where the job may have meant text: the file does the same; say so."""
        self.diags.warning(
            path,
            f"the node reads {json.dumps(text, ensure_ascii=False)[:60]} as JSON and uses {made[:60] or 'nothing'} "
            "instead (it parses text that starts with [ or {); the Compose file does the same",
            self.op_id,
            "NOS305",
        )

    def _spread(self, raw: Any, path: Path, want: type, pairs: bool, chunked: bool) -> list | None:
        """What a marker in an array splices in (its value as resolved, not normalized); None when it fails the op."""
        self.failed = False
        splice = "pairs" if pairs and want is dict else "items" if want is list else "object"
        value = self._marker_value(raw, path, splice + ("_chunked" if chunked else ""))
        if isinstance(value, Template):
            return [value] if value.whole is not None and not self.failed else None
        return self._apply(value, raw, path, want, pairs, chunked)

    def _spread_into_object(self, raw: Any, path: Path, pairs: bool, normalize: bool) -> dict | None:
        """What `__spread__` / `__pairs__` as a key merges in: its value first normalized as the job wrote it."""
        self.failed = False
        value = self._marker_value(raw, path, "pairs" if pairs else "object", "object-field" if normalize else None)
        if isinstance(value, Template):
            return {value: ""} if value.whole is not None and not self.failed else None
        if normalize and isinstance(raw, (str, list)):
            value = _at(path, string_field if isinstance(raw, str) else tokens, value)
        return self._apply(value, raw, path, dict, pairs, False)

    def _marker_value(self, raw: Any, path: Path, splice: str, cost: str | None = None) -> Any:
        """The marker's value with its literals resolved; a result stays a placeholder (a Template). `cost`: how
        the output limit counts it, when not as `splice` says (expansion.py)."""
        if isinstance(raw, str) and LITERAL.fullmatch(raw):
            try:
                return self._lookup(LITERAL.fullmatch(raw).group(1), path, splice, cost)
            except Unresolved:
                self.failed = True
                return Template([raw])
        value = self.value(raw, path, normalize=False)
        if _holds_template(value):  # text around a result, in a marker: nothing here can splice that
            self.fails(
                path,
                "a spread value mixing text and results",
                "a __spread__ / __pairs__ value that mixes "
                "text with results of earlier ops, which nos2compose cannot splice",
                "NOS903",
                on_the_node=False,
            )
            self.failed = True
            return Template([str(raw)])
        return value

    def _apply(self, value: Any, raw: Any, path: Path, want: type, pairs: bool, chunked: bool) -> Any:
        spliced, problem = _at(path, spread_value, value, want, pairs, chunked)
        if problem is not None:
            label = "__pairs__" if pairs else "__spread__"
            written = raw if isinstance(raw, str) else json.dumps(raw, default=str)[:80]
            self.fails(path, problem, f"{label} of {written}: {problem}", "NOS304")
            self.failed = True
            return None
        return spliced


def _holds_template(value: Any) -> bool:
    if isinstance(value, Template):
        return True
    if isinstance(value, list):
        return any(map(_holds_template, value))
    if isinstance(value, dict):
        return any(_holds_template(k) or _holds_template(v) for k, v in value.items())
    return False


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
                "NOS303",
            )


def resolve_args(args: dict, path: Path, ctx: LiteralContext, diags: Diagnostics, op_id: str) -> dict:
    """The op's args with every convert-time literal resolved, and the node's operators applied."""
    return remove_if_empty(Resolver(ctx, diags, op_id).mapping(args, path))
