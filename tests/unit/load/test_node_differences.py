"""Where load/ differed from the node's own code (nosana-cli 1d3a04c, the reference), now as the node does; where a
local run cannot, it says so (a warning, or one located error), never a crash. Each test names the node's code.

Found by tests/unit/load (commit 4740dd0, test_found_bugs.py); the node's behaviour was read in its code
(services/NodeManager/node/task/globalStore/*.ts, provider/ExposedPortHealthCheck.ts).
"""

from __future__ import annotations

import json

import pytest
from helpers import run_cli

from nos2compose.diagnostics import Diagnostics
from nos2compose.load.job import read_job
from nos2compose.load.json_text import JsonBeyond
from nos2compose.load.literals import LiteralContext, Unresolved
from nos2compose.load.node_values import as_text, env_string, js_json, js_string, json_if_it_looks_like, tokens


def load(*ops, variables: dict | None = None, diags: Diagnostics | None = None):
    data = {"version": "0.1", "type": "container", "ops": list(ops)}
    if variables is not None:
        data["global"] = {"variables": variables}
    return read_job(data, Diagnostics() if diags is None else diags, "j", {o["id"]: o["id"] for o in ops})


def run_op(op_id: str, **args) -> dict:
    return {"type": "container/run", "id": op_id, "args": {"image": "x", **args}}


def described(diags: Diagnostics) -> str:
    return "\n".join(d.describe() for d in diags.items)


def test_json_text_holding_nan_stays_text_as_javascripts_json_parse_refuses_it():
    """JSON.parse refuses NaN and Infinity (interpolateOperation.ts parseJsonIfLooksLike keeps the text)."""
    assert json_if_it_looks_like("[NaN]") == "[NaN]"
    assert tokens("[Infinity]") == ["[Infinity]"]


def test_json_text_after_a_non_breaking_space_is_parsed_as_javascripts_trim_allows():
    """parseJsonIfLooksLike parses v.trim(), and String.prototype.trim strips U+00A0 and U+FEFF."""
    assert json_if_it_looks_like("\u00a0[1]") == [1]
    assert json_if_it_looks_like("\ufeff[2]") == [2]


def test_a_mistyped_password_is_never_shown_in_a_diagnostic():
    """The node refuses a password that is not a string (the SDK's validateJobDefinition: `password?: string`);
    so does nos2compose, without printing it: a PIN written as a number is still a password."""
    diags = Diagnostics()
    load(run_op("a", authentication={"docker": {"username": "u", "password": 123456}}), diags=diags)
    assert diags.has_errors() and "123456" not in described(diags)
    assert "expected a string, found a number (not shown: it may be a credential)" in described(diags)


def test_credentials_written_as_text_or_json_text_are_never_shown_in_a_diagnostic():
    """`docker` written as "user:password", a password the node reads as JSON text, a spread in `docker`: the
    messages say what is wrong, never the value."""
    for docker in ("u:123456", {"username": "u", "password": "[123456]"}, {"username": "u", "__spread__": "{123456"}):
        diags = Diagnostics()
        load(run_op("a", authentication={"docker": docker}), diags=diags)
        assert diags.items and "123456" not in described(diags), docker


def test_secret_resource_fields_of_the_wrong_type_are_not_shown():
    diags = Diagnostics()
    iam = {"REGION": 7, "ACCESS_KEY_ID": 424242, "SECRET_ACCESS_KEY": 987654}
    resource = {"type": "S3", "url": "s3://b/k", "target": "/data", "IAM": iam}
    load(run_op("a", resources=[resource]), diags=diags)
    text = described(diags)
    assert "424242" not in text and "987654" not in text and "found 7" in text, text


def test_a_username_of_the_wrong_type_is_still_shown():
    diags = Diagnostics()
    load(run_op("a", authentication={"docker": {"username": 5, "password": "pw"}}), diags=diags)
    assert "expected a string, found 5" in described(diags)
    assert json.dumps("pw") not in described(diags)


def test_small_numbers_are_written_as_javascripts_string_writes_them():
    """valueToSpaceString maps String(x) (interpolateOperation.ts:45-48): String(0.00001) is "0.00001" and
    String(1e-7) is "1e-7", where Python writes 1e-05 and 1e-07."""
    assert js_string(0.00001) == "0.00001"
    assert js_string(1e-7) == "1e-7"
    assert js_string(1e21) == "1e+21" and js_string(1e20) == "100000000000000000000"
    assert js_string(-0.0) == "0" and js_string(1.5) == "1.5"
    assert as_text("[0.00001]") == "0.00001"


