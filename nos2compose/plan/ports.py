"""Host ports for every exposed container port: unique within the job, chosen the same way every time.

Each port is published on the host as itself when it can be; a port that an
earlier op already took moves up to the next port that no op of the job asks
for (three ops exposing 80 get 80, 81 and 82 unless one of those is wanted).
"""

from __future__ import annotations

from ..model import Job

FIRST_FALLBACK = 1024


class NoFreePort(Exception):
    """Every host port is asked for already (a job no machine could run)."""


def host_ports(job: Job) -> dict[tuple[str, int], int]:
    """(op id, container port) -> host port."""
    wanted = {e.port for op in job.run_ops for e in op.expose}
    taken: set[int] = set()
    out: dict[tuple[str, int], int] = {}
    cursor: dict[int, int] = {}  # where the last search for a port stopped, so big jobs stay linear
    for op in job.run_ops:
        for exposed in op.expose:
            port = exposed.port
            if port in taken:
                candidate, tries = cursor.get(port, port) + 1, 0
                while candidate in taken or candidate in wanted or candidate > 65535:
                    candidate = FIRST_FALLBACK if candidate > 65535 else candidate + 1
                    tries += 1
                    if tries > 65536:
                        raise NoFreePort(f"no free host port left for port {exposed.port} of op '{op.id}'")
                cursor[port] = candidate
                port = candidate
            taken.add(port)
            out[(op.id, exposed.port)] = port
    return out
