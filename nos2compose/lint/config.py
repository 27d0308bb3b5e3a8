"""The per-repository configuration, as a mapping already read from its file (the CLI finds and reads it).

`.nos2compose.toml` or `nos2compose.toml` (table `[lint]`), or `pyproject.toml` (table `[tool.nos2compose.lint]`),
the nearest one found walking up from the job file's directory, as ruff finds its own:

    [lint]
    select = ["NOS"]              # replaces the default (every rule but the opt-in ones)
    extend-select = ["NOS401"]    # adds to it
    ignore = ["NOS9"]             # codes or prefixes
    [lint.per-file-ignores]
    "legacy/*.json" = ["NOS105"]  # glob, relative to the file's directory

The command line's --select replaces what the file selects (as ruff's does); its --extend-select and --ignore act
on what the file selected. per-file-ignores always apply.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .selection import Selection, SelectorError, selectors

FILE_NAMES = (".nos2compose.toml", "nos2compose.toml", "pyproject.toml")
KEYS = ("select", "extend-select", "ignore", "per-file-ignores")


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names the key."""


class Config(NamedTuple):
    selection: Selection = Selection()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def for_file(self, relative: str, given: Selection) -> Selection:
        """The selection for a job at `relative` (a path from the configuration's directory, with /): the file's
        select, extend-select and ignore, then the command line's (`given`), then the per-file ignores, which
        always apply (as in ruff)."""
        from fnmatch import fnmatch

        selection = self.selection.then(given)
        extra = tuple(c for pattern, codes in self.per_file_ignores if fnmatch(relative, pattern) for c in codes)
        return selection.then(Selection(ignore=extra)) if extra else selection


def lint_table(document: dict, file_name: str) -> dict | None:
    """The lint settings in a parsed file: None when a pyproject.toml has no [tool.nos2compose] (it is skipped, as
    ruff skips a pyproject.toml without [tool.ruff])."""
    if file_name == "pyproject.toml":
        tool = document.get("tool", {}).get("nos2compose")
        if tool is None:
            return None
        return _table(tool, "tool.nos2compose.lint")
    return _table(document, "lint")


def read_config(table: dict) -> Config:
    """The Config a lint table says; ConfigError for an unknown key, a wrong type or a selector that names no code."""
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise ConfigError(f"unknown key {unknown[0]!r} (known: {', '.join(KEYS)})")
    try:
        select = selectors(_strings(table, "select")) if "select" in table else None
        extend = selectors(_strings(table, "extend-select"))
        ignore = selectors(_strings(table, "ignore"))
        per_file = table.get("per-file-ignores", {})
        if not isinstance(per_file, dict):
            raise ConfigError("per-file-ignores: expected a table of glob = [codes]")
        patterns = tuple((str(p), selectors(_strings(per_file, p))) for p in per_file)
    except SelectorError as exc:
        raise ConfigError(str(exc)) from None
    return Config(Selection(select, extend, ignore), patterns)


def _table(mapping: Any, name: str) -> dict:
    found = mapping.get("lint", {}) if isinstance(mapping, dict) else None
    if not isinstance(found, dict):
        raise ConfigError(f"[{name}] must be a table")
    return found


def _strings(table: dict, key: str) -> list[str]:
    value = table.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f'{key}: expected a list of codes or prefixes, such as ["NOS1", "NOS201"]')
    return value
