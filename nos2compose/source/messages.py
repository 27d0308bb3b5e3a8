"""The limits and messages both formats share, worded once so JSON and YAML say the same."""

from __future__ import annotations

import sys

from ..diagnostics import Diagnostic, Path

# A value may sit inside at most this many objects/arrays: the bound load.checks.check_text
# (MAX_DEPTH) applies to the parsed data, enforced here while parsing so that hostile nesting
# never reaches a recursive parser or the passes after it.
MAX_DEPTH = 100

BOM_WARNING = Diagnostic(
    "warning", (), "the file starts with a UTF-8 byte order mark; it is ignored", position=(1, 1), code="NOS011"
)


# Python refuses to convert integers longer than this (3.11+, and 3.10.7+); JSON.parse would make them
# imprecise floats. Either way no field of a job holds one.
MAX_DIGITS = getattr(sys, "get_int_max_str_digits", lambda: 4300)() or 4300


def huge_number(exc: ValueError) -> str:
    """The problem a ValueError from building a number stands for, worded for the job's author."""
    if "integer string conversion" in str(exc):  # Python's digit limit
        return f"a number with more than {MAX_DIGITS} digits; no field of a job needs one"
    return str(exc)


def too_deep(position: tuple[int, int] | None) -> Diagnostic:
    return Diagnostic(
        "error",
        (),
        f"nested more than {MAX_DEPTH} levels deep; a job definition never needs that",
        position=position or (1, 1),
    )


def duplicate_key(path: Path, key: object, first_line: int, position: tuple[int, int]) -> Diagnostic:
    """A key given twice in one object: the last value is kept, so say which lines."""
    return Diagnostic(
        "warning",
        path,
        f"duplicate key {key!r} (line {first_line} and line {position[0]}): "
        "the last one is used, as Nosana's JSON parser does",
        position=position,
        code="NOS010",
    )
