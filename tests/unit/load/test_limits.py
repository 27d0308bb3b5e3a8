"""load/limits.py: the output limit (50 MiB, or NOS2COMPOSE_MAX_OUTPUT_BYTES) and the depends_on count that stops
a job whose Compose would grow with the square of its ops, before any of it is built."""

from __future__ import annotations

import pytest

from nos2compose.diagnostics import Diagnostics
from nos2compose.load.limits import (
    DEFAULT_OUTPUT_LIMIT,
    DEPENDS_ENTRY,
    OUTPUT_LIMIT_ENV,
    TooLarge,
    check_output_size,
    output_limit,
)
from nos2compose.model import Job, RunOp


def ops_depending_on_all_earlier(count: int) -> Job:
    ops = tuple(
        RunOp(id=f"op{i}", index=i, group="g", image="x", depends_on=tuple(f"op{j}" for j in range(i)))
        for i in range(count)
    )
    return Job("j", ops, ("g",))


def test_the_default_limit_is_50_mib(monkeypatch):
    monkeypatch.delenv(OUTPUT_LIMIT_ENV, raising=False)
    assert output_limit() == DEFAULT_OUTPUT_LIMIT == 50 * 1024 * 1024


@pytest.mark.parametrize(("setting", "limit"), [("1000", 1000), ("0", 1), ("-5", 1), ("lots", DEFAULT_OUTPUT_LIMIT)])
def test_the_limit_can_be_set_and_is_never_below_one_byte(monkeypatch, setting, limit):
    monkeypatch.setenv(OUTPUT_LIMIT_ENV, setting)
    assert output_limit() == limit


def test_too_large_says_where_the_limit_is_and_how_to_raise_it():
    big = TooLarge(("ops", 3, "args", "cmd"), 50 * 1024 * 1024)
    assert big.path == ("ops", 3, "args", "cmd")
    assert "more than 50 MiB of Compose" in big.message and big.message.endswith(OUTPUT_LIMIT_ENV)


def test_a_job_within_the_limit_passes_without_a_word(monkeypatch):
    monkeypatch.delenv(OUTPUT_LIMIT_ENV, raising=False)
    diags = Diagnostics()
    assert check_output_size(ops_depending_on_all_earlier(50), {}, diags) is True
    assert diags.items == []


def test_depends_on_past_the_limit_is_one_error_at_the_op_where_it_passes(monkeypatch):
    """Each entry costs the dependency's service name plus DEPENDS_ENTRY bytes; counting stops at the first op
    past the limit, so a job with millions of edges is refused without building them."""
    per_entry = len("op0") + DEPENDS_ENTRY
    monkeypatch.setenv(OUTPUT_LIMIT_ENV, str(per_entry * 3))  # three entries fit: op1 (1) and op2 (2)
    diags = Diagnostics()
    assert check_output_size(ops_depending_on_all_earlier(5), {}, diags) is False
    (error,) = diags.items
    assert error.is_error and error.op == "op3"
    assert error.path == ("ops", 3, "execution", "depends_on")
    assert "(entries for 10 dependencies in all)" in error.message and error.message.endswith(OUTPUT_LIMIT_ENV)


def test_the_count_uses_the_service_names_compose_will_write(monkeypatch):
    """An op id Compose refuses is renamed; the name written is what costs bytes."""
    job = ops_depending_on_all_earlier(2)
    monkeypatch.setenv(OUTPUT_LIMIT_ENV, str(len("op0") + DEPENDS_ENTRY))
    assert check_output_size(job, {}, Diagnostics()) is True
    assert check_output_size(job, {"op0": "a-much-longer-service-name"}, Diagnostics()) is False
