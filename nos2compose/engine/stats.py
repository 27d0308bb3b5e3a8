"""Resource usage of containers from the engine's own statistics: one `GET /containers/ID/stats` stream each
(the engine samples every second), spoken over `docker system dial-stdio`, so it reaches the engine wherever the
docker CLI is pointed. Only the latest sample of each container is kept here; the API keeps the history.

Figures are computed as `docker stats` computes them: CPU from the engine's own previous sample, memory without
the page cache, block I/O and network bytes summed over devices and interfaces.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from typing import NamedTuple

from . import process

API = "/v1.41"  # engine 20.10; newer engines answer it too
FIRST_WAIT = 1.5  # seconds a new stream may take for its first sample


class Usage(NamedTuple):
    """One sample of a container, in the node's TaskStat terms (bytes, percent)."""

    cpu_percent: float
    memory_usage: int
    memory_limit: int
    memory_percent: float
    disk_read: int
    disk_write: int
    received: int
    sent: int


def usage(raw: dict) -> Usage:
    """A sample from the engine's stats JSON (cgroup v1 or v2)."""
    cpu, pre = raw.get("cpu_stats") or {}, raw.get("precpu_stats") or {}
    cpu_delta = (cpu.get("cpu_usage") or {}).get("total_usage", 0) - (pre.get("cpu_usage") or {}).get("total_usage", 0)
    system_delta = cpu.get("system_cpu_usage", 0) - pre.get("system_cpu_usage", 0)
    cpus = cpu.get("online_cpus") or len((cpu.get("cpu_usage") or {}).get("percpu_usage") or []) or 1
    percent = cpu_delta / system_delta * cpus * 100 if cpu_delta > 0 and system_delta > 0 else 0.0
    memory = raw.get("memory_stats") or {}
    used, details = memory.get("usage", 0), memory.get("stats") or {}
    cache = details.get("total_inactive_file", details.get("inactive_file", 0))
    used = used - cache if 0 < cache < used else used
    limit = memory.get("limit", 0)
    io = (raw.get("blkio_stats") or {}).get("io_service_bytes_recursive") or []
    read = sum(e.get("value", 0) for e in io if str(e.get("op", "")).lower() == "read")
    write = sum(e.get("value", 0) for e in io if str(e.get("op", "")).lower() == "write")
    nets = (raw.get("networks") or {}).values()
    return Usage(
        round(percent, 2),
        used,
        limit,
        round(used / limit * 100, 2) if limit else 0.0,
        read,
        write,
        sum(n.get("rx_bytes", 0) for n in nets),
        sum(n.get("tx_bytes", 0) for n in nets),
    )


class _Connection(http.client.HTTPConnection):
    """HTTP over a socket already connected to the engine."""

    def __init__(self, sock):
        super().__init__("docker")
        self.sock = sock

    def connect(self):  # already connected
        pass


class StatsFeed:
    """One stats stream per container asked for; streams of containers no longer asked for are ended."""

    def __init__(self):
        self._latest: dict[str, Usage] = {}
        self._streams: dict[str, tuple] = {}  # container id -> (process, socket)
        self._lock = threading.Lock()

    def sample(self, ids: list[str]) -> dict[str, Usage]:
        """The latest sample of each container of `ids` that has one (a new stream's first within FIRST_WAIT)."""
        with self._lock:
            for gone in [i for i in self._streams if i not in ids]:
                process.hang_up(*self._streams.pop(gone))
                self._latest.pop(gone, None)
            new = [i for i in ids if i not in self._streams]
            for container in new:
                self._streams[container] = self._open(container)
        deadline = time.monotonic() + FIRST_WAIT
        while new and time.monotonic() < deadline and any(i not in self._latest and i in self._streams for i in new):
            time.sleep(0.02)
        with self._lock:
            return {i: self._latest[i] for i in ids if i in self._latest}

    def _open(self, container: str) -> tuple:
        proc, sock = process.dial(["docker", "system", "dial-stdio"])
        threading.Thread(target=self._read, args=(container, sock), daemon=True).start()
        return proc, sock

    def _read(self, container: str, sock) -> None:
        """Keep the latest sample of one stream until it ends (the container stopped, or it was hung up)."""
        try:
            connection = _Connection(sock)
            connection.request("GET", f"{API}/containers/{container}/stats?stream=true")
            reply = connection.getresponse()
            while reply.status == 200:
                line = reply.readline()
                if not line:
                    break
                self._latest[container] = usage(json.loads(line))
        except (OSError, ValueError, http.client.HTTPException):
            pass
        with self._lock:
            ended = self._streams.pop(container, None)
            self._latest.pop(container, None)
        if ended is not None:
            process.hang_up(*ended)

    def close(self) -> None:
        with self._lock:
            streams, self._streams = list(self._streams.values()), {}
        for proc, sock in streams:
            process.hang_up(proc, sock)
