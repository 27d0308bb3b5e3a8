"""The node API's newer routes over the fake engine: resource stats (windows, the stream), SSH keys, and the
WebSocket endpoint (/flog, /log, /status, /terminal). The end-to-end tests (tests/e2e/test_api_live.py) run them
on a real engine."""

from __future__ import annotations

import json
import subprocess
import time

import pytest
from test_api_node import two_groups

from nos2compose.api.stats import Sampler, stats_query

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@laptop"


@pytest.fixture(autouse=True)
def state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("NOS2COMPOSE_STATE_DIR", str(tmp_path / "state"))


def test_a_sample_of_each_running_op_in_the_nodes_taskstat_shape():
    node, engine = two_groups()
    clock = [1_700_000_000.0]
    sampler = Sampler(node, clock=lambda: clock[0])
    first = sampler.take()
    assert [s["opId"] for s in first] == ["web", "worker"]  # prepare has exited: no sample
    assert first[0] == {
        "opId": "web",
        "timestamp": 1_700_000_000_000,
        "cpu": {"cpu_percent": 10.0},
        "memory": {"memory_usage": 1000, "memory_limit": 4000, "memory_percent": 25.0},
        "disk": {"read": 1, "write": 2},
        "network": {"received": 3, "sent": 4},
    }
    for _ in range(4):
        clock[0] += 1
        engine.now += 1
        sampler.take()
    everything = sampler.window(None, None)
    assert len(everything) == 10 and [s["timestamp"] for s in everything] == sorted(s["timestamp"] for s in everything)
    window = sampler.window(1_700_000_001_000, 1_700_000_002_000)
    assert {s["timestamp"] for s in window} == {1_700_000_001_000, 1_700_000_002_000}
    thinned = sampler.window(None, None, interval=2)
    assert [s["timestamp"] for s in thinned if s["opId"] == "web"] == [
        1_700_000_000_000,
        1_700_000_002_000,
        1_700_000_004_000,
    ]
    assert [s["cpu"]["cpu_percent"] for s in sampler.latest()] == [14.0, 14.0]


def test_stats_queries_want_milliseconds():
    assert stats_query({}) == (1, None, None)
    assert stats_query({"start": "1700000000000", "end": "1700000001000", "interval": "5"}) == (
        5,
        1700000000000,
        1700000001000,
    )
    for bad in ({"start": "yesterday"}, {"end": "1700000000"}, {"start": "1.5"}, {"interval": "0"}):
        assert isinstance(stats_query(bad), str), bad
    assert "after" in stats_query({"start": "1700000002000", "end": "1700000001000"})


@pytest.fixture
def app():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    from nos2compose.api.app import create_app

    node, engine = two_groups()
    with TestClient(create_app(node, bound_host="testserver", stream_limit=0)) as client:
        yield client, node, engine


def test_stats_routes(app):
    client, _, _ = app
    deadline = time.monotonic() + 2
    while not client.get("/job/p/stats").json():  # sampled from the server's start on
        assert time.monotonic() < deadline, "no sample within 2 s"
        time.sleep(0.05)
    samples = client.get("/job/p/stats", params={"start": "1000000000000", "interval": "1"}).json()
    assert {s["opId"] for s in samples} == {"web", "worker"}
    refused = client.get("/job/p/stats", params={"start": "1700000000"})
    assert refused.status_code == 400 and "milliseconds" in refused.json()["error"]
    other = client.get("/job/other/stats")
    assert (other.status_code, other.json()) == (404, {"error": "No running job with that address"})
    with client.stream("GET", "/job/p/stats/stream") as reply:
        assert reply.headers["content-type"].startswith("text/event-stream")
        body = "".join(reply.iter_text())
    frame = json.loads(body.removeprefix("data: "))
    assert {s["opId"] for s in frame} == {"web", "worker"}


def _keygen(tmp_path, comment):
    path = tmp_path / comment
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)], check=True)
    return (tmp_path / f"{comment}.pub").read_text().strip()


