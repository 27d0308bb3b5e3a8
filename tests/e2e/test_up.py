"""`nos2compose up`, `ps`, `logs`, `stop`, `restart`, `down` on a real Docker engine.

The CLI runs as a real process (signals, exit codes) against local busybox images;
nothing is pulled, and only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
import uuid

import pytest
from helpers import CLI, docker, nos2compose

pytestmark = pytest.mark.e2e

IMAGE = "nos2compose-test/busybox:1"


def run_op(op_id, group, cmd, expose=None, **args):
    out = {
        "type": "container/run",
        "id": op_id,
        "args": {"image": IMAGE, "cmd": cmd, **args},
        "execution": {"group": group},
    }
    if expose is not None:
        out["args"]["expose"] = expose
    return out


def web(port, check=True):
    checks = (
        [{"type": "http", "path": "/ok", "method": "GET", "expected_status": 200, "continuous": True}] if check else []
    )
    return [{"port": port, "health_checks": checks}]


def httpd(port, delay=0):
    return f"sleep {delay}; exec httpd -f -p {port} -h /www"


@pytest.fixture
def job(engine, tmp_path):
    """Writes a job file named after a unique project; tears the project down afterwards."""
    name = f"n2c-up-{uuid.uuid4().hex[:8]}"
    path = tmp_path / f"{name}.json"

    def write(*ops, **top):
        path.write_text(json.dumps({"version": "0.1", "type": "container", **top, "ops": list(ops)}))
        return str(path)

    write.name = name
    yield write
    docker("compose", "-p", name, "down", "-v", "--remove-orphans", "-t", "1")


def containers(project):
    out = docker(
        "ps", "-a", "--filter", f"label=com.docker.compose.project={project}", "--format", "{{.Names}} {{.State}}"
    ).stdout
    return dict(line.split() for line in out.splitlines())


def test_second_group_starts_after_a_healthy_service_and_reaches_it_by_op_id(job):
    path = job(
        run_op("server", "backend", httpd(18101, delay=2), expose=web(18101)),
        run_op("client", "frontend", "wget -qO- http://server:18101/ok > /tmp/got && cat /tmp/got"),
    )
    result = nos2compose("up", path, "-d", "--pull", "never")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert out.index("backend  server: healthy") < out.index("group frontend: starting client")
    assert "frontend  client: completed" in out
    # the final table: state and local URL
    assert any(
        line.split()[:3] == ["server", "backend", "healthy"] and "http://127.0.0.1:18101" in line
        for line in out.splitlines()
    )
    logs = nos2compose("logs", path, "client")
    assert "client | ok" in logs.stdout
    # the published port answers on 127.0.0.1
    with urllib.request.urlopen("http://127.0.0.1:18101/ok", timeout=5) as reply:
        assert reply.status == 200 and reply.read().strip() == b"ok"


def test_one_shot_completes_and_a_failure_is_reported_with_its_exit_code(job):
    path = job(
        run_op("ok-task", "work", "echo fine"),
        run_op("bad-task", "work", "echo about to fail; exit 3"),
        run_op("after", "later", "echo later groups go on"),
    )
    result = nos2compose("up", path, "-d", "--pull", "never")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "work  ok-task: completed" in result.stdout
    assert "work  bad-task: failed (exit code 3)" in result.stdout
    assert "  bad-task | about to fail" in result.stdout  # the last lines of its log
    assert "later  after: completed" in result.stdout  # as on a node, later groups go on
    # the failed container stays for inspection until down
    assert containers(job.name).get(f"{job.name}-bad-task-1") == "exited"
    ps = json.loads(nos2compose("ps", path, "--json").stdout)
    assert set(ps) == {"ok-task", "bad-task", "after"}
    assert ps["bad-task"]["status"] == "failed" and ps["bad-task"]["exit_code"] == 3
    assert ps["ok-task"]["status"] == "completed" and ps["ok-task"]["exit_code"] == 0


def test_a_service_whose_command_returns_gets_nos110_on_stderr(job):
    path = job(
        run_op("web", "serve", "echo hi", expose=web(18105, check=False)),  # returns at once: the op ends
        run_op("slow", "serve", "sleep 6; echo done", expose=web(18106, check=False)),  # past the 5 s
    )
    result = nos2compose("up", path, "--pull", "never")  # in the foreground: until both have exited
    assert result.returncode == 0, result.stdout + result.stderr
    assert "serve  web: completed" in result.stdout and "serve  slow: completed" in result.stdout
    (line,) = [line for line in result.stderr.splitlines() if "NOS110" in line]
    assert line.startswith('warning: NOS110 op "web" exposes port 18105 but its command exited after ')
    assert "(exit code 0): on a node its URL never answers and the op ends; run the server in the foreground" in line
    assert "NOS110" not in result.stdout


def _wait_for(proc_out_path, text, limit=60):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if text in proc_out_path.read_text():
            return True
        time.sleep(0.2)
    return False


def test_the_foreground_replays_each_ops_log_in_the_jobs_order_then_follows(job):
    """What the ops printed before up began to follow comes op after op, in the job's order; then the rest."""
    path = job(
        run_op("first", "one", "echo first-1; echo first-2"),
        run_op("second", "two", "echo second-1; sleep 6; echo second-2"),  # still running when up follows
        run_op("third", "two", "echo third-1"),
    )
    up = nos2compose("up", path, "--pull", "never", timeout=120)
    assert up.returncode == 0, up.stdout + up.stderr
    lines = [line for line in up.stdout.splitlines() if " | " in line]
    assert [line for line in lines if line.startswith("first |")] == ["first | first-1", "first | first-2"]
    at = {line: n for n, line in enumerate(lines)}
    assert at["first | first-2"] < at["second | second-1"] < at["third | third-1"] < at["second | second-2"], lines
    assert len(lines) == len(set(lines)) == 5, lines  # each line once


