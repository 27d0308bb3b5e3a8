"""Resource stats of a local job (`GET /job/<id>/stats`, `/stats/stream`): each op's CPU, memory, disk and network,
sampled every second from the engine's own statistics while `serve` (or `up --api`) runs, kept so that a window
answers with what was sampled, in the node's TaskStat shape."""

from __future__ import annotations

import threading
import time
from collections import deque

from .view import JobView

EVERY = 1.0  # seconds between samples
KEEP = 200_000  # samples kept (about 55 hours of one op); the oldest go first
MS_FLOOR = 10**11  # a time in ms is past 1973; one in seconds (10 digits today) is below this


def task_stat(op_id: str, at: int, usage) -> dict:
    """The node's TaskStat for one op's sample (bytes and percent, as the engine counts them)."""
    return {
        "opId": op_id,
        "timestamp": at,
        "cpu": {"cpu_percent": usage.cpu_percent},
        "memory": {
            "memory_usage": usage.memory_usage,
            "memory_limit": usage.memory_limit,
            "memory_percent": usage.memory_percent,
        },
        "disk": {"read": usage.disk_read, "write": usage.disk_write},
        "network": {"received": usage.received, "sent": usage.sent},
    }


class Sampler:
    """Takes a sample of every running op each second in a thread of its own, and keeps them."""

    def __init__(self, view: JobView, clock=time.time, keep: int = KEEP):
        self.view, self.clock = view, clock
        self.samples: deque[dict] = deque(maxlen=keep)
        self.last: list[dict] = []  # the latest sample of each op running at the last look
        self._lock = threading.Lock()
        self._stopped = threading.Event()

    def take(self) -> list[dict]:
        """One sample of each op whose container runs now."""
        ops = {op.service: op.id for op in self.view.plan.ops}
        running = [
            (ops[c.service], c.id) for c in self.view.engine.containers() if c.state == "running" and c.service in ops
        ]
        found = self.view.engine.stats([cid for _, cid in running]) if running else {}
        at = int(self.clock() * 1000)
        taken = [task_stat(op_id, at, found[cid]) for op_id, cid in running if cid in found]
        with self._lock:
            self.samples.extend(taken)
            self.last = taken
        return taken

    def run(self) -> None:
        """Sample every second until stop(); the first sample at once."""
        while not self._stopped.is_set():
            began = time.monotonic()
            try:
                self.take()
            except Exception:  # the engine went away for a moment: try again at the next tick
                pass
            self._stopped.wait(max(0.0, EVERY - (time.monotonic() - began)))
        self.view.engine.stop_stats()

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="n2c-stats", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stopped.set()

    def window(self, start: int | None, end: int | None, interval: int = 1) -> list[dict]:
        """Samples in [start, end] (ms), oldest first, at most one per op every `interval` seconds."""
        with self._lock:
            chosen = [
                s
                for s in self.samples
                if (start is None or s["timestamp"] >= start) and (end is None or s["timestamp"] <= end)
            ]
        if interval <= 1:
            return chosen
        kept, last = [], {}
        for sample in chosen:
            previous = last.get(sample["opId"])
            if previous is None or sample["timestamp"] - previous >= interval * 1000 - 100:  # 0.1 s of jitter
                kept.append(sample)
                last[sample["opId"]] = sample["timestamp"]
        return kept

    def latest(self) -> list[dict]:
        with self._lock:
            return list(self.last)


def stats_query(params) -> tuple[int, int | None, int | None] | str:
    """(interval, start, end) from the query, or why it is refused: start and end are Unix milliseconds."""
    values: dict = {}
    for key in ("start", "end", "interval"):
        raw = params.get(key)
        if raw is None or raw == "":
            values[key] = None
            continue
        try:
            values[key] = int(raw)
        except ValueError:
            values[key] = raw
    start, end, interval = values["start"], values["end"], values["interval"]
    for key, value in (("start", start), ("end", end)):
        if value is not None and (not isinstance(value, int) or value < MS_FLOOR):
            return f"`{key}` must be a timestamp in milliseconds, got {params.get(key)!r}"
    if start is not None and end is not None and start > end:
        return "`start` must not be after `end`"
    if interval is not None and (not isinstance(interval, int) or interval < 1):
        return f"`interval` must be a whole number of seconds (1 or more), got {params.get('interval')!r}"
    return (interval or 1, start, end)
