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

from ..diagnostics import Diagnostics, Path, holds_credential
from ..model import Placeholder, Template
from .limits import placed as _at
from .literal_context import LITERAL, RESULT, RUN_TIME, LiteralContext, Unresolved
from .literal_context import LOCAL_HOST as LOCAL_HOST  # api/reports.py's
from .literal_context import UNKNOWN as UNKNOWN
from .node_values import REMOVE_IF_EMPTY as REMOVE_IF_EMPTY  # resources.py's
from .node_values import as_text, flatten, remove_if_empty, spread_value, string_field, tokens

SPREAD = "__spread__"
PAIRS = "__pairs__"


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
            field = path[-1] if path else None
            if SPREAD in value and set(value) <= {SPREAD, "chunked"} and field != "env":  # a lone spread object
                if field == "expose":
                    return self._lone_spread_expose(value, path, normalize)
                spliced = self._spread(value[SPREAD], path, list, False, value.get("chunked") is True)  # a list
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

    def _lone_spread_expose(self, value: dict, path: Path, normalize: bool) -> Any:
        """`expose: {__spread__: …}` with no array around it: the node merges it as an object (transformCollections),
        which fails the op unless the value is (one item holding) a JSON object; even then an expose that is one
        object exposes no port (the SDK's getExposePorts). A result is known only at run time: its ports are
        spliced as items then. NOS912 says which, as only the resolved value shows it."""
        merged = self.mapping(value, path, normalize)
        later = [key for key in merged if isinstance(key, Template)][:1]
        self.diags.warning(
            path,
            "a lone __spread__ with no array around it: the node merges it as an object, so it fails the op "
            "unless the value is a JSON object, and exposes no port even then; "
            + ("locally the result's ports are published" if later else "`nos2compose up` does the same")
            + '. Write [{"__spread__": ...}]',
            self.op_id,
            "NOS912",
        )
        return later

    def _parsed_text(self, path: Path, text: str, made: str) -> None:
        """JSON-looking text the node parses where the job may have meant text: the file does the same; say so
        (showing neither when it may be a credential: a password such as {abc} is read so too)."""
        if holds_credential(path):
            text, made = "this value", "what it holds"
        else:
            text, made = json.dumps(text, ensure_ascii=False)[:60], made[:60] or "nothing"
        self.diags.warning(
            path,
            f"the node reads {text} as JSON and uses {made} "
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
            if holds_credential(path):  # the node's words quote the value: not a credential's
                written, problem = "a credential's value", problem.split(":")[0]
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
