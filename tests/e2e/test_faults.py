"""`up`, `ps`, `stop`, `down`, `serve` on the bad days people meet, on a real engine with local images:
a port already taken, a missing image, a stop asked for, a job file broken then deleted, a health check
that answers 404, a service that takes 15 s to get healthy, a busy port for `serve`, the probe's cadence."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time
import uuid

import pytest
from helpers import CLI, docker, nos2compose

pytestmark = pytest.mark.e2e

BUSYBOX, CURL = "nos2compose-test/busybox:1", "nos2compose-test/curl:1"


@pytest.fixture
def job(engine, tmp_path):
    """(name, write(ops) -> path): a job file whose project is removed afterwards."""
    name = f"n2c-faults-{uuid.uuid4().hex[:8]}"
    path = tmp_path / f"{name}.json"

    def write(ops):
        path.write_text(json.dumps({"version": "0.1", "type": "container", "ops": ops}))
        return str(path)

    yield name, write
    docker("compose", "-p", name, "down", "-v", "--remove-orphans", "-t", "0")
    nos2compose("down", str(path), "--name", name)


def run(op_id, image, cmd, **args):
    return {"type": "container/run", "id": op_id, "args": {"image": image, "cmd": cmd, **args}}


def checked(port, path="/ok", status=200):
    return [
        {
            "port": port,
            "health_checks": [
                {"type": "http", "path": path, "method": "GET", "expected_status": status, "continuous": True}
            ],
        }
    ]


def ps(path, *extra):
    proc = nos2compose("ps", "--json", path, *extra)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_a_taken_host_port_is_one_line_and_exit_1_and_nothing_hangs(job):
    _, write = job
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        path = write([run("web", BUSYBOX, ["n2c-testserver", str(port)], expose=port)])
        started = time.monotonic()
        up = nos2compose("up", path, "--pull", "never", timeout=60)  # foreground: must not wait for anything
        assert time.monotonic() - started < 30
    assert up.returncode == 1, up.stdout + up.stderr
    errors = [line for line in up.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and re.fullmatch(
        rf"error: port {port} on 127\.0\.0\.1 is already in use, so op web cannot publish its port {port} "
        rf"there; free it, or publish it elsewhere: --publish web:{port}=\d+ \(free now\)",
        errors[0],
    ), errors
    assert "Error response from daemon" not in up.stdout + up.stderr and f"127.0.0.1:{port}" not in up.stdout
    remapped = nos2compose("up", path, "-d", "--pull", "never", "--publish", f"web:{port}=0")
    assert remapped.returncode == 2 and "OP:PORT=HOSTPORT" in remapped.stderr  # 0 is no port


def test_a_taken_port_of_a_later_group_stops_up_before_anything_runs(job):
    """Every group's host ports are checked first: nothing of the first group runs, and the advice works."""
    name, write = job
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        first = run("setup", BUSYBOX, "echo set up")
        first["execution"] = {"group": "first"}
        later = run("web", BUSYBOX, ["n2c-testserver", str(port)], expose=port)
        later["execution"] = {"group": "later"}
        path = write([first, later])
        up = nos2compose("up", path, "-d", "--pull", "never", timeout=60)
        assert up.returncode == 1, up.stdout + up.stderr
        (error,) = [line for line in up.stderr.splitlines() if line.startswith("error:")]
        assert error.startswith(f"error: port {port} on 127.0.0.1 is already in use, so op web cannot publish")
        assert "starting" not in up.stdout
        assert docker("ps", "-aq", "--filter", f"label=com.docker.compose.project={name}").stdout.strip() == ""
        advice = re.search(r"--publish (web:\d+=(\d+)) \(free now\)", error)  # the advice, run as printed
        assert advice, error
        free = advice.group(2)
        again = nos2compose("up", path, "-d", "--pull", "never", "--publish", advice.group(1), timeout=120)
        assert again.returncode == 0, again.stdout + again.stderr
        assert f"http://127.0.0.1:{free}" in again.stdout


