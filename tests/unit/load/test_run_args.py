"""load/run_args.py: a container/run op's args read into a RunOp, with the node's global fallbacks and merges."""

from __future__ import annotations

import pytest

from nos2compose.diagnostics import Diagnostics
from nos2compose.load.context import JobContext
from nos2compose.load.literals import LiteralContext
from nos2compose.load.run_args import read_run
from nos2compose.load.shape import Shape
from nos2compose.model import Expose, Mount, Placeholder

ARGS = ("ops", 1, "args")


def run(args: dict, global_: dict | None = None, execution: dict | None = None, strict: bool = False, **variables):
    """Read `args` as op `app` (ops[1], group 1) of job `job`, after op `prep` (group 0, results env and ports)."""
    diags = Diagnostics(strict=strict)
    literals = LiteralContext(
        "job", variables, {"prep": "prep", "app": "app"}, {"prep": 0, "app": 1}, {"prep": {"env", "ports"}}, {}
    )
    context = JobContext(Shape(diags), "job", global_ or {}, literals)
    read = read_run(context, args, ("ops", 1), "app", 1, "app", execution or {})
    op, logins = read if read is not None else (None, None)
    return op, logins, diags


def messages(diags: Diagnostics) -> list[tuple]:
    return [(d.path, d.message) for d in diags.items]


def test_a_minimal_op_gets_the_job_name_as_nosana_id():
    op, logins, diags = run({"image": "alpine"})
    assert (op.id, op.image, op.group, op.cmd, op.entrypoint, op.gpu) == ("app", "alpine", "app", None, None, False)
    assert op.env == (("NOSANA_ID", "job"),)
    assert logins == () and not diags.items


@pytest.mark.parametrize(
    ("cmd", "command"),
    [("echo $HOME", ("/bin/sh", "-c", "echo $HOME")), (["echo", "a b"], ("echo", "a b")), ([], ())],
)
def test_a_cmd_string_runs_through_a_shell_and_an_array_as_it_is(cmd, command):
    """`[]` stays an empty command: the image's default, as Docker takes an empty Cmd."""
    assert run({"image": "x", "cmd": cmd})[0].cmd == command


def test_an_entrypoint_string_is_one_word():
    assert run({"image": "x", "entrypoint": "/bin/sh -c"})[0].entrypoint == ("/bin/sh -c",)


def test_global_image_entrypoint_and_work_dir_are_fallbacks():
    g = {"image": "g-img", "entrypoint": ["/init", "--"], "work_dir": "/g"}
    op, _, diags = run({"cmd": "x"}, g)
    assert (op.image, op.entrypoint, op.work_dir) == ("g-img", ("/init", "--"), "/g")
    assert messages(diags) == [(ARGS, "no 'image' of its own; global.image 'g-img' is used")]
    op, _, _ = run({"image": "own", "entrypoint": "/own", "work_dir": "/own"}, g)
    assert (op.image, op.entrypoint, op.work_dir) == ("own", ("/own",), "/own")


def test_without_image_anywhere_the_op_cannot_run():
    op, _, diags = run({"cmd": "x"})
    assert op is None
    assert messages(diags) == [(ARGS, "missing required key 'image' (and no global.image to fall back on)")]


def test_a_global_image_is_an_error_under_strict_as_nosanas_validator_wants_one_per_op():
    _, _, diags = run({}, {"image": "g"}, strict=True)
    assert diags.errors[0].message == "no 'image' of its own (Nosana's validator rejects this)"


def test_env_is_global_then_the_ops_then_nosana_id_which_always_wins():
    op, _, _ = run({"image": "x", "env": {"B": "op", "C": "op", "NOSANA_ID": "mine"}}, {"env": {"A": "g", "B": "g"}})
    assert op.env == (("A", "g"), ("B", "op"), ("C", "op"), ("NOSANA_ID", "job"))


def test_env_written_as_a_number_is_an_error_but_a_literals_number_becomes_text():
    """The job's own env values must be strings; a literal's value is made one as finalizeEnv.ts does."""
    op, _, diags = run({"image": "x", "env": {"N": 5}})
    assert messages(diags) == [((*ARGS, "env", "N"), "expected a string, found 5")]
    op, _, diags = run(
        {"image": "x", "env": {"N": "%%global.variables.N%%", "T": "%%global.variables.T%%"}}, N="[5]", T="true"
    )
    assert dict(op.env)["N"] == "5" and dict(op.env)["T"] == "true" and not diags.errors


def test_gpu_is_the_ops_or_the_globals():
    assert run({"image": "x", "gpu": False}, {"gpu": True})[0].gpu is True
    assert run({"image": "x", "gpu": True})[0].gpu is True
    assert run({"image": "x"})[0].gpu is False


def test_json_text_in_cmd_that_becomes_an_object_makes_docker_refuse_the_container():
    """The node passes `{"k":1}` on as an object; Docker refuses its Cmd, so the op fails (exit code 2)."""
    op, _, diags = run({"image": "x", "cmd": ["run", '{"k": 1}']})
    assert op.cmd == ("run", '{"k":1}')  # the file keeps the item, as JSON text
    assert op.engine_refuses == (
        "(HTTP code 500) server error - json: cannot unmarshal array into Go struct field "
        "ContainerConfigWrapper.Cmd of type string",
    )
    (refused,) = [d for d in diags.warnings if d.path == (*ARGS, "cmd")]
    assert 'passes {"k":1} on as an object, not a string' in refused.message


def test_a_json_number_in_entrypoint_names_the_entrypoint_field():
    op, _, _ = run({"image": "x", "entrypoint": ["sh", "[7]"]})
    assert op.entrypoint == ("sh", "7") and "ContainerConfigWrapper.Entrypoint" in op.engine_refuses[0]


