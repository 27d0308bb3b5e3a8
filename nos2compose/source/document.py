"""A job's text, parsed, plus the way back from a JSON path to a line and column.

Parsing uses fast parsers (json's C scanner; libyaml's events); positions are only
worked out when a diagnostic needs one, so a clean convert never pays for them, and
then cost memory linear in the text (see json_doc and yaml_positions).
"""

from __future__ import annotations

from typing import Any

from ..diagnostics import Diagnostic, Path
from .json_doc import JsonLocator, parse_json
from .messages import BOM_WARNING, too_deep

NO_MEMORY = "too large to parse in the memory available; a job definition is far smaller"


class Document:
    def __init__(self, name: str, text: str, format: str):
        self.name = name  # shown in messages: the file name as given, or <stdin>
        self.has_bom = text.startswith("\ufeff")
        self.text = text[1:] if self.has_bom else text  # columns on line 1 count from after the mark, as editors show
        self.format = format  # "json" or "yaml"
        self.warnings: list[Diagnostic] = []  # filled by parse(): the byte order mark, duplicate keys
        self._locator: Any = None
        self._positions: dict[Path, tuple[int, int]] = {}

    def parse(self) -> tuple[Any, Diagnostic | None]:
        """The data, or a syntax error with its line and column; warnings go to self.warnings.

        Never raises for bad input: nesting deeper than MAX_DEPTH, and running out of
        memory, are errors like any syntax error. Duplicate keys keep the last value
        (as Nosana's JSON.parse does), each with a warning.
        """
        try:
            if self.format == "yaml":
                from .yaml_doc import parse_yaml

                data, error, warnings = parse_yaml(self.text)
            else:
                data, error, warnings = parse_json(self.text, self._locate())
        except MemoryError:
            data, error, warnings = None, Diagnostic("error", (), NO_MEMORY, position=(1, 1)), []
        except RecursionError:  # not expected: both parsers bound the nesting first
            data, error, warnings = None, too_deep(None), []
        self.warnings = ([BOM_WARNING] if self.has_bom else []) + warnings
        return data, error

    def position(self, path: Path) -> tuple[int, int]:
        """Line and column of the value at `path`, or of its nearest existing parent."""
        path = tuple(path)
        found = self._positions.get(path)
        if found is None:
            try:
                found = self._locate().position(path)
            except Exception:  # positions are a courtesy; never let them hide the real message
                found = None
            found = self._positions[path] = found or (1, 1)
        return found

    def _locate(self) -> Any:
        if self._locator is None:
            if self.format == "yaml":
                from .yaml_positions import YamlLocator

                self._locator = YamlLocator(self.text)
            else:
                self._locator = JsonLocator(self.text)
        return self._locator
