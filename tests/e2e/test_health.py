"""Health checks in the images people run: curl-only, busybox (wget), python3-only, bash-only and
distroless (through --health-probe sidecar), on a real engine, with local images (tests/images/build.sh).

Each image runs the same test server (n2c-testserver): /status/CODE, /expect?..., /state, websockets.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
from helpers import CLI, docker, nos2compose

pytestmark = pytest.mark.e2e

HOSTILE = "$(touch /tmp/pwned) `touch /tmp/pwned2`; 'q' \"d\" $HOME"
KINDS = {  # image -> what its probe can do
    "busybox": {"methods": ["GET", "POST", "PUT", "DELETE"], "websocket": True},  # wget, and nc for the others
    "curl": {"methods": ["GET", "POST", "PUT", "DELETE"], "websocket": False},
    "python": {"methods": ["GET", "POST", "PUT", "DELETE"], "websocket": True},
    "bash": {"methods": ["GET", "POST", "PUT", "DELETE"], "websocket": True},
}


def image(kind):
    return f"nos2compose-test/{kind}:1"


@pytest.fixture
def project(engine, tmp_path):
    for kind in list(KINDS) + ["distroless"]:
        if docker("image", "inspect", image(kind)).returncode != 0:
            pytest.fail(f"test image {image(kind)} is missing: run tests/images/build.sh")
    name = f"n2c-health-{uuid.uuid4().hex[:8]}"
    yield name, tmp_path
    docker("compose", "-p", name, "down", "-v", "--remove-orphans", "-t", "1")


def write_job(tmp_path, name, ops):
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps({"version": "0.1", "type": "container", "ops": ops}))
    return str(path)


def expect_path(method, body=None, header=None, code=200):
    query = [("method", method), ("code", str(code))]
    if body is not None:
        query.append(("body", body))
    if header is not None:
        query.append(("header", f"X-Check:{header}"))
    return "/expect?" + urllib.parse.urlencode(query)


def http(path, status, method="GET", continuous=True, **extra):
    return {
        "type": "http",
        "path": path,
        "method": method,
        "expected_status": status,
        "continuous": continuous,
        **extra,
    }


def server(op_id, kind, ports, checks_by_port, group="serve"):
    return {
        "type": "container/run",
        "id": op_id,
        "execution": {"group": group},
        "args": {
            "image": image(kind),
            "cmd": ["n2c-testserver", *map(str, ports)],
            "expose": [{"port": p, "health_checks": checks_by_port.get(p, [])} for p in ports],
        },
    }


def ps(path):
    return json.loads(nos2compose("ps", path, "--json").stdout)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_checks_pass_in_each_kind_of_image(project, kind):
    name, tmp = project
    caps = KINDS[kind]
    checks = [http("/status/200", 200), http("/status/401", 401)]
    for method in caps["methods"]:
        body = HOSTILE if method in ("POST", "PUT") else None
        extra = {"headers": {"X-Check": HOSTILE}, **({"body": body} if body is not None else {})}
        checks.append(http(expect_path(method, body, HOSTILE), 200, method=method, **extra))
    # a POST without a body, as the node's curl sends it: a POST (not busybox wget's GET), no `Content-Length: 0`
    checks.append(http("/expect?method=POST&code=200", 200, method="POST"))
    checks.append(http("/expect?method=POST&header=Content-Length:0&code=200", 417, method="POST"))
    if caps["websocket"]:
        checks.append({"type": "websocket", "expected_response": "pong", "continuous": True})
    job = write_job(tmp, name, [server("app", kind, [18301, 18302], {18301: checks, 18302: [http("/ok", 200)]})])
    result = nos2compose("up", job, "-d", "--pull", "never", "--timeout", "60")
    assert result.returncode == 0, result.stdout + result.stderr
    assert ps(job)["app"]["status"] == "healthy"
    # nothing in the job ran as a command inside the container
    assert docker("exec", f"{name}-app-1", "sh", "-c", "test ! -e /tmp/pwned && test ! -e /tmp/pwned2").returncode == 0


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_wrong_status_never_turns_healthy(project, kind):
    name, tmp = project
    job = write_job(tmp, name, [server("app", kind, [18303], {18303: [http("/status/200", 401)]})])
    result = nos2compose("up", job, "-d", "--pull", "never", "--timeout", "6")
    assert result.returncode == 1
    assert "app: failed (its health check did not pass within 6 s" in result.stdout
    assert ps(job)["app"]["health"] == "starting"


def test_websocket_reply_must_contain_the_text(project):
    name, tmp = project
    ws = {"type": "websocket", "expected_response": "something else", "continuous": True}
    job = write_job(tmp, name, [server("app", "python", [18304], {18304: [ws]})])
    assert nos2compose("up", job, "-d", "--pull", "never", "--timeout", "6").returncode == 1


def test_distroless_needs_the_sidecar_and_the_sidecar_gates_dependents(project):
    name, tmp = project
    ops = [
        server("api", "distroless", [18305], {18305: [http("/status/204", 204)]}),
        {
            "type": "container/run",
            "id": "client",
            "execution": {"group": "serve", "depends_on": ["api"]},
            "args": {"image": image("busybox"), "cmd": "wget -q -O /dev/null http://api:18305/ok && echo reached"},
        },
    ]
    job = write_job(tmp, name, ops)
    # inside the distroless container there is no shell: the check cannot run
    inside = nos2compose("up", job, "-d", "--pull", "never", "--timeout", "5")
    assert inside.returncode == 1
    docker("compose", "-p", name, "down", "-t", "1")
    sidecar = nos2compose(
        "up",
        job,
        "-d",
        "--pull",
        "never",
        "--timeout",
        "60",
        "--health-probe",
        "sidecar",
        "--probe-image",
        image("curl"),
    )
    assert sidecar.returncode == 0, sidecar.stdout + sidecar.stderr
    out = sidecar.stdout
    assert out.index("serve  api: healthy") < out.index("serve  client: completed")
    status = ps(job)
    assert set(status) == {"api", "client"}  # the sidecar is not an op
    assert status["api"]["status"] == "healthy"


LOOPBACK_ONLY = {  # image -> a server that listens on 127.0.0.1:18311 only
    "busybox": ["httpd", "-f", "-p", "127.0.0.1:18311", "-h", "/www"],
    "curl": ["n2c-testserver", "127.0.0.1:18311"],
    "python": ["n2c-testserver", "127.0.0.1:18311"],
    "bash": ["n2c-testserver", "127.0.0.1:18311"],
}


def _get(url):
    """The status of a GET of url (over 127.0.0.1), or the error that came instead."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
        return exc


