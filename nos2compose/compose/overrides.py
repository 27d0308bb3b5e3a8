"""Compose override files `up` writes beside a group file when the group starts, so the group file itself (and a
person's edits in it) stays as it is.

- results of earlier ops: a group file holds `${VAR?…}` where a result goes. Text values reach Compose as
  that process's environment (supervisor/start.py); splices (whole list items, objects merged into the
  environment) need this override, which replaces just the lists concerned;
- `--no-gpu`: the GPU requests dropped with `!reset`;
- a device the machine lacks (/dev/net/tun, which a node gives every op): dropped from `devices` with `!override`.
"""

from __future__ import annotations

import json
from typing import Any

from . import codec
from .node_defaults import device_source

LIST_FIELDS = ("command", "entrypoint", "ports")


def _splice(items: list, values: dict[str, Any]) -> list:
    """List items naming an `items` placeholder become one item per value (templates like ports kept)."""
    out = []
    for item in items:
        names = [n for n in codec.references(item) if isinstance(values.get(n), list)] if isinstance(item, str) else []
        if not names:
            out.append(item)
            continue
        for v in values[names[0]]:
            one = lambda name, v=v, wanted=names[0]: v.replace("$", "$$") if name == wanted else None  # noqa: E731
            out.append(codec.substitute(item, one))
    return out


def results_override(services: dict, values: dict[str, Any]) -> str | None:
    """A Compose override (YAML; JSON values) that splices list values and merges environment objects."""
    lines = []
    for name, svc in services.items():
        svc = svc or {}
        parts = []
        for field in LIST_FIELDS:
            items = svc.get(field)
            if isinstance(items, list) and any(isinstance(values.get(v), list) for v in codec.used_variables(items)):
                parts.append(f"    {field}: !override {json.dumps(_splice(items, values))}")
        env: dict = {}
        for ref in codec.read_service_extension(svc).environment_from:
            for var in codec.used_variables(ref):
                if isinstance(values.get(var), dict):
                    env.update(values[var])
        if env:
            escaped = {k: v.replace("$", "$$") for k, v in env.items()}
            parts.append(f"    environment: {json.dumps(escaped)}")
        if parts:
            lines += [f"  {json.dumps(name)}:", *parts]
    return "services:\n" + "\n".join(lines) + "\n" if lines else None


def no_gpu_override(services: list[str]) -> str:
    """An override that drops the GPU requests of these services (`!reset`)."""
    lines = ["services:"]
    for service in services:
        lines += [
            f"  {json.dumps(service)}:",
            "    deploy:",
            "      resources:",
            "        reservations:",
            "          devices: !reset []",
        ]
    return "\n".join(lines) + "\n"


def without_devices_override(services: dict, lacking: list[str]) -> str | None:
    """An override whose services keep every device but those the machine lacks (`!override`), or None when no
    service of the file (as written, with the node's block merged in) asks for one."""
    lines = []
    for name, svc in services.items():
        devices = (svc or {}).get("devices") if isinstance(svc, dict) else None
        if not isinstance(devices, list):
            continue
        kept = [d for d in devices if device_source(d) not in lacking]
        if len(kept) < len(devices):
            lines += [f"  {json.dumps(name)}:", f"    devices: !override {json.dumps(kept)}"]
    return "services:\n" + "\n".join(lines) + "\n" if lines else None
