"""A job's text, parsed, plus the way back from a JSON path to a line and column.

Parsing uses the standard fast parsers; positions are only worked out when a
diagnostic needs one, so a clean convert never pays for them.
"""
from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field
from typing import Any

from ..diagnostics import Diagnostic, Path


@dataclass
class Document:
    name: str  # shown in messages: the file name as given, or <stdin>
    text: str
    format: str  # "json" or "yaml"
    _positions: dict[Path, tuple[int, int]] | None = field(default=None, repr=False)

    def parse(self) -> tuple[Any, Diagnostic | None]:
        """The data, or a syntax error with its line and column."""
        if self.format == "yaml":
            return _parse_yaml(self.text)
        try:
            return json.loads(self.text, parse_constant=_not_json), None
        except json.JSONDecodeError as exc:
            position = (exc.lineno, exc.colno)
            if not exc.doc:  # NaN or Infinity: JSON.parse refuses them; find where they stand
                m = re.search(r"(?<![\w\"])-?(?:NaN|Infinity)\b", self.text)
                position = _line_col(self.text, m.start() if m else 0)
            return None, Diagnostic("error", (), f"malformed JSON: {exc.msg}", position=position)
        except RecursionError:
            return None, Diagnostic("error", (), "malformed JSON: nested too deeply", position=(1, 1))

    def position(self, path: Path) -> tuple[int, int]:
        """Line and column of the value at `path`, or of its nearest existing parent."""
        if self._positions is None:
            try:
                self._positions = _yaml_positions(self.text) if self.format == "yaml" else _json_positions(self.text)
            except Exception:  # positions are a courtesy; never let them hide the real message
                self._positions = {}
        path = tuple(path)
        while path and path not in self._positions:
            path = path[:-1]
        return self._positions.get(path, (1, 1))


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _not_json(token: str) -> Any:
    raise json.JSONDecodeError(f"{token} is not a JSON value", "", 0)


def _parse_yaml(text: str) -> tuple[Any, Diagnostic | None]:
    import yaml

    try:
        return yaml.safe_load(text), None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return None, Diagnostic("error", (), f"malformed YAML: {exc.problem or exc}", position=(line, col))
    except yaml.YAMLError as exc:
        return None, Diagnostic("error", (), f"malformed YAML: {exc}", position=(1, 1))


_TOKEN = re.compile(r'\s*(?:(")|([{}\[\],:])|(-?[0-9][0-9eE.+-]*|true|false|null))')
_STRING_END = re.compile(r'(?:[^"\\]|\\.)*"')


def _json_positions(text: str) -> dict[Path, tuple[int, int]]:
    """Map every JSON path in `text` to the line/column where its value starts."""
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def where(offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(line_starts, offset)
        return line, offset - line_starts[line - 1] + 1

    out: dict[Path, tuple[int, int]] = {}
    pos = 0

    def token() -> tuple[str, int]:
        nonlocal pos
        m = _TOKEN.match(text, pos)
        if not m:
            raise ValueError("unexpected text")
        start = m.start(1) if m.group(1) else (m.start(2) if m.group(2) else m.start(3))
        if m.group(1):
            end = _STRING_END.match(text, m.end())
            if not end:
                raise ValueError("unterminated string")
            pos = end.end()
            return text[m.start(1):pos], start
        pos = m.end()
        return m.group(2) or m.group(3), start

    def value(path: Path, tok: str, start: int) -> None:
        out[path] = where(start)
        if tok == "{":
            tok, start = token()
            while tok != "}":
                key = json.loads(tok)
                token()  # ':'
                vtok, vstart = token()
                value(path + (key,), vtok, vstart)
                tok, start = token()
                if tok == ",":
                    tok, start = token()
        elif tok == "[":
            index = 0
            tok, start = token()
            while tok != "]":
                value(path + (index,), tok, start)
                index += 1
                tok, start = token()
                if tok == ",":
                    tok, start = token()

    first, start = token()
    value((), first, start)
    return out


def _yaml_positions(text: str) -> dict[Path, tuple[int, int]]:
    import yaml

    out: dict[Path, tuple[int, int]] = {}

    def walk(node: Any, path: Path) -> None:
        out[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            for key, child in node.value:
                walk(child, path + (key.value,))
        elif isinstance(node, yaml.SequenceNode):
            for index, child in enumerate(node.value):
                walk(child, path + (index,))

    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is not None:
        walk(root, ())
    return out
