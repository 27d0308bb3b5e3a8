"""Container logs, read the way the node reads them: the engine boundary's log half.

The node reads a container's log with timestamps, both streams in one, and
keeps each entry as Docker framed it: one line with its newline
(ContainerStateManager.ts, parseBuffer.ts). `docker logs --timestamps` gives the
same entries on two pipes; they are merged back by their timestamps here, so
results read across both streams see them in the log's order (python-on-whales
hands the two streams over in whatever order its reader got them).

Followers are own processes so they can be ended: a `docker compose logs
--follow` left alone outlives `up` while the op it follows runs.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

from . import process

MAX_LINES = 100_000  # per stream: the log kept for results and the API is bounded (the node stops at 25,000 entries)
_STAMP = re.compile(rb"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d) ")


def _order_key(line: bytes) -> tuple[bytes, int, bytes, str]:
    """A sortable time from Docker's RFC 3339 stamp (whose fraction has its trailing zeros cut), the entry after
    it, and the stamp as Docker wrote it ('' when there is none)."""
    m = _STAMP.match(line)
    if not m:
        return (b"", 0, line, "")
    stamp = line[: m.end() - 1].decode("ascii")
    return (m.group(1), int((m.group(2) or b"0").ljust(9, b"0")), line[m.end() :], stamp)


def stamp_key(stamp: str) -> tuple[bytes, int]:
    """A sortable time from Docker's stamp ("2026-01-02T03:04:05.12Z": the fraction's trailing zeros cut)."""
    day, nanos, _, _ = _order_key(stamp.encode() + b" ")
    return (day, nanos)


def stamp_ms(stamp: str) -> int:
    """Docker's stamp as ms since the epoch; 0 when it is not one."""
    from datetime import datetime, timezone

    day, nanos = stamp_key(stamp)
    try:
        base = datetime.strptime(day.decode(), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    except ValueError:
        return 0
    return int(base.timestamp()) * 1000 + nanos // 1_000_000


def stamped_lines(container_id: str) -> list[tuple[str, str, str]]:
    """The container's whole log as (stream, entry, Docker's RFC 3339 stamp) in log order; an entry keeps its
    newline, and its stamp is the time Docker stamped on it, as the node stores both."""
    try:
        proc = process.start(["docker", "logs", "--timestamps", container_id], stderr=True)
    except OSError:
        return []
    found: dict[str, list[tuple[tuple, int, str, str]]] = {"stdout": [], "stderr": []}

    def read(stream: str, pipe) -> None:
        kept = found[stream]
        for seq, raw in enumerate(pipe):
            if seq < MAX_LINES:
                day, nanos, text, stamp = _order_key(raw)
                kept.append(((day, nanos), seq, text.decode("utf-8", "replace"), stamp))

    readers = [threading.Thread(target=read, args=(s, getattr(proc, s)), daemon=True) for s in found]
    for t in readers:
        t.start()
    for t in readers:
        t.join()
    if proc.wait() != 0:  # no such container (any more): no log
        return []
    merged = [
        (when, 0 if stream == "stdout" else 1, seq, stream, text, stamp)
        for stream in found
        for when, seq, text, stamp in found[stream]
    ]
    merged.sort(key=lambda row: row[:3])
    return [(stream, text, stamp) for *_, stream, text, stamp in merged]


def stream_lines(container_id: str) -> list[tuple[str, str]]:
    """The container's whole log as (stream, entry) in log order; an entry keeps its newline, as on the node."""
    return [(stream, text) for stream, text, _ in stamped_lines(container_id)]


class Followers:
    """`docker compose logs --follow` processes, one per service, ended together by stop()."""

    def __init__(self, project: str):
        self.project = project
        self._procs: list = []  # the started `docker compose logs --follow` processes
        self._lock = threading.Lock()

    def follow(self, service: str) -> Iterator[str]:
        """The service's log lines from the start, until its container stops or stop() is called."""
        proc = process.start(
            ["docker", "compose", "--project-name", self.project, "logs", "--follow", "--no-log-prefix", service]
        )
        with self._lock:
            self._procs.append(proc)
        try:
            for raw in proc.stdout:
                text = raw.decode("utf-8", "replace")
                if text.endswith("\n"):
                    yield text.rstrip("\n").rstrip("\r")
                elif text.strip():  # a last line without its newline; never an empty one made up at the end
                    yield text
        finally:
            process.end(proc)
            with self._lock:
                if proc in self._procs:
                    self._procs.remove(proc)

    def follow_stamped(self, container_id: str, since: str | None = None) -> Iterator[tuple[str, str, str]]:
        """The container's entries (stream, entry with its newline, Docker's stamp) after the stamp `since`, as
        they come, until the container stops or stop() is called (the node follows its logs this way)."""
        import queue

        command = ["docker", "logs", "--follow", "--timestamps", *(["--since", since] if since else []), container_id]
        proc = process.start(command, stderr=True)
        with self._lock:
            self._procs.append(proc)
        lines: queue.Queue = queue.Queue()

        def read(stream: str, pipe) -> None:
            for raw in pipe:
                _, _, text, stamp = _order_key(raw)
                lines.put((stream, text.decode("utf-8", "replace"), stamp))
            lines.put(None)

        for stream in ("stdout", "stderr"):
            threading.Thread(target=read, args=(stream, getattr(proc, stream)), daemon=True).start()
        try:
            open_pipes = 2
            while open_pipes:
                item = lines.get()
                if item is None:
                    open_pipes -= 1
                elif not since or stamp_key(item[2]) > stamp_key(since):  # --since keeps the line stamped then
                    yield item
        finally:
            process.end(proc)
            with self._lock:
                if proc in self._procs:
                    self._procs.remove(proc)

    def stop(self) -> None:
        with self._lock:
            procs, self._procs = self._procs, []
        for proc in procs:
            process.end(proc)
