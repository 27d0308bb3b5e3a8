"""What this machine offers a container: its GPUs (nvidia-smi), for up's pre-flight and the node API's /node/info,
and the device files a node gives every op (/dev/net/tun)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import sys

from . import process

_CUDA = re.compile(r"CUDA Version\s*:\s*([0-9]+(?:\.[0-9]+)*)")

_EMPTY = {"devices": [], "runtime_version": 0, "cuda_driver_version": 0, "nvml_driver_version": "0.0.0"}


def _smi(args: list[str]) -> str | None:
    """nvidia-smi's standard output for `args`, or None when it is missing or fails."""
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        proc = process.run(["nvidia-smi", *args], timeout=10)
    except (OSError, process.TimedOut):
        return None
    return proc.stdout if proc.returncode == 0 else None


def _query(fields: str) -> list[list[str]] | None:
    """nvidia-smi's CSV rows for `fields`, or None when it is missing or fails."""
    text = _smi([f"--query-gpu={fields}", "--format=csv,noheader,nounits"])
    if text is None:
        return None
    return [[cell.strip() for cell in line.split(",")] for line in text.splitlines() if line.strip()]


def gpu_memory_mib() -> list[int] | None:
    """Total memory of each GPU as nvidia-smi reports it, or None when it cannot tell."""
    text = _smi(["--query-gpu=memory.total", "--format=csv,noheader,nounits"])
    return None if text is None else parse_memory_mib(text)


def parse_memory_mib(text: str) -> list[int] | None:
    """Each GPU's total memory in MiB from `nvidia-smi --query-gpu=memory.total --format=csv,noheader[,nounits]`
    (one line per GPU: `81920` or `81920 MiB`), or None when a line is not a number."""
    try:
        return [int(float(line.split()[0])) for line in text.splitlines() if line.strip()]
    except (ValueError, IndexError):
        return None


def cuda_version() -> str | None:
    """The CUDA version the driver supports, as `nvidia-smi` prints it in its header, or None."""
    text = _smi([])
    return None if text is None else parse_cuda_version(text)


def parse_cuda_version(text: str) -> str | None:
    """`CUDA Version: 12.2` from nvidia-smi's table header (or `CUDA Version : 12.2` from `nvidia-smi -q`)."""
    found = _CUDA.search(text or "")
    return found.group(1) if found else None


def missing_devices(devices: list[str], engine_host: str) -> list[str]:
    """The device files of `devices` the engine's machine lacks, when that machine is this one (a Linux engine
    whose name is this host's name); [] when the engine runs elsewhere (Docker Desktop's VM, a remote
    DOCKER_HOST), which cannot be told from here."""
    if sys.platform != "linux" or engine_host != socket.gethostname():
        return []
    return [device for device in devices if not os.path.exists(device)]


def gpu_info() -> dict:
    """The node's `gpus` (its CUDA check) from nvidia-smi: devices with index, name, uuid, memory, architecture."""
    rows = _query("index,name,uuid,memory.total,driver_version,compute_cap")
    devices, driver = [], "0.0.0"
    for cells in rows or ():
        if len(cells) != 6:
            continue
        index, name, uuid, memory, driver, cap = cells
        major, _, minor = cap.partition(".")
        try:
            devices.append(
                {
                    "index": int(index),
                    "name": name,
                    "uuid": uuid,
                    "memory": {"total_mb": int(float(memory))},
                    "network_architecture": {"major": int(major), "minor": int(minor or 0)},
                }
            )
        except ValueError:
            continue
    return {**_EMPTY, "devices": devices, "nvml_driver_version": driver if devices else "0.0.0"}
