"""What an op's container sees under `nos2compose up` on a real engine: the container a production Nosana node
(its Podman provider) gives every op, and restart_policy as that provider passes it on.

Local busybox images only; nothing is pulled, nothing but the engine is contacted.
"""

from __future__ import annotations

import json
import re
import uuid

import pytest
from helpers import docker, nos2compose

pytestmark = pytest.mark.e2e

IMAGE = "nos2compose-test/busybox:1"
CAP_NET_ADMIN = 12  # its bit in CapEff (linux/capability.h)
LOOK = (
    "echo shm; df -k /dev/shm; grep CapEff /proc/self/status; ls -l /dev/net/tun; "
    "echo hosts; grep host /etc/hosts; echo ipc $(readlink /proc/self/ns/ipc)"
)


@pytest.fixture
def job(engine, tmp_path):
    """Writes a job file named after a unique project; tears the project down afterwards."""
    name = f"n2c-node-{uuid.uuid4().hex[:8]}"
    path = tmp_path / f"{name}.json"

    def write(*ops):
        path.write_text(json.dumps({"version": "0.1", "type": "container", "ops": list(ops)}))
        return str(path)

    write.name = name
    yield write
    docker("compose", "-p", name, "down", "-v", "--remove-orphans", "-t", "1")


def op(op_id: str, cmd: str, **args) -> dict:
    return {
        "type": "container/run",
        "id": op_id,
        "args": {"image": IMAGE, "cmd": cmd, **args},
        "execution": {"group": "g"},
    }


def _log(path: str, op_id: str) -> str:
    result = nos2compose("logs", path, op_id)
    assert result.returncode == 0, result.stderr
    return "\n".join(line.split(" | ", 1)[1] for line in result.stdout.splitlines() if " | " in line)


def test_each_op_gets_the_nodes_shm_capability_device_hosts_and_a_private_ipc_namespace(job):
    path = job(op("look", LOOK), op("other", "echo ipc $(readlink /proc/self/ns/ipc)"))
    result = nos2compose("up", path, "-d", "--pull", "never")
    assert result.returncode == 0, result.stdout + result.stderr
    seen = _log(path, "look")

    shm = next(line.split() for line in seen.splitlines() if line.rstrip().endswith("/dev/shm"))
    assert int(shm[1]) == 4 * 1024 * 1024, seen  # 1K-blocks: 4 GiB, as the node's shm_size 4294967296

    cap_eff = int(re.search(r"CapEff:\s*([0-9a-f]+)", seen).group(1), 16)
    assert cap_eff >> CAP_NET_ADMIN & 1, seen

    tun_missing = "this machine has no /dev/net/tun" in result.stderr
    assert tun_missing or re.search(r"^c[rw-]{9}.* 10, +200 .*/dev/net/tun$", seen, re.M), seen + result.stderr

    hosts = {tuple(line.split()[:2]) for line in seen.split("hosts\n", 1)[1].splitlines() if line and line[0].isdigit()}
    assert ("8.8.8.8", "host.docker.internal") in hosts and ("8.8.8.8", "host.containers.internal") in hosts, seen

    mine = re.search(r"^ipc (ipc:\[\d+\])$", seen, re.M).group(1)
    theirs = re.search(r"^ipc (ipc:\[\d+\])$", _log(path, "other"), re.M).group(1)
    host = docker("run", "--rm", "--ipc", "host", "--pull", "never", IMAGE, "readlink", "/proc/self/ns/ipc").stdout
    assert mine != theirs and mine != host.strip(), (mine, theirs, host)
    mode = docker("inspect", "-f", "{{.HostConfig.IpcMode}}", f"{job.name}-look-1").stdout.strip()
    assert mode == "private"


def test_on_failure_with_two_tries_restarts_a_failing_op_twice(job):
    path = job(op("flaky", "echo try; exit 1", restart_policy={"policy": "on-failure", "restart_tries": 2}))
    result = nos2compose("up", path, "-d", "--pull", "never", "--timeout", "60")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "g  flaky: failed (exit code 1)" in result.stdout
    container = f"{job.name}-flaky-1"
    inspect = json.loads(docker("inspect", container).stdout)[0]
    assert inspect["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}
    assert (inspect["RestartCount"], inspect["State"]["Status"], inspect["State"]["ExitCode"]) == (2, "exited", 1)
    assert _log(path, "flaky").split() == ["try", "try", "try"]  # the first run and two restarts


def test_always_is_passed_on_as_unless_stopped(job):
    path = job(op("keeps", "sleep 30", restart_policy="always"))
    result = nos2compose("up", path, "-d", "--pull", "never")
    assert result.returncode == 0, result.stdout + result.stderr
    policy = docker("inspect", "-f", "{{.HostConfig.RestartPolicy.Name}}", f"{job.name}-keeps-1").stdout.strip()
    assert policy == "unless-stopped"
