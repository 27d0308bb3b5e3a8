"""What this machine says of its GPUs (nvidia-smi): for up's pre-flight and the node API's /node/info."""

from __future__ import annotations

import shutil

from . import process

_EMPTY = {"devices": [], "runtime_version": 0, "cuda_driver_version": 0, "nvml_driver_version": "0.0.0"}


def _query(fields: str) -> list[list[str]] | None:
    """nvidia-smi's CSV rows for `fields`, or None when it is missing or fails."""
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        proc = process.run(["nvidia-smi", f"--query-gpu={fields}", "--format=csv,noheader,nounits"], timeout=10)
    except (OSError, process.TimedOut):
        return None
    if proc.returncode != 0:
        return None
    return [[cell.strip() for cell in line.split(",")] for line in proc.stdout.splitlines() if line.strip()]


def gpu_memory_mib() -> list[int] | None:
    """Total memory of each GPU as nvidia-smi reports it, or None when it cannot tell."""
    rows = _query("memory.total")
    try:
        return None if rows is None else [int(float(row[0])) for row in rows]
    except (ValueError, IndexError):
        return None


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
