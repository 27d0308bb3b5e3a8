"""The one place job text becomes file text: every `$` of the job is written as `$$`, so Compose never
interpolates it; the only `${…}` a file holds are the generated variables of codec.py."""

from __future__ import annotations

from typing import Any

from ..model import Placeholder, Template, Variable
from .codec import reference


def render(value: Any, variables: dict[Placeholder, str]) -> Any:
    """A document part as Compose must read it. Mapping keys are taken literally by Compose (it does not
    interpolate them), so they are written as they are."""
    if isinstance(value, str):
        if isinstance(value, Template):
            return "".join(_part(p, variables) for p in value.parts)
        return value.replace("$", "$$")
    if isinstance(value, Variable):
        return reference(value.name)
    if isinstance(value, list):
        return [render(v, variables) for v in value]
    if isinstance(value, dict):
        return {_key(k, variables): render(v, variables) for k, v in value.items()}
    return value


def _key(key: str, variables: dict[Placeholder, str]) -> str:
    return "".join(_part(p, variables) for p in key.parts) if isinstance(key, Template) else key


def _part(part: Any, variables: dict[Placeholder, str]) -> str:
    if isinstance(part, Placeholder):
        return reference(variables[part])
    if isinstance(part, Variable):
        return reference(part.name)
    return part.replace("$", "$$")
