"""load/node_values.py: the node's value normalization (interpolateOperation.ts, transformCollections.ts,
finalizeEnv.ts) restated; each expected value here is what the node's JavaScript gives for the same input."""

from __future__ import annotations

import pytest

from nos2compose.load.node_values import (
    as_text,
    env_string,
    flatten,
    js_string,
    json_if_it_looks_like,
    spread_value,
    string_field,
    tokens,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('["a", 1]', ["a", 1]),
        ('  {"k": null}', {"k": None}),  # spaces before the bracket count as looking like JSON
        ("[not json", "[not json"),  # kept as text when it does not parse
        ("a [1]", "a [1]"),  # only a leading bracket counts
        ("1", "1"),  # a number in text stays text
        ("", ""),
    ],
)
def test_json_looking_text_is_parsed_and_anything_else_kept(text, value):
    assert json_if_it_looks_like(text) == value


def test_values_that_are_not_text_pass_through_unparsed():
    nested = ["[1]"]
    assert json_if_it_looks_like(nested) is nested  # items are the caller's business
    assert json_if_it_looks_like(5) == 5


def test_flatten_removes_every_level_of_nesting():
    assert flatten([1, [2, [3, [4]]], []]) == [1, 2, 3, 4]


def test_tokens_splice_json_arrays_drop_nulls_and_keep_objects_and_numbers():
    """valueToArrayTokens: what one item of an args array becomes (types preserved)."""
    assert tokens('["a", ["b", null], {"k": 1}, 2]') == ["a", "b", {"k": 1}, 2]
    assert tokens(None) == []
    assert tokens(["[1, 2]", "x"]) == [1, 2, "x"]  # JSON text inside an array is parsed too
    assert tokens("plain") == ["plain"]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ({"a": 1}, "[object Object]"),
        ([1, None, [2, 3]], "1,,2,3"),
        (True, "true"),
        (None, "null"),
        (2.0, "2"),
        (2.5, "2.5"),
        (1e20, "100000000000000000000"),
    ],
)
def test_js_string_is_javascripts_string_of_one_token(value, text):
    assert js_string(value) == text


def test_as_text_joins_tokens_with_single_spaces():
    """valueToSpaceString: how a value reads inside a longer string (nulls vanish, objects are [object Object])."""
    assert as_text('[1, null, "b", {"k": "v"}]') == "1 b [object Object]"
    assert as_text([]) == ""
    assert as_text("[true, 2.0]") == "true 2"


def test_string_field_gives_a_one_item_array_its_item_unchanged():
    """normalizeByOrigin for a string field: a one-item array yields its item as it is (even a number or object),
    anything else its text."""
    assert string_field([7]) == 7
    assert string_field([{"k": 1}]) == {"k": 1}
    assert string_field(["a", "b"]) == "a b"
    assert string_field({"k": 1}) == "[object Object]"


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, ""), ({"a": [1, "é"]}, '{"a":[1,"é"]}'), ([1, 2], "[1,2]"), (False, "false"), (3.0, "3"), ("s", "s")],
)
def test_env_values_become_strings_as_finalize_env_makes_them(value, text):
    """String() for scalars, compact JSON (not ASCII-escaped) for objects and arrays, '' for null."""
    assert env_string(value) == text


def test_spread_into_an_array_flattens_one_level_only():
    """JavaScript's .flat(): [[1, [2]], 3] gives 1, [2], 3."""
    assert spread_value("[[1, [2]], 3]", list, False, False) == ([1, [2], 3], None)


def test_spread_into_an_object_merges_only_an_object():
    assert spread_value('{"A": "1"}', dict, False, False) == ({"A": "1"}, None)
    assert spread_value("[1]", dict, False, False) == (None, "__spread__ must be a JSON object")
    assert spread_value({"A": 1}, dict, False, False) == ({"A": 1}, None)


def test_spread_errors_use_the_nodes_words():
    assert spread_value('{"a": 1}', list, False, False) == (None, "__spread__ must be a JSON array")
    value, problem = spread_value("[object Object]", dict, False, False)
    assert value is None
    assert problem == '__spread__ is not valid JSON: "[object Object]" is not valid JSON'


def test_chunked_spread_joins_the_chunks_before_parsing():
    assert spread_value(['["a", ', '"b"]'], list, False, True) == (["a", "b"], None)
    value, problem = spread_value(["[1,", "2"], list, False, True)
    assert value is None and problem.startswith("__spread__ chunked array is not valid JSON: ")
    # without chunked, an array of strings is already the list to splice
    assert spread_value(['["a", ', '"b"]'], list, False, False) == (['["a", ', '"b"]'], None)


def test_pairs_into_an_object_take_key_and_value_and_a_missing_value_is_empty():
    pairs = '[{"key": "A", "value": 1}, {"key": "B"}, {"key": "C", "value": null}]'
    assert spread_value(pairs, dict, True, False) == ({"A": 1, "B": "", "C": ""}, None)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ('{"key": "A"}', "__pairs__ must be a JSON array"),
        ('["A"]', "__pairs__ items must be objects"),
        ('[{"key": 1, "value": "v"}]', "__pairs__ item.key must be string"),
        ('[{"value": "v"}]', "__pairs__ item.key must be string"),
    ],
)
def test_pairs_that_are_not_key_value_objects_fail_with_the_nodes_words(raw, problem):
    assert spread_value(raw, dict, True, False) == (None, problem)


def test_pairs_in_an_array_splice_the_array_as_it_is():
    """The node's pairs arrayHandler only checks it is an array: items are not turned into fields."""
    assert spread_value('[{"key": "A", "value": "1"}]', list, True, False) == ([{"key": "A", "value": "1"}], None)
