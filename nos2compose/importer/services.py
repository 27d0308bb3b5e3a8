"""One Compose service -> one container/run op (or the reason it is not one).

Each key of the service is handled here or in network.py, gpu.py, volumes.py
and health.py; warned about with what a node does instead; or reported as
unknown (keys.py holds the table). depends_on is left to groups.py.
"""

from __future__ import annotations

import re

from ..compose import codec, contract
from ..compose.node_defaults import beyond_node
from ..diagnostics import Diagnostics
from . import gpu, network
from .health import apply_healthcheck
from .keys import DEPLOY_KEYS, Handling, is_default, service_key
from .model import DraftOp, ServiceContext
from .volumes import apply_mounts

NODE_ENV = "NOSANA_ID"  # the node sets it to the job's id in every op: never the job's own
_LITERAL = re.compile(r"%%(ops|globals?)\.[^%]+%%")
# read by other passes (x-nos2compose: convert's record of results and the like, generated.py)
_ELSEWHERE = {"depends_on", "image", "build", "provider", "scale", "healthcheck", contract.EXTENSION}


def is_helper(service: dict) -> bool:
    """A service nos2compose itself adds next to an op (a probe sidecar, a resource fetcher): not an op."""
    return codec.read_labels(codec.labels_of(service)).helper


def replicas(service: dict) -> int | None:
    if "scale" in service:
        return service["scale"]
    return (service.get("deploy") or {}).get("replicas")


def leave_out_reason(name: str, service: dict, diags: Diagnostics) -> str | None:
    """Why the service cannot be an op (warned here), or None when it is one."""
    path = ("services", name)
    if service.get("provider") and not service.get("image"):
        kind = (service["provider"] or {}).get("type", "?")
        diags.warning(
            path + ("provider",), f"a provider service (type {kind}) is not a container: left out, with its depends_on"
        )
        return "a provider service"
    if not service.get("image"):
        diags.warning(
            path + ("build",),
            "only build: is given, and a node builds no images: left out, with its "
            "depends_on; build the image, push it to a registry and name it with image:",
        )
        return "it has only build:"
    if replicas(service) == 0:
        key = ("scale",) if "scale" in service else ("deploy", "replicas")
        diags.warning(path + key, "0 replicas: left out, with its depends_on")
        return "0 replicas"
    if service.get("build"):
        diags.warning(
            path + ("build",),
            f"build: is not used: the job pulls {service['image']} (push your build "
            "under that name to a registry the node can reach)",
        )
    if service.get("provider"):
        diags.warning(path + ("provider",), "provider: is not kept; the op runs the image")
    return None


def run_op(name: str, service: dict, diags: Diagnostics, links: list[tuple[str, str, str]]) -> DraftOp:
    """The op for a service that has an image; `links` collects (service, target, alias) for the caller.

    A service convert wrote (label io.nosana.op) keeps its op id, and what convert itself added
    to it (its labels, probe script, 127.0.0.1 ports, NOSANA_ID) is left out without a warning.
    """
    op_id = codec.read_labels(codec.labels_of(service)).op or None
    # an op convert wrote gets its service name as an alias only where text names it so (restore.py)
    op = DraftOp(id=name, image=service["image"], aliases=[] if op_id else [name], op_id=str(op_id) if op_id else None)
    ctx = ServiceContext(name, service, op, diags, links, ours=op_id is not None)
    for key in sorted(service, key=lambda k: (k != "ports", k)):  # published ports come first in expose
        if key in _ELSEWHERE:
            continue
        handler = _HANDLERS.get(key)
        if handler is not None:
            handler(ctx, service[key])
        else:
            unhandled(ctx, key, service[key])
    count = replicas(service)
    if isinstance(count, int) and count > 1:
        ctx.warn(
            ("scale",) if "scale" in service else ("deploy", "replicas"),
            f"{count} replicas: a job runs one container per op",
        )
    if service.get("healthcheck"):
        apply_healthcheck(name, service["healthcheck"], ctx.op, network.self_names(name, service), diags)
    if not ctx.ours:  # in a file convert wrote, literals left as text are the job's own
        _warn_literals(ctx)
    return ctx.op


