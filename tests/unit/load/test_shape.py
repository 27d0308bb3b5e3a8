"""load/shape.py: the small typed readers every pass uses; each returns the value or None after one error at its path."""

from __future__ import annotations

import math

import pytest

from nos2compose.diagnostics import Diagnostics
from nos2compose.load.shape import Shape

HERE = ("ops", 0, "args")


def reader(strict: bool = False) -> tuple[Shape, Diagnostics]:
    diags = Diagnostics(strict=strict)
    return Shape(diags), diags


def described(diags: Diagnostics) -> list[str]:
    return [d.describe() for d in diags.items]


def test_a_value_of_the_right_type_is_returned_as_is_and_reports_nothing():
    sh, diags = reader()
    obj = {"a": 1}
    assert sh.obj(obj, HERE) is obj
    assert sh.string("x", HERE) == "x"
    assert sh.boolean(False, HERE) is False
    assert sh.number(2.5, HERE) == 2.5
    assert sh.strings(["a", "b"], HERE) == ["a", "b"]
    assert diags.items == []


def test_a_wrong_type_is_one_error_at_its_path_saying_what_was_expected_and_found():
    sh, diags = reader()
    assert sh.obj([1], HERE, "web") is None
    assert described(diags) == ['$.ops[0].args (op "web"): expected an object, found an array']


@pytest.mark.parametrize(
    ("value", "found"),
    [(None, "null"), ([], "an array"), ({}, "an object"), (7, "7"), ("x" * 70, '"' + "x" * 56 + "...")],
)
def test_the_found_value_is_described_briefly(value, found):
    """Long strings are cut at 60 characters so one hostile value cannot flood the output."""
    sh, diags = reader()
    sh.boolean(value, ("gpu",))
    assert diags.items[0].message == f"expected true or false, found {found}"


def test_booleans_are_not_numbers_and_numbers_are_not_booleans():
    """JSON true is a Python int; the readers must not let it pass as 1 (nor 1 as true)."""
    sh, diags = reader()
    assert sh.number(True, ("n",)) is None
    assert sh.boolean(1, ("b",)) is None
    assert [d.message for d in diags.items] == ["expected a number, found true", "expected true or false, found 1"]


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_a_number_that_is_not_finite_is_refused(value):
    sh, diags = reader()
    assert sh.number(value, ("n",)) is None
    assert diags.has_errors()


def test_integer_takes_whole_floats_and_refuses_values_out_of_range():
    sh, diags = reader()
    assert sh.integer(80.0, ("p",), 1, 65535, "a port") == 80
    assert isinstance(sh.integer(80.0, ("p",), 1, 65535, "a port"), int)
    assert sh.integer(0, ("p",), 1, 65535, "a port") is None
    assert sh.integer(80.5, ("p",), 1, 65535, "a port") is None
    assert [d.message for d in diags.items] == [
        "expected a port (a whole number from 1 to 65535), found 0",
        "expected a port (a whole number from 1 to 65535), found 80.5",
    ]


def test_integer_reads_digit_text_only_when_asked():
    """text_ok is for literals' values, which are text: "8080" (spaces around it too), never "٨٠" or "-1"."""
    sh, diags = reader()
    assert sh.integer(" 8080 ", ("p",), 1, 65535, "a port", text_ok=True) == 8080
    assert sh.integer("8080", ("p",), 1, 65535, "a port") is None
    assert sh.integer("٨٠", ("p",), 1, 65535, "a port", text_ok=True) is None  # Arabic-Indic digits
    assert sh.integer("-1", ("p",), 1, 65535, "a port", text_ok=True) is None
    assert len(diags.errors) == 3


def test_strings_names_each_wrong_item_at_its_own_index():
    sh, diags = reader()
    assert sh.strings(["a", 1, "b", None], ("cmd",), "op") is None
    assert [d.path for d in diags.items] == [("cmd", 1), ("cmd", 3)]


def test_string_or_strings_takes_either_form_and_names_both_when_wrong():
    sh, diags = reader()
    assert sh.string_or_strings("a,b", ("aliases",)) == "a,b"
    assert sh.string_or_strings(["a"], ("aliases",)) == ["a"]
    assert sh.string_or_strings(3, ("aliases",)) is None
    assert diags.items[0].message == "expected a string or an array of strings, found 3"


def test_string_map_refuses_non_string_values_and_an_empty_name():
    """Compose refuses an empty variable name, so `{"": "x"}` is an error at the map itself."""
    sh, diags = reader()
    assert sh.string_map({"A": "1", "B": 2}, ("env",)) is None
    assert sh.string_map({"": "x"}, ("env",)) is None
    assert [(d.path, d.message) for d in diags.items] == [
        (("env", "B"), "expected a string, found 2"),
        (("env",), "an empty name cannot be set (Compose refuses it)"),
    ]


def test_one_of_lists_the_choices_in_the_order_given():
    sh, diags = reader()
    assert sh.one_of("always", ("restart",), ["no", "always"]) == "always"
    assert sh.one_of("ALWAYS", ("restart",), ["no", "always"]) is None
    assert diags.items[0].message == 'expected one of "no", "always", found "ALWAYS"'


def test_an_unknown_key_is_a_warning_and_an_error_only_under_strict():
    obj = {"image": "x", "imgae": "y"}
    sh, diags = reader()
    sh.known_keys(obj, ("args",), ["image", "cmd"], "op")
    (warning,) = diags.items
    assert not warning.is_error and warning.path == ("args", "imgae")
    assert warning.message == "unknown key 'imgae' (known here: cmd, image); ignored"

    sh, diags = reader(strict=True)
    sh.known_keys(obj, ("args",), ["image", "cmd"], "op")
    assert [d.message for d in diags.errors] == [
        "unknown key 'imgae' (known here: cmd, image) (Nosana's validator rejects this)"
    ]


def test_required_reports_the_missing_key_at_the_object_holding_it():
    sh, diags = reader()
    assert sh.required({"a": None}, "a", ("x",), "anything") is True  # present, even as null
    assert sh.required({}, "port", ("expose", 0), "the container port", "web") is False
    assert described(diags) == ["$.expose[0] (op \"web\"): missing required key 'port' (the container port)"]
