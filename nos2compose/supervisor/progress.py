"""Progress while `up` waits: a live line in a terminal, plain lines in a log (CI), never silence.

In a terminal one line on standard error is redrawn each second with every op
still waiting, its time so far and its health; it is cleared before any other
line is printed. Without a terminal, an op that has waited 5 s gets a line,
then one every 10 s, with the time so far and the last probe's answer.
Either way, an op whose probe found it answering only on its container's
loopback gets one line saying so, as soon as the probe has said it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from ..compose import codec
from .states import STARTING, UNHEALTHY

FIRST, EVERY = 5.0, 10.0  # seconds: when a plain line is printed about an op that is still waiting
LOOK_EVERY = 2.0  # seconds between looks at the last probe answer of an op still waited for


class LoopbackNotes:
    """One line per op, once, when its probe found that it answers only on 127.0.0.1 inside its container:
    a node's probe and tunnel come from outside the container, so there it would never become healthy."""

    def __init__(self, say: Callable[[str], None], probe_answer: Callable[[object], str]):
        self.say = say
        self.probe_answer = probe_answer  # OpStatus -> the last health-probe output ('' if none)
        self.looked: dict[str, float] = {}  # op id -> when its probe's answer was last read
        self.told: set[str] = set()

    def look(self, statuses, now: float) -> None:
        """Reads the last probe answer of each op of `statuses` waiting for its own probe (not a sidecar's,
        which cannot see the op's loopback), at most every LOOK_EVERY seconds."""
        for s in statuses:
            op = s.op
            if op.id in self.told or op.probe or not op.has_health_check or s.state not in (STARTING, UNHEALTHY):
                continue
            if s.container_state != "running" or now - self.looked.get(op.id, now - LOOK_EVERY) < LOOK_EVERY:
                continue
            self.looked[op.id] = now
            port = codec.loopback_only_port(self.probe_answer(s))
            if port is not None:
                self.told.add(op.id)
                self.say(
                    f"{op.group}  {op.id}: port {port} answers only on 127.0.0.1 (loopback) inside its container; "
                    "a node's probe and tunnel reach it from outside, so it never becomes healthy there: "
                    "make it listen on 0.0.0.0"
                )


class Progress:
    def __init__(
        self, say: Callable[[str], None], probe_answer: Callable[[object], str], stream=None, tty: bool | None = None
    ):
        self._say = say
        self.probe_answer = probe_answer  # OpStatus -> the last health-probe output ('' if none)
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.since: dict[str, float] = {}  # op id -> when its wait began
        self.told: dict[str, float] = {}  # op id -> when a plain line about it was last printed
        self.live = False

    def say(self, line: str) -> None:
        """Print a line (the supervisor's own), clearing the live line first."""
        self.clear()
        self._say(line)

    def clear(self) -> None:
        if self.live:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.live = False

    def waiting(self, statuses, now: float) -> None:
        """The ops of `statuses` are still waited for at `now` (others are done)."""
        current = {s.op.id for s in statuses}
        for gone in set(self.since) - current:
            self.since.pop(gone, None)
            self.told.pop(gone, None)
        for s in statuses:
            self.since.setdefault(s.op.id, now)
        if self.tty:
            self._draw(statuses, now)
            return
        for s in statuses:
            waited = now - self.since[s.op.id]
            last = self.told.get(s.op.id)
            if (last is None and waited >= FIRST) or (last is not None and now - last >= EVERY):
                self.told[s.op.id] = now
                self._say(self._line(s, waited, self.probe_answer(s)))

    def _line(self, s, waited: float, answer: str) -> str:
        health = f"; last probe: {answer}" if answer else ""
        state = s.state + (f", {s.health}" if s.health and s.health != s.state else "")
        return f"{s.op.group}  {s.op.id}: waiting {waited:.0f} s ({state}{health})"

    def _draw(self, statuses, now: float) -> None:
        if not statuses:
            self.clear()
            return
        parts = [f"{s.op.id} {now - self.since[s.op.id]:.0f}s {s.health or s.state}" for s in statuses]
        self.stream.write("\r\033[K  waiting: " + ", ".join(parts))
        self.stream.flush()
        self.live = True
