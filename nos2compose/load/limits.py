"""What a job may cost past reading it (the input limit is source/reader.py's): the Compose it expands to.

A small job can stand for a huge file. The output is counted where it is built: the YAML writer and `up`'s
override file spend an OutputBudget as their text grows, so no route can pass the limit. Earlier stops keep
memory bounded before that: the literals count the least each splice adds (expansion.py), and depends_on
lists, which grow with the square of the ops, are counted before any is built. Each stops with one located
error (BeyondLimit, which JSON-looking text past its bounds raises too). docs/limits.md lists them all.
"""

from __future__ import annotations

import os
from typing import Any

from ..diagnostics import Diagnostics, Path
from ..model import Job

DEFAULT_OUTPUT_LIMIT = 50 * 1024 * 1024
OUTPUT_LIMIT_ENV = "NOS2COMPOSE_MAX_OUTPUT_BYTES"
SPLICES = "its literals splice their values again and again"


def output_limit() -> int:
    """Bytes of Compose a job may expand to (50 MiB, or NOS2COMPOSE_MAX_OUTPUT_BYTES)."""
    try:
        return max(1, int(os.environ.get(OUTPUT_LIMIT_ENV, "")))
    except ValueError:
        return DEFAULT_OUTPUT_LIMIT


class BeyondLimit(Exception):
    """A job past one of the limits (docs/limits.md), raised where it happens so that nothing more is built.
    `path` is the job's JSON path of the error: set by the first caller that knows it (`at`)."""

    def __init__(self, message: str, path: Path | None = None):
        super().__init__(message)
        self.message, self.path = message, path

    def at(self, path: Path) -> BeyondLimit:
        if self.path is None:
            self.path = path
        return self


def placed(path: Path, convert, *args) -> Any:
    """convert(*args), a limit passed on the way (JSON-looking text too deep or too long) placed at `path`."""
    try:
        return convert(*args)
    except BeyondLimit as exc:
        raise exc.at(path) from None


class TooLarge(BeyondLimit):
    """The job would expand past the output limit: raised by the literals as they splice (an early stop) and by
    the YAML writer as the text grows (exact); `where` is the writer's document path, outermost key first."""

    def __init__(self, path: Path | None, limit: int, why: str = SPLICES):
        super().__init__(
            f"the job would expand to more than {size_text(limit)} of Compose here ({why}); "
            f"the limit is {OUTPUT_LIMIT_ENV}",
            path,
        )
        self.limit = limit
        self.where: tuple = ()


class OutputBudget:
    """Bytes of Compose one run may still write: the YAML writer and `up`'s override file spend it as their
    text grows, and stop (TooLarge) before building what would be refused."""

    __slots__ = ("limit", "spent", "why")

    def __init__(self, limit: int | None = None, why: str = "the file is counted as it is written"):
        self.limit = output_limit() if limit is None else limit
        self.spent, self.why = 0, why

    def spend(self, size: int) -> None:
        self.spent += size
        if self.spent > self.limit:
            raise TooLarge(None, self.limit, self.why)


def size_text(size: int) -> str:
    return f"{size >> 20} MiB" if size >= 1 << 20 and not size % (1 << 20) else f"{size:,} bytes"


DEPENDS_ENTRY = 45  # bytes of Compose per depends_on entry besides the service's name (two indented lines)


def check_output_size(job: Job, names: dict[str, str], diags: Diagnostics) -> bool:
    """depends_on is the part of a Compose file that grows with the square of the ops (each may name every
    earlier one), so its entries are counted against the output limit before any is built: such a job stops at
    once with a located error, not after gigabytes; False then. (The literals count what they add themselves.)"""
    limit, spent = output_limit(), 0
    for op in job.run_ops:
        spent += sum(len(names.get(dep, dep)) + DEPENDS_ENTRY for dep in op.depends_on)
        if spent > limit:
            diags.error(
                (*op.path, "execution", "depends_on"),
                f"the job's depends_on lists come to more than {size_text(limit)} of Compose by this op "
                f"(entries for {sum(len(o.depends_on) for o in job.run_ops):,} dependencies in all); "
                f"the limit is {OUTPUT_LIMIT_ENV}",
                op.id,
            )
            return False
    return True
