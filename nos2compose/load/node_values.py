"""How the node turns values into the strings and lists a container gets, step by step, as its code does.

When an op starts, the node (interpolateOperation.ts, transformCollections.ts,
finalizeEnv.ts) resolves literals, then normalizes every value of `args` by
where it stands: a string field becomes one string (JSON-looking text parsed,
arrays joined with spaces, objects `[object Object]`), an item of an array
becomes tokens (JSON arrays spliced, nulls dropped, objects and numbers kept),
then `__spread__` / `__pairs__` splice, then env values become strings. These
rules hold for values known at convert time and for results `up` fills in, so
both use this module. JSON-looking text is parsed within bounds (json_text.py), and tokens and flatten
walk a value without recursion (text inside text is parsed again at every level, as the node does).
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

from .json_text import parse, parse_if_it_looks_like

json_if_it_looks_like = parse_if_it_looks_like  # parseJsonIfLooksLike (JsonBeyond past the bounds)
REMOVE_IF_EMPTY = "__remove-if-empty__"
SAFE_INTEGER = 2**53  # whole numbers a double holds exactly


def flatten(items: list) -> list:
    """Nested arrays' items in order (without recursion)."""
    out: list = []
    stack = [iter(items)]
    while stack:
        for item in stack[-1]:
            if isinstance(item, list):
                stack.append(iter(item))
                break
            out.append(item)
        else:
            stack.pop()
    return out


def tokens(value: Any) -> list:
    """valueToArrayTokens: a value as the items of an array (JSON text parsed, arrays flattened, nulls dropped;
    an item that is JSON-looking text is parsed in turn, as the node's recursion does)."""
    out: list = []
    stack = [iter((value,))]
    while stack:
        for item in stack[-1]:
            item = json_if_it_looks_like(item)
            if isinstance(item, list):
                stack.append(iter(item))
                break
            if item is not None:
                out.append(item)
        else:
            stack.pop()
    return out


def js_string(value: Any) -> str:
    """JavaScript's String() of one token."""
    if isinstance(value, dict):
        return "[object Object]"
    if isinstance(value, list):
        return ",".join("" if v is None else js_string(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return js_number(value)
    return str(value)


def js_number(value: int | float) -> str:
    """Number::toString (ECMA-262 6.1.6.1.20): the shortest digits that read back as the same double, plainly up to
    21 digits before the point and 6 zeros after it (0.00001, 1e-7). A whole number past 2**53 is a double first,
    as JSON.parse reads it: 12345678901234567890 is 12345678901234567000."""
    if isinstance(value, int) and -SAFE_INTEGER <= value <= SAFE_INTEGER:
        return str(value)
    try:
        number = float(value)
    except OverflowError:  # more digits than a double holds: JSON.parse gives Infinity
        number = math.copysign(math.inf, value)
    if not math.isfinite(number):
        return "NaN" if number != number else "Infinity" if number > 0 else "-Infinity"
    if number == 0:
        return "0"  # -0 too
    _, digits, exponent = Decimal(repr(abs(number))).normalize().as_tuple()
    text, sign = "".join(map(str, digits)), "-" if number < 0 else ""
    k, n = len(text), len(text) + exponent  # the value is 0.TEXT * 10**n
    if k <= n <= 21:
        return sign + text + "0" * (n - k)
    if 0 < n <= 21:
        return sign + text[:n] + "." + text[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * -n + text
    return f"{sign}{text[0]}{'.' + text[1:] if k > 1 else ''}e{'+' if n > 1 else '-'}{abs(n - 1)}"


def js_json(value: Any) -> str:
    """JSON.stringify(value): compact, and numbers as JavaScript writes them (json.dumps would give 1e-05, 1.0)."""
    if not _has_odd_number(value):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    out: list[str] = []
    stack: list = [value]  # values to write, and the text between them
    while stack:
        item = stack.pop()
        if isinstance(item, _Text):
            out.append(item)
        elif isinstance(item, dict):
            out.append("{")
            pending: list = []
            for i, (key, v) in enumerate(item.items()):
                pending += [_Text(("," if i else "") + json.dumps(str(key), ensure_ascii=False) + ":"), v]
            stack += [_Text("}"), *reversed(pending)]
        elif isinstance(item, list):
            out.append("[")
            pending = []
            for i, v in enumerate(item):
                pending += [_Text(","), v] if i else [v]
            stack += [_Text("]"), *reversed(pending)]
        elif isinstance(item, (int, float)) and not isinstance(item, bool):
            out.append(js_number(item) if math.isfinite(item) else "null")
        else:
            out.append(json.dumps(item, ensure_ascii=False))
    return "".join(out)


class _Text(str):
    """Punctuation js_json writes as it is."""


def js_truthy(value: Any) -> bool:
    """JavaScript's truthiness: null, false, 0 and "" are false; any object or array, even empty, is true."""
    return not (value is None or value == "" or (isinstance(value, (int, float)) and value == 0))  # False == 0


def _has_odd_number(value: Any) -> bool:
    """Whether a float or a whole number past 2**53 is in `value` (then json.dumps would not write as JavaScript)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) or (isinstance(item, int) and not -SAFE_INTEGER <= item <= SAFE_INTEGER):
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def as_text(value: Any) -> str:
    """valueToSpaceString: a value inside a string, or as a string field's whole value: its tokens, spaces between."""
    return " ".join(js_string(t) for t in tokens(value))


def string_field(value: Any) -> Any:
    """normalizeByOrigin for a field the job wrote as a string: a one-item array gives its item (as it is),
    anything else its text."""
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return as_text(value)


def env_string(value: Any) -> str:
    """An env value as the node makes it a string (finalizeEnv.ts): String() of a scalar, JSON of the rest."""
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return js_json(value)
    return js_string(value)


def spread_value(raw: Any, want: type, pairs: bool, chunked: bool) -> tuple[Any, str | None]:
    """What `{__spread__: raw}` or `{__pairs__: raw}` brings, or the node's error (transformCollections.ts).

    `raw` is the marker's value after the node's earlier steps: in an array as the literal resolved it (or as
    written); as a key of an object, already made a string field's value (string_field)."""
    label = "__pairs__" if pairs else "__spread__"
    value = raw
    if isinstance(value, str):
        try:
            value = parse(value)
        except ValueError:  # JavaScript's words end the same way
            return None, f"{label} is not valid JSON: {json.dumps(value[:40], ensure_ascii=False)} is not valid JSON"
    elif chunked and want is list and not pairs and isinstance(value, list) and all(isinstance(s, str) for s in value):
        try:
            value = parse("".join(value))
        except ValueError as exc:
            return None, f"{label} chunked array is not valid JSON: {exc.msg}"
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
        if not isinstance(value, list):
            return None, "__spread__ must be a JSON array"
        return [v for item in value for v in (item if isinstance(item, list) else [item])], None  # .flat()
    return (value, None) if isinstance(value, dict) else (None, "__spread__ must be a JSON object")


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
