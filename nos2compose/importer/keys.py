"""What `import` does with every key of a Compose service and of a Compose project.

Every key is one of:
- HANDLED: turned into part of the job (the note says which);
- WARNED: left out, and a warning says what a Nosana node does instead;
- IGNORED: irrelevant on a node; left out with a warning that says so;
- COMPOSE: consumed by Compose itself before the importer sees the project.
A key in none of these tables is left out with an "unknown key" warning: nothing is dropped silently.
A WARNED or IGNORED key whose value is the default (false, empty), or what a node gives every op anyway
(compose/node_defaults.py: 4 GiB /dev/shm, private IPC, NET_ADMIN, /dev/net/tun, host.docker.internal
at 8.8.8.8), is accepted silently.
docs/import.md is this table in prose; tests check that they agree.
"""

from __future__ import annotations

from enum import Enum


class Handling(str, Enum):
    HANDLED = "handled"
    WARNED = "warned"
    IGNORED = "ignored"
    COMPOSE = "compose"


H, W, IGN, C = Handling.HANDLED, Handling.WARNED, Handling.IGNORED, Handling.COMPOSE

_NO_CPU = "a node sets no CPU limits: the op may use all of the node's CPUs"
_NO_MEM = "a node sets no memory limit, and a job has no field for RAM"
_HOOKS = "a node runs no lifecycle hooks: run these commands from the entrypoint or cmd instead"
_NODE_NET = "a node attaches every op to its own network and chooses its DNS; ops reach each other by alias"

SERVICE_KEYS: dict[str, tuple[Handling, str]] = {
    "annotations": (IGN, "a node sets no container annotations"),
    "attach": (IGN, "a node keeps the logs of every op"),
    "blkio_config": (W, "a node sets no block I/O limits"),
    "build": (H, "not built: an op needs `image:`; a service with only `build:` is left out"),
    "cap_add": (W, "a node adds NET_ADMIN and no other capability"),
    "cap_drop": (W, "a node runs the container with the engine's default capabilities"),
    "cgroup": (W, "a node chooses the cgroup namespace"),
    "cgroup_parent": (W, "a node chooses the parent cgroup"),
    "command": (H, "args.cmd (Compose's list, as is)"),
    "configs": (W, "a node has no Compose configs: bake the file into the image or pass its content in env"),
    "container_name": (H, "an entry of args.aliases, so the name still resolves on the job's network"),
    "cpu_count": (W, _NO_CPU),
    "cpu_percent": (W, _NO_CPU),
    "cpu_period": (W, _NO_CPU),
    "cpu_quota": (W, _NO_CPU),
    "cpu_rt_period": (W, _NO_CPU),
    "cpu_rt_runtime": (W, _NO_CPU),
    "cpu_shares": (W, _NO_CPU),
    "cpus": (W, _NO_CPU),
    "cpuset": (W, _NO_CPU),
    "credential_spec": (IGN, "Windows containers only"),
    "depends_on": (H, "execution.depends_on in the same group, or an earlier group (service_completed_successfully)"),
    "deploy": (H, "resources.reservations.devices (GPU), replicas and restart_policy; the rest is warned"),
    "develop": (IGN, "`docker compose watch` is a local development loop"),
    "device_cgroup_rules": (W, "a node adds no device rules"),
    "devices": (
        H,
        "CDI ids nvidia.com/gpu=... and /dev/nvidia* become args.gpu; /dev/net/tun a node gives anyway; "
        "other devices are warned",
    ),
    "dns": (W, _NODE_NET),
    "dns_opt": (W, _NODE_NET),
    "dns_search": (W, _NODE_NET),
    "domainname": (W, "a node sets the container's domain name itself"),
    "entrypoint": (H, "args.entrypoint (Compose's list, as is)"),
    "env_file": (C, "Compose merges the files' values into environment"),
    "environment": (H, "args.env (values as strings; a variable without a value is warned and left out)"),
    "expose": (H, "args.expose (a node publishes these ports too)"),
    "extends": (C, "Compose merges the extended service"),
    "external_links": (W, "a job cannot reach containers outside it by name"),
    "extra_hosts": (
        W,
        "a node writes its own /etc/hosts entries (host.docker.internal and host.containers.internal at "
        "8.8.8.8): these names will not resolve",
    ),
    "gpus": (H, "args.gpu"),
    "group_add": (W, "a node runs the container with the image's groups"),
    "healthcheck": (H, "an http health check on the exposed port, when the test is a curl or wget call to localhost"),
    "hostname": (W, "a node sets the container's host name itself; other ops reach this one by its aliases"),
    "image": (H, "args.image"),
    "init": (W, "a node runs no init process: the entrypoint is PID 1"),
    "ipc": (W, "a node gives every container its own private IPC namespace"),
    "isolation": (IGN, "Windows containers only"),
    "label_file": (C, "Compose merges the files' labels into labels"),
    "labels": (IGN, "a node sets no container labels"),
    "links": (H, "the link's alias becomes an alias of the linked op"),
    "logging": (IGN, "a node collects the logs of every op itself"),
    "mac_address": (W, _NODE_NET),
    "mem_limit": (W, _NO_MEM),
    "mem_reservation": (W, _NO_MEM),
    "mem_swappiness": (W, _NO_MEM),
    "memswap_limit": (W, _NO_MEM),
    "models": (
        W,
        "Docker Model Runner models do not exist on a node: run the model server as an op "
        "(e.g. Ollama with an Ollama resource)",
    ),
    "network_mode": (W, _NODE_NET),
    "networks": (H, "aliases become args.aliases; every op shares the job's one network"),
    "oom_kill_disable": (W, _NO_MEM),
    "oom_score_adj": (W, _NO_MEM),
    "pid": (W, "a node gives every container its own PID namespace"),
    "pids_limit": (W, "a node sets no PID limit"),
    "platform": (W, "a node pulls the image for its own platform"),
    "ports": (H, "args.expose of the container port; host ports and addresses are warned"),
    "post_start": (W, _HOOKS),
    "pre_start": (W, _HOOKS),
    "pre_stop": (W, _HOOKS),
    "privileged": (W, "a node does not run privileged containers"),
    "profiles": (IGN, "Compose already chose the services of the active profiles; a node runs every op of the job"),
    "provider": (H, "not an op: a provider service is left out"),
    "pull_policy": (W, "a node pulls the image itself when it starts the op"),
    "pull_refresh_after": (W, "a node pulls the image itself when it starts the op"),
    "read_only": (W, "a node mounts the container's root file system read-write"),
    "restart": (H, "args.restart_policy (a node passes it on; always as unless-stopped)"),
    "runtime": (H, "nvidia becomes args.gpu; another runtime is warned"),
    "scale": (H, "1 is an op; 0 leaves the service out; more is warned (one container per op)"),
    "secrets": (
        W,
        "a node has no Compose secrets: pass the value in env (visible in the job) or bake it into the image",
    ),
    "security_opt": (W, "a node uses the engine's default security options"),
    "shm_size": (W, "a node gives every container 4 GiB of /dev/shm, and a job has no field for it"),
    "stdin_open": (IGN, "a node attaches no standard input"),
    "stop_grace_period": (W, "a node stops ops with its own signal and timeout"),
    "stop_signal": (W, "a node stops ops with its own signal and timeout"),
    "storage_opt": (W, "a node sets no storage options"),
    "sysctls": (W, "a node sets no sysctls"),
    "tmpfs": (W, "a node mounts no tmpfs: the path is part of the container's file system"),
    "tty": (IGN, "a node attaches no terminal"),
    "ulimits": (W, "a node uses the engine's default ulimits"),
    "use_api_socket": (W, "a node gives containers no Docker socket"),
    "user": (W, "a node runs the container as the image's user"),
    "userns_mode": (W, "a node uses the engine's user namespace setting"),
    "uts": (W, "a node gives every container its own UTS namespace"),
    "volumes": (H, "named volumes: a container/create-volume op and args.volumes; bind mounts and tmpfs are warned"),
    "volumes_from": (W, "mount the same named volumes in both services instead"),
    "working_dir": (H, "args.work_dir"),
}

