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


def test_the_command_lines_layer_goes_on_top_of_the_files_as_in_ruff():
    file = Selection(select=("NOS1",), ignore=("NOS101",))
    assert shown(file.then(Selection())) == shown(file) == {c for c in ALL_CODES if c.startswith("NOS1")} - {"NOS101"}
    assert shown(file.then(Selection(select=("NOS101",)))) == {"NOS101"}  # a select replaces the file's choice
    assert shown(file.then(Selection(extend=("NOS101",)))) == shown(file) | {"NOS101"}  # later beats ignore
    assert shown(file.then(Selection(ignore=("NOS10",)))) == {
        "NOS110",
        "NOS111",
        "NOS112",
        "NOS113",
        "NOS114",
        "NOS115",
    }
    assert shown(Selection(ignore=("NOS2",)).then(Selection(select=("NOS2",)))) == {"NOS201", "NOS202", "NOS203"}


def test_config_tables_in_each_file():
    table = {"lint": {"select": ["NOS"], "ignore": "NOS9", "per-file-ignores": {"legacy/*.json": ["NOS105"]}}}
    config = read_config(lint_table(table, ".nos2compose.toml"))
    assert config.selection == Selection(select=("NOS",), ignore=("NOS9",))
    assert not config.for_file("legacy/old.json", Selection()).enabled("NOS105")
    assert config.for_file("new.json", Selection()).enabled("NOS105")
    # per-file ignores apply whatever the command line selects; the file's own ignore does not survive a select
    assert not config.for_file("legacy/old.json", Selection(select=("NOS105",))).enabled("NOS105")
    assert config.for_file("new.json", Selection(select=("NOS9",))).enabled("NOS901")
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
