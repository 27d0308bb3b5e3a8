"""Filling in results of earlier ops when a group starts (the node resolves such literals then too).

A group file holds `${VAR:?…}` where a result goes, and its x-nos2compose.runtime
says which op and key each VAR stands for and how it is used: `text` (joined
with spaces), `items` (spliced into a list), `object`/`pairs` (merged into the
environment), optionally `_chunked`. Text values reach Compose as environment
variables; splices are written into a Compose override file that replaces just
the lists concerned, so hand edits of the group file are kept.
"""

from __future__ import annotations

import json
from typing import Any

from .. import contract
from ..load.literals import flatten

LIST_FIELDS = ("command", "entrypoint", "ports")


class Unfilled(Exception):
    """A literal with no value: the op using it fails, as on the node."""


def _parsed(text: Any) -> Any:
    if isinstance(text, str) and text[:1] in ("[", "{"):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def value_of(placeholder: contract.Placeholder, results: dict[str, dict]) -> Any:
    """The value of one placeholder from the results of the ops that have exited."""
    op, key, splice, literal = placeholder.op, placeholder.key, placeholder.splice, placeholder.literal
    if op not in results:
        raise Unfilled(f"{literal} has no value: op '{op}' has not exited (or declares no results)")
    found = results[op].get(key)
    if isinstance(found, str):  # the regex's compile error, as the node gives it
        raise Unfilled(f"{literal}: {found}")
    if not found:
        raise Unfilled(f"{literal} has no value: no line of op '{op}' matched its regex")
    if splice.endswith("_chunked"):
        try:
            found = [json.loads("".join(found))]
        except ValueError:
            raise Unfilled(f"{literal}: the chunks do not join into JSON") from None
        splice = splice[: -len("_chunked")]
    values = flatten([_parsed(v) for v in found])
    if splice == "text":
        return " ".join(v if isinstance(v, str) else json.dumps(v) for v in values)
    if splice == "items":
        return [v if isinstance(v, str) else json.dumps(v) for v in values]
    merged: dict = {}
    for v in values:
        if splice == "object" and isinstance(v, dict):
            merged.update(v)
        elif splice == "pairs" and isinstance(v, dict) and "key" in v and "value" in v:
            merged[str(v["key"])] = v["value"]
        else:
            raise Unfilled(
                f"{literal}: expected {'an object' if splice == 'object' else 'an array of {key, value}'}, "
                f"found {json.dumps(v)[:60]}"
            )
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in merged.items()}


def used_vars(value: Any) -> set[str]:
    if isinstance(value, str):
        return set(contract.references(value))
    if isinstance(value, list):
        return set().union(set(), *map(used_vars, value))
    if isinstance(value, dict):
        return set().union(set(), *(used_vars(k) | used_vars(v) for k, v in value.items()))
    return set()


def _splice(items: list, values: dict[str, Any]) -> list:
    """List items naming an `items` placeholder become one item per value (templates like ports kept)."""
    out = []
    for item in items:
        names = (
            [n for n in contract.references(item) if isinstance(values.get(n), list)] if isinstance(item, str) else []
        )
        if not names:
            out.append(item)
            continue
        for v in values[names[0]]:
            one = lambda name, v=v, wanted=names[0]: v.replace("$", "$$") if name == wanted else None  # noqa: E731
            out.append(contract.substitute(item, one))
    return out


def override(services: dict, values: dict[str, Any]) -> str | None:
    """A Compose override (YAML; JSON values) that splices list values and merges environment objects."""
    lines = []
    for name, svc in services.items():
        svc = svc or {}
        parts = []
        for field in LIST_FIELDS:
            items = svc.get(field)
            if isinstance(items, list) and any(isinstance(values.get(v), list) for v in used_vars(items)):
                parts.append(f"    {field}: !override {json.dumps(_splice(items, values))}")
        ext = svc.get(contract.EXTENSION) if isinstance(svc.get(contract.EXTENSION), dict) else {}
        env: dict = {}
        for ref in ext.get(contract.ENVIRONMENT_FROM_KEY) or []:
            for var in used_vars(ref):
                if isinstance(values.get(var), dict):
                    env.update(values[var])
        if env:
            escaped = {k: v.replace("$", "$$") for k, v in env.items()}
            parts.append(f"    environment: {json.dumps(escaped)}")
        if parts:
            lines += [f"  {json.dumps(name)}:", *parts]
    return "services:\n" + "\n".join(lines) + "\n" if lines else None
