"""Where each YAML value starts, indexed in one pass over libyaml's events.

Values are numbered in document order; for each it keeps its line, column and the
number after its subtree (12 bytes) and its key, so memory stays a small multiple of
the text, unlike a tree of PyYAML nodes; aliases are leaves, never expanded.
"""

from __future__ import annotations

from array import array
from typing import Any

import yaml

from ..diagnostics import Path
from .yaml_doc import Loader, scalar

_COMPLEX = object()  # a key no path can name (a collection, an alias, a merge key)
_IN_SEQUENCE, _NO_KEY = object(), object()  # no key: a sequence's item; a mapping awaiting its next key
_STARTS = {yaml.MappingStartEvent, yaml.SequenceStartEvent}
_NODE_EVENTS = {yaml.ScalarEvent, yaml.AliasEvent, *_STARTS}
_ENDS = {yaml.MappingEndEvent, yaml.SequenceEndEvent}


class YamlLocator:
    """Line and column of every value; a container's children are tabled when first asked for."""

    def __init__(self, text: str):
        self.line, self.col, self.end = array("i"), array("i"), array("i")
        self.keys: list = []  # each value's key in its mapping, or _IN_SEQUENCE
        self._tables: dict[int, dict | array] = {}
        self._index(text)

    def position(self, path: Path) -> tuple[int, int] | None:
        """Line and column of the value at `path`, or of its nearest existing parent."""
        if not self.line:
            return None
        v = 0
        for part in path:
            table = self._tables.get(v)
            if table is None:
                table = self._tables[v] = self._table(v)
            if isinstance(table, dict):
                child = table.get(part) if isinstance(part, str) else None
            else:
                index = part if isinstance(part, int) and not isinstance(part, bool) else -1
                child = table[index] if 0 <= index < len(table) else None
            if child is None:
                break
            v = child
        return self.line[v], self.col[v]

    def _table(self, v: int) -> dict | array:
        children, c = array("i"), v + 1
        while c < self.end[v]:
            children.append(c)
            c = self.end[c]
        if children and self.keys[children[0]] is not _IN_SEQUENCE:
            return {self.keys[c]: c for c in children if isinstance(self.keys[c], str)}  # the last one wins
        return children

    def _index(self, text: str) -> None:
        interned: dict = {}  # one copy of each key text
        memo: dict = {}
        # per open collection: [its value number, _IN_SEQUENCE or a mapping's key awaiting its value (_NO_KEY: none)]
        stack: list[list] = [[-1, _IN_SEQUENCE]]  # the root stands in a sequence of one
        skipping = 0  # depth inside a collection used as a key, which no path can name
        line, col, end, keys = self.line.append, self.col.append, self.end, self.keys.append
        loader = None
        try:
            loader = Loader(text)
            get = loader.get_event
            while True:
                event = get()
                kind = type(event)
                if kind in _NODE_EVENTS:
                    top = stack[-1]
                    key = top[1]
                    if skipping:
                        skipping += kind in _STARTS
                    elif key is _NO_KEY:
                        top[1] = _key(loader, event, memo, interned)
                        skipping = int(kind in _STARTS)
                    else:
                        if key is not _IN_SEQUENCE:
                            top[1] = _NO_KEY
                        number = len(end)
                        mark = event.start_mark
                        line(mark.line + 1)
                        col(mark.column + 1)
                        end.append(number + 1)
                        keys(key)
                        if kind in _STARTS:
                            stack.append([number, _NO_KEY if kind is yaml.MappingStartEvent else _IN_SEQUENCE])
                elif kind in _ENDS:
                    if skipping:
                        skipping -= 1
                    else:
                        end[stack.pop()[0]] = len(end)
                elif kind is yaml.DocumentEndEvent or kind is yaml.StreamEndEvent or event is None:
                    break
        except (yaml.YAMLError, ValueError, MemoryError):  # a courtesy: what was indexed before still answers
            pass
        finally:
            for frame in stack[1:]:
                end[frame[0]] = len(end)
            if loader is not None:
                loader.dispose()


def _key(loader, event, memo: dict, interned: dict) -> Any:
    """A mapping key as the data has it (one copy of each text), or _COMPLEX for what a path cannot name."""
    if not isinstance(event, yaml.ScalarEvent):
        return _COMPLEX
    try:
        key = scalar(loader, event, True, memo)
    except (yaml.YAMLError, ValueError):
        return _COMPLEX
    return interned.setdefault(key, key) if isinstance(key, str) else _COMPLEX
