"""load/checks.py: what a job must be before it is read (check_text), and the checks across ops after it is
read: ids, group names, dependencies, cycles, volumes, images and where a local run differs from a node."""

from __future__ import annotations

import datetime

from nos2compose.diagnostics import Diagnostics
from nos2compose.load.checks import (
    MAX_DEPTH,
    check_dependencies,
    check_ids,
    check_images,
    check_text,
    check_volumes,
    warn_local_differences,
)
from nos2compose.model import Expose, HttpCheck, Job, Mount, RunOp, VolumeOp

NOT_STORABLE = "holds a character Compose files cannot carry (a lone surrogate, U+FFFE or U+FFFF)"


def op(op_id: str, index: int, group: str | None = None, **fields) -> RunOp:
    return RunOp(id=op_id, index=index, group=group or op_id, image="x", grouped=group is not None, **fields)


def job(*ops) -> Job:
    return Job("j", tuple(ops), tuple(dict.fromkeys(o.group for o in ops)))


def found(check, subject) -> list[tuple]:
    diags = Diagnostics()
    check(subject, diags)
    return [(d.severity, d.path, d.message) for d in diags.items]


def nested(depth: int):
    value = 1
    for _ in range(depth):
        value = [value]
    return value


# --- check_text ----------------------------------------------------------------------------------------------


def test_plain_json_passes():
    diags = Diagnostics()
    assert check_text({"ops": [{"id": "a", "args": {"n": 1.5, "ok": True, "none": None}}]}, diags) is True
    assert diags.items == []


def test_text_compose_cannot_carry_is_an_error_at_its_value_or_key():
    diags = Diagnostics()
    assert check_text({"ops": [{"env": {"A": "x\ud800", "B\uffff": "y", "C": "\ufffe"}}]}, diags) is False
    assert sorted((d.path, d.message) for d in diags.items) == [
        (("ops", 0, "env", "A"), NOT_STORABLE),
        (("ops", 0, "env", "B\uffff"), NOT_STORABLE),
        (("ops", 0, "env", "C"), NOT_STORABLE),
    ]


def test_nesting_is_bounded_at_max_depth_without_using_pythons_stack():
    """Iterative: 200,000 levels are refused with one error, not a RecursionError."""
    assert check_text(nested(MAX_DEPTH), Diagnostics()) is True
    for depth in (MAX_DEPTH + 1, 200_000):
        diags = Diagnostics()
        assert check_text(nested(depth), diags) is False
        (error,) = diags.items
        assert error.path == (0,) * (MAX_DEPTH + 1)
        assert error.message == f"nested more than {MAX_DEPTH} levels deep; a job definition never needs that"


def test_keys_must_be_text_as_yaml_may_give_numbers():
    assert found(check_text, {"env": {1: "a"}}) == [
        ("error", ("env",), "expected text keys, found the key 1; quote it in YAML")
    ]


def test_a_number_wider_than_64_bits_or_a_yaml_date_is_an_error():
    assert check_text({"a": 2**63 - 1, "b": -(2**63)}, Diagnostics()) is True
    assert found(check_text, {"a": 2**64, "d": datetime.date(2024, 1, 1)}) == [
        ("error", ("d",), "expected a JSON value, found date (YAML dates and other tags: quote them)"),
        ("error", ("a",), "a number far too large for any field of a job"),
    ]


# --- check_ids -----------------------------------------------------------------------------------------------


def test_a_duplicate_id_is_an_error_at_each_copy_naming_the_first():
    raw = [{"id": "a"}, {"id": "b"}, {"id": "a"}, {"id": "a"}, "not an op", {"id": 5}]
    assert found(check_ids, raw) == [
        ("error", ("ops", 2, "id"), "op id 'a' is used twice (first at $.ops[0].id); ids must be unique"),
        ("error", ("ops", 3, "id"), "op id 'a' is used twice (first at $.ops[0].id); ids must be unique"),
    ]


def test_an_id_with_a_space_is_a_strict_rule():
    diags = Diagnostics(strict=True)
    check_ids([{"id": "my op"}], diags)
    assert diags.errors[0].path == ("ops", 0, "id") and "contains a space" in diags.errors[0].message


def test_a_group_name_with_an_unprintable_character_is_warned_about_once():
    raw = [{"id": "a", "execution": {"group": "g\u202e1"}}, {"id": "b", "execution": {"group": "g\u202e1"}}]
    (warning,) = found(check_ids, raw)
    assert warning[:2] == ("warning", ("ops", 0, "execution", "group"))
    assert "holds U+202E" in warning[2]


