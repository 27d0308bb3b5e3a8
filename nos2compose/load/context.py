"""What every reader of an op needs from the job around it (kept apart so readers import no reader above them)."""

from __future__ import annotations

from typing import Any, NamedTuple

from .literals import LiteralContext
from .shape import Shape


class JobContext(NamedTuple):
    """What every op's reader needs from the job around it."""

    shape: Shape
    job_name: str
    global_: dict[str, Any]  # global.* as checked: the fallbacks of every op
    literals: LiteralContext