def test_ctrl_c_stops_every_container_and_down_removes_everything(job, tmp_path):
    path = job(
        {"type": "container/create-volume", "id": "vol", "args": {"name": "data"}},
        run_op(
            "worker",
            "work",
            "trap 'exit 0' TERM; while true; do echo tick; sleep 1; done",
            volumes=[{"name": "data", "dest": "/data"}],
        ),
        run_op("server", "work", httpd(18102), expose=web(18102)),
    )
    log = tmp_path / "up.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            CLI + ["up", path, "--pull", "never"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            assert _wait_for(log, "worker | tick"), log.read_text()
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=60) == 130, log.read_text()
        finally:
            if proc.poll() is None:
                proc.kill()
    states = containers(job.name)
    assert states and all(state != "running" for state in states.values()), states
    # a stop asked for reads `stopped` everywhere, not `failed` with the exit code the stop gave it
    said = log.read_text()
    assert "work  worker: stopped" in said and "work  server: stopped" in said, said
    assert "failed" not in said, said
    shown = json.loads(nos2compose("ps", path, "--json").stdout)
    assert {op: v["status"] for op, v in shown.items()} == {
        "vol": "completed",
        "worker": "stopped",
        "server": "stopped",
    }
    assert docker("volume", "ls", "-q", "--filter", f"label=com.docker.compose.project={job.name}").stdout.strip()
    down = nos2compose("down", path, "-v")
    assert down.returncode == 0, down.stderr
    assert containers(job.name) == {}
    assert (
        docker("network", "ls", "-q", "--filter", f"label=com.docker.compose.project={job.name}").stdout.strip() == ""
    )
    assert docker("volume", "ls", "-q", "--filter", f"label=com.docker.compose.project={job.name}").stdout.strip() == ""


def test_sigterm_exits_143(job, tmp_path):
    path = job(run_op("worker", "work", "while true; do echo tick; sleep 1; done"))
    log = tmp_path / "up.log"
    with log.open("w") as out:
        proc = subprocess.Popen(CLI + ["up", path, "--pull", "never"], stdout=out, stderr=subprocess.STDOUT)
        assert _wait_for(log, "worker | tick"), log.read_text()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 143
    assert all(state != "running" for state in containers(job.name).values())