# --- check_dependencies --------------------------------------------------------------------------------------


def test_dependencies_in_the_same_group_pass():
    assert found(check_dependencies, job(op("a", 0, "g"), op("b", 1, "g", depends_on=("a",)))) == []


def test_self_unknown_and_cross_group_dependencies_are_errors_as_the_node_refuses_them():
    subject = job(op("a", 0, "g1"), op("b", 1, "g2", depends_on=("b", "ghost", "a")))
    assert found(check_dependencies, subject) == [
        ("error", ("ops", 1, "execution", "depends_on", 0), "an op cannot depend on itself"),
        ("error", ("ops", 1, "execution", "depends_on", 1), "depends on 'ghost', which is not an op of this job"),
        (
            "error",
            ("ops", 1, "execution", "depends_on", 2),
            "depends on 'a' in group 'g1', but depends_on may only name ops of the same group ('g2'), "
            "as the node requires",
        ),
    ]


def test_many_unknown_dependencies_are_one_error_naming_five_and_counting_the_rest():
    subject = job(op("a", 0, depends_on=tuple(f"x{i}" for i in range(8))))
    ((severity, path, message),) = found(check_dependencies, subject)
    assert severity == "error" and path == ("ops", 0, "execution", "depends_on", 0)
    assert message == "depends on 'x0', 'x1', 'x2', 'x3', 'x4' and 3 more, which are not an op of this job"


def test_ops_that_both_have_no_group_are_a_warning_not_an_error():
    """The node compares the groups as written (both absent), accepts, and starts the dependent twice."""
    ((severity, path, message),) = found(check_dependencies, job(op("a", 0), op("b", 1, depends_on=("a",))))
    assert severity == "warning" and path == ("ops", 1, "execution", "depends_on", 0)
    assert "neither has an execution group" in message


def test_a_cycle_is_reported_once_at_the_op_that_closes_it():
    """a waits for c, c for b, b for a: the search from a finds the cycle when b names a."""
    subject = job(
        op("a", 0, "g", depends_on=("c",)), op("b", 1, "g", depends_on=("a",)), op("c", 2, "g", depends_on=("b",))
    )
    assert found(check_dependencies, subject) == [
        (
            "error",
            ("ops", 1, "execution", "depends_on"),
            "dependency cycle: a -> c -> b -> a (the job would wait forever)",
        )
    ]


# --- volumes, images, local differences ----------------------------------------------------------------------


def test_a_mount_of_a_volume_no_op_creates_is_a_warning():
    subject = job(VolumeOp("v", 0, "v", "data"), op("a", 1, mounts=(Mount("data", "/d"), Mount("cache", "/c"))))
    assert found(check_volumes, subject) == [
        (
            "warning",
            ("ops", 1, "args", "volumes", 1, "name"),
            "no container/create-volume op creates volume 'cache'; it is declared anyway and starts empty",
        )
    ]


def test_an_empty_image_name_is_an_error():
    subject = job(op("a", 0)._replace(image="  "), op("b", 1))
    assert found(check_images, subject) == [("error", ("ops", 0, "args", "image"), "the image name is empty")]


def test_a_dependency_exposing_ports_without_health_checks_is_warned_about():
    """On a node it never reports startup success, so its dependents never start there."""
    subject = job(op("svc", 0, "g", expose=(Expose(80),)), op("client", 1, "g", depends_on=("svc",)))
    (warning,) = found(warn_local_differences, subject)
    assert warning[1] == ("ops", 0, "args", "expose") and "never reports startup success on a node" in warning[2]
    checked = (Expose(80, None, (HttpCheck("/", "GET", 200),)),)
    assert (
        found(warn_local_differences, job(op("svc", 0, "g", expose=checked), op("c", 1, "g", depends_on=("svc",))))
        == []
    )


def test_a_service_in_a_group_that_is_not_the_last_is_warned_about():
    subject = job(op("web", 0, expose=(Expose(80),)), op("after", 1), op("last", 2, expose=(Expose(81),)))
    (warning,) = found(warn_local_differences, subject)
    assert warning[1] == ("ops", 0, "args", "expose")
    assert warning[2].startswith("a service (it exposes ports) in group 'web', which is not the last")
