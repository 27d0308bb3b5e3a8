"""The container a production Nosana node gives every op, as Compose keys.

Nosana's hosts run the node's Podman provider (createPodmanRunOptions.ts in the node snapshot): each op's
container gets a 4 GiB /dev/shm, a private IPC namespace, the NET_ADMIN capability (and Podman's default
capabilities, without Docker's AUDIT_WRITE, MKNOD and NET_RAW), the /dev/net/tun device, host.docker.internal and
host.containers.internal at 8.8.8.8 (so a job cannot reach its host), and TERM=xterm and container=podman in
its environment (Podman's own). A file
declares these once, as the top-level block contract.NODE_BLOCK, and each op's service merges it
(`<<: *nosana-node`); nos2compose's own helpers (probe sidecars, fetchers) do not: like the node's tunnel and
probe containers, they are machinery, not the job. docs/fidelity.md says why each is there.

The importer reads Compose's normalized form of these keys back (`beyond_node`): what a node gives
anyway is not the user's, and is dropped without a warning.
"""

from __future__ import annotations

from typing import Any

from . import contract as c
from .yaml_text import Anchor

SHM_BYTES = 4 << 30  # the node's shm_size: 4294967296
TUN = "/dev/net/tun"
CAPABILITY = "NET_ADMIN"
HOST_NAMES = ("host.docker.internal", "host.containers.internal")
NOT_THE_HOST = "8.8.8.8"  # where the node points HOST_NAMES: anywhere but the host

# Docker's default capabilities that Podman's default set (containers.conf default_capabilities) lacks: a job
# that pings (NET_RAW) or makes device nodes (MKNOD) fails on a node, so it fails here too.
NOT_IN_PODMAN = ("AUDIT_WRITE", "MKNOD", "NET_RAW")
# What Podman puts in every container's environment (containers.conf `env`, and `container` itself); a job's
# own env wins, on a node as here.
ENVIRONMENT = {"TERM": "xterm", "container": "podman"}

KEYS = {
    "shm_size": "4gb",  # Compose reads it as 4 GiB, the node's 4294967296 bytes
    "ipc": "private",
    "cap_add": [CAPABILITY],
    "cap_drop": list(NOT_IN_PODMAN),
    "devices": [TUN],
    "extra_hosts": [f"{name}:{NOT_THE_HOST}" for name in HOST_NAMES],
}


def block() -> Anchor:
    """The file's one declaration of the node's container, which each op's service merges; its environment is
    an anchor of its own, which each op's environment merges (a service's own `environment` replaces the
    block's whole)."""
    keys = {k: list(v) if isinstance(v, list) else v for k, v in KEYS.items()}
    return Anchor(c.NODE_ANCHOR, {**keys, "environment": environment()})


def environment() -> Anchor:
    return Anchor(c.NODE_ENV_ANCHOR, dict(ENVIRONMENT))


def device_source(device: Any) -> str:
    """The host's device file of a `devices` entry, short (`/dev/net/tun[:/dev/net/tun[:rwm]]`) or long syntax."""
    return str(device.get("source") if isinstance(device, dict) else str(device).split(":")[0])


def beyond_node(key: str, value: Any) -> Any:
    """What of a service's Compose value (as `docker compose config` normalizes it) a node would not give
    anyway: None when the node gives all of it, else the rest (a list keeps its other items)."""
    if key == "shm_size":
        try:
            return None if int(value) == SHM_BYTES else value
        except (TypeError, ValueError):
            return value
    if key == "ipc":
        return None if value == "private" else value
    if key == "cap_add" and isinstance(value, list):
        return [cap for cap in value if str(cap).upper().removeprefix("CAP_") != CAPABILITY]
    if key == "cap_drop" and isinstance(value, list):
        return [cap for cap in value if str(cap).upper().removeprefix("CAP_") not in NOT_IN_PODMAN]
    if key == "environment" and isinstance(value, dict):
        return {k: v for k, v in value.items() if ENVIRONMENT.get(k, object()) != v}
    if key == "devices" and isinstance(value, list):
        return [device for device in value if device_source(device) != TUN]
    if key == "extra_hosts" and isinstance(value, list):
        return [entry for entry in value if _host_entry(entry) not in {(n, NOT_THE_HOST) for n in HOST_NAMES}]
    return value


def _host_entry(entry: Any) -> tuple[str, str]:
    """("name", "address") of an extra_hosts entry: Compose prints `name=address`, people write `name:address`."""
    text = str(entry)
    name, _, address = text.partition("=") if "=" in text else text.partition(":")
    return name.strip(), address.strip().strip("[]")
