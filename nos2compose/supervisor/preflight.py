"""What is checked before a group starts, so that a start that cannot work fails at once, naming the cause.

Host ports: Docker refuses a port someone else holds, and the container is then
left created, never running; checked here first, one line naming the port and
the op. Images: a pull that fails is told apart as not found, not reachable or
not authorized, naming the image, from the engine's own words. GPU requirements
(meta.system_requirements): a machine that cannot meet them is one warning line each.
"""

from __future__ import annotations

import errno
import re
import socket


class PortInUse(Exception):
    """A host port the job publishes is taken on 127.0.0.1; the message says which, by which op, and what to do."""


def port_taken(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something already listens on host:port (bound as Docker's proxy would bind it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc.errno in (errno.EADDRINUSE, errno.EACCES)
    return False


def check_ports(ops, ours: set[int]) -> None:
    """Raise PortInUse for the first published host port of `ops` that is taken by anything but this job; the
    advice names a host port that is free now, so it works as printed."""
    wanted = {host for op in ops for host, _ in op.ports} | ours
    for op in ops:
        for host, container in op.ports:
            if host not in ours and port_taken(host):
                spare = free_port(host, wanted)
                raise PortInUse(
                    f"port {host} on 127.0.0.1 is already in use, so op {op.id} cannot publish its port {container} "
                    f"there; free it, or publish it elsewhere: --publish {op.id}:{container}={spare} (free now)"
                )


def free_port(near: int, avoid: set[int]) -> int:
    """A host port free on 127.0.0.1 now, near `near` (10,000 above it, then upwards), that no op asks for."""
    start = near + 10_000 if near + 10_000 <= 65535 else 20_000
    for port in range(start, 65536):
        if port not in avoid and not port_taken(port):
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:  # any: the kernel's choice
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


_NOT_FOUND = re.compile(r"not found|manifest unknown|repository does not exist|No such image|does not exist", re.I)
NO_IMAGE = re.compile(r"No such image|pull access denied|manifest unknown|not found: manifest", re.I)
_NOT_AUTHORIZED = re.compile(r"unauthorized|authentication required|access denied|denied:|forbidden|login", re.I)
_NOT_REACHABLE = re.compile(
    r"no such host|dial tcp|i/o timeout|timeout|connection refused|network is unreachable|TLS handshake|"
    r"server misbehaving|temporary failure|lookup ",
    re.I,
)


def pull_problem(image: str, said: str) -> str:
    """One line on a failed pull: which image, which kind of failure, and what to do, with the engine's words."""
    if _NOT_AUTHORIZED.search(said) and not _NOT_REACHABLE.search(said):
        kind, hint = "not authorized", "log in to its registry (`docker login`), or check the name and tag"
    elif _NOT_FOUND.search(said) and not _NOT_REACHABLE.search(said):
        kind, hint = "not found", "check the name and tag, or build it here (`docker images` lists the local ones)"
    elif _NOT_REACHABLE.search(said):
        kind, hint = "registry not reachable", "check the network, or build or load the image here (`docker images`)"
    else:
        kind, hint = "could not be pulled", "see the engine's words"
    return f"image {image}: {kind} ({said.strip()}); {hint}"


def vram_wanted(wants: dict) -> tuple[int, str] | None:
    """(MiB, the key that says so) from meta.system_requirements: vram_total_mb (MiB), else the older required_vram
    (GiB); None when neither is a positive number."""
    for key, factor in (("vram_total_mb", 1), ("required_vram", 1024)):
        value = wants.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            return int(value * factor), key
    return None


def cuda_wanted(wants: dict) -> list[str]:
    """The CUDA versions meta.system_requirements.required_cuda lists (any of them will do)."""
    listed = wants.get("required_cuda")
    listed = listed if isinstance(listed, list) else [listed] if isinstance(listed, (str, int, float)) else []
    return [str(v) for v in listed if _version(str(v))]


def gpu_requirements(wants: dict, memory_mib: list[int] | None, cuda: str | None) -> list[str]:
    """One warning line for each of meta.system_requirements this machine cannot meet, as nvidia-smi tells it:
    GPU memory against the total of its GPUs (an op with gpu gets all of them), and required_cuda against the
    CUDA version its driver supports (a driver older than every version listed). Nothing when it cannot tell."""
    lines = []
    vram = vram_wanted(wants)
    if vram is not None and memory_mib and sum(memory_mib) < vram[0]:
        gpus = f"{len(memory_mib)} GPUs have {sum(memory_mib)} MiB in all" if len(memory_mib) > 1 else ""
        lines.append(
            f"warning: the job asks for {vram[0]} MiB of GPU memory (meta.system_requirements.{vram[1]}); "
            f"{gpus or f'the GPU here has {memory_mib[0]} MiB'}, so the model may not fit"
        )
    listed = cuda_wanted(wants)
    have = _version(cuda or "")
    if listed and have and all(have < _version(v) for v in listed):
        lines.append(
            f"warning: the job asks for CUDA {' or '.join(listed)} (meta.system_requirements.required_cuda); "
            f"the NVIDIA driver here supports CUDA {cuda} (nvidia-smi), so its images may not start: update the driver"
        )
    return lines


def _version(text: str) -> tuple[int, ...]:
    """12.8 -> (12, 8, 0), so that 12 and 12.0 compare equal; () when it is not a dotted version."""
    if not re.fullmatch(r"[0-9]+(?:\.[0-9]+){0,2}", text.strip()):
        return ()
    return (*(int(part) for part in text.strip().split(".")), 0, 0)[:3]


_CONFLICT = re.compile(r"is already in use|Conflict\.", re.I)


# the runtime's words for a start the engine refuses as the container's own fault (moby's translateContainerdStartErr:
# a missing or unrunnable program, a mount onto the wrong kind of path): an invalid parameter, HTTP 400
_BAD_START = re.compile(
    r"(OCI runtime|failed to create shim task).*(executable file not found|no such file or directory|"
    r"permission denied|not a directory)",
    re.I,
)


def engine_status(said: str) -> int | None:
    """The HTTP status the engine's API answers for the failure its words describe (what the node reads from
    dockerode's "(HTTP code N)"): 400 for a container whose program cannot start, 404 for an image or repository
    it does not find, 401 for a registry that wants a login, 409 for a name in use, 500 for any other answer of
    the engine; None when the engine did not answer."""
    if _BAD_START.search(said):
        return 400
    if _NOT_FOUND.search(said) and not _NOT_REACHABLE.search(said):
        return 404
    if re.search(r"unauthorized|authentication required", said, re.I):
        return 401
    if _CONFLICT.search(said):
        return 409
    if re.search(r"Error response from daemon|daemon", said, re.I):
        return 500
    return None