def test_volumes_mount_by_name_at_an_absolute_path():
    op, _, diags = run(
        {"image": "x", "volumes": [{"name": "data", "dest": "/data"}, {"name": "v", "dest": "rel"}, {"name": "w"}]}
    )
    assert op.mounts == (Mount("data", "/data"),)
    assert messages(diags) == [
        ((*ARGS, "volumes", 1, "dest"), "expected an absolute path in the container, found 'rel'"),
        ((*ARGS, "volumes", 2), "missing required key 'dest' (the path in the container)"),
    ]


def test_an_empty_volumes_array_is_a_strict_rule_of_the_nodes_validator():
    op, _, diags = run({"image": "x", "volumes": []})
    assert op.mounts == ()
    assert diags.warnings[0].path == (*ARGS, "volumes") and "an empty volumes array" in diags.warnings[0].message


@pytest.mark.parametrize(
    ("aliases", "read"), [(" a, b ,a,,", ("a", "b")), (["a", " b ", "a", ""], ("a", "b")), ("", ())]
)
def test_aliases_are_comma_separated_or_a_list_trimmed_and_unique(aliases, read):
    assert run({"image": "x", "aliases": aliases})[0].aliases == read


@pytest.mark.parametrize(
    ("policy", "restart", "codes"),
    [
        ("always", "unless-stopped", ["NOS911"]),  # as the node's Podman provider passes it on (createPodmanRunOptions)
        ("unless-stopped", "unless-stopped", ["NOS911"]),
        ("no", "no", []),
        ("on-failure", "on-failure", ["NOS911"]),
        ({"policy": "on-failure", "restart_tries": 3}, "on-failure:3", []),
        ({"policy": "on-failure", "restart_tries": 0}, "on-failure", ["NOS911"]),  # the node drops a count of 0
        ({"policy": "on-failure"}, "on-failure", ["NOS911"]),
    ],
)
def test_restart_policy_becomes_composes_restart_as_the_podman_provider_passes_it(policy, restart, codes):
    op, _, diags = run({"image": "x", "restart_policy": policy})
    assert op.restart == restart
    # both of the network's validators accept every form: no strict rule; a policy without limit is a local
    # difference (NOS911: a node ends an op that keeps exiting, Docker restarts it without end)
    assert [d.code for d in diags.items] == codes
    assert all(d.path == (*ARGS, "restart_policy") and "until --timeout" in d.message for d in diags.items)


def test_a_server_restarting_without_limit_gets_no_nos911():
    # its command keeps running: the policy is for crashes, and a node and Docker both restart it
    _, _, diags = run({"image": "x", "expose": 8080, "restart_policy": "always"})
    assert [d.code for d in diags.items] == []


def test_a_restart_policy_compose_does_not_know_is_an_error():
    _, _, diags = run({"image": "x", "restart_policy": {"policy": "always", "restart_tries": 2}})
    assert [d.path for d in diags.errors] == [(*ARGS, "restart_policy", "policy")]
    _, _, diags = run({"image": "x", "restart_policy": "sometimes"})
    assert diags.errors[0].message.startswith('expected one of "no", "always", "unless-stopped", "on-failure"')


def test_older_and_unknown_keys_are_set_aside_with_a_warning():
    op, _, diags = run({"image": "x", "output": "/out", "required_vram": 8, "imagee": "y"})
    assert op is not None
    assert [d.path[-1] for d in diags.warnings] == ["imagee", "output", "required_vram"]
    assert diags.warnings[1].message == "'output' is an older field that newer validators reject; ignored"


def test_private_is_said_to_change_nothing_locally():
    _, _, diags = run({"image": "x", "private": True})
    assert diags.warnings[0].path == (*ARGS, "private")
    assert run({"image": "x", "private": False})[2].items == []


def test_a_single_expose_object_is_a_strict_rule_and_read_as_one_item():
    op, _, diags = run({"image": "x", "expose": {"port": 80}})
    assert op.expose == (Expose(80),)
    assert diags.warnings[0].message.endswith("read as a one-item array")


def test_execution_gives_dependencies_and_stop_if_dependent_stops():
    op, _, _ = run({"image": "x"}, execution={"depends_on": ("prep",), "stop_if_dependent_stops": True, "group": "g"})
    assert op.depends_on == ("prep",) and op.stop_if_dependent_stops is True and op.grouped is True
    assert run({"image": "x"})[0].grouped is False


def test_results_of_an_earlier_op_spread_into_env_and_expose_are_left_for_up():
    op, _, diags = run(
        {
            "image": "x",
            "env": {"A": "a", "__spread__": "%%ops.prep.results.env%%"},
            "expose": [80, {"__spread__": "%%ops.prep.results.ports%%"}],
        }
    )
    assert op.env == (("A", "a"), ("NOSANA_ID", "job"))
    assert op.env_from == (Placeholder("prep", "env", "object"),)
    assert op.expose == (Expose(80),) and op.expose_from == (Placeholder("prep", "ports", "items"),)
    assert not diags.errors


def test_a_literal_that_cannot_be_resolved_is_carried_on_the_op():
    op, _, _ = run({"image": "x", "cmd": "echo %%global.variables.MISSING%%"})
    assert op.unresolved == ('Unresolved literal: "%%global.variables.MISSING%%" (key="variables.MISSING")',)


def test_registry_logins_come_back_beside_the_op():
    _, logins, _ = run({"image": "ghcr.io/o/a", "authentication": {"docker": {"username": "u", "password": "p"}}})
    assert [(login.server, login.username) for login in logins] == [("ghcr.io", "u")]
