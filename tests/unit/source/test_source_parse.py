"""Document.parse: bounded nesting, duplicate keys, byte order marks, YAML aliases and tags.

Whatever the text, parse() returns (data, None) or (None, a located error) and never raises.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from nos2compose.source.document import Document

ROOT = Path(__file__).resolve().parents[3]
DEEP = 100_000


def parse(text: str, fmt: str):
    doc = Document("job", text, fmt)
    data, error = doc.parse()
    return data, error, getattr(doc, "warnings", None)


def assert_too_deep(error, position):
    assert error is not None and error.severity == "error" and error.path == (), error
    assert "nested more than 100 levels deep" in error.message, error
    # libyaml of PyYAML >= 6.0.4 stops deep flow nesting itself, at depth 1000, before the events reach us
    assert error.position == position or (position == (1, 102) and error.position == (1, 1001)), error


DEEP_CASES = {
    "json-arrays": ("[" * DEEP + "]" * DEEP, "json", (1, 102)),
    "json-objects": ('{"a":' * DEEP + "1" + "}" * DEEP, "json", (1, 502)),
    "json-unclosed": ("[" * DEEP, "json", (1, 102)),
    "json-on-lines": ("[\n" * DEEP + "]\n" * DEEP, "json", (102, 1)),
    "yaml-flow": ("[" * DEEP + "]" * DEEP, "yaml", (1, 102)),
    "yaml-block-sequences": ("- " * DEEP + "1\n", "yaml", (1, 203)),
    "yaml-block-mappings": (
        "".join(" " * i + "a:\n" for i in range(300)) + " " * 300 + "1\n",
        "yaml",
        (101, 101),
    ),  # the key inside the 101st mapping
    "yaml-flow-mappings": ("{a: " * DEEP + "1" + "}" * DEEP, "yaml", (1, 402)),
}


@pytest.mark.parametrize("case", sorted(DEEP_CASES))
def test_deep_nesting_is_a_located_error_naming_the_limit(case):
    text, fmt, position = DEEP_CASES[case]
    data, error, _ = parse(text, fmt)
    assert data is None
    assert_too_deep(error, position)


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_the_limit_is_the_compilers_rule_a_value_inside_at_most_100_containers(fmt):
    assert parse("[" * 100 + "1" + "]" * 100, fmt)[1] is None
    assert parse("[" * 101 + "]" * 101, fmt)[1] is None  # the innermost array is empty: nothing at depth 101
    assert_too_deep(parse("[" * 101 + "1" + "]" * 101, fmt)[1], (1, 102))
    assert_too_deep(parse("[" * 102 + "]" * 102, fmt)[1], (1, 102))
    strings = '["[[[[", ' * 150 + "1" + "]" * 150  # brackets inside strings do not count
    assert_too_deep(parse(strings, fmt)[1], (1, 9 * 100 + 2))


def test_deep_nesting_is_refused_even_on_a_small_stack():
    """No recursion: parsing 100,000 levels works with Python's recursion limit at 60."""
    code = (
        "import sys; from nos2compose.source.document import Document; sys.setrecursionlimit(60)\n"
        "for fmt in ('json', 'yaml'):\n"
        "    data, error = Document('job', '[' * 100000 + ']' * 100000, fmt).parse()\n"
        "    assert 'nested more than 100' in error.message, error\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], check=False, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_running_out_of_memory_is_a_diagnostic_not_an_exception(fmt, monkeypatch):
    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(json, "loads", exhausted)
    monkeypatch.setattr(yaml, "CSafeLoader", exhausted)
    monkeypatch.setattr(yaml, "SafeLoader", exhausted)
    from nos2compose.source import yaml_doc

    monkeypatch.setattr(yaml_doc, "Loader", exhausted)
    data, error, _ = parse('{"a": 1}', fmt)
    assert data is None and error.severity == "error" and "memory" in error.message and error.position == (1, 1)


DUPLICATES = {
    "json": '{\n  "version": "0.1",\n  "ops": [\n    {"id": "a",\n     "id": "b"}\n  ],\n  "version": "0.2"\n}\n',
    "yaml": "version: '0.1'\nops:\n  - id: a\n    id: b\nversion: '0.2'\n",
}


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_duplicate_keys_keep_the_last_value_and_warn_with_both_lines(fmt):
    data, error, warnings = parse(DUPLICATES[fmt], fmt)
    assert error is None and data == {"version": "0.2", "ops": [{"id": "b"}]}
    by_path = {w.path: w for w in warnings}
    assert set(by_path) == {("version",), ("ops", 0, "id")}
    assert all(w.severity == "warning" for w in warnings)
    first, second = (2, 7) if fmt == "json" else (1, 5)
    assert by_path[("version",)].message == (
        f"duplicate key 'version' (line {first} and line {second}): the last one is used, as Nosana's JSON parser does"
    )
    assert by_path[("version",)].position == ((7, 3) if fmt == "json" else (5, 1))
    id_lines = (4, 5) if fmt == "json" else (3, 4)
    assert f"duplicate key 'id' (line {id_lines[0]} and line {id_lines[1]})" in by_path[("ops", 0, "id")].message
    assert by_path[("ops", 0, "id")].position == ((5, 6) if fmt == "json" else (4, 5))


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_each_repeat_of_a_key_is_reported_and_clean_files_have_no_warnings(fmt):
    text = '{"a": 1,\n "a": 2,\n "a": 3}' if fmt == "json" else "a: 1\na: 2\na: 3\n"
    data, error, warnings = parse(text, fmt)
    assert (data, error) == ({"a": 3}, None)
    assert ["line 1 and line 2", "line 2 and line 3"] == [w.message.split("(")[1].split(")")[0] for w in warnings]
    assert parse('{"a": {"b": [1, {"c": 2}]}}', fmt)[2] == []


def test_escaped_json_keys_are_compared_as_decoded():
    data, error, warnings = parse('{"ab": 1, "a\\u0062": 2}', "json")
    assert (
        (data, error) == ({"ab": 2}, None)
        and [w.path for w in warnings] == [("ab",)]
        and warnings[0].position == (1, 11)
    )


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_a_byte_order_mark_is_ignored_with_a_warning_in_both_formats(fmt):
    text = '\ufeff{"version": "0.1", "ops": []}' if fmt == "json" else "\ufeffversion: '0.1'\nops: []\n"
    data, error, warnings = parse(text, fmt)
    assert error is None and data == {"version": "0.1", "ops": []}
    assert [(w.severity, w.path, w.message, w.position) for w in warnings] == [
        ("warning", (), "the file starts with a UTF-8 byte order mark; it is ignored", (1, 1))
    ]


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_positions_after_a_byte_order_mark_are_those_of_the_text_without_it(fmt):
    bad = '{"a": 1,, "b": 2}' if fmt == "json" else "a: [1, 2\n"
    plain, marked = parse(bad, fmt)[1], parse("\ufeff" + bad, fmt)[1]
    assert plain.position == marked.position and plain.message == marked.message
    good = '{"a": 1, "b": [1, 2]}' if fmt == "json" else "a: 1\nb: [1, 2]\n"
    with_bom = Document("job", "\ufeff" + good, fmt)
    with_bom.parse()
    without = Document("job", good, fmt)
    without.parse()
    assert with_bom.position(("b", 1)) == without.position(("b", 1)) == ((1, 19) if fmt == "json" else (2, 8))


BILLION_LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8)
)