def test_ssh_keys_are_checked_kept_as_given_and_revoked(app):
    client, _, _ = app
    assert client.get("/job/p/ssh/keys").json() == {"job": "p", "sshUser": "nosana", "keys": []}
    granted = client.post("/job/p/ssh/authorize", json={"sshPublicKey": KEY})
    assert (granted.status_code, granted.json()) == (201, {"job": "p", "sshUser": "nosana", "authorized": True})
    later = client.post(
        "/job/p/ssh/authorize",
        json={"sshPublicKey": KEY.replace("alice@laptop", "ci"), "expiresAt": "2999-01-01T00:00:00Z"},
    )
    assert later.json()["expiresAt"] == "2999-01-01T00:00:00Z"
    # the same key again replaces its entry: its comment and expiry as given the last time
    assert client.get("/job/p/ssh/keys").json()["keys"] == [
        {"sshPublicKey": KEY.replace("alice@laptop", "ci"), "expiresAt": "2999-01-01T00:00:00Z"}
    ]
    for body in (
        {"sshPublicKey": "ssh-ed25519 notbase64!"},
        {"sshPublicKey": "-----BEGIN OPENSSH PRIVATE KEY-----"},
        {},
    ):
        refused = client.post("/job/p/ssh/authorize", json=body)
        assert refused.status_code == 400 and "error" in refused.json(), body
    past = client.post("/job/p/ssh/authorize", json={"sshPublicKey": KEY, "expiresAt": "2001-01-01T00:00:00Z"})
    assert past.status_code == 400 and "past" in past.json()["error"]
    revoked = client.request("DELETE", "/job/p/ssh/keys", json={"sshPublicKey": KEY})
    assert (revoked.status_code, revoked.json()) == (200, {"job": "p", "sshUser": "nosana", "revoked": True})
    assert client.get("/job/p/ssh/keys").json()["keys"] == []
    assert client.request("DELETE", "/job/p/ssh/keys", json={"sshPublicKey": KEY}).status_code == 404
    assert client.post("/job/other/ssh/authorize", json={"sshPublicKey": KEY}).status_code == 404


def test_ssh_keys_survive_a_new_server(app, tmp_path):
    client, _, _ = app
    key = _keygen(tmp_path, "bob@desk")
    client.post("/job/p/ssh/authorize", json={"sshPublicKey": key})
    from nos2compose.api.ssh import JobKeys

    assert JobKeys("p").listed()["keys"] == [{"sshPublicKey": key}]  # read back from the state record


def _socket(client, path, **body):
    ws = client.websocket_connect("/")
    conn = ws.__enter__()
    conn.send_text(json.dumps({"path": path, "header": "", "body": {"jobAddress": "p", **body}}))
    return ws, conn


def test_flog_sends_the_history_then_filters(app):
    client, _, _ = app
    ws, conn = _socket(client, "/flog")
    frames = [json.loads(conn.receive_text()) for _ in range(6)]
    ws.__exit__(None, None, None)
    assert {f["path"] for f in frames} == {"flog"}
    logs = [json.loads(f["data"]) for f in frames]
    assert all(set(log) == {"opId", "group", "type", "timestamp", "message"} for log in logs)
    stamps = [log["timestamp"] for log in logs]
    assert stamps == sorted(set(stamps))  # strictly increasing
    prepare = [(log["type"], log["message"]) for log in logs if log["opId"] == "prepare"]
    assert ("info", "Operation Started: prepare") in prepare and ("container", "last words of prepare\n") in prepare

    ws, conn = _socket(client, "/flog", opId="worker")
    only = [json.loads(json.loads(conn.receive_text())["data"]) for _ in range(2)]
    ws.__exit__(None, None, None)
    assert {log["opId"] for log in only} == {"worker"}


def test_log_and_status_frames(app):
    client, _, _ = app
    ws, conn = _socket(client, "/log")
    frame = json.loads(conn.receive_text())
    ws.__exit__(None, None, None)
    entry = json.loads(frame["data"])
    assert (
        frame["path"] == "log" and set(entry) == {"method", "job", "log", "timestamp", "type"} and entry["job"] == "p"
    )
    ws, conn = _socket(client, "/status")
    state = json.loads(json.loads(conn.receive_text())["data"])
    ws.__exit__(None, None, None)
    assert set(state) == {"status", "state", "timestamp", "index"} and state["state"]["job"] == "p"


