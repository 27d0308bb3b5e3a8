"""Generated Compose files on a real Docker engine: group order, health checks in a busybox image,
reaching ops by id, and `$` reaching the container untouched.

Uses the local image nos2compose-test/busybox:1 (tests/images/build.sh); nothing is pulled.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.parse
import uuid

import pytest
from helpers import run_cli

pytestmark = pytest.mark.e2e

IMAGE = "nos2compose-test/busybox:1"
HOSTILE_BODY = {"text": "$HOME; `id` 'single' \"double\" \\ $(reboot)"}
HOSTILE_HEADER = "a'b\"c $x `y` ; z"


def http_check(path, status, method="GET", **extra):
    return {"type": "http", "path": path, "method": method, "expected_status": status, "continuous": True, **extra}


def server_op(checks, delay=2):
    return {
        "type": "container/run",
        "id": "server",
        "args": {
            "image": IMAGE,
            "cmd": ["sh", "-c", f"sleep {delay}; exec httpd -f -p 8080 -h /www"],
            "expose": [{"port": 8080, "health_checks": checks}],
        },
        "execution": {"group": "infra"},
    }


def post_check():
    body = json.dumps(HOSTILE_BODY, separators=(",", ":"))
    query = urllib.parse.urlencode({"method": "POST", "body": body, "code": "200"})
    return http_check(
        f"/cgi-bin/expect?{query}",
        200,
        method="POST",
        body=HOSTILE_BODY,
        headers={"Content-Type": "application/json", "X-Odd": HOSTILE_HEADER},
    )


def docker(*args, check=True, env=None, timeout=180):
    return subprocess.run(
        ["docker", *args],
        capture_output=True,
        text=True,
        check=check,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


@pytest.fixture
def project(engine):
    name = f"n2c-e2e-{uuid.uuid4().hex[:8]}"
    yield name
    docker("compose", "-p", name, "down", "-v", "--remove-orphans", "-t", "1", check=False)


def convert(tmp_path, job, name, *extra):
    (tmp_path / "job.json").write_text(json.dumps(job))
    result = run_cli("convert", "job.json", "--name", name, *extra, cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    return result


def test_groups_run_in_order_and_reach_each_other_by_op_id(tmp_path, project):
    job = {
        "version": "0.1",
        "type": "container",
        "ops": [
            server_op([http_check("/ok", 200), post_check(), http_check("/auth", 401)]),
            {
                "type": "container/run",
                "id": "client",
                "args": {
                    "image": IMAGE,
                    "env": {"PROBE_VAR": "from-job"},
                    "cmd": 'wget -qO- http://server:8080/ok && echo "value=$PROBE_VAR"',
                },
                "execution": {"group": "app"},
            },
        ],
    }
    (tmp_path / "compose.yaml").write_text(convert(tmp_path, job, project).stdout)
    # PROBE_VAR on the host must not leak into the container: the job's `$` is escaped
    up = docker(
        "compose",
        "-f",
        str(tmp_path / "compose.yaml"),
        "up",
        "--exit-code-from",
        "client",
        check=False,
        env={"PROBE_VAR": "from-host"},
    )
    assert up.returncode == 0, up.stdout + up.stderr
    assert "value=from-job" in up.stdout
    assert "from-host" not in up.stdout
    # the client only started once every check (GET, hostile POST, 401) had passed together
    probes = json.loads(docker("inspect", f"{project}-server-1").stdout)[0]["State"]["Health"]["Log"]
    assert any(p["ExitCode"] == 0 for p in probes), probes


def _wait_for_health(container: str, want: str, limit: float) -> float | None:
    start = time.monotonic()
    while time.monotonic() - start < limit:
        status = docker("inspect", "-f", "{{.State.Health.Status}}", container, check=False).stdout.strip()
        if status == want:
            return time.monotonic() - start
        time.sleep(0.1)
    return None


def test_health_check_noticed_within_about_two_seconds(tmp_path, project):
    job = {"version": "0.1", "type": "container", "ops": [server_op([http_check("/ok", 200), post_check()], delay=2)]}
    convert(tmp_path, job, project, "-o", "out")
    (group_file,) = sorted((tmp_path / "out").glob("*.yaml"))
    docker("compose", "-f", str(group_file), "up", "-d")
    took = _wait_for_health(f"{project}-server-1", "healthy", 30)
    assert took is not None, docker("inspect", f"{project}-server-1").stdout[-2000:]
    # the server listens 2 s after start; healthy must follow within about 2 s more
    assert took <= 2 + 2.5, took


def test_health_check_passes_only_on_the_exact_status(tmp_path, project):
    job = {"version": "0.1", "type": "container", "ops": [server_op([http_check("/auth", 200)], delay=0)]}
    convert(tmp_path, job, project, "-o", "out")
    (group_file,) = sorted((tmp_path / "out").glob("*.yaml"))
    docker("compose", "-f", str(group_file), "up", "-d")
    container = f"{project}-server-1"
    time.sleep(5)
    state = json.loads(docker("inspect", container).stdout)[0]["State"]
    assert state["Running"]
    assert state["Health"]["Status"] == "starting"  # 401 is not 200: never healthy
    probes = state["Health"]["Log"]
    assert len(probes) >= 2 and all(p["ExitCode"] != 0 for p in probes)
