"""How the node turns values into the strings and lists a container gets, step by step, as its code does.

When an op starts, the node (interpolateOperation.ts, transformCollections.ts,
finalizeEnv.ts) resolves literals, then normalizes every value of `args` by
where it stands: a string field becomes one string (JSON-looking text parsed,
arrays joined with spaces, objects `[object Object]`), an item of an array
becomes tokens (JSON arrays spliced, nulls dropped, objects and numbers kept),
then `__spread__` / `__pairs__` splice, then env values become strings. These
rules hold for values known at convert time and for results `up` fills in, so
both use this module.
"""

from __future__ import annotations

import json
from typing import Any


def json_if_it_looks_like(value: Any) -> Any:
    """parseJsonIfLooksLike: text starting with [ or { (after spaces) parsed as JSON, kept as text if it fails."""
    if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def flatten(items: list) -> list:
    out: list = []
    for item in items:
        out.extend(flatten(item) if isinstance(item, list) else [item])
    return out


def tokens(value: Any) -> list:
    """valueToArrayTokens: a value as the items of an array (JSON text parsed, arrays flattened, nulls dropped)."""
    value = json_if_it_looks_like(value)
    if isinstance(value, list):
        return [t for item in value for t in tokens(item)]
    return [] if value is None else [value]


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
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return str(value)


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
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return js_string(value)


def spread_value(raw: Any, want: type, pairs: bool, chunked: bool) -> tuple[Any, str | None]:
    """What `{__spread__: raw}` or `{__pairs__: raw}` brings, or the node's error (transformCollections.ts).

    `raw` is the marker's value after the node's earlier steps: in an array as the literal resolved it (or as
    written); as a key of an object, already made a string field's value (string_field)."""
    label = "__pairs__" if pairs else "__spread__"
    value = raw
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:  # JavaScript's words end the same way
            return None, f"{label} is not valid JSON: {json.dumps(value[:40], ensure_ascii=False)} is not valid JSON"
    elif chunked and want is list and not pairs and isinstance(value, list) and all(isinstance(s, str) for s in value):
        try:
            value = json.loads("".join(value))
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
