"""The engine's rows, read: `docker ps` (one line per container, labels asked for by name) and Docker's times.

Pure text in, values out: docker.py runs the command, this reads what it printed.
"""

from __future__ import annotations

import json
import re

from ..compose import codec
from .protocol import Container

# `docker ps` renders labels as "k=v,k=v", which cannot be split safely, so each label is asked for by
# name, JSON-quoted, after the row: one line per container, fields apart by tabs (JSON never holds a raw tab).
_PS_LABELS = (codec.SERVICE_LABEL, *codec.LABELS)
PS_FORMAT = "{{json .}}" + "".join(f'\t{{{{json (.Label "{label}")}}}}' for label in _PS_LABELS)


def ps_command(project: str) -> list[str]:
    """`docker ps` for the containers Compose made for the project (not one-off `compose run` ones)."""
    return [
        "docker",
        "ps",
        "--all",
        "--no-trunc",
        "--filter",
        f"label={codec.PROJECT_LABEL}={project}",
        "--filter",
        f"label={codec.ONEOFF_LABEL}=False",
        "--format",
        PS_FORMAT,
    ]


_HEALTH = re.compile(r"\((healthy|unhealthy|health: starting)\)")
_EXITED = re.compile(r"^Exited \((-?\d+)\)")
_PUBLISHED = re.compile(r"(?:^|,\s*)(?:([\d.]+|\[[^\]]*\]):)?(\d+)(?:-(\d+))?->(\d+)(?:-\d+)?/\w+")


def parse_ps(text: str) -> list[Container]:
    """`docker ps --format PS_FORMAT` output as Container rows."""
    rows = []
    for line in text.splitlines():
        if not line.strip():
            continue
        row, service, *labels = (json.loads(field) for field in line.split("\t"))
        status = row.get("Status", "")
        health = _HEALTH.search(status)
        exited = _EXITED.match(status)
        marks = codec.marks(labels)
        rows.append(
            Container(
                service,
                row.get("State", ""),
                {"health: starting": "starting"}.get(health.group(1), health.group(1)) if health else "",
                int(exited.group(1)) if exited else 0,
                status,
                marks.probe_for,
                row.get("ID", ""),
                _published(row.get("Ports", "")),
                op=marks.op,
                group=marks.group,
                group_order=marks.group_order,
                fetch_for=marks.fetch_for,
            )
        )
    return rows


def _published(ports: str) -> tuple[int, ...]:
    """Host ports from docker ps's "127.0.0.1:8080->80/tcp, 127.0.0.1:9000-9001->9000-9001/tcp" (those on
    127.0.0.1 or every address)."""
    found = set()
    for m in _PUBLISHED.finditer(ports or ""):
        address, first, last = m.group(1), int(m.group(2)), m.group(3)
        if address in (None, "127.0.0.1", "0.0.0.0"):
            found.update(range(first, (int(last) if last else first) + 1))
    return tuple(sorted(found))


def epoch_ms(stamp: str | None) -> int | None:
    """Docker's RFC 3339 time (nanoseconds, Z) as ms since the epoch; None for its zero time."""
    from datetime import datetime, timezone

    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$", stamp or "")
    if not m or m.group(1).startswith("0001-"):
        return None
    base = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    return int(base.timestamp() * 1000) + int((m.group(2) or "0")[:3].ljust(3, "0"))
