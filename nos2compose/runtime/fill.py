"""Filling in results of earlier ops when a group starts (the node resolves such literals then too).

A group file holds `${VAR?…}` where a result goes, and its x-nos2compose.runtime
says which op and key each VAR stands for and how it is used: `text` (joined
with spaces), `items` (spliced into a list), `object`/`pairs` (merged into the
environment), optionally `_chunked`. Text values reach Compose as environment
variables; splices are written into a Compose override file that replaces just
the lists concerned, so hand edits of the group file are kept. Values are parsed within the bounds of
load/json_text.py, and the override is counted against the output limit as it grows (Overflow).
"""

from __future__ import annotations

import json
from typing import Any

from .. import contract
from ..load.limits import OUTPUT_LIMIT_ENV, BeyondLimit, OutputBudget, TooLarge, size_text
from ..load.node_values import as_text, env_string, json_if_it_looks_like, spread_value, string_field, tokens

LIST_FIELDS = ("command", "entrypoint", "ports")


class Unfilled(Exception):
    """A literal with no value, or a value the node cannot use: the op fails, as on the node."""


class Overflow(Exception):
    """The override file would pass the output limit: the ops splicing results into it fail, not the run."""


def value_of(placeholder: contract.Placeholder, results: dict[str, dict]) -> Any:
    """The value of one placeholder from the results of the ops that have exited, with the node's rules
    (interpolateOperation.ts and transformCollections.ts): an exited op has every declared key, [] when
    nothing matched; a regex that did not compile gives its error text. JSON-looking text past the bounds
    (json_text.py) is Unfilled, with the reason."""
    try:
        return _value_of(placeholder, results)
    except BeyondLimit as exc:
        raise Unfilled(f"{placeholder.literal}: {exc.message}") from None


def _value_of(placeholder: contract.Placeholder, results: dict[str, dict]) -> Any:
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


def used_vars(value: Any) -> set[str]:
    if isinstance(value, str):
        return set(contract.references(value))
    if isinstance(value, list):
        return set().union(set(), *map(used_vars, value))
    if isinstance(value, dict):
        return set().union(set(), *(used_vars(k) | used_vars(v) for k, v in value.items()))
    return set()


def _splice(items: list, values: dict[str, Any], budget: OutputBudget) -> str:
    """List items naming an `items` placeholder become one item per value (templates like ports kept): the
    list as JSON, its bytes spent as each item is made, so a value spliced again and again stops at the limit."""
    out: list[str] = []
    done: list[str] = []  # joined every few thousand items: text, not an object per item

    def add(item: Any) -> None:
        text = json.dumps(item)
        budget.spend(len(text) + 2)  # and its ", " (or the brackets, for the last): exact, as JSON is ASCII here
        out.append(text)
        if len(out) >= 4096:
            done.append(", ".join(out))
            out.clear()

    for item in items:
        names = (
            [n for n in contract.references(item) if isinstance(values.get(n), list)] if isinstance(item, str) else []
        )
        if not names:
            add(item)
            continue
        for v in values[names[0]]:
            one = lambda name, v=v, wanted=names[0]: v.replace("$", "$$") if name == wanted else None  # noqa: E731
            add(contract.substitute(item, one))
    return "[" + ", ".join([*done, ", ".join(out)] if out else done) + "]"


def override(services: dict, values: dict[str, Any]) -> str | None:
    """A Compose override (YAML; JSON values) that splices list values and merges environment objects; Overflow
    when it would pass the output limit (counted as it is made)."""
    try:
        return _override(services, values, OutputBudget())
    except TooLarge as big:
        raise Overflow(
            f"the results of earlier ops spliced into this group's override file come to more than "
            f"{size_text(big.limit)} of Compose; the limit is {OUTPUT_LIMIT_ENV}"
        ) from None


def _override(services: dict, values: dict[str, Any], budget: OutputBudget) -> str | None:
    budget.spend(len("services:\n"))
    lines = []
    for name, svc in services.items():
        svc = svc or {}
        parts = []
        for field in LIST_FIELDS:
            items = svc.get(field)
            if isinstance(items, list) and any(isinstance(values.get(v), list) for v in used_vars(items)):
                budget.spend(len(f"    {field}: !override \n"))
                parts.append(f"    {field}: !override {_splice(items, values, budget)}")
        ext = svc.get(contract.EXTENSION) if isinstance(svc.get(contract.EXTENSION), dict) else {}
        env: dict = {}
        for ref in ext.get(contract.ENVIRONMENT_FROM_KEY) or []:
            for var in used_vars(ref):
                if isinstance(values.get(var), dict):
                    env.update(values[var])
        if env:
            escaped = {k: v.replace("$", "$$") for k, v in env.items()}
            parts.append(f"    environment: {json.dumps(escaped)}")
            budget.spend(len(parts[-1]) + 1)
        if parts:
            head = f"  {json.dumps(name)}:"
            budget.spend(len(head) + 1)
            lines += [head, *parts]
    return "services:\n" + "\n".join(lines) + "\n" if lines else None
