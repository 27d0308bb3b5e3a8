"""--select, --extend-select, --ignore and the configuration file, with ruff's semantics."""

from __future__ import annotations

import pytest

from nos2compose.lint.catalogue import RULES
from nos2compose.lint.config import Config, ConfigError, lint_table, read_config
from nos2compose.lint.selection import Selection, SelectorError, selectors

ALL_CODES = [rule.code for rule in RULES]


def shown(selection: Selection) -> set[str]:
    return {code for code in ALL_CODES if selection.enabled(code)}


def test_default_is_every_rule_but_the_opt_in_ones():
    assert shown(Selection()) == set(ALL_CODES) - {"NOS401"}
    assert Selection().enabled(None)  # a warning without a code is always shown


def test_select_replaces_the_default_and_a_prefix_selects_opt_in_rules_too():
    assert shown(Selection(select=("NOS2",))) == {"NOS201", "NOS202", "NOS203"}
    assert "NOS401" in shown(Selection(select=("NOS",)))
    assert shown(Selection(extend=("NOS401",))) == set(ALL_CODES)


def test_the_more_specific_selector_wins_and_ignore_wins_a_tie():
    assert shown(Selection(select=("NOS2",), ignore=("NOS202",))) == {"NOS201", "NOS203"}
    assert shown(Selection(ignore=("NOS2",), extend=("NOS201",))) & {"NOS201", "NOS202"} == {"NOS201"}
    assert shown(Selection(select=("NOS1",), ignore=("NOS1",))) == set()
    assert "NOS901" not in shown(Selection(ignore=("NOS9",)))


def test_selectors_are_checked_split_and_uppercased():
    assert selectors(["nos1,NOS201", " NOS9 "]) == ("NOS1", "NOS201", "NOS9")
    assert selectors(["ALL"]) == ("NOS",)
    with pytest.raises(SelectorError, match="'NOS5' is no rule code"):
        selectors(["NOS5"])
    with pytest.raises(SelectorError):
        selectors(["E501"])


def test_the_command_line_overrides_the_files_select_and_adds_to_its_ignore():
    file = Selection(select=("NOS1",), ignore=("NOS101",))
    assert file.then(Selection()) == file
    merged = file.then(Selection(select=("NOS2",), ignore=("NOS203",)))
    assert merged == Selection(select=("NOS2",), extend=(), ignore=("NOS101", "NOS203"))


def test_config_tables_in_each_file():
    table = {"lint": {"select": ["NOS"], "ignore": "NOS9", "per-file-ignores": {"legacy/*.json": ["NOS105"]}}}
    config = read_config(lint_table(table, ".nos2compose.toml"))
    assert config.selection == Selection(select=("NOS",), ignore=("NOS9",))
    assert "NOS105" in config.for_file("legacy/old.json").ignore
    assert "NOS105" not in config.for_file("new.json").ignore
    assert lint_table({"tool": {"ruff": {}}}, "pyproject.toml") is None  # not ours: skipped
    assert read_config(lint_table({"tool": {"nos2compose": {}}}, "pyproject.toml")) == Config()


@pytest.mark.parametrize(
    "table, problem",
    [
        ({"selct": ["NOS1"]}, "unknown key 'selct'"),
        ({"ignore": [1]}, "ignore: expected a list"),
        ({"ignore": ["NOS777"]}, "'NOS777' is no rule code"),
        ({"per-file-ignores": ["x"]}, "per-file-ignores: expected a table"),
    ],
)
def test_a_bad_config_says_which_key(table, problem):
    with pytest.raises(ConfigError, match=problem):
        read_config(table)
