"""Files `nos2compose convert` wrote: the pure mapping of their machinery back to the job, and how Compose reads them.

The projects here are shaped like `docker compose config --format json` output of such a
file, as load_project returns it (references in place, service x-nos2compose blocks kept).
"""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner
from import_helpers import need_compose, pinned_env, run_import, strict_errors

from nos2compose.cli.importing import import_command
from nos2compose.compose import codec
from nos2compose.compose import contract as c
from nos2compose.compose.codec import read_probe_test as probe_args
from nos2compose.engine.compose_config import ComposeConfig
from nos2compose.importer import job_from_project, load_project
from nos2compose.importer.health import probe_checks

PROBE = ["CMD", "sh", "/nos2compose/probe.sh"]


def ref(var: str) -> str:
    return codec.reference(var)


def labelled(op: str, group: str, order: int, **keys) -> dict:
    labels = {c.OP_LABEL: op, c.GROUP_LABEL: group, c.GROUP_ORDER_LABEL: str(order)}
    return {"image": "busybox", "command": None, "entrypoint": None, "labels": labels, **keys}


def project(meta: dict, **services) -> dict:
    return {"name": "p", c.EXTENSION: {"job": "p", **meta}, "services": services}


def run(p: dict):
    """The job and its warnings; every job import writes passes `validate --strict`."""
    job, diags = job_from_project(p)
    if job is not None:
        assert strict_errors(job) == []
    return job, [(d.path, d.message) for d in diags.items]


def ops(job: dict) -> dict[str, dict]:
    return {op["id"]: op for op in job["ops"]}


# ---- the probe's arguments are the checks ----


@pytest.mark.parametrize(
    "args, port, check",
    [
        (
            ["http", "--method=GET", "--url=http://127.0.0.1:8000/v1/models?x=1", "--expect-status=200"],
            8000,
            {"type": "http", "path": "/v1/models?x=1", "method": "GET", "expected_status": 200, "continuous": True},
        ),
        (
            [
                "http",
                "--method=POST",
                "--url=http://127.0.0.1:81/q",
                "--expect-status=401",
                "--header=Authorization: Bearer  x",
                "--header=X-Empty: ",
                '--body={"a":1}',
                "--startup-only",
            ],
            81,
            {
                "type": "http",
                "path": "/q",
                "method": "POST",
                "expected_status": 401,
                "headers": {"Authorization": "Bearer  x", "X-Empty": ""},
                "body": '{"a":1}',
                "continuous": False,
            },
        ),
        (
            ["websocket", "--url=ws://api:9000/", "--expect-text=pong", "--startup-only"],
            9000,
            {"type": "websocket", "expected_response": "pong", "continuous": False},
        ),
        (
            ["http", "--method=GET", "--url=http://127.0.0.1:8000", "--expect-status=204"],
            8000,
            {"type": "http", "path": "", "method": "GET", "expected_status": 204, "continuous": True},
        ),
    ],
)
def test_probe_arguments_become_the_checks_exactly(args, port, check):
    assert probe_args([*PROBE, *args]) == args
    assert probe_checks(args, {"api"}) == ([(port, check)], [])


def test_several_checks_on_several_ports_keep_their_order():
    args = ["http", "--url=http://127.0.0.1:1/a", "--expect-status=200", "websocket", "--url=ws://127.0.0.1:2/"]
    checks, problems = probe_checks(
        [*args, "--expect-text=x", "http", "--url=http://127.0.0.1:1/b", "--expect-status=500"], set()
    )
    assert [(p, ch.get("path", ch.get("expected_response"))) for p, ch in checks] == [(1, "/a"), (2, "x"), (1, "/b")]
    assert problems == []


@pytest.mark.parametrize(
    "args, why",
    [
        (["http", "--url=http://other:80/", "--expect-status=200"], "asks host other, not the op itself"),
        (["http", "--url=http://127.0.0.1:80/", "--expect-status=200", "--retry=3"], "has no option '--retry=3'"),
        (["http", "--url=http://127.0.0.1:80/"], "no --expect-status"),
        (["http", "--method=PATCH", "--url=http://127.0.0.1:80/", "--expect-status=200"], "cannot send PATCH"),
        (["websocket", "--url=ws://127.0.0.1:80/chat", "--expect-text=x"], "asks the path /"),
    ],
)
def test_probe_arguments_a_job_cannot_hold_are_named(args, why):
    checks, problems = probe_checks(args, set())
    assert checks == [] and len(problems) == 1 and why in problems[0]


