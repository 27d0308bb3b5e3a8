"""Pieces of the `up` use case that need no engine: the pre-flight's lines about the machine (GPU memory and
CUDA from nvidia-smi's own output text, /dev/net/tun) and the override that runs the ops without a device."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import yaml
from fake_engine import FakeEngine

from nos2compose.compiler import Options, compile_job
from nos2compose.engine.host import missing_devices, parse_cuda_version, parse_memory_mib
from nos2compose.supervisor.loop import UpOptions
from nos2compose.supervisor.preflight import gpu_requirements
from nos2compose.supervisor.session import open_compiled
from nos2compose.supervisor.up import _gpu_requirements, run_up

# nvidia-smi's table header, as a 535 driver prints it (the CUDA version is the newest its driver supports)
SMI_TABLE = """Mon Dec  4 10:00:00 2023
+---------------------------------------------------------------------------------------+
| NVIDIA-SMI 535.104.05             Driver Version: 535.104.05   CUDA Version: 12.2     |
|-----------------------------------------+----------------------+----------------------+
| GPU  Name                 Persistence-M | Bus-Id        Disp.A | Volatile Uncorr. ECC |
|=========================================+======================+======================|
|   0  NVIDIA A10G                    On  | 00000000:00:1E.0 Off |                    0 |
|  0%   27C    P8               9W / 300W |      4MiB / 23028MiB |      0%      Default |
+-----------------------------------------+----------------------+----------------------+
"""
SMI_Q = "==============NVSMI LOG==============\n\nDriver Version                            : 570.86.15\nCUDA Version                              : 12.8\n"


def test_the_cuda_version_is_read_from_nvidia_smis_header_in_either_form():
    assert parse_cuda_version(SMI_TABLE) == "12.2"
    assert parse_cuda_version(SMI_Q) == "12.8"
    assert parse_cuda_version("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.") is None


def test_gpu_memory_is_read_from_the_csv_query_with_or_without_units():
    assert parse_memory_mib("23028\n") == [23028]
    assert parse_memory_mib("81920 MiB\n81920 MiB\n") == [81920, 81920]
    assert parse_memory_mib("[N/A]\n") is None


@pytest.mark.parametrize(
    ("wants", "memory", "cuda", "said"),
    [
        ({"vram_total_mb": 17408}, [23028], "12.2", []),  # fits
        ({"required_vram": 6}, [8192], None, []),  # the older key, in GiB: 6144 MiB fits in 8192
        ({"required_vram": 12}, [8192], None, ["asks for 12288 MiB of GPU memory (meta.system_requirements."]),
        ({"vram_total_mb": 68608}, [23028], None, ["asks for 68608 MiB", "the GPU here has 23028 MiB"]),
        ({"vram_total_mb": 40960}, [24576, 24576], None, []),  # an op with gpu gets every GPU: 48 GiB in all
        ({"vram_total_mb": 68608}, [24576, 24576], None, ["2 GPUs have 49152 MiB in all"]),
        ({"vram_total_mb": 68608, "required_vram": 1}, [23028], None, ["system_requirements.vram_total_mb)"]),
        ({"vram_total_mb": 68608}, None, None, []),  # nvidia-smi could not tell: nothing to say
        ({"required_cuda": ["12.8", "12.9"]}, None, "12.2", ["asks for CUDA 12.8 or 12.9", "supports CUDA 12.2"]),
        ({"required_cuda": ["12.8", "12.9"]}, None, "12.8", []),  # one of them is met
        ({"required_cuda": ["12.8", "12.9"]}, None, "13.0", []),  # a newer driver runs older CUDA
        ({"required_cuda": ["12.0"]}, None, "12", []),  # 12 is 12.0
        ({"required_cuda": ["11.8", "12.4"]}, None, "12.2", []),  # below one, not below every one
        ({"required_cuda": ["12.8"]}, None, None, []),  # no driver version: nothing to say
        ({"required_cuda": ["latest", 12.8]}, None, "12.2", ["asks for CUDA 12.8 ("]),  # a number; not a version
    ],
)
def test_gpu_requirements_are_compared_with_what_nvidia_smi_reports(wants, memory, cuda, said):
    lines = gpu_requirements(wants, memory, cuda)
    assert len(lines) == (1 if said else 0), lines
    for fragment in said:
        assert fragment in lines[0]
    assert all(line.startswith("warning: ") and "\n" not in line for line in lines)


def test_both_requirements_unmet_are_two_lines():
    lines = gpu_requirements({"vram_total_mb": 68608, "required_cuda": ["12.8"]}, [23028], "12.2")
    assert [line.split(" (meta")[0] for line in lines] == [
        "warning: the job asks for 68608 MiB of GPU memory",
        "warning: the job asks for CUDA 12.8",
    ]


def test_nvidia_smi_is_asked_only_for_what_the_job_wants(tmp_path, monkeypatch):
    calls = tmp_path / "calls"
    fake = tmp_path / "nvidia-smi"
    fake.write_text(
        f'#!/bin/sh\necho "$*" >> {calls}\n'
        'case "$1" in --query-gpu=*) echo 8192 ;; *) echo "| NVIDIA-SMI 535   CUDA Version: 12.2 |" ;; esac\n'
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    assert _gpu_requirements({"system_requirements": {"required_vram": 6}}) == []  # 6 GiB fits in 8 GiB
    lines = _gpu_requirements({"system_requirements": {"vram_total_mb": 68608, "required_cuda": ["12.8"]}})
    assert len(lines) == 2 and "has 8192 MiB" in lines[0] and "supports CUDA 12.2" in lines[1]
    assert _gpu_requirements({"trigger": "cli"}) == []
    assert calls.read_text().splitlines() == [
        "--query-gpu=memory.total --format=csv,noheader,nounits",
        "--query-gpu=memory.total --format=csv,noheader,nounits",
        "",
    ]


def test_a_device_is_missing_only_when_the_engine_runs_on_this_machine(tmp_path, monkeypatch):
    monkeypatch.setattr("sys.platform", "linux")
    here, there = tmp_path / "tun", tmp_path / "gone"
    here.write_text("")
    assert missing_devices([str(here), str(there)], socket.gethostname()) == [str(there)]
    assert missing_devices([str(there)], "docker-desktop") == []  # Docker Desktop's VM, a remote engine: unknown
    monkeypatch.setattr("sys.platform", "darwin")
    assert missing_devices([str(there)], socket.gethostname()) == []


JOB = {
    "version": "0.1",
    "type": "container",
    "ops": [
        {"type": "container/run", "id": "task", "args": {"image": "busybox", "cmd": "true"}},
        {"type": "container/run", "id": "gpu", "args": {"image": "busybox", "gpu": True}},
    ],
}


def _up(tmp_path: Path, engine: FakeEngine, no_gpu: bool = False) -> tuple[int, list[str]]:
    result = compile_job(JOB, Options(name="p"))
    opened = open_compiled(result, tmp_path, None)
    engine.groups = {op.service: group.file.stem for group in opened.plan.groups for op in group.ops}
    warnings: list[str] = []
    status = run_up(
        opened, engine, UpOptions(detach=True, workdir=str(tmp_path)), lambda _: None, warnings.append, no_gpu
    )
    return status, warnings


def test_without_dev_net_tun_up_says_so_in_one_line_and_runs_the_ops_without_it(tmp_path):
    engine = FakeEngine({"task": [(0, "exited", "", 0)], "gpu": [(0, "exited", "", 0)]}, no_devices=["/dev/net/tun"])
    status, warnings = _up(tmp_path, engine, no_gpu=True)
    assert status == 0
    assert warnings == [
        "warning: this machine has no /dev/net/tun, which a Nosana node gives every op: the ops run without it"
    ]
    group_file = tmp_path / "00-task.yaml"
    assert "- /dev/net/tun" in group_file.read_text()  # the group file is never edited
    override = tmp_path / "no-devices-000.yaml"
    assert yaml.safe_load(override.read_text().replace("!override ", "")) == {"services": {"task": {"devices": []}}}
    assert [str(group_file), str(override)] in engine.files
    assert [
        str(tmp_path / "01-gpu.yaml"),
        str(tmp_path / "no-gpu-001.yaml"),
        str(tmp_path / "no-devices-001.yaml"),
    ] in (engine.files)


def test_with_dev_net_tun_there_is_no_line_and_no_override(tmp_path):
    engine = FakeEngine({"task": [(0, "exited", "", 0)], "gpu": [(0, "exited", "", 0)]})
    status, warnings = _up(tmp_path, engine, no_gpu=True)
    assert (status, warnings) == (0, [])
    assert not list(tmp_path.glob("no-devices-*"))
    assert [str(tmp_path / "00-task.yaml")] in engine.files


@pytest.mark.compose
def test_compose_reads_the_group_file_with_the_override_as_the_node_block_without_the_device(tmp_path, compose):
    import json
    import subprocess

    engine = FakeEngine({"task": [(0, "exited", "", 0)], "gpu": [(0, "exited", "", 0)]}, no_devices=["/dev/net/tun"])
    _up(tmp_path, engine, no_gpu=True)
    files = ["-f", str(tmp_path / "00-task.yaml"), "-f", str(tmp_path / "no-devices-000.yaml")]
    proc = subprocess.run([*compose, *files, "config", "--format", "json"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    task = json.loads(proc.stdout)["services"]["task"]
    assert "devices" not in task or task["devices"] == []
    assert (task["cap_add"], task["ipc"], task["shm_size"]) == (["NET_ADMIN"], "private", "4294967296")
