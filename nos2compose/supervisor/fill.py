"""The values of results of earlier ops when a group starts, with the node's rules (it resolves such literals
then too). Each run-time placeholder says which op and key it stands for and how it is used: `text` (joined
with spaces), `items` (spliced into a list), `object`/`pairs` (merged into the environment), optionally
`_chunked`. compose/overrides.py puts the values where the group file wants them.
"""

from __future__ import annotations

from typing import Any

from ..load.limits import BeyondLimit
from ..load.node_values import as_text, env_string, json_if_it_looks_like, spread_value, string_field, tokens
from ..model import Placeholder


class Unfilled(Exception):
    """A literal with no value, or a value the node cannot use: the op fails, as on the node."""


def value_of(placeholder: Placeholder, results: dict[str, dict]) -> Any:
    """The value of one placeholder from the results of the ops that have exited, with the node's rules
    (interpolateOperation.ts and transformCollections.ts): an exited op has every declared key, [] when
    nothing matched; a regex that did not compile gives its error text. JSON-looking text past the bounds
    (load/json_text.py) is Unfilled, with the reason."""
    try:
        return _value_of(placeholder, results)
    except BeyondLimit as exc:
        raise Unfilled(f"{placeholder.literal}: {exc.message}") from None


def _value_of(placeholder: Placeholder, results: dict[str, dict]) -> Any:
    op, key, splice = placeholder.op, placeholder.key, placeholder.splice
    found = results.get(op, {}).get(key)
    if found is None:
        raise Unfilled(f'Unresolved literal: "{placeholder.literal}" (opId="{op}", path="results.{key}")')
    # a group that took no part is null: the node's tokens leave it out
    raw = [found] if isinstance(found, str) else [json_if_it_looks_like(v) for v in found if v is not None]
    if splice == "text":  # the whole value of a string field: one item as itself, else the items joined
        return env_string(string_field(raw))
    if splice == "embedded":  # inside a longer string
        return as_text(raw)
    if splice.startswith("items"):  # a whole array item, or {__spread__} in an array: each value an item
        value, problem = (tokens(raw), None) if splice == "items" else spread_value(raw, list, False, True)
        if problem is not None:
            raise Unfilled(problem)
        return [env_string(v) for v in value]
    # {__spread__} / {__pairs__} in an object: the value is first made one string field's value
    value, problem = spread_value(string_field(raw), dict, splice.startswith("pairs"), False)
    if problem is not None:
        raise Unfilled(problem)
    return {k: env_string(v) for k, v in value.items()}
