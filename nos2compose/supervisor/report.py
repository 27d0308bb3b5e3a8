"""What the user sees of a job: the status table, results read from the logs, logs followed live."""

from __future__ import annotations

import threading
from collections.abc import Callable

from .states import OpStatus

EXITED_EARLY = "NOS110"  # the catalogue's code (lint/catalogue.py): a service whose command returns


def follow_logs(
    engine, statuses: list[OpStatus], say: Callable[[str], None], lock: threading.Lock, tail: int | None = None
) -> list[threading.Thread]:
    """Each op's log as `op-id | line`: what is there already first, op after op in the job's order (the
    last `tail` lines of each, with `tail`), then the lines that come, as they come, from a thread per op
    that ends when its container stops. Ops without a container have nothing to follow."""
    followed = []
    with lock:
        for s in statuses:
            if not s.container_id:
                continue
            lines = engine.stamped_lines(s.container_id)
            for _, text, _ in lines[-tail:] if tail is not None else lines:
                say(f"{s.op.id} | {text.rstrip(chr(10)).rstrip(chr(13))}")
            followed.append((s.op.id, s.container_id, lines[-1][2] if lines else None))

    def pump(op_id: str, container_id: str, since: str | None) -> None:
        try:
            for _, text, _ in engine.follow_stamped(container_id, since):
                with lock:
                    say(f"{op_id} | {text.rstrip(chr(10)).rstrip(chr(13))}")
        except Exception:  # the container went away: its log ends
            return

    threads = [threading.Thread(target=pump, args=row, daemon=True) for row in followed]
    for t in threads:
        t.start()
    return threads


def results_of(engine, statuses: list[OpStatus]) -> dict[str, dict]:
    """{op id: results} for every op that has exited and declares results (read from its log, as the node does)."""
    from ..results import extract

    return {
        s.op.id: extract(s.op.results, engine.stream_lines(s.container_id))
        for s in statuses
        if s.op.results and s.exited and s.container_id
    }


def status_table(statuses: list[OpStatus], results: dict[str, dict] | None = None) -> list[str]:
    rows = [("OP", "GROUP", "STATE", "HEALTH", "EXIT", "URLS") + (("RESULTS",) if results else ())]
    for s in statuses:
        row = (
            s.op.id,
            s.op.group,
            s.state,
            s.health or "-",
            "-" if s.exit_code is None else str(s.exit_code),
            " ".join(s.urls()) or "-",
        )
        if results:
            row += (_short(results.get(s.op.id)),)
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)).rstrip() for row in rows]


def _short(found: dict | None, width: int = 60) -> str:
    if not found:
        return "-"
    text = "; ".join(f"{k}={_words(v)}" for k, v in found.items())
    return text if len(text) <= width else text[: width - 3] + "..."


def _words(value) -> str:
    """A result's values on one line (a group that took no part is null: left out)."""
    return " ".join(str(v) for v in value if v is not None) if isinstance(value, list) else str(value)


def early_exit_warning(status: OpStatus, seconds: float) -> str:
    """NOS110's line: the op, its exposed ports, how soon its command returned, what a node does, the fix."""
    ports = [str(container) for _, container in status.op.ports]
    exposes = f"port{'s' * (len(ports) != 1)} {', '.join(ports)}"
    code = "" if status.exit_code is None else f" (exit code {status.exit_code})"
    fix = (
        "run the server in the foreground (exec it, or end a wrapper script with `wait`)"
        if status.exit_code == 0
        else "its log says why it stopped; a server must keep running in the foreground"
    )
    after = f"{seconds:.1f} s" if seconds >= 0.1 else f"{seconds * 1000:.0f} ms"
    return (
        f'warning: {EXITED_EARLY} op "{status.op.id}" exposes {exposes} but its command exited after {after}{code}: '
        f"on a node its URL never answers and the op ends; {fix}"
    )
