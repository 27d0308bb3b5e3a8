"""The local node API conforms to the OpenAPI document it publishes (nos2compose/api/openapi.json):
schemathesis generates requests for every route and checks status codes, content types and
response bodies, in-process against the Starlette app, on a real job on the engine."""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from pathlib import Path

import pytest
import schemathesis
from helpers import CLI
from hypothesis import HealthCheck, settings

import nos2compose.api

pytestmark = pytest.mark.e2e

IMAGE = "nos2compose-test/busybox:1"
OPENAPI = Path(nos2compose.api.__file__).parent / "openapi.json"


@pytest.fixture(scope="module")
def api_schema(engine, tmp_path_factory):
    from nos2compose.api.app import create_app
    from nos2compose.api.node import LocalNode
    from nos2compose.engine.docker import DockerEngine
    from nos2compose.supervisor.session import attach

    name = f"n2c-schema-{uuid.uuid4().hex[:8]}"
    path = tmp_path_factory.mktemp("schema") / f"{name}.json"
    job = {
        "version": "0.1",
        "type": "container",
        "ops": [
            {
                "type": "container/run",
                "id": "task",
                "args": {"image": IMAGE, "cmd": "echo done"},
                "execution": {"group": "first"},
            },
            {
                "type": "container/run",
                "id": "worker",
                "execution": {"group": "second"},
                "args": {"image": IMAGE, "cmd": "trap 'exit 0' TERM; while true; do sleep 1; done"},
            },
        ],
    }
    path.write_text(json.dumps(job))
    up = subprocess.run(CLI + ["up", str(path), "-d", "--pull", "never"], capture_output=True, text=True, timeout=120)
    assert up.returncode == 0, up.stdout + up.stderr
    engine = DockerEngine(name)
    plan = attach(name, engine).plan
    # schemathesis' ASGI host; /info streams until the job ends, which this one never does: one frame
    app = create_app(LocalNode(plan, engine, job), bound_host="testserver", stream_limit=0)
    raw = json.loads(OPENAPI.read_text())
    # point generated path parameters at this job (and at ids it does not have), so success paths are reached;
    # the node answers any op or group id (an unknown one with null, {} or its refusal), so those stay open strings
    choices = {"group": ["first", "second", "nope"], "op": ["task", "worker", "nope"]}
    for item in raw["paths"].values():
        for operation in item.values():
            for param in operation.get("parameters", []):
                if param["name"] == "job":
                    param["schema"] = {"type": "string", "enum": [name, "not-this-job"]}
                elif param["in"] == "query":  # stats' interval, start and end: generated as documented
                    continue
                else:
                    # any string (schemathesis' negative phase reads an anyOf of an enum and a string as a
                    # rule its strings break); the job's own ids as examples, so success paths are reached
                    param["schema"] = {"type": "string", "examples": choices[param["name"]]}
    schema = schemathesis.openapi.from_dict(raw)
    schema.app = app
    yield schema
    subprocess.run(["docker", "compose", "-p", name, "down", "-v", "-t", "1"], capture_output=True)


schema = schemathesis.pytest.from_fixture("api_schema")

# the node's refusals of actions are 500s with these bodies (routes/post/job-operation-actions.ts, service-stop.ts)
NODE_FAILURE = re.compile(
    r'^\{"error":"Failed to (Stop operation|restart operation|stop group|restart group)|^Error occured'
)


def node_refusals_only(ctx, response, case):
    """A 500 is the node's refusal of an action, never a crash (in place of schemathesis' not_a_server_error)."""
    if response.status_code >= 500 and not NODE_FAILURE.match(response.text):
        raise AssertionError(f"server error: {response.status_code} {response.text[:200]}")


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_local_api_matches_its_openapi_document(case):
    # Like the node, the API refuses ids that are well-formed strings but not of this job (`invalid job id`),
    # actions outside the active group (a 500, as on the node), and job definitions that are JSON objects but
    # not valid jobs, so "valid data must be accepted" does not apply.
    case.call_and_validate(
        excluded_checks=[schemathesis.checks.positive_data_acceptance, schemathesis.checks.not_a_server_error],
        additional_checks=[node_refusals_only],
    )
