"""Saying a stop's grace period while it runs: a container that ignores its stop signal is killed only after
its grace period (10 s unless -t), and nothing should wait in silence meanwhile.

One line names the ops, the signal and how long it may take; on a terminal it is a live line that counts
the seconds until the stop returns, then is cleared.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

DEFAULT_GRACE = 10  # seconds: Docker's and Compose's default, and the node's


def grace_line(ops: list[str], signals: set[str], timeout: int | None, verb: str = "stopping") -> str:
    """`stopping web, api: SIGTERM, then SIGKILL after 10 s if still running (-t S to change it)`."""
    signal = ", ".join(sorted(signals)) or "SIGTERM"
    grace = DEFAULT_GRACE if timeout is None else timeout
    return f"{verb} {', '.join(ops)}: {signal}, then SIGKILL after {grace} s if still running (-t S to change it)"


@contextmanager
def said(line: str, say: Callable[[str], None], stream=None, tty: bool | None = None) -> Iterator[None]:
    """Print `line`; on a terminal, keep it live with the seconds waited until the block ends."""
    stream = stream if stream is not None else sys.stderr
    live = stream.isatty() if tty is None else tty
    if not live:
        say(line)
        yield
        return
    done = threading.Event()
    began = time.monotonic()

    def tick() -> None:
        while not done.wait(1.0):
            stream.write(f"\r\033[K{line} ... {time.monotonic() - began:.0f} s")
            stream.flush()

    stream.write(line)
    stream.flush()
    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        yield
    finally:
        done.set()
        ticker.join(timeout=2)
        stream.write(f"\r\033[K{line} ... done in {time.monotonic() - began:.0f} s\n")
        stream.flush()
