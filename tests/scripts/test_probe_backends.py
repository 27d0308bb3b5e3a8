"""The generated health probe, run by a real sh against a real local server, one backend at a time.

Each backend (curl, wget, python3, bash) is forced by a PATH that holds only it
and a few basic commands. The containers' side of this (busybox, curl-only,
python-only, bash-only and distroless images) is in tests/test_health_e2e.py.
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
from nos2compose.compose.healthcheck import check_kinds, probe_args
from nos2compose.model import Expose, HttpCheck, RunOp, WebSocketCheck

BASICS = ["sh", "sed", "head", "grep", "touch", "cat", "sleep", "env"]
HOSTILE = "@/etc/hostname $(touch PWNED) `touch PWNED2` ; 'q' \"d\" \\ $HOME"


class Handler(http.server.BaseHTTPRequestHandler):
    """/status/N answers N; /echo answers 200 only for the exact method, body and X-Check header expected."""

    protocol_version = "HTTP/1.0"
    expected: dict = {}  # noqa: RUF012 (set per test)

    def log_message(self, *args):
        pass

    def _answer(self):
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

    do_GET = do_POST = do_PUT = do_DELETE = _answer


@pytest.fixture(scope="module")
def server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv.server_address[1]
    srv.shutdown()


def only(tool: str, tmp_path: Path) -> dict:
    """An environment whose PATH has just `tool` and the basics."""
    bin_dir = tmp_path / f"bin-{tool}"
    bin_dir.mkdir(exist_ok=True)
    for name in BASICS + [tool]:
        found = sys.executable if name == "python3" else shutil.which(name)
        if found is None:
            if IN_CI:
                pytest.fail(f"{name} is missing in CI: every probe backend must be tested")
            pytest.skip(f"{name} is not on this machine")
        link = bin_dir / name
        if not link.exists():
            link.symlink_to(found)
    return {"PATH": str(bin_dir), "HOME": "/nonexistent"}


def run_probe(op: RunOp, env: dict, cwd: Path, recheck: int = 0) -> subprocess.CompletedProcess:
    """The probe as a generated file carries it (only the parts the op needs), with its state in `cwd`."""
    script = cwd / "probe.sh"
    script.write_text(scripts.probe(check_kinds(op)))
    env = {**env, "N2C_PROBE_STATE": str(cwd), "N2C_PROBE_RECHECK": str(recheck)}
    return subprocess.run(
        ["sh", str(script), *probe_args(op, "127.0.0.1")], env=env, cwd=cwd, capture_output=True, text=True, timeout=30
    )


def op_with(port, *checks):
    return RunOp(id="a", index=0, group="a", image="x", expose=(Expose(port, health_checks=tuple(checks)),))


def check_http(path, status, method="GET", headers=(), body=None, continuous=True):
    return HttpCheck(path, method, status, tuple(headers), body, continuous)


BACKENDS = ["curl", "wget", "python3", "bash"]


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