def test_yaml_aliases_are_refused_so_an_alias_bomb_is_bounded():
    data, error, _ = parse(BILLION_LAUGHS, "yaml")
    assert data is None and error.position == (2, 8)
    assert "YAML aliases (*name) are not supported" in error.message
    assert parse("a: &x 1\nb: 2\n", "yaml")[:2] == ({"a": 1, "b": 2}, None)  # an anchor alone is harmless


def test_locating_in_an_alias_bomb_is_bounded_too():
    """position() never expands aliases, even on text parse() was not asked about (fails under 1 GiB if it did)."""
    code = (
        "import resource; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "import sys; from nos2compose.source.document import Document\n"
        f"doc = Document('job', {BILLION_LAUGHS!r}, 'yaml')\n"
        "print(doc.position(('i', 8)), doc.position(('a', 1)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], check=False, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["(9,", "32)", "(1,", "14)"]


SAFE_LOAD_CASES = [
    "version: '0.1'\nops:\n  - {id: a, args: {image: x}}\n",
    "a: 1\nb: 1.5\nc: true\nd: ~\ne: 0x1f\nf: .inf\ng: 'quoted'\nh: \"dq\\n\"\ni: 1_000\nj: yes\nk: -0o17\n",
    "a: 2001-12-14\nb: 2001-12-14t21:59:43.10-05:00\n",
    "a: !!str 1\nb: !!int '7'\nc: !!float 1\nd: !!binary aGVsbG8=\ne: !!null ''\n",
    "a: !!set {x, y}\nb: !!omap [x: 1, y: 2]\nc: !!pairs [x: 1, x: 2]\nd: !!seq [1]\ne: !!map {k: v}\n",
    "<<: {a: 1, b: 2}\nb: 3\n",
    "<<: [{a: 1}, {a: 2, c: 3}]\na: 0\n",
    "x: {a: 1, <<: {a: 2, b: 3}}\n",
    "=: 1\n",
    "? complex\n: value\n",
    "- - 1\n  - 2\n- 3\n",
    "a: |\n  line\n  next\nb: >\n  folded\n  text\n",
    "",
    "---\n",
    "--- 5\n",
    "# only a comment\n",
    "plain text",
    "1: one\ntrue: two\n",
    "a: &x 1\nb: &y [1, 2]\n",
]

SAFE_LOAD_ERRORS = [
    "a: !foo 1\n",
    "!!str [1]\n",
    "? [a]\n: 1\n",
    "--- 1\n--- 2\n",
    "a: &x 1\nb: &x 2\n",
    "<<: 1\n",
    "<<: [1]\n",
    "a: <<\n",
    "a: =\n",
    "a: [1, 2\n",
    "a: b: c\n",
    "\t- 1\n",
    "!!int x\n",
]


@pytest.mark.parametrize("text", SAFE_LOAD_CASES)
def test_yaml_values_and_tags_are_what_yaml_safe_load_gives(text):
    data, error, _ = parse(text, "yaml")
    assert error is None
    assert data == yaml.safe_load(text) and type(data) is type(yaml.safe_load(text))


@pytest.mark.parametrize("text", SAFE_LOAD_ERRORS)
def test_yaml_that_yaml_safe_load_refuses_is_a_located_error(text):
    with pytest.raises((yaml.YAMLError, ValueError)):
        yaml.safe_load(text)
    data, error, _ = parse(text, "yaml")
    assert data is None and error.severity == "error" and error.message.startswith("malformed YAML: ")
    assert error.position is not None and error.position >= (1, 1)


@pytest.mark.parametrize(
    "text", ['{"a": [1, 2.5, "x", true, null, {"b": {}}], "c": -0.0}', "[]", '"s"', "12", '{"\\ud800": 1}']
)
def test_json_values_are_what_json_loads_gives(text):
    assert parse(text, "json")[:2] == (json.loads(text), None)


@pytest.mark.parametrize(
    "text, position",
    [
        ('{"a": NaN}', (1, 7)),
        ("[1,\n -Infinity]", (2, 2)),
        ('{"a": 1,}', (1, 9)),
        ("", (1, 1)),
        ('{"a": "NaN", "b": NaN}', (1, 19)),
    ],
)
def test_json_syntax_errors_are_located(text, position):
    data, error, _ = parse(text, "json")
    assert data is None and error.message.startswith("malformed JSON: ") and error.position == position


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_a_number_of_thousands_of_digits_is_a_located_error(fmt):
    digits = "9" * 5000
    text = f'{{"a": "{digits}",\n "n": {digits}}}' if fmt == "json" else f"a: '{digits}'\nn: {digits}\n"
    data, error, _ = parse(text, fmt)
    assert data is None and "a number with more than 4300 digits" in error.message, error
    assert error.position == ((2, 7) if fmt == "json" else (2, 4))
