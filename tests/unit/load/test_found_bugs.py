"""Where load/ differs from the node's own code (nosana-cli 1d3a04c, the reference): each test states what the node
does and fails until load/ does the same. Found while writing tests/unit/load; nothing here is fixed yet.

The node's behaviour was taken from its code (task/globalStore/*.ts, provider/ExposedPortHealthCheck.ts) and, for the
literal pipeline, by running its built interpolateOperation, transformCollections, finalizeEnv and stanatizeArrays.
"""

from __future__ import annotations

from nos2compose.diagnostics import Diagnostics
from nos2compose.load.job import read_job
from nos2compose.load.literals import LiteralContext, Unresolved
from nos2compose.load.node_values import as_text, js_string, json_if_it_looks_like, tokens


def load(*ops, variables: dict | None = None):
    data = {"version": "0.1", "type": "container", "ops": list(ops)}
    if variables:
        data["global"] = {"variables": variables}
    return read_job(data, Diagnostics(), "j", {o["id"]: o["id"] for o in ops})


def run_op(op_id: str, **args) -> dict:
    return {"type": "container/run", "id": op_id, "args": {"image": "x", **args}}


def test_deeply_nested_json_text_in_a_cmd_item_does_not_crash_the_loader():
    """A 1.2 KB job: one cmd item of 600 nested brackets. check_text bounds the *data's* nesting at 100, but text
    that looks like JSON is parsed by json.loads (node_values.json_if_it_looks_like) and flattened recursively, so
    read_job (and `nos2compose convert`) die with a RecursionError traceback. The node parses it (V8's JSON.parse
    takes it) and flattens it to the item 1, a number, which Docker refuses (exit code 2)."""
    deep = "[" * 600 + "1" + "]" * 600
    try:
        load(run_op("a", cmd=["x", deep]))
        crashed = None
    except RecursionError as exc:
        crashed = exc
    assert crashed is None, "RecursionError from load/node_values.py"


def test_a_lone_spread_as_expose_fails_the_op_as_on_the_node():
    """`expose: {"__spread__": "%%global.variables.P%%"}` (no array around it). The node's transformCollections
    treats an object field's `__spread__` as an object to merge: with P = "[8000, 8001]" it first makes the value
    the string "8000 8001" (normalizeByOrigin) and fails the op with `__spread__ is not valid JSON: Unexpected
    non-whitespace character after JSON at position 5`; with "[8000]" it fails with `__spread__ must be a JSON
    object`. load/literals.py (Resolver.value) turns it into a list and publishes ports 8000 and 8001."""
    loaded = load(run_op("a", expose={"__spread__": "%%global.variables.P%%"}), variables={"P": "[8000, 8001]"})
    (op,) = loaded.job.run_ops
    assert op.unresolved, f"op runs with ports {[e.port for e in op.expose]}; the node fails it before it starts"


def test_json_text_holding_nan_stays_text_as_javascript_refuses_it():
    """JSON.parse refuses NaN and Infinity, so the node keeps an env value or cmd item "[NaN]" as it is; Python's
    json.loads accepts them: env "[NaN]" becomes "nan", and a cmd item "[NaN]" becomes a float that load/run_args.py
    says Docker refuses (engine_refuses), failing an op that runs on the node."""
    assert json_if_it_looks_like("[NaN]") == "[NaN]"
    assert tokens("[Infinity]") == ["[Infinity]"]


def test_json_text_after_a_non_breaking_space_is_parsed_as_javascripts_trim_allows():
    """parseJsonIfLooksLike trims with String.prototype.trim (which strips U+00A0 and U+FEFF) and parses the trimmed
    text: env "\\u00a0[1]" is "1" on the node; here it stays text (json.loads is given the untrimmed text)."""
    assert json_if_it_looks_like("\u00a0[1]") == [1]
    assert json_if_it_looks_like("\ufeff[2]") == [2]


def test_small_numbers_are_written_as_javascript_writes_them():
    """String(0.00001) is "0.00001" and String(1e-7) is "1e-7" in JavaScript; js_string gives Python's "1e-05" and
    "1e-07". So env "[0.00001]" is "0.00001" on the node and "1e-05" here."""
    assert js_string(0.00001) == "0.00001"
    assert js_string(1e-7) == "1e-7"
    assert as_text("[0.00001]") == "0.00001"


def test_whole_numbers_past_2_to_the_53_lose_precision_as_in_javascript():
    """JSON.parse reads numbers as doubles: env "[12345678901234567890]" is "12345678901234567000" on the node."""
    assert as_text("[12345678901234567890]") == "12345678901234567000"


def test_an_empty_or_null_health_check_body_sends_no_body():
    """ExposedPortHealthCheck.ts sends `--data` only `if (healthCheck.body && …)`: a body of null, "", 0 or false is
    no body. load/expose.py keeps "" and encodes null as "null", so the probe POSTs a body the node never sends."""
    checks = [
        {"type": "http", "path": "/", "method": "POST", "expected_status": 200, "continuous": False, "body": body}
        for body in (None, "", 0, False)
    ]
    loaded = load(run_op("a", expose=[{"port": 80, "health_checks": checks}]))
    bodies = [check.body for check in loaded.job.run_ops[0].expose[0].health_checks]
    assert bodies == [None, None, None, None]


def test_the_endpoint_of_a_port_written_as_80_point_0_resolves_as_on_the_node():
    """The node keys endpoints by `${port}`, and JavaScript writes 80.0 as "80"; load/job.py's _groups_and_results
    uses Python's str() ("80.0"), so %%ops.web.endpoint.80%% fails the op locally while the node resolves it."""
    loaded = load(run_op("web", expose=[80.0]), run_op("app", env={"U": "%%ops.web.endpoint.80%%"}))
    app = loaded.job.run_ops[1]
    assert not app.unresolved, app.unresolved


def test_global_variables_as_a_whole_is_object_text_on_the_node():
    """%%global.variables%% (two parts) is the node's globalStore.variables, an object: an env value holding it is
    "[object Object]" there; LiteralContext calls it unresolvable, so the op fails locally only."""
    loaded = load(run_op("a", env={"A": "%%global.variables%%"}), variables={"P": "1"})
    (op,) = loaded.job.run_ops
    assert not op.unresolved and dict(op.env)["A"] == "[object Object]", op.unresolved


def test_a_variable_named_with_a_dot_is_not_reachable_as_on_the_node():
    """The node walks `variables.X.Y` as a path (variables["X"]["Y"]), so a variable named "X.Y" is never found
    and the op fails; LiteralContext looks the whole "X.Y" up and resolves it."""
    ctx = LiteralContext("j", {"X.Y": "v"}, {})
    try:
        value = ctx.value("global.variables.X.Y")
    except Unresolved:
        value = None
    assert value is None


def test_a_mistyped_password_is_not_echoed_in_a_diagnostic():
    """README: the password never reaches "a Compose file or the terminal". A password written as a number (a PIN)
    is reported as `expected a string, found 123456`, which prints it."""
    loaded_diags = Diagnostics()
    data = {
        "version": "0.1",
        "type": "container",
        "ops": [run_op("a", authentication={"docker": {"username": "u", "password": 123456}})],
    }
    read_job(data, loaded_diags, "j", {"a": "a"})
    assert all("123456" not in d.describe() for d in loaded_diags.items)
