"""The generated health probe, run by a real sh against a real local server, one backend at a time.

Each backend (curl, wget, python3, bash) is forced by a PATH that holds only it
and a few basic commands. The containers' side of this (busybox, curl-only,
python-only, bash-only and distroless images) is in tests/e2e/test_health.py.

In an op's own container the probe asks the op at the container's address on the
job network (`--self`), found in /etc/hosts by its host name. Here a fake /etc
(N2C_PROBE_ETC) gives this "container" the address 127.0.0.2: a server bound there
stands for one a node's probe reaches, a server bound to 127.0.0.1 only for one that
answers only on its loopback.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from helpers import IN_CI

from nos2compose import scripts
from nos2compose.compose.codec import loopback_only_port
from nos2compose.compose.healthcheck import probe_args, probe_parts
from nos2compose.model import Expose, HttpCheck, RunOp, WebSocketCheck

BASICS = ["sh", "sed", "head", "grep", "touch", "cat", "sleep", "env", "wc", "tr"]
# busybox's wget (no --method) and nc, as in a busybox image: what wget cannot send as the node does, nc sends
BUSYBOX_APPLETS = ["wget", "nc", "timeout"]
HOSTILE = "@/etc/hostname $(touch PWNED) `touch PWNED2` ; 'q' \"d\" \\ $HOME"


NETWORK_ADDRESS = "127.0.0.2"  # this "container's" address on the job network (the fake /etc/hosts says so)


class Handler(http.server.BaseHTTPRequestHandler):
    """/status/N answers N; /echo answers 200 only for the exact method, body and X-Check header expected."""

    protocol_version = "HTTP/1.0"
    expected: dict = {}  # noqa: RUF012 (set per test)
    asked: list = []  # noqa: RUF012 (the address each request came to, in order)
    bare: list = []  # noqa: RUF012 ((method, Content-Length) of each request to /bare)

    def log_message(self, *args):
        pass

    def _answer(self):
        Handler.asked.append(self.server.server_address[0])
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else None
        if self.path.startswith("/status/"):
            code = int(self.path.rsplit("/", 1)[1])
        elif self.path.startswith("/echo"):
            want = Handler.expected
            ok = (
                self.command == want["method"]
                and body == want["body"]
                and self.headers.get("X-Check") == want["header"]
            )
            code = 200 if ok else 417
        elif self.path.startswith("/bare"):  # the method alone, as the node's curl sends it without --data
            Handler.bare.append((self.command, self.headers.get("Content-Length")))
            bare = "Content-Length" not in self.headers and "Transfer-Encoding" not in self.headers
            code = 200 if bare and self.command == Handler.expected["method"] else 417
        elif self.headers.get("Upgrade") == "websocket":
            accept = base64.b64encode(
                hashlib.sha1(
                    (self.headers["Sec-WebSocket-Key"] + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()
                ).digest()
            )
            self.wfile.write(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n\x81\x04pong"
            )
            self.wfile.flush()
            return
        else:
            code = 404
        self.send_response(code)
        self.end_headers()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer


def _serve(address: str):
    srv = http.server.ThreadingHTTPServer((address, 0), Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    return srv


@pytest.fixture(scope="module")
def server():
    """A server on 127.0.0.1 only: from inside its container (--self), one that answers only on its loopback."""
    srv = _serve("127.0.0.1")
    yield srv.server_address[1]
    srv.shutdown()


@pytest.fixture(scope="module")
def network_server():
    """A server on the container's network address, where a node's probe reaches it."""
    srv = _serve(NETWORK_ADDRESS)
    yield srv.server_address[1]
    srv.shutdown()


@pytest.fixture
def etc(tmp_path):
    """The container's /etc as Docker writes it: its host name, and its address on the job network under it."""
    d = tmp_path / "etc"
    d.mkdir()
    (d / "hostname").write_text("3f2a9c1e7b40\n")
    (d / "hosts").write_text(
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
        f"8.8.8.8\thost.docker.internal\n{NETWORK_ADDRESS}\t3f2a9c1e7b40\n"
    )
    return d


