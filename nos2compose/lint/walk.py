"""Reading the job as written: the rules look at the raw mapping (paths point at what the user wrote, global
values stay at `global`), defensively, because lints also run on a job that has errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

from ..diagnostics import Diagnostic, Path

LITERAL_MARK = "%%"  # text holding a literal is only known when the op starts: no rule judges it


class RawOp(NamedTuple):
    index: int
    id: str | None
    args: dict  # {} when the op has none (or not an object)
    raw: dict

    @property
    def path(self) -> Path:
        return ("ops", self.index)

    def at(self, *keys: str | int) -> Path:
        """The path of something in this op's args."""
        return ("ops", self.index, "args", *keys)


_read: list = [None, ()]  # while lint_job runs: its job and that job's ops, which every rule walks


@contextmanager
def reading(data: Any) -> Iterator[None]:
    """Within this block, run_ops(data) reads the ops once for all the rules."""
    _read[:] = [data, _ops(data)]
    try:
        yield
    finally:
        _read[:] = [None, ()]


def run_ops(data: Any) -> tuple[RawOp, ...]:
    """The container/run ops of the job as written (anything that is not an object is skipped)."""
    return _read[1] if _read[0] is data else _ops(data)


def _ops(data: Any) -> tuple[RawOp, ...]:
    ops = data.get("ops") if isinstance(data, dict) else None
    found = []
    for index, raw in enumerate(ops if isinstance(ops, list) else ()):
        if not isinstance(raw, dict) or raw.get("type", "container/run") != "container/run":
            continue
        op_id = raw.get("id") if isinstance(raw.get("id"), str) else None
        args = raw.get("args") if isinstance(raw.get("args"), dict) else {}
        found.append(RawOp(index, op_id, args, raw))
    return tuple(found)


def section(data: Any, *keys: str) -> dict:
    """data[k1][k2]... when each is an object, else {} (global, meta.system_requirements, ...)."""
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}


def strings(value: Any, path: Path) -> Iterator[tuple[Path, str]]:
    """Every string inside `value` with its path (iterative: nesting is bounded already, but cheap to be safe)."""
    stack = [(path, value)]
    while stack:
        here, item = stack.pop()
        if isinstance(item, str):
            yield here, item
        elif isinstance(item, dict):
            stack.extend(((*here, k), v) for k, v in reversed(item.items()) if isinstance(k, str))
        elif isinstance(item, list):
            stack.extend(((*here, i), v) for i, v in reversed(list(enumerate(item))))


def op_id_at(data: Any, path: Path) -> str | None:
    """The id of the op a path lies in (None outside ops)."""
    if len(path) < 2 or path[0] != "ops" or not isinstance(path[1], int):
        return None
    ops = data.get("ops") if isinstance(data, dict) else None
    raw = ops[path[1]] if isinstance(ops, list) and path[1] < len(ops) else None
    op_id = raw.get("id") if isinstance(raw, dict) else None
    return op_id if isinstance(op_id, str) else None


def finding(code: str, path: Path, message: str, op: str | None = None) -> Diagnostic:
    return Diagnostic("warning", tuple(path), message, op, None, code)


def quoted(text: str, most: int = 60) -> str:
    """Text for a message, in double quotes, cut to `most` characters."""
    shown = text if len(text) <= most else text[: most - 1] + "…"
    return '"' + shown.replace("\\", "\\\\").replace('"', '\\"') + '"'
