"""Results and run-time literals on a real engine: the second group consumes results of the first
(in cmd, in env, and in expose through __spread__), as a Nosana node resolves them when the group starts."""

from __future__ import annotations

import json
import urllib.request
import uuid

import pytest
from helpers import FIXTURES, docker, nos2compose

pytestmark = pytest.mark.e2e

IMAGE = "nos2compose-test/busybox:1"


@pytest.fixture
def job(engine, tmp_path):
    name = f"n2c-results-{uuid.uuid4().hex[:8]}"
    path = tmp_path / f"{name}.json"

    def write(data):
        text = json.dumps(data).replace("busybox:1.36", IMAGE)
        path.write_text(text)
        return str(path)

    write.name = name
    yield write
    docker("compose", "-p", name, "down", "-v", "-t", "1")


def test_later_group_consumes_results_in_cmd_env_and_expose(job):
    path = job(json.loads((FIXTURES / "runtime-literals" / "runtime-literals.json").read_text()))
    up = nos2compose("up", path, "-d", "--pull", "never")
    assert up.returncode == 0, up.stdout + up.stderr
    status = json.loads(nos2compose("ps", path, "--json").stdout)
    assert status["probe"]["results"]["port"] == ["18411"]
    assert status["probe"]["results"]["word"] == ["word: hello", "hello"]
    assert status["consumer"]["status"] == "running"
    assert status["consumer"]["urls"] == ["http://127.0.0.1:18411"]  # expose via __spread__ of a result
    with urllib.request.urlopen("http://127.0.0.1:18411/ok", timeout=5) as reply:
        assert reply.read() == b"ok"
    container = f"{job.name}-consumer-1"
    env = dict(line.split("=", 1) for line in docker("exec", container, "env").stdout.splitlines() if "=" in line)
    assert env["COLOR"] == "blue" and env["SIZE"] == "xl"  # __spread__ and __pairs__ into env
    assert env["GREETING"] == "said word: hello hello"  # a list inside a longer string: joined with spaces
    assert env["PROBE_URL"] == "http://probe:8080"
    # cmd: the port and the spread list became separate arguments: the server listens on both
    assert docker("exec", container, "wget", "-q", "-O", "-", "http://127.0.0.1:18412/ok").stdout == "ok"


def test_a_literal_without_value_fails_the_op_naming_it_and_no_match_is_an_empty_value(job):
    """As the node has it (tests/fidelity: unresolved-missing-result-key, literal-results-array-item): a key the
    op's results do not have fails the op that uses it, before it starts; a result that matched no line is []."""
    path = job(
        {
            "version": "0.1",
            "type": "container",
            "ops": [
                {
                    "type": "container/run",
                    "id": "quiet",
                    "args": {"image": IMAGE, "cmd": "echo nothing to see"},
                    "results": {"token": "token=(\\w+)"},
                    "execution": {"group": "first"},
                },
                {
                    "type": "container/run",
                    "id": "user",
                    "args": {"image": IMAGE, "cmd": ["echo", "%%ops.quiet.results.missing%%"]},
                    "execution": {"group": "second"},
                },
                {
                    "type": "container/run",
                    "id": "empty",
                    "args": {
                        "image": IMAGE,
                        "cmd": ["echo", "token=%%ops.quiet.results.token%%", "%%ops.quiet.results.token%%", "end"],
                    },
                    "execution": {"group": "second"},
                },
                {
                    "type": "container/run",
                    "id": "bystander",
                    "args": {"image": IMAGE, "cmd": "echo fine"},
                    "execution": {"group": "second"},
                },
            ],
        }
    )
    up = nos2compose("up", path, "-d", "--pull", "never")
    assert up.returncode == 1
    assert (
        'second  user: failed (Unresolved literal: "%%ops.quiet.results.missing%%" (opId="quiet", '
        'path="results.missing"))' in up.stdout
    ), up.stdout
    assert "second  bystander: completed" in up.stdout  # other ops of the group go on
    assert "second  empty: completed" in up.stdout, up.stdout
    # no match: "" inside a longer string, and a whole array item vanishes
    assert docker("logs", f"{job.name}-empty-1").stdout == "token= end\n"
    assert f"{job.name}-user-1" not in docker("ps", "-a", "--format", "{{.Names}}").stdout  # never started
