"""Issue 21: JSON-looking values parsed within bounds wherever the node parses them, and the output limit
counted where the output is built (the YAML writer, `up`'s override file), whatever the route."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from helpers import job, run_cli, run_op

from nos2compose import compiler
from nos2compose.compose import overrides
from nos2compose.compose.yaml_text import dump
from nos2compose.load.json_text import JsonBeyond, parse, parse_if_it_looks_like
from nos2compose.load.limits import OutputBudget, TooLarge
from nos2compose.load.node_values import as_text, tokens
from nos2compose.model import Placeholder
from nos2compose.supervisor import fill

DEEP = "[" * 5000 + "]" * 5000


def _write(tmp_path: Path, definition: dict) -> None:
    (tmp_path / "job.json").write_text(json.dumps(definition))


def _located(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if re.match(r"^error: job\.json:\d+:\d+: \$", line)]


# -- JSON-looking text: the node's value, or JsonBeyond ---------------------------------------------------


def test_json_looking_text_is_parsed_as_json_parse_does_within_the_bounds():
    assert parse("[" * 100 + "]" * 100) == parse("[" * 100 + "]" * 100)  # exactly the bound: read
    with pytest.raises(JsonBeyond, match="nested 101 levels deep"):
        parse("[" * 101 + "]" * 101)
    with pytest.raises(JsonBeyond, match="nested 5,000 levels deep"):
        parse(DEEP)
    assert parse('["[[[[", {"a": "]]]"}]') == ["[[[[", {"a": "]]]"}]  # brackets in strings do not count
    for not_json in ("[" * 5000, "[" * 200 + "}" * 200, '["' + "[" * 200, "[NaN]", "[Infinity]", "[1,]"):
        with pytest.raises(ValueError):  # what JSON.parse throws on: the node keeps the text, or fails the op
            parse(not_json)
        assert parse_if_it_looks_like(not_json) == not_json
    assert parse_if_it_looks_like("\u00a0\ufeff [1] \u2028") == [1]  # JavaScript's trim(), then JSON.parse
    assert parse_if_it_looks_like("\x1c[1]") == "\x1c[1]"  # not JavaScript white space: not JSON-looking


def test_json_looking_text_longer_than_the_input_limit_is_not_parsed(monkeypatch):
    monkeypatch.setenv("NOS2COMPOSE_MAX_INPUT_BYTES", "1000")
    assert parse("[" + "1," * 400 + "1]") == [1] * 401
    with pytest.raises(JsonBeyond, match="of 1,003 characters, more than the 1,000"):
        parse("[" + "1," * 500 + "1]")


def test_tokens_go_through_text_inside_text_without_recursion():
    """valueToArrayTokens parses JSON-looking items again, level after level: 12 levels of text in text, each
    90 arrays deep, flatten to one token without recursion (about 1,100 frames of Python's own)."""
    value: object = "x"
    for _ in range(12):
        for _ in range(90):
            value = [value]
        value = json.dumps(value)
    assert tokens(value) == ["x"] and as_text(value) == "x"
    deep = "[" * 99 + "1" + "]" * 99
    assert tokens([deep] * 3) == [1, 1, 1]


# -- every place the node parses: one located error, exit 2, from validate and convert alike ------------------


PLACES = {
    "cmd item": (job(run_op("a", cmd=[DEEP])), "$.ops[0].args.cmd[0]"),
    "cmd string": (job(run_op("a", cmd=DEEP)), "$.ops[0].args.cmd"),
    "entrypoint": (job(run_op("a", entrypoint=["x", DEEP])), "$.ops[0].args.entrypoint[1]"),
    "env value": (job(run_op("a", env={"A": DEEP})), "$.ops[0].args.env.A"),
    "work_dir": (job(run_op("a", work_dir=" " + DEEP)), "$.ops[0].args.work_dir"),
    "literal": (
        job(run_op("a", cmd=["%%global.variables.X%%"]), **{"global": {"variables": {"X": DEEP}}}),
        "$.ops[0].args.cmd[0]",
    ),
    "embedded literal": (
        job(
            run_op("a", env={"A": "%%global.variables.X%%" + "]" * 200}), **{"global": {"variables": {"X": "[" * 200}}}
        ),
        "$.ops[0].args.env.A",
    ),
    "__spread__": (
        job(run_op("a", cmd=[{"__spread__": "%%global.variables.X%%"}]), **{"global": {"variables": {"X": DEEP}}}),
        "$.ops[0].args.cmd[0]",
    ),
    "__pairs__": (
        job(run_op("a", env={"__pairs__": "%%global.variables.X%%"}), **{"global": {"variables": {"X": DEEP}}}),
        "$.ops[0].args.env.__pairs__",
    ),
    "chunked": (
        job(run_op("a", cmd=[{"__spread__": [DEEP[:2500], DEEP[2500:]], "chunked": True}])),
        "$.ops[0].args.cmd[0]",
    ),
}


@pytest.mark.parametrize("place", PLACES)
def test_deep_json_looking_text_is_one_located_error_wherever_the_node_parses_it(tmp_path, place):
    definition, where = PLACES[place]
    _write(tmp_path, definition)
    for command in ("validate", "convert"):
        result = run_cli(command, "job.json", cwd=tmp_path)
        assert result.exit_code == 2, (result.stderr, result.exception)
        (line,) = _located(result.stderr)
        assert f"{where}: text that looks like JSON" in line and "levels deep" in line, line


def test_json_looking_text_within_the_bounds_gives_the_nodes_value(tmp_path):
    nested = "[" * 60 + '"a", 2' + "]" * 60
    _write(tmp_path, job(run_op("a", cmd=["%%global.variables.X%%", "z"]), **{"global": {"variables": {"X": nested}}}))
    result = run_cli("convert", "job.json", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert '    command:\n      - a\n      - "2"\n      - z\n' in result.stdout  # flattened, as valueToArrayTokens


# -- the output limit, counted by the writer -------------------------------------------------------------------


def test_the_writer_stops_at_the_limit_and_says_where():
    doc = {"services": {"a": {"image": "x", "command": ["item"] * 1000}}}
    assert len(dump(doc, "", OutputBudget(100_000))) < 100_000
    with pytest.raises(TooLarge) as stopped:
        dump(doc, "header", OutputBudget(5000))
    assert stopped.value.where == ("services", "a", "command") and stopped.value.path is None


def test_output_past_the_limit_is_one_located_error_at_the_field_from_validate_and_convert(tmp_path, monkeypatch):
    """The literals' early count (at least 9 bytes an item) lets this through; the writer (12 bytes an item,
    quoted numbers) stops it: convert, convert -o and validate give the same located error."""
    monkeypatch.setenv("NOS2COMPOSE_MAX_OUTPUT_BYTES", "100000")
    variables = {"N": json.dumps(list(range(10, 100)) * 10)}
    _write(
        tmp_path,
        job(run_op("a"), run_op("b", cmd=["%%global.variables.N%%"] * 9), **{"global": {"variables": variables}}),
    )
    lines = []
    for args in (["validate"], ["convert"], ["convert", "-o", "out"]):
        result = run_cli(args[0], "job.json", *args[1:], cwd=tmp_path)
        assert result.exit_code == 2, result.stderr
        (line,) = _located(result.stderr)
        lines.append(line)
        assert result.stdout == "" and not (tmp_path / "out").exists()
    assert len(set(lines)) == 1, lines
    assert re.match(
        r"error: job\.json:1:\d+: \$\.ops\[1\]\.args\.cmd: the job would expand to more than 100,000 bytes of Compose "
        r"here \(the file is counted as it is written\); the limit is NOS2COMPOSE_MAX_OUTPUT_BYTES$",
        lines[0],
    )
    monkeypatch.setenv("NOS2COMPOSE_MAX_OUTPUT_BYTES", "200000")
    assert run_cli("convert", "job.json", cwd=tmp_path).exit_code == 0


def test_the_early_count_stops_a_splice_before_it_is_built():
    variables = {"N": json.dumps(["x"] * 100_000)}
    definition = job(run_op("a", cmd=["%%global.variables.N%%"] * 1000), **{"global": {"variables": variables}})
    result = compiler.compile_job(definition, compiler.Options(name="p"))
    (error,) = result.diagnostics.errors
    # 100,000 items of at least 10 bytes a use: past 50 MiB at the 53rd
    assert error.path == ("ops", 0, "args", "cmd", 52) and "more than 50 MiB" in error.message


# -- results filled in by `up` ---------------------------------------------------------------------------------


def test_a_result_too_deep_to_parse_fails_its_op_with_the_reason():
    results = {"a": {"k": [DEEP]}}
    with pytest.raises(fill.Unfilled, match=r"^%%ops\.a\.results\.k%%: text that looks like JSON .* 5,000 levels"):
        fill.value_of(Placeholder("a", "k", "items"), results)


def test_the_override_file_stops_at_the_output_limit(monkeypatch):
    services = {"b": {"command": ["${N2C_A_K?x}"] * 50, "ports": ["127.0.0.1:${N2C_A_P?x}:${N2C_A_P?x}"]}}
    values = {"N2C_A_K": ["v" * 100] * 100, "N2C_A_P": ["80"]}
    text = overrides.results_override(services, values)
    assert text.count('"' + "v" * 100 + '"') == 5000 and '["127.0.0.1:80:80"]' in text
    monkeypatch.setenv("NOS2COMPOSE_MAX_OUTPUT_BYTES", "100000")
    with pytest.raises(
        overrides.Overflow, match="more than 100,000 bytes of Compose; the limit is NOS2COMPOSE_MAX_OUT"
    ):
        overrides.results_override(services, values)