def test_other_tests_are_not_the_probe():
    assert probe_args(["CMD", "curl", "-f", "http://localhost/"]) is None
    assert probe_args(["CMD-SHELL", "sh /nos2compose/probe.sh http --url=http://127.0.0.1:1/ --expect-status=200"]) == [
        "http",
        "--url=http://127.0.0.1:1/",
        "--expect-status=200",
    ]


# ---- groups, ids, barriers, results ----


def test_labels_give_op_ids_groups_and_their_order_and_barriers_are_not_depends_on():
    check = {"test": [*PROBE, "http", "--method=GET", "--url=http://127.0.0.1:80/", "--expect-status=200"]}
    p = project(
        {"groups": ["first", "second"]},
        **{
            "gpt-oss-120b": labelled(
                "gpt-oss:120b",
                "second",
                1,
                ports=[{"target": 80, "published": "80", "host_ip": "127.0.0.1"}],
                healthcheck=check,
            ),
            "ui": labelled(
                "ui",
                "second",
                1,
                depends_on={
                    "gpt-oss-120b": {"condition": "service_healthy"},
                    "prep": {"condition": "service_completed_successfully"},
                },
            ),
            "prep": labelled(
                "prep",
                "first",
                0,
                environment={"NOSANA_ID": "p", "A": "1"},
                **{c.EXTENSION: {"results": {"k": {"regex": "a$"}, "s": {"regex": "b", "logType": ["stderr"]}}}},
            ),
        },
    )
    job, said = run(p)
    assert said == []
    assert [(op["id"], op["execution"]) for op in job["ops"]] == [
        ("prep", {"group": "first"}),
        ("gpt-oss:120b", {"group": "second"}),
        ("ui", {"group": "second", "depends_on": ["gpt-oss:120b"]}),
    ]
    assert ops(job)["prep"]["results"] == {"k": "a$", "s": {"regex": "b", "logType": ["stderr"]}}
    assert ops(job)["prep"]["args"]["env"] == {"A": "1"}
    assert ops(job)["gpt-oss:120b"]["args"]["aliases"] == ["gpt-oss-120b"]


def test_group_order_labels_win_over_service_names():
    p = project({"group": "z", "order": 1}, a=labelled("a", "z", 1), b=labelled("b", "y", 0))
    job, _ = run(p)
    assert [op["execution"]["group"] for op in job["ops"]] == ["y", "z"]


def test_a_sidecars_probe_and_edges_to_it_belong_to_its_op():
    check = {"test": [*PROBE, "http", "--method=GET", "--url=http://api:80/h", "--expect-status=200"]}
    p = project(
        {"groups": ["g"]},
        api=labelled("api", "g", 0, ports=[{"target": 80, "published": "8080", "host_ip": "127.0.0.1"}]),
        **{
            "api-probe": {"image": "curl", "healthcheck": check, "labels": {c.PROBE_FOR_LABEL: "api"}},
            "ui": labelled("ui", "g", 0, depends_on={"api-probe": {"condition": "service_healthy"}}),
        },
    )
    job, said = run(p)
    assert said == []
    assert ops(job)["api"]["args"]["expose"][0]["health_checks"][0]["path"] == "/h"
    assert ops(job)["ui"]["execution"]["depends_on"] == ["api"]


def test_stop_if_dependent_stops_and_create_volume_ops_come_back():
    p = project(
        {
            "groups": ["g"],
            "create_volumes": {"make-data": {"group": "prep", "name": "data"}, "unused": {"group": "g", "name": "x"}},
        },
        a=labelled("a", "g", 0, volumes=[{"type": "volume", "source": "data", "target": "/d"}]),
        b=labelled(
            "b",
            "g",
            0,
            depends_on={"a": {"condition": "service_started"}},
            **{c.EXTENSION: {"stop_if_dependent_stops": True}},
        ),
    )
    p["volumes"] = {"data": {"name": "p_data"}}
    job, said = run(p)
    assert said == []
    assert [(op["id"], op["execution"]["group"]) for op in job["ops"]] == [
        ("make-data", "prep"),
        ("unused", "g"),
        ("a", "g"),
        ("b", "g"),
    ]
    assert ops(job)["b"]["execution"] == {"group": "g", "depends_on": ["a"], "stop_if_dependent_stops": True}


# ---- run-time literals ----