BYTE_KEYS = {"shm_size", "mem_limit", "mem_reservation", "memswap_limit"}  # Compose writes these in bytes


def size(value: object) -> str:
    """Compose's byte counts ("8589934592") as people write them (8 GiB)."""
    try:
        n = int(value)
    except (TypeError, ValueError):
        return str(value)
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= factor and n % factor == 0:
            return f"{n // factor} {unit}"
    return f"{n} bytes"


def summary(value: object) -> str:
    """A short rendering of a Compose value for messages."""
    if isinstance(value, dict):
        text = ", ".join(str(k) for k in value)
    elif isinstance(value, list):
        text = ", ".join(_item(v) for v in value)
    else:
        text = str(value).lower() if isinstance(value, bool) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _item(value: object) -> str:
    if isinstance(value, dict):
        if "source" in value:
            return str(value["source"])
        if isinstance(value.get("command"), list):
            return " ".join(str(w) for w in value["command"])
        return "{...}"
    return "[...]" if isinstance(value, list) else str(value)


def unhandled(ctx: ServiceContext, key: str, value: object) -> None:
    """A key the job has no place for: a warning with what a node does instead."""
    entry = service_key(key)
    if entry is None:
        ctx.warn((key,), f"{key}: unknown to nos2compose import: left out")
        return
    handling, note = entry
    value = beyond_node(key, value)  # what a node gives every op anyway (convert writes it) is not the user's
    if is_default(value):
        return
    verdict = "ignored" if handling is Handling.IGNORED else "not kept"
    shown = size(value) if key in BYTE_KEYS else summary(value)
    ctx.warn((key,), f"{key} {shown}: {verdict}; {note}")


def _command(ctx: ServiceContext, value) -> None:
    if value:  # [] (command: "") is the image's default, as a job's missing cmd is
        ctx.op.cmd = list(value)


def _entrypoint(ctx: ServiceContext, value) -> None:
    if value == []:
        ctx.warn(
            ("entrypoint",),
            "an empty entrypoint clears the image's in Compose; a job cannot say that: left "
            "out, so the op runs the image's entrypoint",
        )
    elif value is not None:
        ctx.op.entrypoint = list(value)


def _environment(ctx: ServiceContext, value) -> None:
    for var, text in (beyond_node("environment", value or {}) or {}).items():  # Podman's own (TERM, container)
        if var == NODE_ENV:
            if not ctx.ours:
                ctx.warn(("environment", var), f"{var}: left out; a node sets it to the job's id in every op")
        elif text is None:
            ctx.warn(("environment", var), f"{var} has no value (it was not set where Compose ran): left out")
        else:
            ctx.op.env[var] = str(text)


def _working_dir(ctx: ServiceContext, value) -> None:
    if value:
        ctx.op.work_dir = value


def restart_policy(value: str) -> str | dict | None:
    """Compose's `restart:` value -> Nosana's restart_policy."""
    if value in ("no", "always", "unless-stopped", "on-failure"):
        return value
    m = re.fullmatch(r"on-failure:(\d+)", value or "")
    return {"policy": "on-failure", "restart_tries": int(m.group(1))} if m else None


def _restart(ctx: ServiceContext, value) -> None:
    policy = restart_policy(value)
    if policy is None:
        ctx.warn(("restart",), f"restart {value}: not a restart policy: left out")
    else:
        ctx.op.restart_policy = policy  # a node passes it on (always as unless-stopped, as convert writes it)


def _deploy(ctx: ServiceContext, value) -> None:
    for key, setting in (value or {}).items():
        if key == "replicas" or (key == "mode" and setting == "replicated"):
            continue  # replicas: read by leave_out_reason and run_op
        if key == "resources":
            _resources(ctx, setting or {})
        elif key == "restart_policy":
            _deploy_restart(ctx, setting or {})
        elif key not in DEPLOY_KEYS:
            ctx.warn(("deploy", key), f"deploy.{key}: unknown to nos2compose import: left out")
        elif not is_default(setting):
            ctx.warn(("deploy", key), f"deploy.{key}: ignored; {DEPLOY_KEYS[key][1]}")


