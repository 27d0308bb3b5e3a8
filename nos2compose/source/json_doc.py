"""JSON: parsed by the standard C parser; positions found by walking the text along one path.

A map from every path to its position cost about 125 bytes per input byte (a 10 MB
string took 1.2 GB). The locator instead follows only the path asked for, skipping
each sibling with the C scanner, and keeps just the offsets of the containers it
went through: memory is linear in those containers, the time a few C-speed scans.
"""

from __future__ import annotations

import json
import re
from array import array
from collections.abc import Iterator
from itertools import islice
from json.decoder import scanstring
from typing import Any

from ..diagnostics import Diagnostic, Path
from .messages import MAX_DEPTH, MAX_DIGITS, duplicate_key, huge_number, too_deep

_WS = re.compile(r"[ \t\n\r]*")
_COMMA = re.compile(r"[ \t\n\r]*,[ \t\n\r]*")
_DECODER = json.JSONDecoder()
_CONSTANT = re.compile(r"(?<![\w\"])-?(?:NaN|Infinity)\b")
_LONG_NUMBER = re.compile(rf"(?<![\w.\"])-?\d{{{MAX_DIGITS + 1},}}")
_BRACKET_OR_QUOTE = re.compile(r'["\[\]{}]')
_BLOCK = 1 << 16  # line numbers are counted from a checkpoint every 64 KiB
_UNPARSED = (ValueError, IndexError, RecursionError)


def parse_json(text: str, locator: JsonLocator) -> tuple[Any, Diagnostic | None, list[Diagnostic]]:
    """The data, or the error JSON.parse would give, with its line and column; plus warnings."""
    duplicated: list[dict] = []  # objects that had a key twice (kept alive so their ids stay unique)

    def last_wins(pairs: list[tuple[str, Any]]) -> dict:
        obj = dict(pairs)
        if len(obj) != len(pairs):
            duplicated.append(obj)
        return obj

    try:
        data = json.loads(text, parse_constant=_not_json, object_pairs_hook=last_wins)
    except json.JSONDecodeError as exc:
        position = (exc.lineno, exc.colno)
        if not exc.doc:  # NaN or Infinity: JSON.parse refuses them; find where they stand
            m = _CONSTANT.search(text)
            position = locator.line_col(m.start() if m else 0)
        return None, Diagnostic("error", (), f"malformed JSON: {exc.msg}", position=position), []
    except RecursionError:  # deeper than the C parser goes: far beyond MAX_DEPTH
        return None, too_deep(_deep_position(locator)), []
    except ValueError as exc:  # an integer of thousands of digits
        m = _LONG_NUMBER.search(text)
        return (
            None,
            Diagnostic(
                "error",
                (),
                f"malformed JSON: {huge_number(exc)}",
                position=locator.line_col(m.start()) if m else (1, 1),
            ),
            [],
        )
    if text.count("[") + text.count("{") > MAX_DEPTH and _deeper_than(data, MAX_DEPTH):
        return None, too_deep(_deep_position(locator)), []
    return data, None, _duplicates(data, duplicated, locator) if duplicated else []


def _not_json(token: str) -> Any:
    raise json.JSONDecodeError(f"{token} is not a JSON value", "", 0)


def _deeper_than(data: Any, limit: int) -> bool:
    """Whether a value sits inside more than `limit` containers (iterative, level by level)."""
    level = [data] if isinstance(data, (dict, list)) else []
    for _ in range(limit):
        level = [c for v in level for c in (v.values() if isinstance(v, dict) else v) if isinstance(c, (dict, list))]
        if not level:
            return False
    return any(level)  # a non-empty container at depth `limit` holds values deeper than that


def _deep_position(locator: JsonLocator) -> tuple[int, int] | None:
    """Where the first value inside more than MAX_DEPTH containers starts (strings skipped)."""
    text, depth, i = locator.text, 0, 0
    while m := _BRACKET_OR_QUOTE.search(text, i):
        char, i = m.group(), m.end()
        if char == '"':
            try:
                i = scanstring(text, i, False)[1]
            except ValueError:
                return None
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                j = _WS.match(text, i).end()
                if j < len(text) and text[j] not in "]}":
                    return locator.line_col(j)
        else:
            depth -= 1
    return None


def _duplicates(data: Any, duplicated: list[dict], locator: JsonLocator) -> list[Diagnostic]:
    wanted = {id(obj) for obj in duplicated}
    out = []
    try:
        for path in _paths_of(data, wanted):
            for key, first, second in locator.duplicates(path):
                out.append(duplicate_key(path + (key,), key, locator.line_col(first)[0], locator.line_col(second)))
    except _UNPARSED:  # warnings are a courtesy; the data is good
        pass
    return out