def test_json_values_in_env_are_written_as_javascripts_json_stringify_writes_them():
    """finalizeEnv.ts:19-20 makes an object or array value JSON.stringify(v): numbers as JavaScript writes them."""
    assert env_string([0.00001, 1.0, {"a": 1e-7}]) == '[0.00001,1,{"a":1e-7}]'
    assert js_json({"k": ["v", 1, None, True], "é": 'x"y'}) == '{"k":["v",1,null,true],"é":"x\\"y"}'
    loaded = load(run_op("a", env={"A": "%%global.variables.P%%"}), variables={"P": "[[0.00001, 2.0]]"})
    assert dict(loaded.job.run_ops[0].env)["A"] == "[0.00001,2]"


def test_whole_numbers_past_2_to_the_53_lose_precision_as_in_javascript():
    """JSON.parse reads numbers as doubles (parseJsonIfLooksLike, interpolateOperation.ts:24)."""
    assert as_text("[12345678901234567890]") == "12345678901234567000"
    assert as_text("[9007199254740993]") == "9007199254740992"
    assert env_string([12345678901234567890]) == "[12345678901234567000]"
    assert js_string(9007199254740991) == "9007199254740991"


def test_an_empty_or_null_health_check_body_sends_no_body():
    """ExposedPortHealthCheck.ts:186 sends `--data` only `if (healthCheck.body && …)`: a body of null, "", 0 or
    false is no body; an empty object or array is truthy and is sent as JSON."""
    checks = [
        {"type": "http", "path": "/", "method": "POST", "expected_status": 200, "continuous": False, "body": body}
        for body in (None, "", 0, False, 0.0, {}, [], 1.0)
    ]
    loaded = load(run_op("a", expose=[{"port": 80, "health_checks": checks}]))
    bodies = [check.body for check in loaded.job.run_ops[0].expose[0].health_checks]
    assert bodies == [None, None, None, None, None, "{}", "[]", "1"]


def test_the_endpoint_of_a_port_written_as_80_point_0_resolves_as_on_the_node():
    """The node keys an op's endpoints by `${p}` (globalStore/setDefaults.ts:86-88), JavaScript's text of the port:
    80.0 is "80", so %%ops.web.endpoint.80%% resolves there."""
    loaded = load(run_op("web", expose=[80.0]), run_op("app", env={"U": "%%ops.web.endpoint.80%%"}))
    app = loaded.job.run_ops[1]
    assert not app.unresolved, app.unresolved
    assert dict(app.env)["U"] == "web:80"
    assert loaded.literals.exposed["web"] == {"80"}


def test_global_variables_as_a_whole_is_object_text_on_the_node():
    """%%global.variables%% matches the node's two-part pattern (interpolateOperation.ts:11-12, 119-127): its value
    is globalStore.variables, an object (set only when the job has global.variables, setDefaults.ts:21-30), and
    String() of an object is "[object Object]" (valueToSpaceString, :45-48)."""
    loaded = load(run_op("a", env={"A": "%%global.variables%%", "B": "v=%%globals.variables%%"}), variables={"P": "1"})
    (op,) = loaded.job.run_ops
    assert not op.unresolved, op.unresolved
    assert dict(op.env)["A"] == "[object Object]" and dict(op.env)["B"] == "v=[object Object]"
    assert dict(load(run_op("a", env={"A": "%%global.variables%%"}), variables={}).job.run_ops[0].env)["A"] == (
        "[object Object]"
    )


def test_global_variables_as_a_whole_fails_the_op_when_the_job_has_none():
    """Without global.variables, globalStore.variables is undefined: `Unresolved literal`, the op fails."""
    (op,) = load(run_op("a", env={"A": "%%global.variables%%"})).job.run_ops
    assert op.unresolved == ('Unresolved literal: "%%global.variables%%" (key="variables")',)


def test_a_variable_named_with_a_dot_is_not_reachable_as_on_the_node():
    """getGlobalByPath walks `variables.X.Y` segment by segment (interpolateOperation.ts:63-73): variables["X"]["Y"],
    so a variable named "X.Y" is never found and the op fails with the node's message."""
    ctx = LiteralContext("j", {"X.Y": "v", "X": "w"}, {})
    with pytest.raises(Unresolved) as caught:
        ctx.value("global.variables.X.Y")
    assert "a variable named with a dot is never reached" in caught.value.message
    (op,) = load(run_op("a", env={"A": "%%global.variables.X.Y%%"}), variables={"X.Y": "v"}).job.run_ops
    assert op.unresolved == ('Unresolved literal: "%%global.variables.X.Y%%" (key="variables.X.Y")',)