@pytest.mark.parametrize("kind", sorted(LOOPBACK_ONLY))
def test_a_server_only_on_its_loopback_never_turns_healthy_and_up_says_why(project, kind):
    """As on a node, whose probe and tunnel come from outside the container: the op listening on 127.0.0.1
    only never becomes healthy, and `up` names it; the op beside it, on every address, does, and its URL answers."""
    name, tmp = project
    check = {18311: [http("/ok", 200)], 18312: [http("/ok", 200)]}
    local = server("local", kind, [18311], check)
    local["args"]["cmd"] = LOOPBACK_ONLY[kind]
    job = write_job(tmp, name, [local, server("open", kind, [18312], check)])
    result = nos2compose("up", job, "-d", "--pull", "never", "--timeout", "8")
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert out.count("serve  local: port 18311 answers only on 127.0.0.1 (loopback) inside its container; ") == 1, out
    assert "make it listen on 0.0.0.0" in out and "serve  open: healthy" in out
    assert "serve  local: failed (its health check did not pass within 8 s" in out
    assert "local: healthy" not in out and "open: port" not in out
    urls = {line.split()[0]: line.split()[-1] for line in out.splitlines() if line.startswith(("local ", "open "))}
    assert urls == {"local": "http://127.0.0.1:18311", "open": "http://127.0.0.1:18312"}, out
    assert _get(urls["open"] + "/ok") == 200  # healthy: its URL answers
    assert not isinstance(_get(urls["local"] + "/ok"), int)  # Docker's port reaches the container's address only
    assert ps(job)["open"]["status"] == "healthy"


def _wait_line(log, text, limit):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if text in log.read_text():
            return time.monotonic()
        time.sleep(0.2)
    return None


def test_continuous_checks_are_watched_and_startup_checks_are_not(project):
    name, tmp = project
    watched = server("watched", "busybox", [18306], {18306: [http("/state", 200, continuous=True)]})
    gated = server("gated", "busybox", [18307], {18307: [http("/state", 200, continuous=False), http("/ok", 200)]})
    job = write_job(tmp, name, [watched, gated])
    log = tmp / "up.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            CLI + ["up", job, "--pull", "never"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            assert _wait_line(log, "serve  watched: healthy", 60) and _wait_line(log, "serve  gated: healthy", 60), (
                log.read_text()
            )
            flip = time.monotonic()
            for op in ("watched", "gated"):
                assert docker("exec", f"{name}-{op}-1", "sh", "-c", "echo 503 > /tmp/n2c-state").returncode == 0
            # once healthy the probe asks the service every 30 s (the node's cadence), then 3 failures in a row
            seen = _wait_line(log, "serve  watched: unhealthy", 45)
            assert seen is not None and seen - flip <= 40, log.read_text()
            assert ps(job)["watched"]["status"] == "unhealthy"
            time.sleep(4)  # several probe intervals: the start-up-only check is not run any more
            assert ps(job)["gated"]["status"] == "healthy"
            assert "gated: unhealthy" not in log.read_text()
            # like the node, nothing is restarted
            state = docker("inspect", "-f", "{{.State.Running}} {{.RestartCount}}", f"{name}-watched-1").stdout.split()
            assert state == ["true", "0"]
            recovered_from = len(log.read_text())
            docker("exec", f"{name}-watched-1", "sh", "-c", "echo 200 > /tmp/n2c-state")
            deadline = time.monotonic() + 30
            while "serve  watched: healthy" not in log.read_text()[recovered_from:]:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            assert ps(job)["watched"]["status"] == "healthy"
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=60)