def test_ps_is_right_after_the_supervisor_was_killed(job, tmp_path):
    path = job(run_op("server", "svc", httpd(18103), expose=web(18103)), run_op("task", "svc", "echo done"))
    log = tmp_path / "up.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            CLI + ["up", path, "--pull", "never"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert _wait_for(log, "server: healthy"), log.read_text()
        proc.kill()  # SIGKILL: no chance to clean up or write anything
        proc.wait(timeout=10)
    ps = json.loads(nos2compose("ps", path, "--json").stdout)
    assert ps["server"]["status"] == "healthy" and ps["server"]["urls"] == ["http://127.0.0.1:18103"]
    assert ps["task"]["status"] == "completed"
    plain = nos2compose("ps", path).stdout.splitlines()
    assert plain[0].split() == ["OP", "GROUP", "STATE", "HEALTH", "EXIT", "URLS"]


def test_up_again_converges_and_stop_restart_act_on_ops(job):
    path = job(run_op("prep", "first", "echo prepared"), run_op("server", "second", httpd(18104), expose=web(18104)))
    assert nos2compose("up", path, "-d", "--pull", "never").returncode == 0
    before = containers(job.name)
    again = nos2compose("up", path, "-d", "--pull", "never")
    assert again.returncode == 0
    assert "group first: already up" in again.stdout and "group second: already up" in again.stdout
    assert containers(job.name) == before  # nothing duplicated, the task not re-run
    assert "prepared\n" == "".join(
        line.split("| ", 1)[1] + "\n" for line in nos2compose("logs", path, "prep").stdout.splitlines()
    )
    assert nos2compose("stop", path, "--op", "server").returncode == 0
    assert json.loads(nos2compose("ps", path, "--json").stdout)["server"]["status"] != "healthy"
    assert nos2compose("restart", path, "--group", "second").returncode == 0
    deadline = time.monotonic() + 20
    while json.loads(nos2compose("ps", path, "--json").stdout)["server"]["status"] != "healthy":
        assert time.monotonic() < deadline
        time.sleep(0.5)
    bad = nos2compose("stop", path, "--op", "nope")
    assert bad.returncode == 2 and "no op 'nope'" in bad.stderr


def test_hand_edited_group_files_are_respected(job, tmp_path):
    path = job(run_op("greeter", "only", "echo generated"))
    out_dir = tmp_path / "compose"
    assert nos2compose("convert", path, "-o", str(out_dir)).returncode == 0
    (group_file,) = out_dir.glob("*.yaml")
    group_file.write_text(group_file.read_text().replace("echo generated", "echo edited by hand"))
    result = nos2compose("up", str(out_dir), "-d", "--pull", "never")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "greeter | edited by hand" in nos2compose("logs", str(out_dir)).stdout


def test_missing_engine_is_one_clear_line(job):
    path = job(run_op("x", "g", "true"))
    result = nos2compose("up", path, "-d", env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot reach the Docker engine"), result.stderr
    assert "Traceback" not in result.stderr


def test_missing_docker_cli_is_one_clear_line(job, tmp_path):
    path = job(run_op("x", "g", "true"))
    result = nos2compose("up", path, "-d", env={"PATH": str(tmp_path)})
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == "error: the docker command is not installed (nos2compose runs jobs through it); install Docker Engine and its Compose v2 plugin, then try again"
    )


def test_missing_gpu_runtime_is_one_clear_line_and_no_gpu_runs_anyway(job):
    info = json.loads(docker("info", "--format", "{{json .Runtimes}}").stdout or "{}")
    if "nvidia" in info:
        pytest.skip("this engine has an NVIDIA runtime")
    path = job(run_op("trainer", "g", "echo trained", gpu=True))
    result = nos2compose("up", path, "-d", "--pull", "never")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1] == (
        "error: op trainer asks for a GPU, but this Docker engine has no NVIDIA runtime; "
        "install the NVIDIA Container Toolkit, or add --no-gpu to run the job without GPU requests"
    )
    ok = nos2compose("up", path, "-d", "--pull", "never", "--no-gpu")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "g  trainer: completed" in ok.stdout


def test_missing_image_fails_the_op_fast(job):
    path = job(run_op("ghost", "g", "true", image="nos2compose-test/does-not-exist:1"))
    result = nos2compose("up", path, "-d", "--pull", "never", timeout=60)
    assert result.returncode == 1
    assert "g  ghost: failed (" in result.stdout
