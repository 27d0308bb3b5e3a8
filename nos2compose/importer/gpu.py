"""The four ways a Compose service asks for a GPU -> `args.gpu: true`.

A node gives an op with `gpu: true` all of its GPUs (NVIDIA driver, capability
`gpu`); a job can ask for neither a count, nor device ids, nor GPU memory per op.
Compose has no key for GPU memory either, so `meta.system_requirements.vram_total_mb`
is never derived: the warnings say to add it by hand.
"""

from __future__ import annotations

import re

from ..diagnostics import Diagnostics, Path

ALL_GPUS = "a node gives an op all of its GPUs (a job sets no count or device ids)"
_NVIDIA_DEVICE = re.compile(r"^/dev/nvidia([0-9]+|ctl|-uvm|-uvm-tools|-modeset|-caps.*)?$")


def _count_and_ids(request: dict, path: Path, diags: Diagnostics) -> None:
    count = request.get("count")
    if count not in (None, -1, "all"):
        diags.warning(path + ("count",), f"count {count}: {ALL_GPUS}")
    if request.get("device_ids"):
        ids = ", ".join(str(i) for i in request["device_ids"])
        diags.warning(path + ("device_ids",), f"device_ids {ids}: {ALL_GPUS}")
    if request.get("options"):
        diags.warning(path + ("options",), "driver options: not kept; a node uses its own NVIDIA driver settings")


def is_gpu_request(request: dict) -> bool:
    caps = request.get("capabilities") or []
    flat = [c for group in caps for c in (group if isinstance(group, list) else [group])]
    ids = [str(i) for i in request.get("device_ids") or []]
    return request.get("driver") == "nvidia" or "gpu" in flat or any(i.startswith("nvidia.com/gpu") for i in ids)


def from_reservations(service: str, devices: list, diags: Diagnostics) -> bool:
    """deploy.resources.reservations.devices."""
    gpu = False
    for i, request in enumerate(devices):
        path = ("services", service, "deploy", "resources", "reservations", "devices", i)
        if isinstance(request, dict) and is_gpu_request(request):
            gpu = True
            _count_and_ids(request, path, diags)
            if request.get("driver") not in (None, "nvidia", "cdi"):
                diags.warning(path + ("driver",), f"driver {request['driver']}: a node offers NVIDIA GPUs only")
        else:
            diags.warning(path, "a device request that is not for a GPU: left out; a node offers NVIDIA GPUs only")
    return gpu


def from_gpus(service: str, gpus: list, diags: Diagnostics) -> bool:
    """`gpus: all` (Compose writes [{count: -1}]) or a list of requests."""
    for i, request in enumerate(gpus):
        if isinstance(request, dict):
            _count_and_ids(request, ("services", service, "gpus", i), diags)
    return bool(gpus)


def from_runtime(service: str, runtime: str, diags: Diagnostics) -> bool:
    if runtime == "nvidia":
        return True
    if runtime not in ("runc", ""):
        diags.warning(
            ("services", service, "runtime"),
            f"runtime {runtime}: not kept; a node runs every container with its own runtime",
        )
    return False


def from_devices(service: str, devices: list, diags: Diagnostics) -> bool:
    """CDI device ids nvidia.com/gpu=... and NVIDIA device files mean a GPU; other devices are warned."""
    gpu = False
    for i, device in enumerate(devices):
        source = device.get("source", "") if isinstance(device, dict) else str(device)
        path = ("services", service, "devices", i)
        if source.startswith("nvidia.com/gpu"):
            gpu = True
            if source != "nvidia.com/gpu=all":
                diags.warning(path, f"device {source}: {ALL_GPUS}")
        elif _NVIDIA_DEVICE.match(source):
            gpu = True
            diags.warning(path, f"device {source}: becomes gpu: true; {ALL_GPUS}, through its NVIDIA runtime")
        else:
            diags.warning(path, f"device {source}: left out; a node passes no host devices but its GPUs")
    return gpu
