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


def test_spread_of_a_non_array_fails_the_op_with_the_nodes_words():
    definition = job(
        run_op("a", cmd=[{"__spread__": "%%global.variables.X%%"}]),
        run_op("b"),
        **{"global": {"variables": {"X": "plain"}}},
    )
    result = compile_job(definition, Options(name="p"))
    assert result.ok and not result.diagnostics.errors
    (warning,) = [d.describe() for d in result.diagnostics.warnings if "__spread__" in d.message]
    assert warning.startswith(
        '$.ops[0].args.cmd[0] (op "a"): __spread__ of %%global.variables.X%%: __spread__ is not valid'
    )
    a, b = result.job.run_ops
    assert a.unresolved and a.unresolved[0].startswith("__spread__ is not valid JSON") and not b.unresolved


def test_a_lone_spread_into_env_merges_an_object():
    definition = job(
        run_op("a", env={"__spread__": "%%global.variables.P%%"}), **{"global": {"variables": {"P": '{"A": "1"}'}}}
    )
    result = compile_job(definition, Options(name="p"))
    assert not result.diagnostics.has_errors(), [d.describe() for d in result.diagnostics.items]
    assert dict(result.job.run_ops[0].env)["A"] == "1"


def test_remove_if_empty_acts_as_on_the_node_and_text_embeds_like_javascript():
    """stanatizeArrays.ts: in top-level array args only, the first marker goes, and the field if it is then empty."""
    definition = job(
        run_op(
            "a",
            env={"KEEP": "__remove-if-empty__", "OBJ": "x=%%global.variables.O%%", "B": "%%global.variables.T%%"},
            aliases=["__remove-if-empty__"],
            cmd=["run", "__remove-if-empty__", "__remove-if-empty__"],
        ),
        **{"global": {"variables": {"O": '{"a": 1, "b": [1.0]}', "T": "[true, 2.0]"}}},
    )
    result = compile_job(definition, Options(name="p"))
    (op,) = result.job.run_ops
    env = dict(op.env)
    assert env["KEEP"] == "__remove-if-empty__"  # not an array
    assert env["OBJ"] == "x=[object Object]" and env["B"] == "true 2"  # String() of each token, as the node writes
    assert op.aliases == () and op.cmd == ("run", "__remove-if-empty__")  # only the first marker goes
