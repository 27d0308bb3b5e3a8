"""authentication.docker: `up` logs in to a private registry for the pull, and the password never shows.

The registry is Debian's docker-registry (the Docker distribution registry) with htpasswd auth,
on 127.0.0.1, holding a locally built test image; nothing leaves the machine.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import uuid

import pytest
from helpers import CLI, IN_CI, docker, run_cli

pytestmark = pytest.mark.e2e

USER, PASSWORD = "n2c-user", "s3cret-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def registry(engine, tmp_path_factory):
    binary, htpasswd = shutil.which("docker-registry"), shutil.which("htpasswd")
    if not (binary and htpasswd):
        if IN_CI:
            pytest.fail("docker-registry and htpasswd are required in CI (.ci/run installs them)")
        pytest.skip("docker-registry or htpasswd is missing (apt-get install docker-registry apache2-utils)")
    root = tmp_path_factory.mktemp("registry")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (root / "htpasswd").write_text(
        subprocess.run([htpasswd, "-Bbn", USER, PASSWORD], capture_output=True, text=True, check=True).stdout
    )
    (root / "config.yml").write_text(
        f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {root}/data\nhttp:\n  addr: 127.0.0.1:{port}\n"
        f"auth:\n  htpasswd:\n    realm: n2c\n    path: {root}/htpasswd\n"
    )
    proc = subprocess.Popen(
        [binary, "serve", str(root / "config.yml")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    server = f"127.0.0.1:{port}"
    image = f"{server}/n2c/busybox:{uuid.uuid4().hex[:8]}"
    try:
        deadline = time.monotonic() + 20
        while docker("login", server, "-u", USER, "--password-stdin", input=PASSWORD).returncode != 0:
            assert time.monotonic() < deadline, "the test registry did not come up"
            time.sleep(0.3)
        docker("tag", "nos2compose-test/busybox:1", image)
        assert docker("push", image).returncode == 0
        docker("rmi", image)
        docker("logout", server)
        yield server, image
    finally:
        docker("logout", server)
        docker("rmi", image)
        proc.terminate()
        proc.wait(timeout=10)


def test_up_logs_in_for_the_pull_and_never_shows_the_password(registry, tmp_path):
    server, image = registry
    name = f"n2c-reg-{uuid.uuid4().hex[:8]}"
    job = {
        "version": "0.1",
        "type": "container",
        "ops": [
            {
                "type": "container/run",
                "id": "private",
                "args": {
                    "image": image,
                    "cmd": "echo pulled and ran",
                    "authentication": {"docker": {"username": USER, "password": PASSWORD, "server": server}},
                },
            }
        ],
    }
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(job))
    try:
        converted = run_cli("convert", str(path))
        grouped = run_cli("convert", str(path), "-o", str(tmp_path / "out"))
        assert converted.exit_code == grouped.exit_code == 0
        written = converted.stdout + "".join(p.read_text() for p in (tmp_path / "out").iterdir())
        assert PASSWORD not in written + converted.stderr + grouped.stderr
        up = subprocess.run(CLI + ["up", str(path), "-d"], capture_output=True, text=True, timeout=180)
        assert up.returncode == 0, up.stdout + up.stderr
        assert f"private: logged in to {server} as {USER}" in up.stdout
        assert "private: completed" in up.stdout
        assert PASSWORD not in up.stdout + up.stderr
        ps = subprocess.run(CLI + ["ps", str(path), "--json"], capture_output=True, text=True, timeout=60)
        assert PASSWORD not in ps.stdout + ps.stderr
    finally:
        docker("compose", "-p", name, "down", "-t", "1")
        docker("rmi", image)
        docker("logout", server)


def test_a_wrong_password_fails_the_op_without_showing_it(registry, tmp_path):
    server, image = registry
    name = f"n2c-reg-{uuid.uuid4().hex[:8]}"
    wrong = "not-the-password-" + uuid.uuid4().hex
    job = {
        "version": "0.1",
        "type": "container",
        "ops": [
            {
                "type": "container/run",
                "id": "private",
                "args": {
                    "image": image,
                    "authentication": {"docker": {"username": USER, "password": wrong, "server": server}},
                },
            }
        ],
    }
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(job))
    try:
        up = subprocess.run(CLI + ["up", str(path), "-d"], capture_output=True, text=True, timeout=180)
        assert up.returncode == 1
        assert f"private: failed (docker login to {server} as {USER} failed)" in up.stdout
        assert wrong not in up.stdout + up.stderr
    finally:
        docker("compose", "-p", name, "down", "-t", "1")
