"""Host ports for every exposed container port: unique within the job, chosen the same way every time.

Each port is published on the host as itself when it can be; a port that an
earlier op already took moves up to the next port that no op of the job asks
for (three ops exposing 80 get 80, 81 and 82 unless one of those is wanted).
`--publish OP:PORT=HOSTPORT` fixes a port's host port first.
"""

from __future__ import annotations

from ..model import Job

FIRST_FALLBACK = 1024


class PortProblem(Exception):
    """The ports cannot be published as asked (no free port left, or a --publish that names no exposed port)."""


def host_ports(job: Job, fixed: tuple[tuple[str, int, int], ...] = ()) -> dict[tuple[str, int], int]:
    """(op id, container port) -> host port."""
    exposed = {(op.id, e.port) for op in job.run_ops for e in op.expose}
    pinned: dict[tuple[str, int], int] = {}
    for op_id, port, host in fixed:
        if (op_id, port) not in exposed:
            raise PortProblem(f"--publish {op_id}:{port}={host}: op '{op_id}' exposes no port {port}")
        if host in pinned.values():
            raise PortProblem(f"--publish {op_id}:{port}={host}: host port {host} is published twice")
        pinned[(op_id, port)] = host
    wanted = {p for op in job.run_ops for e in op.expose for p in range(e.port, e.port + e.count)}
    wanted |= set(pinned.values())
    taken: set[int] = set(pinned.values())
    out: dict[tuple[str, int], int] = {}
    jump: dict[int, int] = {}  # where earlier searches went on past a port, so big jobs stay linear
    for op in job.run_ops:
        for exposed_port in op.expose:
            key = (op.id, exposed_port.port)
            if key in pinned:
                out[key] = pinned[key]
                continue
            port = exposed_port.port
            if exposed_port.count > 1:  # a range is published whole: the first free run of its length
                out[key] = _free_run(port, exposed_port.count, taken, op.id)
                continue
            if port in taken:
                port = _next_free(port, taken, wanted, jump, op.id)
            taken.add(port)
            out[key] = port
    return out


def _next_free(port: int, taken: set[int], wanted: set[int], jump: dict[int, int], op_id: str) -> int:
    """The first host port after `port` that is neither taken nor asked for (from 1024 again past 65535). Ports
    never free up, so each search records where it went on (`jump`): thousands of ports spliced into expose cost
    linear time, not the square."""
    candidate, walked = port + 1, []
    while candidate in taken or candidate in wanted or candidate > 65535:
        walked.append(candidate)
        if len(walked) > 65536:
            raise PortProblem(f"no free host port left for port {port} of op '{op_id}'")
        candidate = FIRST_FALLBACK if candidate > 65535 else jump.get(candidate, candidate + 1)
    jump.update(dict.fromkeys(walked, candidate))
    return candidate


def _free_run(first: int, count: int, taken: set[int], op_id: str) -> int:
    """The first host port of `count` free ports in a row, from `first` up (then from 1024); taken after."""
    start = first
    while start + count - 1 <= 65535:
        run = range(start, start + count)
        if not any(p in taken for p in run):
            taken.update(run)
            return start
        start = max(p for p in run if p in taken) + 1
        if start + count - 1 > 65535 and first > FIRST_FALLBACK:
            start, first = FIRST_FALLBACK, FIRST_FALLBACK
    raise PortProblem(f"no {count} free host ports in a row left for the port range of op '{op_id}'")
