"""A job's text, parsed, plus the way back from a JSON path to a line and column.

Parsing uses the standard fast parsers; positions are only worked out when a
diagnostic needs one, so a clean convert never pays for them.
"""
from __future__ import annotations

import bisect
import json
import re
from typing import Any

from ..diagnostics import Diagnostic, Path


class Document:
    def __init__(self, name: str, text: str, format: str):
        self.name = name  # shown in messages: the file name as given, or <stdin>
        self.text = text
        self.format = format  # "json" or "yaml"
        self._positions: dict[Path, tuple[int, int]] | None = None

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
        except ValueError as exc:  # e.g. an integer of thousands of digits
            return None, Diagnostic("error", (), f"malformed JSON: {exc}", position=(1, 1))

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

    class NoAliases(yaml.SafeLoader):
        """JSON has no anchors, and aliases can make a small file expand without bound."""

        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                raise yaml.MarkedYAMLError(problem="YAML aliases (*name) are not supported in job definitions; "
                                                   "write the value out", problem_mark=event.start_mark)
            return super().compose_node(parent, index)

    try:
        return yaml.load(text, Loader=NoAliases), None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return None, Diagnostic("error", (), f"malformed YAML: {exc.problem or exc}", position=(line, col))
    except yaml.YAMLError as exc:
        return None, Diagnostic("error", (), f"malformed YAML: {exc}", position=(1, 1))
    except (RecursionError, ValueError) as exc:
        return None, Diagnostic("error", (), f"malformed YAML: {'nested too deeply' if isinstance(exc, RecursionError) else exc}",
                                position=(1, 1))


_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\],:]|[^\s{}\[\],:"]+')


def _json_positions(text: str) -> dict[Path, tuple[int, int]]:
    """Map every JSON path in `text` (already known to parse) to the line/column where its value starts."""
    tokens = [(m.group(), m.start()) for m in _TOKENS.finditer(text)]
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
    out: dict[Path, tuple[int, int]] = {}

    def where(offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(line_starts, offset)
        return line, offset - line_starts[line - 1] + 1

    def value(i: int, path: Path) -> int:
        """Record the value starting at token i; return the index after it."""
        tok, start = tokens[i]
        out[path] = where(start)
        if tok == "{":
            i += 1
            while tokens[i][0] != "}":
                key = tokens[i][0]
                key = json.loads(key) if "\\" in key else key[1:-1]
                i = value(i + 2, path + (key,))  # skip the ':'
                if tokens[i][0] == ",":
                    i += 1
            return i + 1
        if tok == "[":
            i += 1
            index = 0
            while tokens[i][0] != "]":
                i = value(i, path + (index,))
                index += 1
                if tokens[i][0] == ",":
                    i += 1
            return i + 1
        return i + 1

    value(0, ())
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