def test_references_come_back_as_the_literals_in_the_right_form():
    runtime = {
        "N2C_P_W": {"op": "p", "key": "w", "splice": "text"},
        "N2C_P_W_TEXT": {"op": "p", "key": "w", "splice": "embedded"},
        "N2C_P_PORT_ITEMS": {"op": "p", "key": "port", "splice": "items"},
        "N2C_P_L_CHUNKS": {"op": "p", "key": "l", "splice": "items_chunked"},
        "N2C_P_E_OBJECT": {"op": "p", "key": "e", "splice": "object"},
        "N2C_P_F_PAIRS": {"op": "p", "key": "f", "splice": "pairs"},
    }
    consumer = labelled(
        "c",
        "second",
        1,
        command=["run", ref("N2C_P_PORT_ITEMS"), ref("N2C_P_L_CHUNKS"), "cost $$" + ref("N2C_P_W_TEXT"), "$${N2C_P_W}"],
        environment={"W": ref("N2C_P_W"), "X": "said " + ref("N2C_P_W_TEXT")},
        ports=[f"127.0.0.1:{ref('N2C_P_PORT_ITEMS')}:{ref('N2C_P_PORT_ITEMS')}"],
        **{c.EXTENSION: {"environment_from": [ref("N2C_P_E_OBJECT"), ref("N2C_P_F_PAIRS")]}},
    )
    p = project({"groups": ["first", "second"], "runtime": runtime}, p=labelled("p", "first", 0), c=consumer)
    job, said = run(p)
    assert said == []
    args = ops(job)["c"]["args"]
    assert args["cmd"] == [
        "run",
        "%%ops.p.results.port%%",
        {"__spread__": "%%ops.p.results.l%%", "chunked": True},
        "cost $%%ops.p.results.w%%",
        "${N2C_P_W}",  # the job's own text: `$${…}` in the file is no reference
    ]
    assert args["env"] == {
        "W": "%%ops.p.results.w%%",
        "X": "said %%ops.p.results.w%%",
        "__spread__": "%%ops.p.results.e%%",
        "__pairs__": "%%ops.p.results.f%%",
    }
    assert args["expose"] == [{"__spread__": "%%ops.p.results.port%%"}]


def test_a_reference_the_record_does_not_name_is_not_a_literal():
    p = project({"groups": ["g"]}, a=labelled("a", "g", 0, environment={"A": "${N2C_MINE}"}))
    job, _ = run(p)
    assert ops(job)["a"]["args"]["env"] == {"A": "${N2C_MINE}"}


# ---- Compose reads them: references kept, x-nos2compose kept, .env still interpolated ----

FILE = """\
name: shop
x-nos2compose:
  job: shop
  groups: [first, second]
  runtime:
    N2C_P_W:
      op: p
      key: w
      splice: text
services:
  p:
    image: busybox:${TAG}
    command: ["echo", "w: $$HOME"]
    x-nos2compose:
      results:
        w: "(?<=w: ).*$$"
    labels: {io.nosana.op: p, io.nosana.group: first, io.nosana.group-order: "0"}
  c:
    image: busybox
    environment:
      W: "said ${N2C_P_W?set by nos2compose up}"
    ports: ["127.0.0.1:${N2C_P_W?set by nos2compose up}:${N2C_P_W?set by nos2compose up}"]
    labels: {io.nosana.op: c, io.nosana.group: second, io.nosana.group-order: "1"}
"""


def test_compose_reads_a_generated_file_without_the_values_up_fills_in(tmp_path):
    need_compose()
    (tmp_path / "compose.yaml").write_text(FILE)
    (tmp_path / ".env").write_text("TAG=1.36\n")
    env = {k: v for k, v in pinned_env().items() if v is not None}
    project = load_project([str(tmp_path / "compose.yaml")], None, [], [], ComposeConfig(env))
    services = project["services"]
    assert services["p"]["image"] == "busybox:1.36"  # the .env, as in any project
    assert services["p"][c.EXTENSION] == {"results": {"w": "(?<=w: ).*$$"}}
    assert services["c"]["environment"]["W"] == "said " + ref("N2C_P_W")
    assert services["c"]["ports"] == [f"127.0.0.1:{ref('N2C_P_W')}:{ref('N2C_P_W')}"]


def test_a_generated_file_on_standard_input(tmp_path):
    need_compose()
    (tmp_path / ".env").write_text("TAG=1.36\n")
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = CliRunner().invoke(import_command, ["-f", "-"], input=FILE, env=pinned_env())
    finally:
        os.chdir(old)
    assert result.exit_code == 0, result.stderr
    back = ops(json.loads(result.stdout))
    assert back["p"]["results"] == {"w": "(?<=w: ).*$"} and back["p"]["args"]["cmd"] == ["echo", "w: $HOME"]
    assert back["c"]["args"]["env"] == {"W": "said %%ops.p.results.w%%"}


