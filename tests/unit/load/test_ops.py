"""load/ops.py: one operation's type, id, execution and results, and a create-volume op's args."""

from __future__ import annotations

import pytest

from nos2compose.diagnostics import Diagnostics
from nos2compose.load.context import JobContext
from nos2compose.load.literals import LiteralContext
from nos2compose.load.ops import read_op
from nos2compose.load.shape import Shape
from nos2compose.model import RunOp, VolumeOp


def read(raw, index: int = 0, strict: bool = False):
    diags = Diagnostics(strict=strict)
    context = JobContext(Shape(diags), "job", {}, LiteralContext("job", {}, {"a": "a", "b": "b"}))
    found = read_op(context, raw, index)
    return (found[0] if found else None), diags


def run_op(**extra) -> dict:
    return {"type": "container/run", "id": "a", "args": {"image": "x"}, **extra}


def results_of(results: dict, strict: bool = False):
    op, diags = read(run_op(results=results), strict=strict)
    return {spec.key: (spec.regex, spec.streams) for spec in op.results}, diags


def test_a_run_op_is_in_a_group_of_its_own_unless_execution_names_one():
    op, diags = read(run_op(), index=3)
    assert isinstance(op, RunOp) and (op.id, op.index, op.group, op.grouped) == ("a", 3, "a", False)
    op, _ = read(run_op(execution={"group": "stage", "depends_on": ["b"]}))
    assert (op.group, op.grouped, op.depends_on) == ("stage", True, ("b",))
    assert not diags.items


def test_an_op_that_is_not_an_object_is_one_error_at_its_index():
    op, diags = read(["container/run"], index=2)
    assert op is None
    assert [(d.path, d.message) for d in diags.items] == [(("ops", 2), "expected an object, found an array")]


def test_type_id_and_args_are_all_required_and_each_missing_one_is_named():
    op, diags = read({"execution": {}})
    assert op is None
    assert [d.message.split(" (")[0] for d in diags.errors] == [
        "missing required key 'type'",
        "missing required key 'id'",
        "missing required key 'args'",
    ]


def test_an_unknown_op_type_or_a_non_string_id_is_an_error():
    op, diags = read({"type": "container/exec", "id": "a", "args": {}})
    assert op is None
    assert diags.errors[0].path == ("ops", 0, "type")
    assert (
        diags.errors[0].message == 'expected one of "container/run", "container/create-volume", found "container/exec"'
    )
    op, diags = read({"type": "container/run", "id": 7, "args": {"image": "x"}})
    assert op is None and diags.errors[0].path == ("ops", 0, "id")


def test_args_must_be_an_object():
    op, diags = read({"type": "container/run", "id": "a", "args": ["x"]})
    assert op is None and diags.errors[0].path == ("ops", 0, "args")


def test_unknown_op_keys_are_warned_about_with_the_op_named():
    _, diags = read(run_op(retries=3))
    (warning,) = diags.items
    assert warning.path == ("ops", 0, "retries") and warning.op == "a"


def test_a_create_volume_op_is_its_volume_name():
    op, diags = read({"type": "container/create-volume", "id": "vol", "args": {"name": "data.v-1"}}, index=1)
    assert op == VolumeOp("vol", 1, "vol", "data.v-1")
    assert not diags.items


@pytest.mark.parametrize("name", ["-lead", "has space", "a/b", ""])
def test_a_volume_name_docker_refuses_is_an_error(name):
    op, diags = read({"type": "container/create-volume", "id": "vol", "args": {"name": name}})
    assert op is None
    assert diags.errors[0].path == ("ops", 0, "args", "name")
    assert f"volume name '{name}' is not a valid Docker volume name" in diags.errors[0].message


def test_results_on_a_create_volume_op_are_warned_about_and_ignored():
    op, diags = read({"type": "container/create-volume", "id": "v", "args": {"name": "v"}, "results": {"k": "x"}})
    assert isinstance(op, VolumeOp)
    assert diags.warnings[0].path == ("ops", 0, "results")