def only(tool: str, tmp_path: Path) -> dict:
    """An environment whose PATH has just `tool` and the basics."""
    bin_dir = tmp_path / f"bin-{tool}"
    bin_dir.mkdir(exist_ok=True)
    for name in BASICS + (BUSYBOX_APPLETS if tool == "busybox" else [tool]):
        found = sys.executable if name == "python3" else shutil.which(name)
        if tool == "busybox" and name in BUSYBOX_APPLETS:
            found = shutil.which("busybox")
        if found is None:
            if IN_CI:
                pytest.fail(f"{name} is missing in CI: every probe backend must be tested")
            pytest.skip(f"{name} is not on this machine")
        link = bin_dir / name
        if not link.exists():
            link.symlink_to(found)
    return {"PATH": str(bin_dir), "HOME": "/nonexistent"}


def run_probe(
    op: RunOp, env: dict, cwd: Path, recheck: int = 0, etc: Path | None = None
) -> subprocess.CompletedProcess:
    """The probe as a generated file carries it (only the parts the op needs), with its state in `cwd`; with
    `etc`, as in the op's own container (asking op `a` at the address `etc` gives it), else at 127.0.0.1."""
    script = cwd / "probe.sh"
    script.write_text(scripts.probe(probe_parts(op, sidecar=etc is None)))
    env = {**env, "N2C_PROBE_STATE": str(cwd), "N2C_PROBE_RECHECK": str(recheck)}
    args = probe_args(op, "a", inside=True) if etc is not None else probe_args(op, "127.0.0.1")
    if etc is not None:
        env["N2C_PROBE_ETC"] = str(etc)
    return subprocess.run(["sh", str(script), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=30)


def op_with(port, *checks):
    return RunOp(id="a", index=0, group="a", image="x", expose=(Expose(port, health_checks=tuple(checks)),))


def check_http(path, status, method="GET", headers=(), body=None, continuous=True):
    return HttpCheck(path, method, status, tuple(headers), body, continuous)


BACKENDS = ["curl", "wget", "python3", "bash", "busybox"]


@pytest.mark.parametrize("tool", BACKENDS)
def test_exact_status_passes_and_anything_else_fails(tool, server, tmp_path):
    env = only(tool, tmp_path)
    assert run_probe(op_with(server, check_http("/status/200", 200)), env, tmp_path).returncode == 0
    assert run_probe(op_with(server, check_http("/status/401", 401)), env, tmp_path).returncode == 0
    assert run_probe(op_with(server, check_http("/status/404", 404)), env, tmp_path).returncode == 0
    failed = run_probe(op_with(server, check_http("/status/200", 401)), env, tmp_path)
    assert failed.returncode != 0 and "want 401" in failed.stderr
    assert (
        run_probe(
            op_with(server, check_http("/status/200", 200), check_http("/status/500", 200)), env, tmp_path
        ).returncode
        != 0
    )


@pytest.mark.parametrize("tool", BACKENDS)
def test_method_headers_and_hostile_body_arrive_exactly(tool, server, tmp_path):
    env = only(tool, tmp_path)
    methods = ["GET", "POST", "PUT", "DELETE"] if tool != "wget" or _gnu_wget() else ["GET", "POST"]
    for method in methods:
        body = HOSTILE if method in ("POST", "PUT") else None
        Handler.expected = {"method": method, "body": body, "header": HOSTILE}
        check = check_http("/echo", 200, method, headers=(("X-Check", HOSTILE),), body=body)
        result = run_probe(op_with(server, check), env, tmp_path)
        assert result.returncode == 0, (tool, method, result.stderr)
    assert not (tmp_path / "PWNED").exists() and not (tmp_path / "PWNED2").exists()


@pytest.mark.parametrize("tool", BACKENDS)
def test_a_request_without_a_body_is_the_method_alone(tool, server, tmp_path):
    """The node's curl sends `-X METHOD` and `--data` only with a body: a POST without one has no Content-Length
    (busybox's wget would make it a GET, Python's http.client would add `Content-Length: 0`)."""
    env = only(tool, tmp_path)
    for method in ("GET", "POST", "PUT", "DELETE", "PATCH"):
        Handler.expected = {"method": method}
        Handler.bare.clear()
        result = run_probe(op_with(server, check_http("/bare", 200, method)), env, tmp_path)
        if tool == "wget" and method in ("POST", "PUT", "PATCH"):
            # wget alone cannot: it sends the nearest, that method with `Content-Length: 0` (busybox's: only a POST)
            nearest = [(method, "0")] if _gnu_wget() or method == "POST" else []
            assert Handler.bare == nearest and result.returncode != 0, (method, Handler.bare)
            continue
        assert result.returncode == 0, (tool, method, result.stderr)


def _gnu_wget() -> bool:
    found = shutil.which("wget")
    return bool(found) and "--method" in subprocess.run([found, "--help"], capture_output=True, text=True).stdout


@pytest.mark.parametrize("tool", ["python3", "bash"])
def test_websocket_reply_must_contain_the_expected_text(tool, server, tmp_path):
    env = only(tool, tmp_path)
    assert run_probe(op_with(server, WebSocketCheck("pong", True)), env, tmp_path).returncode == 0
    assert run_probe(op_with(server, WebSocketCheck("nothing like it", True)), env, tmp_path).returncode != 0


def test_startup_only_checks_stop_counting_after_the_first_success(server, tmp_path):
    env = only("curl", tmp_path)
    op = op_with(
        server, check_http("/status/200", 200, continuous=True), check_http("/status/204", 204, continuous=False)
    )
    assert run_probe(op, env, tmp_path).returncode == 0
    assert (tmp_path / ".nos2compose-started").exists()
    # the start-up check now fails, the continuous one passes: still healthy
    later = op_with(
        server, check_http("/status/200", 200, continuous=True), check_http("/status/500", 204, continuous=False)
    )
    assert run_probe(later, env, tmp_path).returncode == 0
    # after a restart (another start time of the container's first process) start-up checks count again
    (tmp_path / ".nos2compose-started").write_text("another-boot\n")
    assert run_probe(later, env, tmp_path).returncode != 0
    assert run_probe(op, env, tmp_path).returncode == 0
    # a continuous check failing is unhealthy
    broken = op_with(
        server, check_http("/status/500", 200, continuous=True), check_http("/status/204", 204, continuous=False)
    )
    assert run_probe(broken, env, tmp_path).returncode != 0


def test_no_tool_says_what_to_do(server, tmp_path):
    env = only("env", tmp_path)
    result = run_probe(op_with(server, check_http("/status/200", 200)), env, tmp_path)
    assert result.returncode != 0 and "use --health-probe sidecar" in result.stderr


def test_unreachable_port_fails(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for tool in BACKENDS:
        assert run_probe(op_with(port, check_http("/", 200)), only(tool, tmp_path), tmp_path).returncode != 0, tool


# -- in the op's own container: at its network address, as a node's probe from outside -----------------


@pytest.mark.parametrize("tool", BACKENDS)
def test_inside_its_container_the_op_is_asked_at_its_network_address(tool, network_server, etc, tmp_path):
    env = only(tool, tmp_path)
    Handler.asked.clear()
    op = op_with(network_server, check_http("/status/204", 204))
    result = run_probe(op, env, tmp_path, etc=etc)
    assert result.returncode == 0, result.stderr
    assert Handler.asked == [NETWORK_ADDRESS]  # never 127.0.0.1
    failed = run_probe(op_with(network_server, check_http("/status/500", 200)), env, tmp_path, etc=etc)
    assert failed.returncode != 0
    assert f"GET http://a:{network_server}/status/500 at {NETWORK_ADDRESS}: got 500, want 200" in failed.stderr
    assert "loopback" not in failed.stderr  # it answered at its network address: nothing to say about loopback


@pytest.mark.parametrize("tool", BACKENDS)
def test_a_server_only_on_its_loopback_fails_and_the_last_line_says_so(tool, server, etc, tmp_path):
    env = only(tool, tmp_path)
    op = op_with(server, check_http("/status/200", 200))  # answers 200, but only at 127.0.0.1
    Handler.asked.clear()
    result = run_probe(op, env, tmp_path, etc=etc)
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last == (
        f"port {server} answers only on 127.0.0.1 (loopback) inside its container, "
        f"not at its address {NETWORK_ADDRESS} on the job network"
    )
    assert loopback_only_port(last) == server  # what `up` reads from Docker's health log
    assert f"GET http://a:{server}/status/200 at {NETWORK_ADDRESS}: got no answer, want 200" in result.stderr
    assert Handler.asked == ["127.0.0.1"]  # the loopback was asked once, to tell why


def test_loopback_is_asked_again_only_at_the_nodes_cadence_and_the_note_stays(server, etc, tmp_path):
    env = only("curl", tmp_path)
    op = op_with(server, check_http("/status/200", 200))
    Handler.asked.clear()
    runs = [run_probe(op, env, tmp_path, recheck=30, etc=etc) for _ in range(3)]
    assert Handler.asked == ["127.0.0.1"]  # one access-log line, not one per Docker interval
    assert all(r.returncode != 0 and "answers only on 127.0.0.1 (loopback)" in r.stderr for r in runs)
    Handler.asked.clear()
    run_probe(op, env, tmp_path, recheck=0, etc=etc)
    assert Handler.asked == ["127.0.0.1"]


def test_nothing_listening_anywhere_says_no_answer_and_nothing_of_loopback(etc, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for tool in BACKENDS:
        result = run_probe(op_with(port, check_http("/", 200)), only(tool, tmp_path), tmp_path, etc=etc)
        assert result.returncode != 0 and "got no answer" in result.stderr, tool
        assert "loopback" not in result.stderr, tool


def test_several_checks_the_loopback_note_comes_last(server, network_server, etc, tmp_path):
    env = only("curl", tmp_path)
    op = RunOp(
        id="a",
        index=0,
        group="a",
        image="x",
        expose=(
            Expose(server, health_checks=(check_http("/status/200", 200),)),
            Expose(network_server, health_checks=(check_http("/status/503", 200),)),
        ),
    )
    result = run_probe(op, env, tmp_path, etc=etc)
    lines = result.stderr.strip().splitlines()
    assert result.returncode != 0 and "got 503, want 200" in lines[1]
    assert loopback_only_port(lines[-1]) == server


@pytest.mark.parametrize("tool", ["python3", "bash"])
def test_websocket_at_the_network_address_and_only_on_loopback(tool, server, network_server, etc, tmp_path):
    env = only(tool, tmp_path)
    assert run_probe(op_with(network_server, WebSocketCheck("pong", True)), env, tmp_path, etc=etc).returncode == 0
    result = run_probe(op_with(server, WebSocketCheck("pong", True)), env, tmp_path, etc=etc)
    assert result.returncode != 0
    assert loopback_only_port(result.stderr.strip().splitlines()[-1]) == server


def test_no_address_of_its_own_says_what_to_do(network_server, etc, tmp_path):
    (etc / "hosts").write_text("127.0.0.1\tlocalhost\n")
    result = run_probe(
        op_with(network_server, check_http("/status/200", 200)), only("curl", tmp_path), tmp_path, etc=etc
    )
    assert result.returncode != 0
    assert "no address of this container on its network in /etc/hosts" in result.stderr
    assert "use --health-probe sidecar" in result.stderr