# keys of deploy:, which is mostly Swarm's
DEPLOY_KEYS: dict[str, tuple[Handling, str]] = {
    "replicas": (H, "like scale: 1 is an op, 0 leaves the service out, more is warned"),
    "resources": (H, "reservations.devices: GPU; memory and CPU limits and reservations are warned"),
    "restart_policy": (H, "args.restart_policy when `restart:` is not set (condition, max_attempts)"),
    "mode": (IGN, "Swarm only; a node runs one container per op"),
    "placement": (IGN, "Swarm only; the market chooses the node"),
    "endpoint_mode": (IGN, "Swarm only"),
    "labels": (IGN, "Swarm only"),
    "update_config": (IGN, "Swarm only"),
    "rollback_config": (IGN, "Swarm only"),
}

TOP_LEVEL_KEYS: dict[str, tuple[Handling, str]] = {
    "name": (H, "names the project in messages; a job has no name"),
    "services": (H, "one container/run op per service with an image"),
    "volumes": (H, "one container/create-volume op per named volume an op mounts"),
    "networks": (H, "Compose's default network is the job's network; other networks are warned"),
    "secrets": (W, "a node has no Compose secrets"),
    "configs": (W, "a node has no Compose configs"),
    "models": (W, "Docker Model Runner models do not exist on a node"),
    "include": (C, "Compose merges the included projects"),
    "version": (C, "obsolete; Compose ignores it"),
}
# top-level x-* keys: IGNORED (extension fields; Compose already applied the anchors and merges that use them)
EXTENSION_NOTE = "an extension field: ignored (Compose already applied any anchors and merges that use it)"


def service_key(key: str) -> tuple[Handling, str] | None:
    return SERVICE_KEYS.get(key)


def top_level_key(key: str) -> tuple[Handling, str] | None:
    if key.startswith("x-"):
        return (IGN, EXTENSION_NOTE)
    return TOP_LEVEL_KEYS.get(key)


def is_default(value: object) -> bool:
    """A value that asks for nothing a node would not do anyway (false, empty): accepted without a warning."""
    return value is None or value is False or value == {} or value == [] or value == ""
