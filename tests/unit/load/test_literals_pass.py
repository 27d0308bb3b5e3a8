"""load/literals.py called directly: what convert time knows of each literal (LiteralContext), how one op's args
are walked (Resolver), and the node's last step (remove_if_empty).

tests/unit/test_literals.py covers the operators end to end through compile_job; this file covers the pieces:
values and the node's messages for each kind of literal, placeholders and their splice kinds, diagnostics' paths.
"""

from __future__ import annotations

import pytest

from nos2compose.diagnostics import Diagnostics
from nos2compose.load.limits import OUTPUT_LIMIT_ENV, TooLarge
from nos2compose.load.literals import (
    RESULT,
    RUN_TIME,
    UNKNOWN,
    LiteralContext,
    Resolver,
    Unresolved,
    remove_if_empty,
    resolve_args,
)
from nos2compose.model import Placeholder, Template

ARGS = ("ops", 1, "args")


def context(**variables) -> LiteralContext:
    """A job `j` of three ops: `first` in group 0 (results: out), `web` and `side` in group 1 (web exposes 80)."""
    return LiteralContext(
        "j",
        variables,
        {"first": "first", "web": "web-svc", "side": "side"},
        {"first": 0, "web": 1, "side": 1},
        {"first": {"out"}, "side": {"k"}},
        {"web": {"80"}},
    )


def resolver(ctx: LiteralContext | None = None, op: str = "web") -> tuple[Resolver, Diagnostics]:
    diags = Diagnostics()
    return Resolver(ctx or context(), diags, op), diags


# --- LiteralContext: the value of each literal -------------------------------------------------------------------


def test_global_literals_known_at_convert_time():
    ctx = context(X="x")
    assert ctx.value("global.variables.X") == "x"
    assert ctx.value("global.job") == "j"
    assert ctx.value("global.project") == "j"  # the local job name stands for the project too
    assert ctx.value("global.host") == "127.0.0.1"
    assert ctx.value("globals.job") == "j"  # `globals` is the node's alias


def test_an_empty_or_missing_variable_is_unresolved_as_on_the_node():
    """The node treats '' like a missing value (`value == null || value === ''`)."""
    ctx = context(EMPTY="")
    for literal, says in (("global.variables.EMPTY", "'EMPTY'"), ("global.variables.NONE", "'NONE'")):
        with pytest.raises(Unresolved) as caught:
            ctx.value(literal)
        assert caught.value.kind == UNKNOWN and caught.value.message == f"global.variables has no {says}"


def test_the_tunnel_address_is_known_only_on_the_node():
    with pytest.raises(Unresolved) as caught:
        context().value("global.frps_address")
    assert caught.value.kind == RUN_TIME


def test_an_unknown_global_key_is_unresolved():
    with pytest.raises(Unresolved) as caught:
        context().value("global.image")
    assert caught.value.kind == UNKNOWN and "global.variables.X, global.job" in caught.value.message


def test_op_literals_give_the_service_name_and_the_endpoint_of_an_exposed_port():
    ctx = context()
    assert ctx.value("ops.web.host") == "web-svc"
    assert ctx.value("ops.web.endpoint.80") == "web-svc:80"
    with pytest.raises(Unresolved, match=r"op 'web' has no endpoint\.81"):
        ctx.value("ops.web.endpoint.81")
    with pytest.raises(Unresolved, match="there is no op 'nope' in this job"):
        ctx.value("ops.nope.host")


def test_an_op_id_with_a_dot_cannot_be_named_by_a_literal():
    """The id part of a literal stops at the first dot (NOSANA-SPEC: literals)."""
    ctx = LiteralContext("j", {}, {"a.b": "a-b"})
    with pytest.raises(Unresolved, match="there is no op 'a' in this job"):
        ctx.value("ops.a.b.host")


def test_results_are_known_only_at_run_time_and_only_from_an_earlier_group():
    ctx = context()
    with pytest.raises(Unresolved) as caught:
        ctx.value("ops.first.results.out")
    assert caught.value.kind == RESULT
    assert ctx.result_literal("ops.first.results.out", user_group=1) == ("first", "out")
    with pytest.raises(Unresolved, match="declares no result 'nope'"):
        ctx.result_literal("ops.first.results.nope", user_group=1)
    with pytest.raises(Unresolved, match="exist only once it has exited"):
        ctx.result_literal("ops.side.results.k", user_group=1)  # same group: never exited yet


