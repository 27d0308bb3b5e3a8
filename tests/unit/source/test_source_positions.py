"""Document.position: the line and column (1-based, in characters) where the value at a path starts."""

from __future__ import annotations

import json

import pytest

from nos2compose.source.document import Document

JSON = """{
  "version": "0.1",
  "ops": [
    {"id": "a", "args": {"image": "x", "expose": [80, 99999]}},
    {
      "id": "b",
      "args": {"cmd": ["sh", "-c", "echo \\"[{\\""], "env": {"K\\u00e9": "v"}}
    }
  ],
  "meta": {}
}
"""

YAML = """version: '0.1'
ops:
  - id: a
    args: {image: x, expose: [80, 99999]}
  - id: b
    args:
      cmd:
        - sh
        - -c
        - 'echo "[{"'
      env:
        Ké: v
meta: {}
"""

EXPECTED = {
    # path: (JSON position, YAML position)
    (): ((1, 1), (1, 1)),
    ("version",): ((2, 14), (1, 10)),
    ("ops",): ((3, 10), (3, 3)),
    ("ops", 0): ((4, 5), (3, 5)),
    ("ops", 0, "args", "expose", 1): ((4, 55), (4, 35)),
    ("ops", 1, "args", "cmd", 2): ((7, 36), (10, 11)),
    ("ops", 1, "args", "env", "Ké"): ((7, 71), (12, 13)),
    ("meta",): ((10, 11), (13, 7)),
    # missing: the nearest existing parent
    ("ops", 0, "args", "gpu"): ((4, 25), (4, 11)),
    ("ops", 7, "id"): ((3, 10), (3, 3)),
    ("ops", "0"): ((3, 10), (3, 3)),
    ("version", "x", 1): ((2, 14), (1, 10)),
    ("meta", 0): ((10, 11), (13, 7)),
    ("nope",): ((1, 1), (1, 1)),
}


@pytest.mark.parametrize("fmt", ["json", "yaml"])
@pytest.mark.parametrize("path", list(EXPECTED), ids=str)
def test_position_of_a_path_or_of_its_nearest_parent(fmt, path):
    doc = Document("job", JSON if fmt == "json" else YAML, fmt)
    data, error = doc.parse()
    assert error is None and data["ops"][1]["args"]["env"] == {"Ké": "v"}
    assert doc.position(path) == EXPECTED[path][fmt == "yaml"]
    assert doc.position(list(path)) == EXPECTED[path][fmt == "yaml"]  # asked twice, and as a list


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_the_position_of_a_repeated_key_is_that_of_the_value_used(fmt):
    text = '{"a": 1,\n "a": {"b": 2}}' if fmt == "json" else "a: 1\na:\n  b: 2\n"
    doc = Document("job", text, fmt)
    assert doc.parse()[0] == {"a": {"b": 2}}
    assert doc.position(("a", "b")) == ((2, 13) if fmt == "json" else (3, 6))


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_columns_count_characters_and_crlf_lines_count_once(fmt):
    text = '{"é😀": [1,\r\n  "日本", 3]}' if fmt == "json" else "é😀: [1,\r\n  日本, 3]\r\n"
    doc = Document("job", text, fmt)
    assert doc.parse()[1] is None
    assert doc.position(("é😀", 1)) == (2, 3)
    assert doc.position(("é😀", 2)) == ((2, 9) if fmt == "json" else (2, 7))


def test_json_keys_with_escapes_are_found_by_their_decoded_text():
    doc = Document("job", '{"a\\"b": {"\\u00e9": [0, 1]}}', "json")
    doc.parse()
    assert doc.position(('a"b', "é", 1)) == (1, 25)


def test_elements_far_into_a_long_array_and_in_nested_arrays():
    items = [[i, {"k": i}] for i in range(5000)]
    text = json.dumps({"items": items}, indent=1)
    doc = Document("job", text, "json")
    assert doc.parse()[1] is None
    lines = text.splitlines()
    for index in (0, 1, 4321, 4999):
        line, col = doc.position(("items", index, 1, "k"))
        assert lines[line - 1][col - 1 :].startswith(str(index)), (index, line, col)
    yaml_text = "items:\n" + "".join(f"  - [{i}, {{k: {i}}}]\n" for i in range(5000))
    ydoc = Document("job", yaml_text, "yaml")
    assert ydoc.parse()[1] is None
    assert ydoc.position(("items", 4321, 1, "k")) == (4323, 16)


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_positions_on_text_that_does_not_parse_never_raise(fmt):
    for text in ["", "{", '{"a": [1, 2', "a: [1, 2\n", "\x00", "[" * 5000, "a: &x 1\nb: *x\n"]:
        doc = Document("job", text, fmt)
        doc.parse()
        line, col = doc.position(("a", 1))
        assert line >= 1 and col >= 1
