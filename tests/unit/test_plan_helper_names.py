"""Names the planner gives: an op id Compose cannot take is renamed, and a helper (fetcher, probe sidecar)
never takes a name an op's service already has, however the ops are named."""

from __future__ import annotations

from helpers import job, run_op

from nos2compose.compiler import Options, compile_job
from nos2compose.compose.layout import PlanOptions
from nos2compose.compose.naming import service_names

HF = {"type": "HF", "repo": "org/model", "target": "/m"}


def test_an_id_with_a_trailing_newline_is_renamed():
    names = service_names(["a\n", "b", "c\n\n"])
    assert names == {"a\n": "a", "b": "b", "c\n\n": "c"}


def test_a_renamed_id_with_a_trailing_newline_is_warned_about():
    result = compile_job(job(run_op("a\n")), Options(name="p"))
    assert result.layout.services == {"a\n": "a"}
    (warning,) = result.diagnostics.warnings
    assert warning.path == ("ops", 0, "id") and "not a valid Compose service name" in warning.message


def _fetchers(result) -> dict[str, list[str]]:
    return {op_id: [f.service for f in fs] for op_id, fs in result.layout.fetchers.items()}


def test_an_op_named_like_a_fetcher_keeps_its_name_and_the_fetcher_moves():
    definition = job(run_op("a", resources=[HF, {**HF, "target": "/n"}]), run_op("a-fetch-1"))
    result = compile_job(definition, Options(name="p"))
    assert result.ok, result.diagnostics.items
    assert result.layout.services == {"a": "a", "a-fetch-1": "a-fetch-1"}
    assert _fetchers(result) == {"a": ["a-fetch-1-2", "a-fetch-2"]}
    text = result.single_file()
    assert "a-fetch-1-2:" in text and "\n  a-fetch-1:\n    <<: *nosana-node\n    image: x\n" in text


def test_fetcher_names_are_unique_across_ops_whatever_the_order():
    definition = job(run_op("b-fetch-1-2"), run_op("b", resources=[HF]), run_op("b-fetch-1"))
    result = compile_job(definition, Options(name="p"))
    assert _fetchers(result) == {"b": ["b-fetch-1-3"]}
    again = compile_job(definition, Options(name="p"))
    assert _fetchers(again) == _fetchers(result)


def test_a_probe_sidecar_never_takes_an_op_or_fetcher_name():
    check = {"port": 80, "health_checks": [{"type": "http", "path": "/", "method": "GET", "expected_status": 200}]}
    definition = job(run_op("a", expose=[check], resources=[HF]), run_op("a-probe"))
    result = compile_job(definition, Options(name="p", plan=PlanOptions(health_probe="sidecar")))
    assert result.ok, result.diagnostics.items
    assert result.layout.probes == {"a": "a-probe-2"}
    assert _fetchers(result) == {"a": ["a-fetch-1"]}