def test_refusals_close_with_the_nodes_codes(app):
    from starlette.websockets import WebSocketDisconnect

    client, _, _ = app
    for first, code in (
        ({"path": "/nope", "header": "", "body": {"jobAddress": "p"}}, 3003),
        ({"path": "/flog", "header": "", "body": {}}, 1007),
        ({"path": "/flog", "header": "", "body": {"jobAddress": "other"}}, 1007),
    ):
        with client.websocket_connect("/") as conn:
            conn.send_text(json.dumps(first))
            with pytest.raises(WebSocketDisconnect) as closed:
                conn.receive_text()
            assert closed.value.code == code, first


def test_a_page_elsewhere_cannot_open_the_socket(app):
    from starlette.websockets import WebSocketDisconnect

    client, _, _ = app
    with client.websocket_connect("/", headers={"origin": "http://evil.example"}) as conn:
        conn.send_text(json.dumps({"path": "/terminal", "header": "", "body": {"jobAddress": "p"}}))
        with pytest.raises(WebSocketDisconnect) as closed:
            conn.receive_text()
        assert closed.value.code == 3000 and "cross-origin" in closed.value.reason


def test_the_token_goes_in_the_handshakes_header():
    import warnings

    from starlette.websockets import WebSocketDisconnect

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient
    from nos2compose.api.app import create_app

    node, _ = two_groups()
    with TestClient(create_app(node, token="s3cret", bound_host="testserver", stream_limit=0)) as client:
        with client.websocket_connect("/") as conn:
            conn.send_text(json.dumps({"path": "/status", "header": "wrong", "body": {"jobAddress": "p"}}))
            with pytest.raises(WebSocketDisconnect) as closed:
                conn.receive_text()
            assert closed.value.code == 3000
        with client.websocket_connect("/") as conn:
            conn.send_text(json.dumps({"path": "/status", "header": "Bearer s3cret", "body": {"jobAddress": "p"}}))
            assert json.loads(conn.receive_text())["path"] == "state"


def test_terminal_runs_a_shell_and_sends_its_exit(app):
    client, _, engine = app
    ws, conn = _socket(client, "/terminal", op="worker", cols=100, rows=30, message="ignored", signature="ignored")
    conn.send_text(json.dumps({"type": "resize", "cols": 120, "rows": 40}))
    conn.send_text(json.dumps({"type": "stdin", "data": "stty size; echo hi-$((40+2)); exit 3\n"}))
    output, exit_frame = b"", None
    while exit_frame is None:
        message = conn.receive()
        if message.get("bytes"):
            output += message["bytes"]
        elif message.get("text"):
            exit_frame = json.loads(message["text"])
    ws.__exit__(None, None, None)
    assert b"hi-42" in output and b"40 120" in output  # a real terminal, resized
    assert exit_frame == {"type": "exit", "code": 3}
    assert ("shell_tty", "id-worker", 100, 30) in engine.calls


def test_terminal_without_a_running_op_is_an_error_frame(app):
    client, _, _ = app
    ws, conn = _socket(client, "/terminal", op="prepare")
    frame = json.loads(conn.receive_text())
    ws.__exit__(None, None, None)
    assert frame["type"] == "error" and "prepare is not running" in frame["message"]


def test_terminal_without_an_op_opens_the_first_running_one(app):
    client, _, engine = app
    ws, conn = _socket(client, "/terminal")
    conn.send_text(json.dumps({"type": "stdin", "data": "exit\n"}))
    while not (message := conn.receive()).get("text"):
        pass
    ws.__exit__(None, None, None)
    assert json.loads(message["text"]) == {"type": "exit", "code": 0}
    assert [c[1] for c in engine.calls if c[0] == "shell_tty"] == ["id-web"]