def _paths_of(data: Any, wanted: set[int]) -> Iterator[Path]:
    """Paths of the containers whose id is in `wanted`, depth first, without recursion."""
    if id(data) in wanted:
        yield ()
    stack = [((), _items(data))]
    while stack:
        path, items = stack[-1]
        for key, child in items:
            if isinstance(child, (dict, list)):
                if id(child) in wanted:
                    yield path + (key,)
                stack.append((path + (key,), _items(child)))
                break
        else:
            stack.pop()


def _items(value: Any) -> Iterator[tuple[Any, Any]]:
    return iter(value.items()) if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else iter(())


class JsonLocator:
    """Offsets and line/column of values in JSON text, found on demand."""

    def __init__(self, text: str):
        self.text = text
        self._tables: dict[int, dict[str, int] | _Elements] = {}  # container offset -> its children's offsets
        self._lines: array | None = None  # newlines before each _BLOCK

    def position(self, path: Path) -> tuple[int, int]:
        """Line and column of the value at `path`, or of its nearest existing parent."""
        return self.line_col(self.offset(path))

    def offset(self, path: Path) -> int:
        at = _WS.match(self.text).end()
        for part in path:
            child = self._child(at, part)
            if child is None:
                break
            at = child
        return at

    def line_col(self, offset: int) -> tuple[int, int]:
        text = self.text
        if self._lines is None:
            self._lines = array("q", [0])
            for start in range(0, len(text), _BLOCK):
                self._lines.append(self._lines[-1] + text.count("\n", start, start + _BLOCK))
        block = offset // _BLOCK
        line = self._lines[block] + text.count("\n", block * _BLOCK, offset) + 1
        return line, offset - (text.rfind("\n", 0, offset) + 1) + 1

    def duplicates(self, path: Path) -> list[tuple[str, int, int]]:
        """(key, offset of its previous occurrence, offset of this one) for each repeated key of the object."""
        seen: dict[str, int] = {}
        out = []
        for key, key_at, _ in self._members(self.offset(path)):
            if key in seen:
                out.append((key, seen[key], key_at))
            seen[key] = key_at
        return out

    def _child(self, at: int, part: str | int) -> int | None:
        table = self._tables.get(at)
        if table is None:
            table = self._tables[at] = self._table(at)
        if isinstance(table, dict):
            return table.get(part) if isinstance(part, str) else None
        return table.get(part) if isinstance(part, int) and not isinstance(part, bool) and part >= 0 else None

    def _table(self, at: int) -> dict[str, int] | _Elements:
        if not self.text.startswith("{", at):
            return _Elements(self._elements(at) if self.text.startswith("[", at) else iter(()))
        table: dict[str, int] = {}
        try:
            for key, _, value_at in self._members(at):
                table[key] = value_at  # the last one wins, as in the data
        except _UNPARSED:  # text that does not parse: keep what was found
            pass
        return table

    def _elements(self, at: int) -> Iterator[int]:
        text = self.text
        i = _WS.match(text, at + 1).end()
        if text.startswith("]", i):
            return
        while True:
            yield i
            comma = _COMMA.match(text, _DECODER.raw_decode(text, i)[1])
            if comma is None:
                return
            i = comma.end()

    def _members(self, at: int) -> Iterator[tuple[str, int, int]]:
        """(key, key offset, value offset) of each member of the object at `at`, in order."""
        text = self.text
        i = _WS.match(text, at + 1).end()
        while text.startswith('"', i):
            key, j = scanstring(text, i + 1)
            j = _WS.match(text, j).end()
            if not text.startswith(":", j):
                return
            value_at = _WS.match(text, j + 1).end()
            yield key, i, value_at
            comma = _COMMA.match(text, _DECODER.raw_decode(text, value_at)[1])
            if comma is None:
                return
            i = comma.end()


class _Elements:
    """The offsets of an array's elements, scanned only as far as a path has asked."""

    def __init__(self, scan: Iterator[int]):
        self.offsets = array("q")
        self._scan: Iterator[int] | None = scan

    def get(self, index: int) -> int | None:
        missing = index + 1 - len(self.offsets)
        if missing > 0 and self._scan is not None:
            try:
                self.offsets.extend(islice(self._scan, missing))
            except _UNPARSED:  # text that does not parse: keep what was found
                self._scan = None
            if len(self.offsets) <= index:
                self._scan = None
        return self.offsets[index] if index < len(self.offsets) else None
