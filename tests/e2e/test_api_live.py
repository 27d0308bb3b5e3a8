"""The node API's flow state, stats, WebSocket routes and terminal, and `nos2compose shell`, on a real engine
against `nos2compose serve` as a process (the unit tests in tests/unit/test_api_live.py use the fake engine)."""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import subprocess
import time
import uuid

import httpx
import pytest
from helpers import nos2compose, serving

pytestmark = pytest.mark.e2e

IMAGE = "nos2compose-test/busybox:1"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")


@pytest.fixture(scope="module")
def live_job(engine, tmp_path_factory):
    """One group: a worker that logs every 0.2 s, a task that exits 3, an op whose image the engine lacks."""
    name = f"n2c-live-{uuid.uuid4().hex[:8]}"
    path = tmp_path_factory.mktemp("live") / f"{name}.json"
    ops = [
        {
            "type": "container/run",
            "id": "worker",
            "args": {
                "image": IMAGE,
                "cmd": "trap 'exit 0' TERM; i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done",
            },
        },
        {"type": "container/run", "id": "crash", "args": {"image": IMAGE, "cmd": "echo out; echo err >&2; exit 3"}},
        {"type": "container/run", "id": "gone", "args": {"image": "nos2compose-test/nosuch:1", "cmd": "true"}},
    ]
    for op in ops:
        op["execution"] = {"group": "main"}
    path.write_text(json.dumps({"version": "0.1", "type": "container", "ops": ops}))
    up = nos2compose("up", str(path), "-d", "--pull", "never")
    assert up.returncode == 1, up.stdout + up.stderr  # crash and gone failed, as they should
    token = uuid.uuid4().hex
    proc, base = serving(str(path), token)
    with _http(token) as http:  # sampled from the server's start: the first sample within 2 s of its answering
        _first_sample(http, f"{base}/job/{name}/stats", time.time())
    yield name, str(path), base, token
    proc.terminate()
    proc.wait(timeout=10)
    subprocess.run(["docker", "compose", "-p", name, "down", "-v", "-t", "1"], capture_output=True)


def _http(token):
    return httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=60)


def _first_sample(http, url: str, answering: float) -> dict:
    while not (samples := http.get(url).json()):  # the sample's own time is what must be within 2 s
        assert time.time() - answering < 5.0, "no stats sample within 5 s of the server answering"
        time.sleep(0.05)
    assert samples[0]["timestamp"] <= answering * 1000 + 2000, samples[0]["timestamp"] / 1000 - answering
    return samples[0]


def test_flow_state_has_errors_diagnostics_state_and_timestamps(live_job):
    name, path, base, token = live_job
    with _http(token) as http:
        time.sleep(1)  # a few of the worker's lines
        flow = http.get(f"{base}/job/{name}/results").json()
    ops = {o["operationId"]: o for o in flow["opStates"]}
    gone, crash, worker = ops["gone"], ops["crash"], ops["worker"]
    # the node's pull error: its event, the engine's words, the engine's 404 for an image it lacks
    [error] = gone["errors"]
    assert (error["event"], error["code"]) == ("image-pull-error", 404) and "nos2compose-test/nosuch:1" in error[
        "message"
    ]
    assert (gone["status"], gone["exitCode"]) == ("failed", 2) and "state" not in gone["diagnostics"]
    # an op that exited 3: the container's inspect State with RestartCount
    state = crash["diagnostics"]["state"]
    assert (state["ExitCode"], state["Status"], state["OOMKilled"], state["Running"], state["RestartCount"]) == (
        3,
        "exited",
        False,
        False,
        0,
    )
    assert RFC3339.match(state["StartedAt"]) and RFC3339.match(state["FinishedAt"]) and crash["errors"] == []
    assert "state" not in worker["diagnostics"]  # still running
    # each entry with the time Docker stamped on it, in order
    assert {(e["type"], e["log"]) for e in crash["logs"]} == {("stdout", "out\n"), ("stderr", "err\n")}
    stamps = [e["timestamp"] for e in worker["logs"]]
    assert len(stamps) >= 3 and all(RFC3339.match(s) for s in stamps)
    assert stamps == sorted(stamps, key=lambda s: (s[:19], s[20:-1].ljust(9, "0")))
    ps = json.loads(nos2compose("ps", path, "--json").stdout)
    assert ps["gone"]["errors"] == [error] and ps["crash"]["diagnostics"]["state"]["ExitCode"] == 3
    assert ps["worker"]["diagnostics"]["state"] is None


def test_stats_are_sampled_every_second(live_job):
    name, _, base, token = live_job
    with _http(token) as http:
        deadline = time.monotonic() + 10
        while len([s for s in http.get(f"{base}/job/{name}/stats").json() if s["opId"] == "worker"]) < 3:
            assert time.monotonic() < deadline, "fewer than 3 samples in 10 s"
            time.sleep(0.5)
        samples = [s for s in http.get(f"{base}/job/{name}/stats").json() if s["opId"] == "worker"]
        assert {s["opId"] for s in http.get(f"{base}/job/{name}/stats").json()} == {"worker"}  # only what runs
        gaps = [b["timestamp"] - a["timestamp"] for a, b in itertools.pairwise(samples)]
        assert all(500 <= gap <= 3000 for gap in gaps), gaps
        last = samples[-1]
        assert last["memory"]["memory_usage"] > 0 and last["memory"]["memory_limit"] >= last["memory"]["memory_usage"]
        assert last["network"]["received"] >= 0 and last["cpu"]["cpu_percent"] >= 0
        window = http.get(
            f"{base}/job/{name}/stats", params={"start": samples[1]["timestamp"], "end": samples[1]["timestamp"]}
        )
        assert window.json() == [samples[1]]
        assert http.get(f"{base}/job/{name}/stats", params={"start": "now"}).status_code == 400
        with http.stream("GET", f"{base}/job/{name}/stats/stream") as reply:
            for line in reply.iter_lines():
                if line.startswith("data: "):
                    assert [s["opId"] for s in json.loads(line[6:])] == ["worker"]
                    break