def test_execution_timeout_is_a_strict_rule_and_must_be_a_number():
    """In Nosana's schema, rejected by its validator, unused by the node."""
    _, diags = read(run_op(execution={"timeout": 30}))
    assert diags.warnings[0].path == ("ops", 0, "execution", "timeout")
    assert "the node does not use it" in diags.warnings[0].message
    _, diags = read(run_op(execution={"timeout": "30s"}))
    assert diags.errors[0].message == 'expected a number, found "30s"'


def test_unknown_execution_keys_are_warned_about():
    op, diags = read(run_op(execution={"group": "g", "priority": 1}))
    assert op.group == "g"
    assert [(d.severity, d.path) for d in diags.items] == [("warning", ("ops", 0, "execution", "priority"))]


def test_execution_must_be_an_object_with_strings_for_depends_on():
    op, diags = read(run_op(execution="group1"))
    assert op is None and diags.errors[0].path == ("ops", 0, "execution")
    _, diags = read(run_op(execution={"depends_on": ["b", 3]}))
    assert diags.errors[0].path == ("ops", 0, "execution", "depends_on", 1)


def test_stop_if_dependent_stops_is_read_and_without_depends_on_is_a_strict_rule():
    op, diags = read(run_op(execution={"depends_on": ["b"], "stop_if_dependent_stops": True}))
    assert op.stop_if_dependent_stops is True and not diags.items
    _, diags = read(run_op(execution={"stop_if_dependent_stops": True}))
    assert diags.warnings[0].message == "stop_if_dependent_stops without depends_on; ignored"
    _, diags = read(run_op(execution={"depends_on": ["b"], "stop_if_dependent_stops": "yes"}))
    assert diags.errors[0].path == ("ops", 0, "execution", "stop_if_dependent_stops")


def test_results_a_regex_or_regex_with_log_types():
    """Only stdout and stderr reach a local log; no logType means every stream."""
    found, diags = results_of(
        {
            "plain": "port: (\\d+)",
            "out": {"regex": "x", "logType": ["stdout", "nodeerr"]},
            "node": {"regex": "y", "logType": ["nodeerr"]},
        }
    )
    assert found == {"plain": ("port: (\\d+)", None), "out": ("x", ("stdout",)), "node": ("y", ())}
    assert not diags.items


def test_a_result_without_log_type_is_a_strict_rule_read_as_every_stream():
    found, diags = results_of({"k": {"regex": "x"}})
    assert found == {"k": ("x", None)}
    assert diags.warnings[0].message == "missing 'logType'; all streams are read"


def test_a_regex_that_does_not_compile_is_kept_with_a_warning_as_the_node_keeps_it():
    """The node reports the error text as the value; the op and the job go on."""
    found, diags = results_of({"bad": "(unclosed"})
    assert found == {"bad": ("(unclosed", None)}
    (warning,) = diags.items
    assert not warning.is_error and warning.path == ("ops", 0, "results", "bad")
    assert warning.message.startswith("a regex that does not compile (")


def test_log_types_must_be_known_streams_without_repeats():
    _, diags = results_of({"k": {"regex": "x", "logType": ["stdout", "console"]}, "j": {"regex": "x", "logType": []}})
    assert [(d.path[-2:], d.message.split(",")[0]) for d in diags.errors] == [
        (("logType", 1), 'expected one of "stdin"'),
        (("j", "logType"), "expected 1 to 4 different streams (stdin"),
    ]
    _, diags = results_of({"k": {"regex": "x", "logType": ["stdout", "stdout"]}})
    assert diags.has_errors()


def test_a_result_that_is_neither_text_nor_an_object_is_an_error():
    found, diags = results_of({"k": 5, "ok": "x"})
    assert found == {"ok": ("x", None)}
    assert diags.errors[0].message == "expected a regular expression string or {regex, logType}, found 5"
    op, diags = read(run_op(results=["x"]))
    assert op.results == () and diags.errors[0].path == ("ops", 0, "results")