def test_the_nodes_unresolved_messages_for_each_form():
    """interpolateOperation.ts' words, which the op's log shows when it fails."""
    assert (
        LiteralContext.node_message("ops.x.results.k") == 'Unresolved literal: "%%ops.x.results.k%%" '
        '(opId="x", path="results.k")'
    )
    assert (
        LiteralContext.node_message("global.variables.V")
        == 'Unresolved literal: "%%global.variables.V%%" (key="variables.V")'
    )
    assert LiteralContext.node_message("global.nope") == 'Unresolved literal: "%%global.nope%%" (key="nope")'


def test_charge_parses_json_looking_values_and_hands_out_copies_of_lists():
    """A variable's text is parsed once (its items are not: only a result's items are parsed one by one)."""
    ctx = context(L='["a", "[1]"]')
    first = ctx.charge("global.variables.L", ("p",))
    assert first == ["a", "[1]"]
    first.append("mutated")
    assert ctx.charge("global.variables.L", ("p",)) == ["a", "[1]"]


def test_charge_stops_with_too_large_once_the_values_pass_the_output_limit(monkeypatch):
    """A small job can splice one big value many times; the limit counts every use, not every literal."""
    monkeypatch.setenv(OUTPUT_LIMIT_ENV, "84")
    ctx = context(BIG="x" * 40)  # 42 bytes as JSON
    ctx.charge("global.variables.BIG", ("a",))
    ctx.charge("global.variables.BIG", ("b",))  # exactly at the limit: still within it
    with pytest.raises(TooLarge) as caught:
        ctx.charge("global.variables.BIG", ("ops", 0, "args", "cmd", 2))
    assert caught.value.path == ("ops", 0, "args", "cmd", 2) and caught.value.limit == 84


# --- Resolver: strings ---------------------------------------------------------------------------------------


def test_a_whole_string_literal_becomes_its_value_with_its_type():
    r, diags = resolver(context(L="[1, 2]"))
    assert r.string("%%global.variables.L%%", ARGS) == [1, 2]
    assert r.string("no literal here", ARGS) == "no literal here"
    assert diags.items == []


def test_embedded_literals_become_text():
    r, _ = resolver(context(L='["a", "b"]'))
    assert r.string("http://%%ops.web.host%%:80/%%global.variables.L%%", ARGS) == "http://web-svc:80/a b"


def test_two_literals_in_one_string_fail_the_op_as_on_the_node():
    """The node's `[^.]+` is greedy: `%%global.job%%-%%global.host%%` reads as one literal with key
    `job%%-%%global` and path `host`, which has no value, so the node fails the op; so does nos2compose."""
    ctx = context()
    r, diags = resolver(ctx)
    text = "%%global.job%%-%%global.host%%"
    assert r.string(text, ARGS) == text
    assert ctx.unresolved["web"] == [f'Unresolved literal: "{text}" (key="job%%-%%global.host")']
    assert diags.warnings[0].path == ARGS


def test_an_unresolved_literal_stays_as_written_and_fails_the_op_once():
    ctx = context()
    r, diags = resolver(ctx)
    assert r.string("%%ops.nope.host%%", (*ARGS, "env", "A")) == "%%ops.nope.host%%"
    r.string("again %%ops.nope.host%%", (*ARGS, "env", "B"))
    assert ctx.unresolved == {"web": ['Unresolved literal: "%%ops.nope.host%%" (opId="nope", path="host")']}
    assert [d.path for d in diags.warnings] == [(*ARGS, "env", "A"), (*ARGS, "env", "B")]
    assert "on a node this op fails before it starts" in diags.warnings[0].message


def test_the_tunnel_address_fails_the_op_only_under_up():
    ctx = context()
    r, diags = resolver(ctx)
    r.string("%%global.frps_address%%", ARGS)
    assert ctx.unresolved["web"] == ["%%global.frps_address%% has no value locally"]
    (warning,) = diags.warnings
    assert "`nos2compose up` fails this op before it starts" in warning.message
    assert "on a node" not in warning.message


def test_text_shaped_like_a_literal_that_the_node_does_not_take_stays_with_a_warning():
    """`%%globals.variables.X%%` matches neither of the node's patterns (globals takes one key without dots)."""
    r, diags = resolver(context(X="x"))
    assert r.string("%%globals.variables.X%%", ARGS) == "%%globals.variables.X%%"
    (warning,) = diags.warnings
    assert warning.message.startswith("%%globals.variables.X%% is not a literal the node resolves")
    assert warning.op == "web"


