"""LocalNode (the node's TaskManager, locally) and the API's routes against the fake engine.

The answers are checked against what nosana-cli's node code answers (src/services/NodeManager/
node/api/routes and node/task in /work/shared/oracle): the end-to-end tests on a real engine
(tests/e2e/test_api.py) add to these, never replace them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_engine import FakeEngine

from nos2compose.api.machine import expose_id, validation_errors
from nos2compose.api.node import LocalNode
from nos2compose.api.words import TaskError
from nos2compose.run_plan import PlannedGroup, PlannedOp
from nos2compose.run_plan import RunPlan as Plan
from nos2compose.supervisor import record

RUN = [(0, "running", "", 0)]
HEALTHY = [(0, "running", "healthy", 0)]
DONE = [(0, "exited", "", 0)]


@pytest.fixture(autouse=True)
def state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("NOS2COMPOSE_STATE_DIR", str(tmp_path / "state"))


def op(op_id, group, check=False, ports=(), depends=()):
    return PlannedOp(op_id, op_id, group, check, tuple(ports), False, depends=tuple(depends))


def make(groups, scripts, started=None, definition=None):
    """A LocalNode over a fake engine; `started`: the services that have a container (default: all)."""
    plan = Plan(
        "p", tuple(PlannedGroup(name, i, Path(f"{name}.yaml"), tuple(ops)) for i, (name, ops) in enumerate(groups)), {}
    )
    engine = FakeEngine(scripts)
    for service in scripts if started is None else started:
        engine.started[service] = 0.0
    return LocalNode(plan, engine, definition), engine


def two_groups(**kw):
    """Group `setup` (a finished task), then `serve` (a healthy web service on 8080 and a worker)."""
    return make(
        [
            ("setup", [op("prepare", "setup")]),
            ("serve", [op("web", "serve", True, [(8080, 80)]), op("worker", "serve")]),
        ],
        {"prepare": DONE, "web": HEALTHY, "worker": RUN},
        **kw,
    )


def acted(engine, action) -> list[tuple]:
    """The services of each `action` call the engine got."""
    return [call[1] for call in engine.calls if call[0] == action]


def code_of(call) -> str:
    with pytest.raises(TaskError) as caught:
        call()
    return str(caught.value)


def test_statuses_in_the_node_words():
    node, _ = two_groups()
    assert node.ops() == {"prepare": "finished", "web": "running", "worker": "running"}
    assert node.op("web") == {"web": "running"}
    assert node.op("nope") == {"nope": None}  # the node's lookup always answers an object
    assert node.group_ops("current") == {"web": "running", "worker": "running"}
    assert node.group_ops("setup") == {"prepare": "finished"}
    assert node.group_ops("nope") == {}


def test_waiting_and_pending_ops():
    node, _ = make(
        [("a", [op("db", "a", True, [(5432, 5432)]), op("api", "a", depends=["db"])]), ("b", [op("later", "b")])],
        {"db": [(0, "running", "starting", 0)], "api": RUN, "later": RUN},
        started=["db"],
    )
    # running from the moment it begins, whatever its health (the node's `start` event)
    assert node.ops() == {"db": "running", "api": "waiting", "later": "pending"}


def test_restart_and_stop_refusals_carry_the_task_managers_codes():
    node, engine = two_groups()
    assert code_of(lambda: node.restart_op("setup", "prepare")) == "GROUP_NOT_ACTIVE"
    assert code_of(lambda: node.restart_op("nope", "prepare")) == "GROUP_NOT_FOUND"
    assert code_of(lambda: node.restart_op("serve", "nope")) == "INVALID_OPID"
    assert code_of(lambda: node.stop_op("serve", "prepare")) == "GROUP_NOT_FOUND"  # not in that group
    assert code_of(lambda: node.stop_group("setup")) == "GROUP_NOT_ACTIVE"
    assert code_of(lambda: node.restart_group("nope")) == "GROUP_NOT_FOUND"
    node.busy["worker"] = "STOPPING"
    assert node.ops()["worker"] == "stopping"
    assert code_of(lambda: node.restart_op("serve", "worker")) == "OPERATION_STOPPING"
    assert code_of(lambda: node.stop_op("serve", "worker")) == "OPERATION_STOPPING"
    assert acted(engine, "stop") == acted(engine, "restart") == []


def test_stop_then_restart_an_op():
    node, engine = two_groups()
    node.stop_op("serve", "worker")
    assert acted(engine, "stop") == [("worker",)]
    assert node.ops()["worker"] == "stopped"
    assert record.read("p")["ops"]["worker"]["state"] == "stopped"  # `ps` sees it too
    node.stop_op("serve", "worker")  # already stopped: left as it is, as on the node
    assert acted(engine, "stop") == [("worker",)]
    node.restart_op("serve", "worker")
    assert node.ops()["worker"] == "running"
    # a stop of an op of another group than the active one is allowed
    node.stop_op("setup", "prepare")
    assert node.ops()["prepare"] == "stopped"


def test_restart_names_the_active_group_but_may_rerun_an_op_of_another():
    node, engine = two_groups()
    node.restart_op("serve", "prepare")  # the node's restart looks the op up in the whole job
    assert acted(engine, "restart") == [("prepare",)]


def test_stopping_the_last_group_ends_the_flow():
    node, _ = two_groups()
    node.stop_group("serve")
    assert node.group_ops("serve") == {"web": "stopped", "worker": "stopped"}
    assert node.active_group() is None and node.group_ops("current") == {}
    # over, as on a node: nothing is active, a restart is refused
    assert code_of(lambda: node.restart_group("serve")) == "GROUP_NOT_ACTIVE"
    flow = node.reports.results()
    assert flow["status"] == "success" and flow["endTime"] is not None and flow["secrets"] == {}
    by_op = {o["operationId"]: o for o in flow["opStates"]}
    assert by_op["web"]["status"] == "stopped" and by_op["web"]["exitCode"] == 137
    assert node.reports.endpoints() is None


def test_move_to_another_group():
    node, engine = make(
        [("a", [op("one", "a")]), ("b", [op("two", "b")]), ("c", [op("three", "c")])],
        {"one": RUN, "two": RUN, "three": RUN},
        started=["one", "two"],
    )
    assert node.active_group().name == "b"
    assert code_of(lambda: node.move_group("b")) == "GROUP_ACTIVE"
    assert code_of(lambda: node.move_group("nope")) == "GROUP_NOT_FOUND"
    assert code_of(lambda: node.move_group("c")).startswith("GROUP_NEVER_STARTED")  # locally only `up` starts it
    node.move_group("a")
    assert acted(engine, "stop") == [("two",)] and acted(engine, "restart") == [("one",)]
    assert node.active_group().name == "a"
    assert node.ops() == {"one": "running", "two": "stopped", "three": "pending"}
    assert node.group_ops("current") == {"one": "running"}


def test_stop_job_expires_it():
    node, engine = two_groups()
    node.stop_job()
    assert [set(services) for services in acted(engine, "stop")] == [{"web", "worker"}]  # not what had ended
    assert node.ops() == {"prepare": "finished", "web": "stopped", "worker": "stopped"}
    flow = node.reports.results()
    assert flow["status"] == "success" and flow["endTime"] is not None
    by_op = {o["operationId"]: o for o in flow["opStates"]}
    assert by_op["worker"]["status"] == "success"  # an expired job's ops end `success`
    assert by_op["worker"]["diagnostics"]["reason"] == {
        "hostShutDown": False,
        "jobStopped": False,
        "jobExpired": True,
        "reason": "Operation stopped due to flow expired",
    }
    assert by_op["prepare"]["diagnostics"]["reason"]["jobExpired"] is False


def test_stop_job_ends_ops_that_had_not_begun():
    node, _ = make([("a", [op("one", "a")]), ("b", [op("two", "b")])], {"one": RUN, "two": RUN}, started=["one"])
    node.stop_job()
    assert node.ops() == {"one": "stopped", "two": "stopped"}
    two = node.reports.results()["opStates"][1]
    assert (two["status"], two["exitCode"], two["startTime"]) == ("success", 0, None) and two["endTime"] > 0


def test_a_restarted_op_began_with_its_first_run():
    node, engine = make([("a", [op("flaky", "a"), op("once", "a")])], {"flaky": DONE, "once": DONE})
    engine.started.update(flaky=10.0, once=10.0)
    engine.now = 20.0
    engine.restarts["flaky"] = 2  # Docker keeps the last run's StartedAt; the container was made before the first
    flaky, once = node.reports.results()["opStates"]
    assert (flaky["startTime"], flaky["diagnostics"]["state"]["RestartCount"]) == (8_000, 2)
    assert once["startTime"] == 10_000  # one run: its start


def test_flow_state_while_it_runs():
    definition = {"ops": [{"id": "prepare"}, {"id": "web"}, {"id": "worker"}]}
    node, _ = two_groups(definition=definition)
    flow = node.reports.results()
    assert list(flow) == ["status", "startTime", "endTime", "secrets", "opStates"]
    assert flow["status"] == "running" and flow["endTime"] is None
    prepare, web, _ = flow["opStates"]
    assert list(prepare) == [
        "operationId",
        "group",
        "providerId",
        "status",
        "startTime",
        "endTime",
        "exitCode",
        "logs",
        "errors",
        "diagnostics",
    ]
    assert (prepare["status"], prepare["exitCode"], prepare["providerId"]) == ("success", 0, "id-prepare")
    # each entry with the time Docker stamped on its line, as the node stores it (RFC 3339)
    stamp = "2026-01-02T03:04:05.123456789Z"
    assert prepare["logs"] == [{"type": "stdout", "log": "last words of prepare\n", "timestamp": stamp}]
    assert prepare["errors"] == []
    # once its container has ended: the inspect State with RestartCount, as the node's diagnostics.state
    assert prepare["diagnostics"]["state"] == {"Status": "exited", "ExitCode": 0, "OOMKilled": False, "RestartCount": 0}
    assert "state" not in web["diagnostics"]  # still running
    assert "results" not in prepare  # it declares none
    assert (web["status"], web["endTime"], web["exitCode"]) == ("running", None, None)
    key = expose_id("p", 1, 80)  # the node's id: the op's index in the definition, its port, the flow id
    assert flow["secrets"] == {
        "p": {key: {"opID": "web", "port": 80, "url": "http://127.0.0.1:8080", "status": "ONLINE"}},
        "urlmode": "public",
    }
    assert node.reports.endpoints() == {"urls": flow["secrets"]["p"], "status": "ONLINE"}


def test_expose_ids_are_the_sdks():
    # @nosana/sdk 0.4.69 getExposeIdHash('p', 1, 80) and ('n2c-job', 0, 8080), run under Node.js
    assert expose_id("p", 1, 80) == "3GutynA346QBNHjDfts6qvhhGTdqUubAGrssUdYQKuuP"
    assert expose_id("n2c-job", 0, 8080) == "3JobeFiA5MWBoGjMd9jFn7pWYSXRp6pw6tXGXmnRYhzM"


def test_endpoint_states():
    node, _ = make(
        [("a", [op("api", "a", True, [(8000, 8000)]), op("plain", "a", False, [(9000, 9000)])])],
        {"api": [(0, "running", "starting", 0)], "plain": RUN},
    )
    found = node.reports.endpoints()
    assert found["status"] == "OFFLINE"
    assert sorted(v["status"] for v in found["urls"].values()) == ["OFFLINE", "UNKNOWN"]
    node, _ = make([("a", [op("task", "a")])], {"task": RUN})
    assert node.reports.endpoints() is None  # exposes nothing


def test_an_op_that_could_not_run_reads_failed_with_a_node_error():
    node, _ = make([("a", [op("one", "a"), op("two", "a")])], {"one": RUN, "two": RUN}, started=["one"])
    record.note("p", "two", record.FAILED, 'Unresolved literal: "%%ops.x.host%%"', exit_code=0)
    assert node.ops()["two"] == "failed"  # it never ran, whatever exit code the node gives it
    two = node.reports.results()["opStates"][1]
    assert (two["status"], two["exitCode"]) == ("failed", 0)
    assert two["startTime"] == two["endTime"] and two["endTime"] > 0
    assert two["logs"] == [{"type": "nodeerr", "log": 'Unresolved literal: "%%ops.x.host%%"', "timestamp": ""}]
    assert two["errors"] == [] and "state" not in two["diagnostics"]  # the node records no event for it


def test_a_failure_with_an_event_is_in_the_ops_errors():
    node, _ = make([("a", [op("one", "a"), op("two", "a")])], {"one": RUN, "two": RUN}, started=["one"])
    error = {"event": "image-pull-error", "message": "image x:1: not found (No such image: x:1); ...", "code": 404}
    record.note("p", "two", record.FAILED, error["message"], exit_code=2, error=error)
    flow = node.reports.results()
    two = flow["opStates"][1]
    assert (two["status"], two["exitCode"], two["errors"]) == ("failed", 2, [error])
    assert flow["opStates"][0]["errors"] == []
    assert node.reports.info()["opStates"][1]["errors"] == [error]  # /info carries it too


def test_a_create_volume_op_is_done_once_its_group_has_begun():
    volume = PlannedOp("vol", "vol", "a", False, (), False, volume="cache", host=("one",))
    node, engine = make([("a", [volume, op("one", "a")])], {"one": RUN}, started=["one"])
    assert node.ops() == {"vol": "finished", "one": "running"}
    state = node.reports.results()["opStates"][0]
    assert (state["status"], state["exitCode"], state["providerId"], state["logs"]) == ("success", 0, None, [])
    node.stop_op("a", "vol")  # nothing of its own to stop
    assert acted(engine, "stop") == []


def test_info_frame():
    node, _ = two_groups()
    info = node.reports.info()
    assert list(info) == ["status", "startTime", "endTime", "secrets", "errors", "opStates", "operations"]
    assert info["errors"] == []
    assert all("logs" not in o and "providerId" not in o for o in info["opStates"])
    assert info["operations"] == {
        "all": {"prepare": "finished", "web": "running", "worker": "running"},
        "currentGroup": "serve",
        "currentGroupStatus": {"web": "running", "worker": "running"},
    }
    node.stop_group("serve")
    assert node.reports.info()["operations"]["currentGroupStatus"] == {}
    assert "currentGroup" not in node.reports.info()["operations"]  # undefined on the node: left out of its JSON


def test_node_info_shape():
    node, _ = two_groups()
    info = node.reports.node_info()
    assert list(info) == ["node", "uptime", "state", "info", "resources"]
    assert info["state"] == "RUNNING_JOB" and info["uptime"].endswith("Z")
    # the published document's resources: the job's images (none in this plan) and the engine's caches
    assert info["resources"] == {"images": [], "volumes": []}
    assert set(info["info"]) == {
        "version",
        "country",
        "network",
        "system_environment",
        "cpu",
        "disk_gb",
        "ram_mb",
        "gpus",
        "protocol",
    }
    assert "ip" not in info["info"]["network"]  # the node leaves its address out
    assert info["info"]["cpu"]["logical_cores"] >= 1 and info["info"]["ram_mb"] > 0
    node.stop_group("serve")
    assert node.reports.node_info()["state"] == "OTHER"


def test_validation_errors_in_the_validators_shape():
    good = {
        "version": "0.1",
        "type": "container",
        "ops": [{"type": "container/run", "id": "a", "args": {"image": "x"}}],
    }
    assert validation_errors(good) == []
    bad = json.loads(json.dumps(good))
    bad["ops"][0]["args"]["expose"] = 70000
    [error] = validation_errors(bad)
    assert error["path"] == "$input.ops[0].args.expose" and error["value"] == 70000
    assert "65535" in error["expected"]
    paths = [e["path"] for e in validation_errors({})]
    assert "$input.version" in paths and "$input.ops" in paths
    assert all("value" not in e for e in validation_errors({}))  # absent, as typia's undefined
    assert validation_errors([])[0]["path"] == "$input"


# -- the routes, over the fake engine ------------------------------------------------------


@pytest.fixture
def http():
    import warnings

    with warnings.catch_warnings():  # Starlette would rather have httpx2 drive its test client
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    from nos2compose.api.app import create_app

    node, engine = two_groups(definition={"ops": [{"id": "prepare"}, {"id": "web"}, {"id": "worker"}]})
    with TestClient(create_app(node, bound_host="testserver", stream_limit=0)) as client:
        yield client, engine


def test_routes_answer_as_the_nodes_handlers(http):
    client, _ = http
    unknown = client.get("/job/other/ops")
    assert (unknown.status_code, unknown.text) == (400, "invalid job id")
    assert unknown.headers["content-type"].startswith("text/plain")
    missing = client.get("/job/other/info")
    assert (missing.status_code, missing.text) == (404, "Failed to find job for provided job id.")
    assert client.get("/job/other/endpoints").text == "No exposed url for job id"
    assert client.get("/job/p/ops/web").json() == {"web": "running"}
    refused = client.post("/job/p/group/setup/operation/prepare/restart")
    assert refused.status_code == 500
    assert refused.json() == {"error": "Failed to restart operation: GROUP_NOT_ACTIVE"}
    nope = client.post("/job/p/group/nope/operation/web/restart")
    assert nope.json() == {"error": "Failed to restart operation: GROUP_NOT_FOUND"}
    assert client.post("/job/p/group/serve/operation/prepare/stop").json() == {
        "error": "Failed to Stop operation: GROUP_NOT_FOUND"
    }
    assert client.post("/job/p/group/setup/restart").json() == {"error": "Failed to restart group operations"}
    assert client.post("/job/p/group/setup/stop").json() == {"error": "Failed to stop group operations"}
    assert client.post("/job/p/group/serve/move").json() == {"error": "Failed to restart group operations"}
    posted = client.post("/job/p/job-definition", json={"ops": []})
    assert (posted.status_code, posted.text) == (400, "cannot send job definition at this time")
    ok = client.post("/job/p/group/serve/operation/worker/stop")
    assert (ok.status_code, ok.json()) == (200, {"message": "Operation Stopped"})
    ok = client.post("/job/p/group/serve/operation/worker/restart")
    assert (ok.status_code, ok.json()) == (200, {"message": "Operation restarted"})
    ok = client.post("/job/p/group/serve/restart")
    assert (ok.status_code, ok.json()) == (200, {"message": "Group Operation restarted"})
    ok = client.post("/job/p/group/setup/move")
    assert (ok.status_code, ok.json()) == (200, {"message": "Group Operation restarted"})


def test_info_streams_server_sent_events(http):
    client, _ = http
    with client.stream("GET", "/job/p/info") as reply:
        assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/event-stream")
        body = "".join(reply.iter_text())
    assert body.startswith("data: ") and body.endswith("\n\n")
    frame = json.loads(body[len("data: ") :])
    assert frame["operations"]["currentGroup"] == "serve" and frame["endTime"] is None


def test_stop_job_route(http):
    client, _ = http
    stopped = client.post("/job/p/stop")
    assert (stopped.status_code, stopped.text) == (200, "job stopped successfully")
    assert client.get("/job/p/results").json()["status"] == "success"
    assert client.get("/job/p/endpoints").status_code == 400


def test_validate_route(http):
    client, _ = http
    good = {
        "version": "0.1",
        "type": "container",
        "ops": [{"type": "container/run", "id": "a", "args": {"image": "x"}}],
    }
    ok = client.post("/node/validate", json=good)
    assert (ok.status_code, ok.content) == (200, b"")
    bad = client.post("/node/validate", json={"version": "0.1"})
    assert bad.status_code == 400 and bad.json()["error"] == "Failed to validate job defintion."
    assert {"path", "expected"} <= set(bad.json()["message"][0])
    empty = client.post("/node/validate")
    assert (empty.status_code, empty.text) == (400, "Missing job definition.")
    broken = client.post("/node/validate", content=b"{nope", headers={"content-type": "application/json"})
    assert broken.status_code == 400 and broken.text.startswith("invalid JSON")
