"""Literals and their operators, resolved at convert time with the node's rules."""

from __future__ import annotations

from helpers import job, run_op

from nos2compose.compiler import Options, compile_job


def test_literal_operators():
    variables = {
        "FLAGS": '["--a", "--b"]',
        "EMPTY": "[]",
        "OBJ": '{"K": "v"}',
        "PAIRS": '[{"key": "P", "value": "q"}]',
        "CHUNKS": '["[1,", "2]"]',
    }
    definition = job(
        run_op(
            "a",
            cmd=["run", "%%global.variables.FLAGS%%", "x=%%global.variables.FLAGS%%"],
            entrypoint=["sh", "%%global.variables.EMPTY%%", "__remove-if-empty__"],
            env={
                "__spread__": "%%global.variables.OBJ%%",
                "__pairs__": "%%global.variables.PAIRS%%",
                "J": "%%global.job%%",
            },
            expose={"__spread__": "%%global.variables.CHUNKS%%", "chunked": True},
            aliases=["%%global.variables.EMPTY%%", "__remove-if-empty__"],
        ),
        **{"global": {"variables": variables}},
    )
    result = compile_job(definition, Options(name="lit"))
    assert not result.diagnostics.has_errors(), [d.describe() for d in result.diagnostics.items]
    (op,) = result.job.run_ops
    assert op.cmd == ("run", "--a", "--b", "x=--a --b")
    assert op.entrypoint == ("sh",)
    assert dict(op.env) == {"K": "v", "P": "q", "J": "lit", "NOSANA_ID": "lit"}
    assert [e.port for e in op.expose] == [1, 2]
    assert op.aliases == ()


def test_spread_of_a_non_array_fails_the_op():
    definition = job(
        run_op("a", cmd=[{"__spread__": "%%global.variables.X%%"}]), **{"global": {"variables": {"X": "plain"}}}
    )
    result = compile_job(definition, Options(name="p"))
    assert [d.describe() for d in result.diagnostics.errors] == [
        '$.ops[0].args.cmd[0] (op "a"): __spread__ of %%global.variables.X%%: expected its value to be an array, found "plain"'
    ]


def test_a_lone_spread_into_env_merges_an_object():
    definition = job(
        run_op("a", env={"__spread__": "%%global.variables.P%%"}), **{"global": {"variables": {"P": '{"A": "1"}'}}}
    )
    result = compile_job(definition, Options(name="p"))
    assert not result.diagnostics.has_errors(), [d.describe() for d in result.diagnostics.items]
    assert dict(result.job.run_ops[0].env)["A"] == "1"


def test_remove_if_empty_only_acts_in_arrays_and_text_embeds_json_like_javascript():
    definition = job(
        run_op(
            "a", env={"KEEP": "__remove-if-empty__", "OBJ": "x=%%global.variables.O%%"}, aliases=["__remove-if-empty__"]
        ),
        **{"global": {"variables": {"O": '{"a": 1, "b": [1.0]}'}}},
    )
    result = compile_job(definition, Options(name="p"))
    env = dict(result.job.run_ops[0].env)
    assert env["KEEP"] == "__remove-if-empty__"
    assert env["OBJ"] == 'x={"a":1,"b":[1.0]}'
    assert result.job.run_ops[0].aliases == ()
