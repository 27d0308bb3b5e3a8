"""Contract tests: every route of the node's published OpenAPI document (tests/e2e/nosana-node.openapi.json, a
copy of Nosana's packages/types/openapi/node.openapi.json) is called against `nos2compose serve` on a running job,
and each JSON answer is validated with jsonschema against the document's schema for that route and status.

One thing is relaxed: the document's `Address` (a Solana address), since a local job's id is its project name.
Where the node's code and the document disagree, the code wins (see CODE_WINS). A route of the document that
`serve` does not answer fails its test.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest
from helpers import free_port, nos2compose, serving

pytestmark = pytest.mark.e2e

DOCUMENT = json.loads((Path(__file__).parent / "nosana-node.openapi.json").read_text())
DOCUMENT["components"]["schemas"]["Address"] = {"type": "string", "description": "relaxed: a local job's id"}
IMAGE = "nos2compose-test/busybox:1"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl contract@test"

# (method, path, status the node's code answers) -> (the document's status whose schema applies, why)
CODE_WINS = {
    ("post", "/job/{job}/group/{group}/restart", 200): (
        "202",
        "the node's restartGroupOperationHandler answers 200 (the document says 202)",
    ),
    ("post", "/job/{job}/group/{group}/operation/{op}/restart", 200): (
        "202",
        "the node's restartOperationHandler answers 200 (the document says 202)",
    ),
}
# the node's getOperationStatus returns {op: status}, the document a bare string: the code's shape is checked
OBJECT_FOR_STRING = {("get", "/job/{job}/ops/{op}", 200): {"$ref": "#/components/schemas/OperationStatuses"}}


def _validator(schema: dict):
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    registry = Registry().with_resource("urn:node", Resource(DOCUMENT, specification=DRAFT202012))
    rooted = json.loads(json.dumps(schema).replace('"#/', '"urn:node#/'))  # its $refs point into the document
    return Draft202012Validator(rooted, registry=registry)


def check(method: str, path: str, reply: httpx.Response) -> str:
    """Validate the answer against the document; returns what was checked (for the report)."""
    operation = DOCUMENT["paths"][path][method]
    status = reply.status_code
    assert not (status in (404, 405) and reply.text in ("Not Found", "Method Not Allowed")), (
        f"{method.upper()} {path}: the document has this route and serve does not answer it"
    )
    documented, why = CODE_WINS.get((method, path, status), (str(status), ""))
    assert documented in operation["responses"], f"{method.upper()} {path}: {status} is not in the document"
    content = operation["responses"][documented].get("content") or {}
    media = reply.headers.get("content-type", "").split(";")[0]
    if "application/json" in content and media == "application/json":
        override = OBJECT_FOR_STRING.get((method, path, status))
        schema = override or content["application/json"]["schema"]
        errors = sorted(_validator(schema).iter_errors(reply.json()), key=str)
        assert not errors, f"{method.upper()} {path} {status}: {errors[0].message} at {list(errors[0].absolute_path)}"
        return f"{status} json" + (f" ({why})" if why else "")
    if "application/json" in content and media == "text/plain":  # NodeError's sentence form
        assert _validator({"$ref": "#/components/schemas/NodeError"}).is_valid(reply.text), reply.text
        return f"{status} text NodeError"
    assert media in content or "text/html" in media, f"{method.upper()} {path} {status}: {media} not in {list(content)}"
    return f"{status} {media}"


@pytest.fixture(scope="module")
def contract_job(engine, tmp_path_factory):
    name = f"n2c-contract-{uuid.uuid4().hex[:8]}"
    path = tmp_path_factory.mktemp("contract") / f"{name}.json"
    port = free_port()
    check_ok = {"type": "http", "path": "/ok", "method": "GET", "expected_status": 200, "continuous": False}
    ops = [
        {
            "type": "container/run",
            "id": "prepare",
            "args": {"image": IMAGE, "cmd": "echo ready"},
            "execution": {"group": "setup"},
        },
        {
            "type": "container/run",
            "id": "web",
            "execution": {"group": "serve"},
            "args": {
                "image": IMAGE,
                "cmd": ["n2c-testserver", str(port)],
                "expose": [{"port": port, "health_checks": [check_ok]}],
            },
        },
        {
            "type": "container/run",
            "id": "worker",
            "execution": {"group": "serve"},
            "args": {"image": IMAGE, "cmd": "trap 'exit 0' TERM; while true; do echo working; sleep 1; done"},
        },
    ]
    job = {"version": "0.1", "type": "container", "ops": ops}
    path.write_text(json.dumps(job))
    up = nos2compose("up", str(path), "-d", "--pull", "never")
    assert up.returncode == 0, up.stdout + up.stderr
    token = uuid.uuid4().hex
    proc, base = serving(str(path), token)
    yield name, str(path), base, token, job
    proc.terminate()
    proc.wait(timeout=10)
    subprocess.run(["docker", "compose", "-p", name, "down", "-v", "-t", "1"], capture_output=True)


def _first_event(http, url) -> dict | list:
    with http.stream("GET", url) as reply:
        assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/event-stream")
        for line in reply.iter_lines():
            if line.startswith("data: "):
                return json.loads(line[6:])
    raise AssertionError("no event")


def _cases(name: str, job: dict):
    """(id, method, path template, url path, request body, the status wanted) for every route of the document."""
    J, other = f"/job/{name}", "/job/somebody-else"
    yield "address", "get", "/", "/", None, 200
    yield "node-info", "get", "/node/info", "/node/info", None, 200
    yield "info", "get", "/job/{job}/info", f"{J}/info", None, 200
    yield "info-unknown", "get", "/job/{job}/info", f"{other}/info", None, 404
    yield "definition", "get", "/job/{job}/job-definition", f"{J}/job-definition", None, 200
    yield "definition-unknown", "get", "/job/{job}/job-definition", f"{other}/job-definition", None, 400
    yield "definition-post", "post", "/job/{job}/job-definition", f"{J}/job-definition", job, 400
    yield "results", "get", "/job/{job}/results", f"{J}/results", None, 200
    yield "results-unknown", "get", "/job/{job}/results", f"{other}/results", None, 400
    yield "ops", "get", "/job/{job}/ops", f"{J}/ops", None, 200
    yield "ops-unknown", "get", "/job/{job}/ops", f"{other}/ops", None, 400
    yield "op", "get", "/job/{job}/ops/{op}", f"{J}/ops/web", None, 200
    yield "op-unknown", "get", "/job/{job}/ops/{op}", f"{other}/ops/web", None, 400
    yield "group-current", "get", "/job/{job}/group/current", f"{J}/group/current", None, 200
    yield "group", "get", "/job/{job}/group/{group}", f"{J}/group/serve", None, 200
    yield "group-unknown", "get", "/job/{job}/group/{group}", f"{other}/group/serve", None, 400
    yield "endpoints", "get", "/job/{job}/endpoints", f"{J}/endpoints", None, 200
    yield "endpoints-unknown", "get", "/job/{job}/endpoints", f"{other}/endpoints", None, 400
    yield "stats", "get", "/job/{job}/stats", f"{J}/stats", None, 200
    yield "stats-not-ms", "get", "/job/{job}/stats", f"{J}/stats?start=yesterday", None, 400
    yield "stats-unknown", "get", "/job/{job}/stats", f"{other}/stats", None, 404
    yield "stats-stream", "get", "/job/{job}/stats/stream", f"{J}/stats/stream", None, 200
    yield "stats-stream-unknown", "get", "/job/{job}/stats/stream", f"{other}/stats/stream", None, 404
    yield "ssh-authorize", "post", "/job/{job}/ssh/authorize", f"{J}/ssh/authorize", {"sshPublicKey": KEY}, 201
    yield "ssh-authorize-bad", "post", "/job/{job}/ssh/authorize", f"{J}/ssh/authorize", {"sshPublicKey": "x"}, 400
    yield (
        "ssh-authorize-unknown",
        "post",
        "/job/{job}/ssh/authorize",
        f"{other}/ssh/authorize",
        {"sshPublicKey": KEY},
        404,
    )
    yield "ssh-keys", "get", "/job/{job}/ssh/keys", f"{J}/ssh/keys", None, 200
    yield "ssh-keys-unknown", "get", "/job/{job}/ssh/keys", f"{other}/ssh/keys", None, 404
    yield "ssh-revoke", "delete", "/job/{job}/ssh/keys", f"{J}/ssh/keys", {"sshPublicKey": KEY}, 200
    yield "ssh-revoke-bad", "delete", "/job/{job}/ssh/keys", f"{J}/ssh/keys", {"sshPublicKey": "x"}, 400
    yield "ssh-revoke-unknown", "delete", "/job/{job}/ssh/keys", f"{other}/ssh/keys", {"sshPublicKey": KEY}, 404
    yield (
        "op-restart",
        "post",
        "/job/{job}/group/{group}/operation/{op}/restart",
        f"{J}/group/serve/operation/worker/restart",
        None,
        200,
    )
    yield (
        "op-restart-refused",
        "post",
        "/job/{job}/group/{group}/operation/{op}/restart",
        f"{J}/group/setup/operation/prepare/restart",
        None,
        500,
    )
    yield (
        "op-restart-unknown",
        "post",
        "/job/{job}/group/{group}/operation/{op}/restart",
        f"{other}/group/serve/operation/worker/restart",
        None,
        400,
    )
    yield (
        "op-stop",
        "post",
        "/job/{job}/group/{group}/operation/{op}/stop",
        f"{J}/group/serve/operation/worker/stop",
        None,
        200,
    )
    yield (
        "op-stop-refused",
        "post",
        "/job/{job}/group/{group}/operation/{op}/stop",
        f"{J}/group/nope/operation/worker/stop",
        None,
        500,
    )
    yield (
        "op-stop-unknown",
        "post",
        "/job/{job}/group/{group}/operation/{op}/stop",
        f"{other}/group/serve/operation/worker/stop",
        None,
        400,
    )
    yield "group-restart", "post", "/job/{job}/group/{group}/restart", f"{J}/group/serve/restart", None, 200
    yield "group-restart-refused", "post", "/job/{job}/group/{group}/restart", f"{J}/group/setup/restart", None, 500
    yield "group-restart-unknown", "post", "/job/{job}/group/{group}/restart", f"{other}/group/serve/restart", None, 400
    yield "group-stop-refused", "post", "/job/{job}/group/{group}/stop", f"{J}/group/setup/stop", None, 500
    yield "group-stop-unknown", "post", "/job/{job}/group/{group}/stop", f"{other}/group/serve/stop", None, 400
    yield "group-stop", "post", "/job/{job}/group/{group}/stop", f"{J}/group/serve/stop", None, 200
    yield "job-stop-unknown", "post", "/job/{job}/stop", f"{other}/stop", None, 400
    yield "job-stop", "post", "/job/{job}/stop", f"{J}/stop", None, 200


CASE_IDS = [case[0] for case in _cases("x", {})]
COVERED = {(case[1], case[2]) for case in _cases("x", {})}


def test_every_route_of_the_document_has_a_case():
    documented = {
        (m, p) for p, item in DOCUMENT["paths"].items() for m in item if m in ("get", "post", "delete", "put", "patch")
    }
    assert documented == COVERED, sorted(documented ^ COVERED)


def _serve_again(http, base, name, path):
    restarted = nos2compose("restart", path, "--group", "serve")
    assert restarted.returncode == 0, restarted.stderr
    deadline = time.monotonic() + 60
    while (
        http.get(f"{base}/job/{name}/endpoints").status_code != 200
        or http.get(f"{base}/job/{name}/endpoints").json()["status"] != "ONLINE"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.3)


@pytest.mark.parametrize("case", CASE_IDS)
def test_route_answers_as_the_document_says(contract_job, case):
    name, path, base, token, job = contract_job
    _, method, template, url, body, wanted = next(c for c in _cases(name, job) if c[0] == case)
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
        if case == "endpoints":
            deadline = time.monotonic() + 60
            while http.get(f"{base}{url}").json().get("status") != "ONLINE":
                assert time.monotonic() < deadline
                time.sleep(0.3)
        if template in ("/job/{job}/info", "/job/{job}/stats/stream") and wanted == 200:
            frame = _first_event(http, base + url)  # an event stream: its frames are the JSON
            schema = (
                {"$ref": "#/components/schemas/JobInfo"}
                if template.endswith("/info")
                else {"type": "array", "items": {"$ref": "#/components/schemas/TaskStat"}}
            )
            errors = list(_validator(schema).iter_errors(frame))
            assert not errors, errors[0].message
            return
        reply = http.request(method.upper(), base + url, json=body)
        assert reply.status_code == wanted, (reply.status_code, reply.text[:300])
        check(method, template, reply)
        if case in ("group-stop", "job-stop"):
            _serve_again(http, base, name, path)
    if DOCUMENT["paths"][template][method].get("security") != []:  # the routes the node guards: 401 without it
        unauthorized = httpx.request(method.upper(), base + url, json=body, timeout=30)
        assert unauthorized.status_code == 401
        check(method, template, unauthorized)


def test_websocket_frames_match_the_documents_taskLog(contract_job):
    from websockets.sync.client import connect

    name, _, base, token, _ = contract_job
    with connect(base.replace("http", "ws", 1) + "/", open_timeout=20) as ws:
        ws.send(json.dumps({"path": "/flog", "header": token, "body": {"jobAddress": name}}))
        frames = [json.loads(ws.recv(timeout=10)) for _ in range(5)]
    validator = _validator({"$ref": "#/components/schemas/TaskLog"})
    for frame in frames:
        assert set(frame) == {"path", "data"} and frame["path"] == "flog"
        assert validator.is_valid(json.loads(frame["data"])), frame


__all__ = ["free_port"]