def test_a_grace_period_is_said_while_it_runs(job):
    """A shell as PID 1 ignores SIGTERM: stop, restart and down wait out the grace period, and say so."""
    _, write = job
    path = write([run("web", BUSYBOX, "while true; do sleep 1; done")])
    assert nos2compose("up", path, "-d", "--pull", "never", timeout=120).returncode == 0
    stop = nos2compose("stop", path, "--op", "web", "-t", "2", timeout=60)
    assert stop.returncode == 0, stop.stderr
    assert "stopping web: SIGTERM, then SIGKILL after 2 s if still running (-t S to change it)" in stop.stderr
    assert ps(path)["web"]["status"] == "stopped"
    assert nos2compose("restart", path, "--op", "web", timeout=60).returncode == 0
    down = nos2compose("down", path, "-t", "1", timeout=60)
    assert "stopping web: SIGTERM, then SIGKILL after 1 s if still running" in down.stderr, down.stderr


def test_a_missing_image_names_the_image_and_stays_failed_after_up(job):
    _, write = job
    path = write([run("gone", "nos2compose-test/nosuch:1", "true"), run("after", BUSYBOX, "echo after")])
    up = nos2compose("up", path, timeout=120)  # default pull policy: the engine tries a registry
    assert up.returncode == 1, up.stdout + up.stderr
    (line,) = [line for line in up.stdout.splitlines() if "gone: failed" in line]
    assert "image nos2compose-test/nosuch:1: " in line and ("not reachable" in line or "not found" in line)
    states = ps(path)
    assert states["gone"]["status"] == "failed" and states["gone"]["exit_code"] == 2  # as the node reports it
    assert "nos2compose-test/nosuch:1" in states["gone"]["reason"]
    assert states["after"]["status"] == "completed"
    # named in one pre-flight line, before anything ran
    (early,) = [line for line in up.stderr.splitlines() if "cannot be had" in line]
    assert early.startswith("warning: image nos2compose-test/nosuch:1 of op gone cannot be had (")
    never = nos2compose("up", path, "--pull", "never", "--abort-on-failure", timeout=120)
    assert never.returncode == 1 and "--abort-on-failure refuses the job" in never.stderr, never.stderr


def test_a_fetch_image_that_cannot_be_had_is_named_with_its_option_and_nothing_runs(job):
    name, write = job
    resource = {"type": "S3", "url": "https://127.0.0.1:9/bucket/x", "target": "/data"}
    path = write([run("first", BUSYBOX, "echo first"), run("reader", BUSYBOX, "ls /data", resources=[resource])])
    up = nos2compose("up", path, "-d", "--pull", "never", "--fetch-image", "nos2compose-test/nofetcher:1")
    assert up.returncode == 1, up.stdout + up.stderr
    (line,) = [line for line in up.stderr.splitlines() if line.startswith("error:")]
    assert "image nos2compose-test/nofetcher:1" in line and "--fetch-image" in line and "reader" in line
    assert docker("ps", "-aq", "--filter", f"label=com.docker.compose.project={name}").stdout.strip() == ""


def test_a_stop_reads_stopped_in_ps_and_in_the_api_and_respects_the_grace_period(job):
    name, write = job
    # a shell as the first process ignores SIGTERM: the stop waits the grace period, then kills
    path = write([run("web", BUSYBOX, "trap 'exit 0' TERM; while :; do sleep 1; done")])
    assert nos2compose("up", path, "-d", "--pull", "never").returncode == 0
    started = time.monotonic()
    stop = nos2compose("stop", path, "--op", "web", "-t", "2")
    assert stop.returncode == 0 and time.monotonic() - started < 9, stop.stderr
    assert ps(path)["web"]["status"] == "stopped"
    from nos2compose.api.node import LocalNode
    from nos2compose.engine.docker import DockerEngine
    from nos2compose.supervisor.session import attach

    engine = DockerEngine(name)
    assert LocalNode(attach(name, engine).plan, engine).ops() == {"web": "stopped"}
    assert nos2compose("restart", path, "--op", "web").returncode == 0
    assert ps(path)["web"]["status"] == "running"


