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
                "__spread__": {"K": "v"},
                "__pairs__": [{"key": "P", "value": "q"}],
                "J": "%%global.job%%",
            },
            expose=[{"__spread__": "%%global.variables.CHUNKS%%", "chunked": True}],
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


def test_a_spread_into_env_is_first_made_a_string_as_on_the_node():
    """The node normalizes env's `__spread__` value as a string field before it parses it: an object becomes
    "[object Object]", a one-item array its item (measured: tests/fidelity literal-spread-env, literal-pairs)."""
    variables = {"OBJ": '{"K": "v"}', "PAIRS": '[{"key": "P", "value": "q"}]', "WRAPPED": '["{\\"W\\": \\"w\\"}"]'}
    definition = job(
        run_op("obj", env={"__spread__": "%%global.variables.OBJ%%"}),
        run_op("pairs", env={"__pairs__": "%%global.variables.PAIRS%%"}),
        run_op("wrapped", env={"__spread__": "%%global.variables.WRAPPED%%"}),
        run_op("text", env={"__spread__": '{"T": "t"}'}),
        **{"global": {"variables": variables}},
    )
    result = compile_job(definition, Options(name="lit"))
    ops = {op.id: op for op in result.job.run_ops}
    assert ops["obj"].unresolved and "is not valid JSON" in ops["obj"].unresolved[0]
    assert ops["pairs"].unresolved == ("__pairs__ must be a JSON array",)
    assert dict(ops["wrapped"].env)["W"] == "w" and not ops["wrapped"].unresolved
    assert ops["text"].unresolved and "is not valid JSON" in ops["text"].unresolved[0]


def test_json_looking_text_in_args_is_parsed_as_the_node_parses_it():
    definition = job(
        run_op(
            "a",
            cmd=["sh", '["j1", "j2"]', "[not json", "plain"],
            env={"OBJ": '{"k": "v"}', "ARR": '["e1", "e2"]', "NUM": "[1, 2.0]"},
            expose=[
                {
                    "port": 80,
                    "health_checks": [
                        {
                            "type": "http",
                            "path": "/",
                            "method": "POST",
                            "expected_status": 200,
                            "body": '{"keep": "me"}',
                        }
                    ],
                }
            ],
        )
    )
    result = compile_job(definition, Options(name="lit"))
    (op,) = result.job.run_ops
    assert op.cmd == ("sh", "j1", "j2", "[not json", "plain")
    assert dict(op.env) == {"OBJ": "[object Object]", "ARR": "e1 e2", "NUM": "1 2", "NOSANA_ID": "lit"}
    assert op.expose[0].health_checks[0].body == '{"keep": "me"}'  # inside an expose item: as written


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
        'NOS304 $.ops[0].args.cmd[0] (op "a"): __spread__ of %%global.variables.X%%: __spread__ is not valid'
    )
    a, b = result.job.run_ops
    assert a.unresolved and a.unresolved[0].startswith("__spread__ is not valid JSON") and not b.unresolved


def test_a_lone_spread_into_env_merges_an_object():
    definition = job(
        run_op("a", env={"__spread__": {"A": "%%global.variables.P%%"}}), **{"global": {"variables": {"P": "1"}}}
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
