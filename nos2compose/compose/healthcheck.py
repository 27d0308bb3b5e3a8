"""Compose healthchecks that make the node's health-check requests, from where the node makes them.

A Nosana node probes `<op host>:<port>` from its tunnel container, over the job's
network. Here the probe runs inside the op's own container by default (nothing
else to pull), so it must make do with what the image has: scripts/probe.sh uses
curl, else wget, else python3, else bash's /dev/tcp, else nc. It asks the op at the
container's own address on the job's network (`--self=OP`), not at 127.0.0.1, so
a server listening only on its loopback fails here as on a node.
`--health-probe sidecar` runs it from a small service of its own instead (for
images with no shell at all), as the node does.

The healthcheck reads as the check it makes: `sh /nos2compose/probe.sh --self=web
http --method=GET --url=http://web:8080/… --expect-status=200`. Every value from
the job reaches the probe only as an argument, never as shell text. The script
itself is a top-level `configs:` entry (contract.PROBE_CONFIG): the file nos2compose-probe.sh beside the
group files, or inline in the single file with only the sections its ops need (probe_needs).
"""

from __future__ import annotations

import re

from ..model import RunOp, WebSocketCheck
from .codec import probe_args, probe_test
from .layout import HealthTiming, Layout

KNOWN_CURL_IMAGE = re.compile(r"(^|/)curl([:@]|$)")


def check_kinds(op: RunOp) -> frozenset[str]:
    """The kinds of check the op makes ("http", "websocket"): what its probe must contain."""
    return frozenset(
        "websocket" if isinstance(c, WebSocketCheck) else "http" for e in op.expose for c in e.health_checks
    )


def probe_parts(op: RunOp, sidecar: bool) -> frozenset[str]:
    """The sections of scripts/probe.sh the op's probe needs: its kinds of check, and "self" (finding the
    container's own network address) when it runs in the op's own container."""
    kinds = check_kinds(op)
    return kinds | {"self"} if kinds and not sidecar else kinds


DOCKER_RETRIES = 3


def healthcheck(
    op: RunOp, timing: HealthTiming = HealthTiming(), host: str = "127.0.0.1", inside: bool = False
) -> dict | None:
    """The op's healthcheck asking `host`, or None when it has no health checks; `inside`: it runs in the op's
    own container, `host` being the op's service name."""
    args = probe_args(op, host, inside)
    if not args:
        return None
    check = {
        "test": probe_test(args),
        "interval": timing.interval,
        "timeout": timing.timeout,
        "retries": timing.retries,
        "start_period": timing.start_period,
    }
    if timing.retries == DOCKER_RETRIES:  # Docker's own default: a line less to read
        del check["retries"]
    return check


def probe_needs(ops: list[RunOp], layout: Layout) -> tuple[frozenset[str], bool]:
    """The sections of scripts/probe.sh the ops' probes need, and whether they need its fallbacks (wget,
    python3, bash): all but probes that run in a sidecar image known to have curl do."""
    parts: frozenset[str] = frozenset()
    fallbacks = False
    for op in ops:
        sidecar = op.id in layout.probes
        needed = probe_parts(op, sidecar)
        parts |= needed
        has_curl = sidecar and KNOWN_CURL_IMAGE.search(layout.probe_image) is not None
        fallbacks = fallbacks or (bool(needed) and not has_curl)
    return parts, fallbacks