def test_ps_and_down_work_after_the_job_file_is_broken_then_deleted(job, tmp_path):
    name, write = job
    path = write([run("web", BUSYBOX, "sleep 300")])
    assert nos2compose("up", path, "-d", "--pull", "never").returncode == 0
    with open(path, "w") as broken:
        broken.write("{ not json")
    assert ps(path)["web"]["status"] == "running"
    (tmp_path / f"{name}.json").unlink()
    assert ps(path)["web"]["status"] == "running"
    down = nos2compose("down", path, "-t", "0")
    assert down.returncode == 0 and f"removed job {name}" in down.stdout
    assert docker("compose", "-p", name, "ps", "-a", "-q").stdout.strip() == ""
    note = nos2compose("ps", path)
    assert note.returncode == 0 and note.stdout == "" and f"note: no job {name} on this engine" in note.stderr


def test_a_health_check_answering_404_shows_the_probes_answer_and_the_last_log_lines(job):
    _, write = job
    port = 18791
    path = write([run("web", CURL, ["n2c-testserver", str(port)], expose=checked(port, "/missing"))])
    up = nos2compose("up", path, "-d", "--pull", "never", "--timeout", "10")
    assert up.returncode == 1
    (line,) = [line for line in up.stdout.splitlines() if "web: failed" in line]
    # asked as a node asks it: by its name, at its container's address on the job network
    assert re.search(rf"the last probe said: GET http://web:{port}/missing at [\d.]+: got 404, want 200\)$", line), line
    assert '"GET /missing" 404' in up.stdout  # the op's own last log lines follow


def test_a_slow_service_gets_progress_lines_in_a_log(job):
    """A service that needs 15 s and more (22 s here: this machine may be slow to start it) to get healthy."""
    _, write = job
    port = 18792
    path = write([run("slow", BUSYBOX, f"sleep 22; exec n2c-testserver {port}", expose=checked(port))])
    proc = subprocess.Popen([*CLI, "up", path, "-d", "--pull", "never"], stdout=subprocess.PIPE, text=True)
    seen = []  # (seconds since start, line) as a pipe receives them
    started = time.monotonic()
    for line in proc.stdout:
        seen.append((time.monotonic() - started, line.rstrip("\n")))
    assert proc.wait(timeout=120) == 0
    waiting = [(t, line) for t, line in seen if "slow: waiting" in line]
    assert [line.split("waiting ")[1].split(" s")[0] for _, line in waiting][:2] == ["5", "15"], seen
    begun = next(t for t, line in seen if "slow: starting" in line)
    assert waiting[0][0] - begun < 9  # flushed as printed, not at the end
    assert any("slow: healthy" in line for _, line in seen)
    assert all(line.strip() not in ("slow |", "|") for _, line in seen)


def test_serve_on_a_busy_port_is_one_line_and_exit_1(job):
    _, write = job
    path = write([run("web", BUSYBOX, "sleep 300")])
    assert nos2compose("up", path, "-d", "--pull", "never").returncode == 0
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        serve = nos2compose("serve", path, "--port", str(port), timeout=30)
    assert serve.returncode == 1
    assert serve.stderr.splitlines() == [
        f"error: port {port} on 127.0.0.1 is already in use; free it, or serve on another with --port"
    ]


def test_once_healthy_the_probe_asks_the_service_every_30_s(job):
    name, write = job
    port = 18793
    path = write([run("web", CURL, ["n2c-testserver", str(port)], expose=checked(port))])
    assert nos2compose("up", path, "-d", "--pull", "never").returncode == 0
    time.sleep(35)  # Docker runs the healthcheck every second all along
    log = docker("logs", f"{name}-web-1").stderr
    assert 1 <= log.count('"GET /ok" 200') <= 3, log  # about once per 30 s, not 35 times
    assert ps(path)["web"]["status"] == "healthy"
