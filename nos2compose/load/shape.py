"""Small typed readers for the raw mapping: each checks one value and reports at its path.

Every reader returns the value when it has the right type, else None after
recording an error, so the loader can go on and report every problem at once.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from ..diagnostics import Diagnostics, Path, describe_value, holds_credential


class Shape:
    def __init__(self, diags: Diagnostics):
        self.diags = diags

    def wrong(self, path: Path, expected: str, value: Any, op: str | None = None) -> None:
        self.diags.error(path, f"expected {expected}, found {describe_value(value, holds_credential(path))}", op)

    def obj(self, value: Any, path: Path, op: str | None = None) -> dict | None:
        if isinstance(value, dict):
            return value
        self.wrong(path, "an object", value, op)
        return None

    def string(self, value: Any, path: Path, op: str | None = None, what: str = "a string") -> str | None:
        if isinstance(value, str):
            return value
        self.wrong(path, what, value, op)
        return None

    def boolean(self, value: Any, path: Path, op: str | None = None) -> bool | None:
        if isinstance(value, bool):
            return value
        self.wrong(path, "true or false", value, op)
        return None

    def number(self, value: Any, path: Path, op: str | None = None) -> float | int | None:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return value
        self.wrong(path, "a number", value, op)
        return None

    def integer(
        self, value: Any, path: Path, low: int, high: int, what: str, op: str | None = None, text_ok: bool = False
    ) -> int | None:
        """A whole number in [low, high]; with text_ok, strings of digits (values of literals) count too."""
        if text_ok and isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
            return value
        self.wrong(path, f"{what} (a whole number from {low} to {high})", value, op)
        return None

    def strings(self, value: Any, path: Path, op: str | None = None) -> list[str] | None:
        if isinstance(value, list):
            ok = True
            for i, item in enumerate(value):
                if not isinstance(item, str):
                    self.wrong(path + (i,), "a string", item, op)
                    ok = False
            return value if ok else None
        self.wrong(path, "an array of strings", value, op)
        return None

    def string_or_strings(self, value: Any, path: Path, op: str | None = None) -> str | list[str] | None:
        if isinstance(value, str):
            return value
        if isinstance(value, list):
            return self.strings(value, path, op)
        self.wrong(path, "a string or an array of strings", value, op)
        return None

    def string_map(self, value: Any, path: Path, op: str | None = None) -> dict[str, str] | None:
        obj = self.obj(value, path, op)
        if obj is None:
            return None
        ok = True
        for key, item in obj.items():
            if key == "":
                self.diags.error(path, "an empty name cannot be set (Compose refuses it)", op)
                ok = False
            if not isinstance(item, str):
                self.wrong(path + (key,), "a string", item, op)
                ok = False
        return obj if ok else None

    def one_of(self, value: Any, path: Path, choices: Iterable[str], op: str | None = None) -> str | None:
        choices = tuple(choices)
        if isinstance(value, str) and value in choices:
            return value
        self.wrong(path, "one of " + ", ".join(f'"{c}"' for c in choices), value, op)
        return None

    def known_keys(self, obj: dict, path: Path, known: Iterable[str], op: str | None = None) -> None:
        """Unknown keys: ignored with a warning, or an error under --strict, as Nosana's validator."""
        known = set(known)
        for key in obj:
            if key not in known:
                self.diags.strict_rule(
                    path + (key,),
                    f"unknown key '{key}' (known here: {', '.join(sorted(known))})",
                    "ignored",
                    op,
                    "NOS001",
                )

    def required(self, obj: dict, key: str, path: Path, what: str, op: str | None = None) -> bool:
        if key in obj:
            return True
        self.diags.error(path, f"missing required key '{key}' ({what})", op)
        return False