def test_a_result_becomes_a_placeholder_and_its_first_use_is_remembered():
    ctx = context()
    r, _ = resolver(ctx)
    whole = r.string("%%ops.first.results.out%%", (*ARGS, "work_dir"))
    embedded = r.string("x=%%ops.first.results.out%%!", (*ARGS, "env", "X"))
    assert isinstance(whole, Template) and whole.parts == (Placeholder("first", "out", "text"),)
    assert embedded.parts == ("x=", Placeholder("first", "out", "embedded"), "!")
    assert str(embedded) == "x=%%ops.first.results.out%%!"  # reads as the job wrote it
    r.string("%%ops.first.results.out%%", (*ARGS, "env", "LATER"))
    assert ctx.first_use[Placeholder("first", "out", "text")] == ((*ARGS, "work_dir"), "web")


# --- Resolver: arrays, objects and spread markers ------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "splice"),
    [
        (lambda r: r.array(["%%ops.first.results.out%%"], ARGS), "items"),
        (lambda r: r.array([{"__spread__": "%%ops.first.results.out%%", "chunked": True}], ARGS), "items_chunked"),
        (lambda r: list(r.mapping({"__spread__": "%%ops.first.results.out%%"}, ARGS)), "object"),
        (lambda r: list(r.mapping({"__pairs__": "%%ops.first.results.out%%"}, ARGS)), "pairs"),
    ],
)
def test_a_result_spliced_into_an_array_or_object_says_how(where, splice):
    """The splice kind tells `up` how to fill the value in: as list items, chunks, an object or pairs."""
    r, _ = resolver()
    (found,) = where(r)
    assert found.parts == (Placeholder("first", "out", splice),)


def test_a_spread_mixing_text_and_a_result_fails_the_op_under_up_only():
    ctx = context()
    r, diags = resolver(ctx)
    assert r.array([{"__spread__": "ports %%ops.first.results.out%%"}], (*ARGS, "cmd")) == []
    assert ctx.unresolved["web"] == ["a spread value mixing text and results"]
    assert diags.warnings[0].path == (*ARGS, "cmd", 0)


def test_json_looking_text_in_an_args_field_is_parsed_with_a_warning_at_its_path():
    r, diags = resolver()
    assert r.value("[1]", (*ARGS, "work_dir")) == "1"  # a string field: the array's tokens as text
    assert r.array(["a", '["b", "c"]'], (*ARGS, "cmd")) == ["a", "b", "c"]
    assert [d.path for d in diags.warnings] == [(*ARGS, "work_dir"), (*ARGS, "cmd", 1)]
    assert diags.warnings[1].message.startswith('the node reads "[\\"b\\", \\"c\\"]" as JSON and uses "b", "c"')


def test_values_inside_an_object_in_an_array_are_resolved_but_not_normalized():
    """An expose item keeps JSON-looking text as written (the node normalizes only args' own fields)."""
    r, diags = resolver()
    items = r.array([{"port": 80, "health_checks": [{"body": '{"a": 1}'}]}], (*ARGS, "expose"))
    assert items == [{"port": 80, "health_checks": [{"body": '{"a": 1}'}]}]
    assert diags.items == []


def test_keys_spread_into_an_object_win_over_its_own():
    """transformCollections.ts applies the markers after the object's own keys (overwrite = true)."""
    r, _ = resolver()
    env = r.mapping({"A": "own", "__spread__": {"A": "spread", "B": "b"}, "C": "c"}, (*ARGS, "env"))
    assert env == {"A": "spread", "C": "c", "B": "b"}


# --- remove_if_empty and resolve_args ------------------------------------------------------------------------


def test_remove_if_empty_drops_the_first_marker_and_an_emptied_field():
    args = {"cmd": ["__remove-if-empty__"], "aliases": ["a", "__remove-if-empty__"], "env": {"X": "y"}}
    assert remove_if_empty(args) == {"aliases": ["a"], "env": {"X": "y"}}
    assert remove_if_empty({"cmd": ["__remove-if-empty__", "__remove-if-empty__"]}) == {"cmd": ["__remove-if-empty__"]}
    assert args["aliases"] == ["a", "__remove-if-empty__"]  # the caller's args are not changed


def test_remove_if_empty_leaves_markers_outside_top_level_arrays():
    args = {"work_dir": "__remove-if-empty__", "expose": [{"port": 80, "x": ["__remove-if-empty__"]}]}
    assert remove_if_empty(args) == args


def test_resolve_args_resolves_then_removes_what_became_empty():
    ctx = context(NONE="[]")
    diags = Diagnostics()
    args = {"image": "x", "cmd": ["%%global.variables.NONE%%", "__remove-if-empty__"], "work_dir": "/%%global.job%%"}
    assert resolve_args(args, ARGS, ctx, diags, "web") == {"image": "x", "work_dir": "/j"}
    assert not diags.items
