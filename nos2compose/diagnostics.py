"""Errors and warnings as values: each carries the JSON path it is about.

The compiler never prints and never raises for bad input; it returns these, and
the CLI turns them into `file:line:col` lines once, at the edge.
"""

from __future__ import annotations

import re
from typing import NamedTuple

Path = tuple[str | int, ...]

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def format_path(path: Path) -> str:
    """`("ops", 1, "args")` -> `$.ops[1].args`, the notation Nosana's validator uses."""
    out = ["$"]
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _PLAIN_KEY.match(part):
            out.append(f".{part}")
        else:
            out.append('["' + part.replace("\\", "\\\\").replace('"', '\\"') + '"]')
    return "".join(out)


class Diagnostic(NamedTuple):
    severity: str  # "error" or "warning"
    path: Path
    message: str
    op: str | None = None
    position: tuple[int, int] | None = None  # known up front (syntax errors); else looked up by path
    code: str | None = None  # a warning's rule code (NOS…, nos2compose.lint.catalogue); errors have none

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def describe(self) -> str:
        """The message with its code, path and op, without the file position."""
        where = format_path(self.path) if self.code is None else f"{self.code} {format_path(self.path)}"
        if self.op is not None:
            where += f' (op "{self.op}")'
        return f"{where}: {self.message}"


KEEP = 1000  # diagnostics of each severity kept one by one; the rest are counted (a hostile job may have millions)


class Diagnostics:
    """Collects diagnostics in the order found; `strict` turns strict-only rules into errors."""

    def __init__(self, strict: bool = False):
        self.strict = strict
        self.items: list[Diagnostic] = []
        self.counts = {"error": 0, "warning": 0}  # all found, kept or not

    def _add(self, severity: str, path: Path, message: str, op: str | None, code: str | None = None) -> None:
        self.counts[severity] += 1
        if self.counts[severity] <= KEEP:
            self.items.append(Diagnostic(severity, tuple(path), message, op, None, code))

    def error(self, path: Path, message: str, op: str | None = None) -> None:
        self._add("error", path, message, op)

    def warning(self, path: Path, message: str, op: str | None = None, code: str | None = None) -> None:
        self._add("warning", path, message, op, code)

    def strict_rule(
        self, path: Path, message: str, lenient: str, op: str | None = None, code: str | None = None
    ) -> None:
        """A rule only Nosana's strict validator enforces: an error with --strict (errors carry no code), else a
        warning with its code."""
        if self.strict:
            self.error(path, f"{message} (Nosana's validator rejects this)", op)
        else:
            self.warning(path, f"{message}; {lenient}", op, code)

    def withdraw(self, prefixes: list[Path]) -> None:
        """Forgets the warnings at or under `prefixes`: a later pass found that what they said was lost is not."""
        stale = [d for d in self.items if not d.is_error and any(d.path[: len(p)] == tuple(p) for p in prefixes)]
        self.items = [d for d in self.items if d not in stale]
        self.counts["warning"] -= len(stale)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.is_error]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if not d.is_error]

    def has_errors(self) -> bool:
        return self.counts["error"] > 0


CREDENTIAL_KEYS = frozenset({"password", "accessToken", "SECRET_ACCESS_KEY", "ACCESS_KEY_ID"})


def holds_credential(path: Path) -> bool:
    """Whether the value at `path` is, or may hold, a credential: a message about it never shows it (a mistyped
    password, a PIN written as a number, is still a password, and the CLI's masking knows only strings). A
    username or a region is shown; anything else under `authentication` or `IAM` may hold one ("user:password")."""
    return any(part in CREDENTIAL_KEYS for part in path) or (
        ("authentication" in path or "IAM" in path) and path[-1] not in ("username", "email", "server", "REGION")
    )


def describe_value(value: object, secret: bool = False) -> str:
    """A short rendering of a JSON value for 'found …' in messages; with `secret`, only its type."""
    import json

    if secret and isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return f"{'a string' if isinstance(value, str) else 'a number'} (not shown: it may be a credential)"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."
