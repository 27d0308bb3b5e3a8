"""The machine behind /node/info and /node/validate: this host's CPU, memory, disk and GPUs, the SDK's
expose ids, and validation errors in the node's shape."""

from __future__ import annotations

import hashlib
import os
import platform
import re
import shutil

from ..engine import host

_MISSING = re.compile(r"^missing (?:required key )?'([^']+)'")
_ABSENT = object()


def validation_errors(data) -> list[dict]:
    """nos2compose's strict check of a posted job definition, as the node's validator (typia) reports:
    [{path: "$input…", expected, value}]; [] when it is valid. `expected` carries nos2compose's message."""
    from ..compiler import Options, compile_job
    from ..diagnostics import format_path

    result = compile_job(data, Options(name="job", strict=True, to_run=False))
    out = []
    for d in result.diagnostics.errors:
        path = tuple(d.path)
        missing = _MISSING.match(d.message)
        if missing:
            path += (missing.group(1),)
        error = {"path": "$input" + format_path(path)[1:], "expected": d.message}
        value = _at(data, path)
        if value is not _ABSENT:
            error["value"] = value
        out.append(error)
    if not out and not result.ok:
        out.append({"path": "$input", "expected": "a job definition", "value": data})
    return out


def _at(data, path: tuple):
    for part in path:
        if isinstance(part, int) and isinstance(data, list) and 0 <= part < len(data):
            data = data[part]
        elif isinstance(part, str) and isinstance(data, dict) and part in data:
            data = data[part]
        else:
            return _ABSENT
    return data


# -- the node's ids and this machine ---------------------------------------------------------

_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def base58(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, digit = divmod(number, 58)
        out = _BASE58[digit] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def expose_id(flow_id: str, op_index: int, port) -> str:
    """The node's id of an exposed port (@nosana/sdk getExposeIdHash): base58(sha512("index:port:flow"))[:44]."""
    return base58(hashlib.sha512(f"{op_index}:{port}:{flow_id}".encode()).digest())[:44]


def machine_info() -> dict:
    """The node's `info` (its specs benchmark, network address left out) with what this machine says."""
    try:
        from importlib.metadata import version

        ours = version("nos2compose")
    except Exception:  # not installed as a distribution
        ours = "unknown"
    logical = os.cpu_count() or 0
    model, cores = "", set()
    try:
        physical = ""
        for line in open("/proc/cpuinfo", encoding="utf-8", errors="replace"):
            key, _, value = line.partition(":")
            key, value = key.strip(), value.strip()
            if key == "model name" and not model:
                model = value
            elif key == "physical id":
                physical = value
            elif key == "core id":
                cores.add((physical, value))
    except OSError:
        pass
    try:
        ram_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1 << 20)
    except (ValueError, OSError, AttributeError):
        ram_mb = 0
    disk_gb = 0
    for where in ("/var/lib/docker", "/"):
        try:
            disk_gb = shutil.disk_usage(where).free // (1 << 30)
            break
        except OSError:
            continue
    return {
        "version": ours,
        "country": "",
        "network": {"ping_ms": 0, "download_mbps": 0, "upload_mbps": 0},
        "system_environment": platform.platform(),
        "cpu": {
            "model": model or platform.processor(),
            "physical_cores": len(cores) or logical,
            "logical_cores": logical,
        },
        "disk_gb": disk_gb,
        "ram_mb": ram_mb,
        "gpus": host.gpu_info(),
        "protocol": _protocol(os.environ.get("DOCKER_HOST", "")),
    }


def _protocol(docker_host: str) -> str:
    """How the engine is reached, in the node's words (socket, http, https, ssh)."""
    if docker_host.startswith("ssh://"):
        return "ssh"
    if docker_host.startswith(("tcp://", "http://", "https://")):
        return "https" if os.environ.get("DOCKER_TLS_VERIFY") or docker_host.startswith("https://") else "http"
    return "socket"