def _resources(ctx: ServiceContext, resources: dict) -> None:
    for kind in ("limits", "reservations"):
        for key, setting in (resources.get(kind) or {}).items():
            path = ("deploy", "resources", kind, key)
            if kind == "reservations" and key == "devices":
                ctx.op.gpu = gpu.from_reservations(ctx.name, setting or [], ctx.diags) or ctx.op.gpu
            elif key == "memory":
                ctx.warn(
                    path,
                    f"deploy.resources.{kind}.memory {size(setting)}: not kept; a node sets no memory "
                    "limit, and a job has no field for RAM",
                )
            elif key == "cpus":
                ctx.warn(path, f"deploy.resources.{kind}.cpus {setting}: not kept; a node sets no CPU limits")
            elif not is_default(setting):
                ctx.warn(
                    path,
                    f"deploy.resources.{kind}.{key}: not kept; a node sets no resource limits and offers "
                    "NVIDIA GPUs only",
                )
    for key in resources:
        if key not in ("limits", "reservations"):
            ctx.warn(("deploy", "resources", key), f"deploy.resources.{key}: unknown to nos2compose import: left out")


def _deploy_restart(ctx: ServiceContext, spec: dict) -> None:
    path = ("deploy", "restart_policy")
    if "restart" in ctx.service:
        ctx.warn(path, "deploy.restart_policy: ignored; restart: is set and wins")
        return
    condition = spec.get("condition", "any")
    if condition == "on-failure" and spec.get("max_attempts"):
        ctx.op.restart_policy = {"policy": "on-failure", "restart_tries": int(spec["max_attempts"])}
    else:
        ctx.op.restart_policy = {"none": "no", "on-failure": "on-failure"}.get(condition, "always")
    for key in ("delay", "window"):
        if key in spec:
            ctx.warn(path + (key,), f"deploy.restart_policy.{key}: not kept; a node restarts the op at its own pace")


def _gpus(ctx: ServiceContext, value) -> None:
    ctx.op.gpu = gpu.from_gpus(ctx.name, value or [], ctx.diags) or ctx.op.gpu


def _runtime(ctx: ServiceContext, value) -> None:
    ctx.op.gpu = gpu.from_runtime(ctx.name, value or "", ctx.diags) or ctx.op.gpu


def _devices(ctx: ServiceContext, value) -> None:
    ctx.op.gpu = gpu.from_devices(ctx.name, beyond_node("devices", value or []), ctx.diags) or ctx.op.gpu


def _volumes(ctx: ServiceContext, value) -> None:
    apply_mounts(ctx.name, value or [], ctx.op, ctx.diags)


def _labels(ctx: ServiceContext, value) -> None:
    """nos2compose's own labels say what the service is (read elsewhere); the others are ignored, warned."""
    rest = {k: v for k, v in (value or {}).items() if k not in codec.LABELS} if isinstance(value, dict) else value
    unhandled(ctx, "labels", rest)


def _configs(ctx: ServiceContext, value) -> None:
    """nos2compose's own scripts (the probe) are machinery; other configs are warned."""
    rest = [m for m in value or [] if not codec.is_script_mount(m)]
    unhandled(ctx, "configs", rest)


def _warn_literals(ctx: ServiceContext) -> None:
    """Text a node would read as its own %%...%% literals."""
    op = ctx.op
    texts = [("command", t) for t in op.cmd or []] + [("entrypoint", t) for t in op.entrypoint or []]
    texts += [("environment", t) for t in op.env.values()]
    for key, text in texts:
        m = _LITERAL.search(text) if isinstance(text, str) else None
        if m:
            ctx.warn((key,), f"{m.group(0)} is a Nosana literal: a node replaces it with its value")


_HANDLERS = {
    "command": _command,
    "entrypoint": _entrypoint,
    "environment": _environment,
    "working_dir": _working_dir,
    "restart": _restart,
    "deploy": _deploy,
    "gpus": _gpus,
    "runtime": _runtime,
    "devices": _devices,
    "volumes": _volumes,
    "labels": _labels,
    "configs": _configs,
    "ports": network.ports,
    "expose": network.expose,
    "container_name": network.container_name,
    "networks": network.networks,
    "network_mode": network.network_mode,
    "links": network.links,
}
