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

from ..load.limits import OUTPUT_LIMIT_ENV, OutputBudget, TooLarge, size_text
from . import codec
from .node_defaults import device_source

LIST_FIELDS = ("command", "entrypoint", "ports")


def _splice(items: list, values: dict[str, Any], budget: OutputBudget) -> str:
    """List items naming an `items` placeholder become one item per value (templates like ports kept): the
    list as JSON, its bytes spent as each item is made, so a value spliced again and again stops at the limit."""
    out: list[str] = []
    done: list[str] = []  # joined every few thousand items: text, not an object per item

    def add(item: Any) -> None:
        text = json.dumps(item)
        budget.spend(len(text) + 2)  # and its ", " (or the brackets, for the last): exact, as JSON is ASCII here
        out.append(text)
        if len(out) >= 4096:
            done.append(", ".join(out))
            out.clear()

    for item in items:
        names = [n for n in codec.references(item) if isinstance(values.get(n), list)] if isinstance(item, str) else []
        if not names:
            add(item)
            continue
        for v in values[names[0]]:
            one = lambda name, v=v, wanted=names[0]: v.replace("$", "$$") if name == wanted else None  # noqa: E731
            add(codec.substitute(item, one))
    return "[" + ", ".join([*done, ", ".join(out)] if out else done) + "]"


class Overflow(Exception):
    """The override file would pass the output limit: the ops splicing results into it fail, not the run."""


def results_override(services: dict, values: dict[str, Any]) -> str | None:
    """A Compose override (YAML; JSON values) that splices list values and merges environment objects; Overflow
    when it would pass the output limit (counted as it is made)."""
    try:
        return _results_override(services, values, OutputBudget())
    except TooLarge as big:
        raise Overflow(
            f"the results of earlier ops spliced into this group's override file come to more than "
            f"{size_text(big.limit)} of Compose; the limit is {OUTPUT_LIMIT_ENV}"
        ) from None


def _results_override(services: dict, values: dict[str, Any], budget: OutputBudget) -> str | None:
    budget.spend(len("services:\n"))
    lines = []
    for name, svc in services.items():
        svc = svc or {}
        parts = []
        for field in LIST_FIELDS:
            items = svc.get(field)
            if isinstance(items, list) and any(isinstance(values.get(v), list) for v in codec.used_variables(items)):
                budget.spend(len(f"    {field}: !override \n"))
                parts.append(f"    {field}: !override {_splice(items, values, budget)}")
        env: dict = {}
        for ref in codec.read_service_extension(svc).environment_from:
            for var in codec.used_variables(ref):
                if isinstance(values.get(var), dict):
                    env.update(values[var])
        if env:
            escaped = {k: v.replace("$", "$$") for k, v in env.items()}
            parts.append(f"    environment: {json.dumps(escaped)}")
            budget.spend(len(parts[-1]) + 1)
        if parts:
            head = f"  {json.dumps(name)}:"
            budget.spend(len(head) + 1)
            lines += [head, *parts]
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