@contextlib.contextmanager
def _socket(base, token, path, **body):
    from websockets.sync.client import connect

    with connect(base.replace("http://", "ws://") + "/", open_timeout=20) as ws:
        ws.send(json.dumps({"path": path, "header": token, "body": body}))
        yield ws


def test_flog_log_and_status_over_the_websocket(live_job):
    name, _, base, token = live_job
    with _socket(base, token, "/flog", jobAddress=name) as ws:
        logs = []
        deadline = time.monotonic() + 20
        while not any(
            log["type"] == "container" and log["opId"] == "worker" and log["timestamp"] > time.time() * 1000 - 3000
            for log in logs
        ):
            assert time.monotonic() < deadline, logs[-5:]
            frame = json.loads(ws.recv(timeout=10))
            assert frame["path"] == "flog"
            logs.append(json.loads(frame["data"]))
    stamps = [log["timestamp"] for log in logs]
    assert stamps == sorted(set(stamps))  # strictly increasing ms
    crash = [(log["type"], log["message"]) for log in logs if log["opId"] == "crash"]
    assert crash[0] == ("info", "Operation Started: crash") and ("container", "err\n") in crash
    assert crash[-1] == ("info", "Operation Completed: crash")
    assert ("error", "Operation Failed") in [(log["type"], log["message"]) for log in logs if log["opId"] == "gone"]

    with _socket(base, token, "/flog", jobAddress=name, opId="worker", type="container") as ws:
        live = [json.loads(json.loads(ws.recv(timeout=10))["data"]) for _ in range(30)]
    assert {log["opId"] for log in live} == {"worker"} and live[-1]["message"].startswith("tick ")

    with _socket(base, token, "/log", jobAddress=name) as ws:
        entry = json.loads(json.loads(ws.recv(timeout=10))["data"])
    assert entry["job"] == name and entry["type"] in ("info", "log", "error")
    with _socket(base, token, "/status", jobAddress=name) as ws:
        frame = json.loads(ws.recv(timeout=10))
    state = json.loads(frame["data"])
    assert (
        frame["path"] == "state" and state["state"]["job"] == name and state["status"].startswith("running-operation")
    )


def test_websocket_refusals(live_job):
    from websockets.exceptions import ConnectionClosed

    name, _, base, token = live_job
    for header, job, code in (("wrong", name, 3000), (token, "somebody-else", 1007)):
        with _socket(base, header, "/flog", jobAddress=job) as ws:
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=10)
            assert closed.value.rcvd.code == code


def _terminal_until(ws, wanted: bytes, limit: float = 20) -> bytes:
    seen = b""
    deadline = time.monotonic() + limit
    while wanted not in seen:
        assert time.monotonic() < deadline, seen[-400:]
        frame = ws.recv(timeout=limit)
        assert isinstance(frame, bytes), frame  # terminal output is binary
        seen += frame
    return seen


def _terminal_resized(ws, size: bytes, limit: float = 20) -> None:
    """Ask `stty size` until the shell sees `size`: the engine applies a resize a moment after it is sent."""
    deadline = time.monotonic() + limit
    seen = b""
    while size not in seen:
        assert time.monotonic() < deadline, seen[-400:]
        ws.send(json.dumps({"type": "stdin", "data": "stty size\n"}))
        seen = _terminal_until(ws, b"stty size", limit)
        with contextlib.suppress(TimeoutError):
            while size not in seen:
                seen += ws.recv(timeout=0.5)


def test_terminal_into_an_op(live_job):
    name, _, base, token = live_job
    with _socket(base, token, "/terminal", jobAddress=name, op="worker", cols=90, rows=20) as ws:
        ws.send(json.dumps({"type": "stdin", "data": "echo n2c-$((6*7))\n"}))
        _terminal_until(ws, b"n2c-42")
        ws.send(json.dumps({"type": "resize", "cols": 132, "rows": 43}))
        _terminal_resized(ws, b"43 132")  # a real tty, resized through the engine
        ws.send(json.dumps({"type": "stdin", "data": "top -n 1; echo top-$?\n"}))
        shown = _terminal_until(ws, b"top-0")  # a full-screen program draws on it
        assert b"PID" in shown and b"\x1b[" in shown
        ws.send(json.dumps({"type": "stdin", "data": "exit 5\n"}))
        while isinstance(frame := ws.recv(timeout=20), bytes):
            pass
        assert json.loads(frame) == {"type": "exit", "code": 5}
    with _socket(base, token, "/terminal", jobAddress=name, op="crash") as ws:
        error = json.loads(ws.recv(timeout=10))
    assert error["type"] == "error" and "crash is not running" in error["message"]


def test_shell_verb(live_job):
    _, path, _, _ = live_job
    said = nos2compose("shell", path, "worker", "--", "echo", "hi")
    assert (said.returncode, said.stdout) == (0, "hi\n")
    assert nos2compose("shell", path, "worker", "--", "sh", "-c", "exit 4").returncode == 4
    stopped = nos2compose("shell", path, "crash")
    assert stopped.returncode == 1 and stopped.stderr.count("\n") == 1 and "op crash is not running" in stopped.stderr