def test_deeply_nested_json_text_in_a_cmd_item_is_one_located_error_not_a_crash(tmp_path):
    """The node's JSON.parse takes 600 nested brackets (parseJsonIfLooksLike, interpolateOperation.ts:17-28) and
    flattens the item to 1, a number, which Docker refuses. nos2compose parses JSON-looking text to 100 levels
    (json_text.py, docs/limits.md): past that it is one error at the item's path (exit 2), never a traceback."""
    deep = "[" * 600 + "1" + "]" * 600
    with pytest.raises(JsonBeyond) as caught:
        load(run_op("a", cmd=["x", deep]))
    assert caught.value.path == ("ops", 0, "args", "cmd", 1)
    job = tmp_path / "deep.json"
    job.write_text(json.dumps({"version": "0.1", "type": "container", "ops": [run_op("a", cmd=["x", deep])]}))
    result = run_cli("convert", str(job))
    assert result.exit_code == 2, result.output
    assert "$.ops[0].args.cmd[1]: text that looks like JSON" in result.stderr and "nested 600 levels" in result.stderr
    assert "Traceback" not in result.output + result.stderr and not isinstance(result.exception, RecursionError)


def test_a_lone_spread_as_expose_is_merged_as_an_object_as_on_the_node():
    """transformCollections merges `expose: {__spread__: …}` as an object, its value first made a string field's:
    a variable holding ports ("8000 8001") fails the op before it starts; one holding [{port}] is merged, and an
    expose that is one object exposes no port (the SDK's getExposePorts) (measured: tests/fidelity
    literal-spread-expose-alone, literal-spread-expose-object). A result's value comes at run time, when its ports are
    published: NOS912 says so. In an array the spread splices ports, quietly."""
    from nos2compose.compiler import Options, compile_job

    def compiled(expose, value: str = "[8000, 8001]"):
        job = {
            "version": "0.1",
            "type": "container",
            "global": {"variables": {"P": value}},
            "ops": [
                {"type": "container/run", "id": "r", "args": {"image": "x"}, "results": {"p": "ports=(.*)"}},
                {"type": "container/run", "id": "a", "args": {"image": "x", "expose": expose}},
            ],
        }
        result = compile_job(job, Options(name="j"))
        assert not result.diagnostics.has_errors(), described(result.diagnostics)
        return result.job.run_ops[1], result.diagnostics

    op, diags = compiled({"__spread__": "%%global.variables.P%%"})
    assert op.expose == () and op.unresolved, op
    assert "__spread__ is not valid JSON" in op.unresolved[0]
    assert "`nos2compose up` does the same" in described(diags) and "NOS912" in [d.code for d in diags.items]
    op, _ = compiled({"__spread__": "%%global.variables.P%%"}, '[{"port": 8000}]')
    assert op.expose == () and not op.unresolved
    op, diags = compiled({"__spread__": "%%ops.r.results.p%%"})
    assert op.expose_from and "locally the result's ports are published" in described(diags)
    op, diags = compiled([{"__spread__": "%%global.variables.P%%"}])
    assert [e.port for e in op.expose] == [8000, 8001] and "NOS912" not in [d.code for d in diags.items]


def test_a_whole_literal_cmd_whose_value_is_a_number_fails_the_op_not_the_job():
    """cmd "%%global.variables.V%%" with V = "[0]": the node makes the cmd the number 0 and Docker refuses its
    container; the job is valid (the validators see a string): NOS306 and the op fails, as on the node."""
    from nos2compose.compiler import Options, compile_job

    job = {
        "version": "0.1",
        "type": "container",
        "global": {"variables": {"V": "[0]"}},
        "ops": [{"type": "container/run", "id": "o", "args": {"image": "x", "cmd": "%%global.variables.V%%"}}],
    }
    result = compile_job(job, Options(name="j"))
    assert not result.diagnostics.has_errors()
    assert [d.code for d in result.diagnostics.items] == ["NOS306"]
    (op,) = result.job.run_ops
    assert op.engine_refuses and "cannot unmarshal number" in op.engine_refuses[0]