def test_an_n2c_variable_in_an_ordinary_project_is_interpolated_as_any(tmp_path):
    need_compose()
    (tmp_path / "compose.yaml").write_text(
        "services:\n  a:\n    image: busybox\n    environment: {N2C_X: '${N2C_X:-d}'}\n"
    )
    result = run_import(cwd=tmp_path)
    assert result.exit_code == 0 and json.loads(result.stdout)["ops"][0]["args"]["env"] == {"N2C_X": "d"}


# ---- the node's container (x-nosana-node): convert writes it, import drops it ----


def test_what_a_node_gives_every_op_is_dropped_silently_and_a_hand_edit_of_it_is_warned():
    node = {
        "shm_size": "4294967296",
        "ipc": "private",
        "cap_add": ["NET_ADMIN"],
        "devices": [{"source": "/dev/net/tun", "target": "/dev/net/tun", "permissions": "rwm"}],
        "extra_hosts": ["host.containers.internal=8.8.8.8", "host.docker.internal=8.8.8.8"],
    }
    p = project({"groups": ["g"]}, a=labelled("a", "g", 0, **node), b=labelled("b", "g", 0, **node))
    p[c.NODE_BLOCK] = {"shm_size": "4gb", "ipc": "private"}  # Compose keeps the top-level x- block as written
    p["services"]["b"] = {**p["services"]["b"], "shm_size": "8589934592", "cap_add": ["NET_ADMIN", "SYS_TIME"]}
    job, said = run(p)
    assert said == [
        (("services", "b", "cap_add"), "cap_add SYS_TIME: not kept; a node adds NET_ADMIN and no other capability"),
        (
            ("services", "b", "shm_size"),
            "shm_size 8 GiB: not kept; a node gives every container 4 GiB of /dev/shm, and a job has no field for it",
        ),
    ]
    assert ops(job)["a"]["args"] == {"image": "busybox", "aliases": ["a"]}


def test_a_converted_fixture_comes_back_without_a_word_about_the_nodes_container(tmp_path):
    """convert, then import, both forms: the very job that went in, and no warning at all."""
    from helpers import FIXTURES, run_cli

    need_compose()
    source = FIXTURES / "volumes-aliases-restart" / "volumes-aliases-restart.json"
    single = tmp_path / "compose.yaml"
    single.write_text(run_cli("convert", str(source)).stdout)
    assert "<<: *nosana-node" in single.read_text() and "restart: on-failure:3" in single.read_text()
    assert run_cli("convert", str(source), "-o", str(tmp_path / "groups")).exit_code == 0
    original = json.loads(source.read_text())
    for files in ([str(single)], [str(tmp_path / "groups")]):
        back = run_import(*files, cwd=tmp_path)
        assert back.exit_code == 0 and back.stderr == "", back.stderr
        assert json.loads(back.stdout) == original


@pytest.mark.parametrize("case", ["resources", "health-checks", "health-sidecar"])
def test_the_scripts_beside_the_group_files_or_fenced_in_the_single_file_are_machinery(tmp_path, case):
    """The probe and fetcher scripts, as `configs: file:` beside the group files or `content:` at the end of the
    single file: nos2compose's own, never a config of the job's (no warning names one), and the fetchers' specs
    (indented JSON over several lines) come back as the resources they fetch."""
    from helpers import FIXTURES, run_cli

    need_compose()
    source = FIXTURES / case / f"{case}.json"
    args = (FIXTURES / case / "args").read_text().split() if (FIXTURES / case / "args").exists() else []
    single = tmp_path / "compose.yaml"
    single.write_text(run_cli("convert", str(source), *args).stdout)
    assert run_cli("convert", str(source), "-o", str(tmp_path / "groups"), *args).exit_code == 0
    assert "\nconfigs:\n" in single.read_text() and any(p.suffix != ".yaml" for p in (tmp_path / "groups").iterdir())
    original = json.loads(source.read_text())
    for files in ([str(single)], [str(tmp_path / "groups")]):
        back = run_import(*files, cwd=tmp_path)
        assert back.exit_code == 0 and "config" not in back.stderr, back.stderr
        resources = {op["id"]: len(op["args"].get("resources", [])) for op in json.loads(back.stdout)["ops"]}
        assert resources == {op["id"]: len(op["args"].get("resources", [])) for op in original["ops"]}
