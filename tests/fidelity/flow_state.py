"""The flow state's own fields, compared op by op (issue 18): `errors`, `diagnostics.reason`, `diagnostics.state` and
each log entry's time, as the node keeps them (`GET /job/<id>/results`) and as nos2compose's /results gives them.

Only what is random is set aside: ids and addresses (the caller's `Texts`), and absolute times, which are checked
for consistency on each side instead of compared:

- `state times`: a container that ran has `FinishedAt` no earlier than `StartedAt` (less TOLERANCE_MS: Docker stamps
  the start once the process runs, so a command that returns at once can finish "before" it started); one that never
  started has the zero time in both;
- `log times`: every stdout/stderr entry carries an RFC 3339 time, the times of one stream never go back, and each
  lies within the op's startTime and endTime of the same flow state, give or take TOLERANCE_MS (Podman 4.3.1 stamps
  whole seconds: a line written 0.9 s into a second carries that second's start).

Each side's check gives "ok" or its problems; a divergence is a side whose answer differs from the other's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

try:
    from .oracle.node_oracle import rfc3339_ms
except ImportError:  # run as a script: compare.py put oracle/ on the path
    from node_oracle import rfc3339_ms  # type: ignore[no-redef]

TOLERANCE_MS = 1000
STATE_KEYS = ("ExitCode", "OOMKilled", "Error", "RestartCount")  # compared as they are (Error by its shape)
# run-job.mjs refuses every pull (nothing is pulled here): such an error's words and code are the harness's, not an
# engine's, so only its event and the image it names are compared
HARNESS_PULL = "nos2compose oracle: pulling is disabled"

# How each engine wraps the same runtime failure: dockerode ("(HTTP code 400) unexpected - "), the Docker CLI
# ("Error response from daemon: "), the node's Podman path ("Cannot start container: "); runc's own words inside
# end with the engine's suffix (": unknown" from Docker, ": OCI runtime attempted to invoke ..." from Podman).
_WRAPPERS = re.compile(r"^(?:\(HTTP code \d{3}\) \w+ - |Error response from daemon: |Cannot start container: )+")
_RUNC = re.compile(r"unable to start container process: (.*?)(?:: unknown|: OCI runtime [^:]*)?\s*$")
_IMAGE = re.compile(r"\bimage (\S+?):?(?=\s)")


def message_shape(event: str, message: Any) -> str:
    """What of an error message is stable across engines and runs: runc's cause for a container that could not
    start, the image a pull error names, else the message without the engine's wrapping."""
    text = _WRAPPERS.sub("", str(message or "").strip())
    if event == "image-pull-error":
        m = _IMAGE.search(text + " ")
        return f"image {m.group(1)}" if m else text
    m = _RUNC.search(text)
    return m.group(1) if m else text


def _errors(errors: list, harness: bool) -> tuple[list, list, list]:
    rows = [e for e in errors or [] if isinstance(e, dict)]
    events = [e.get("event") for e in rows]
    shapes = [message_shape(str(e.get("event")), e.get("message")) for e in rows]
    codes = ["(not compared: the harness refuses pulls)" if harness else e.get("code") for e in rows]
    return events, shapes, codes


def state_times(state: dict) -> str:
    """`never started`, `ran`, `running` or what is inconsistent in the state's StartedAt/FinishedAt."""
    started, finished = rfc3339_ms(state.get("StartedAt")), rfc3339_ms(state.get("FinishedAt"))
    if started is None:
        return "never started" if finished is None else "FinishedAt set but never started"
    if finished is None:
        return "running"
    if finished < started - TOLERANCE_MS:
        return f"FinishedAt {started - finished:.0f} ms before StartedAt"
    return "ran"


def log_time_problems(times: list[tuple[str, Any]], start: Any, end: Any) -> list[str]:
    """What is wrong with an op's log times ([(stream, RFC 3339 time)] in the order stored) against its startTime and
    endTime (ms since the epoch; None: not known, not checked); [] when nothing is."""
    problems: list[str] = []
    last: dict[str, float] = {}
    for i, (stream, stamp) in enumerate(times):
        t = rfc3339_ms(stamp)
        if t is None:
            problems.append(f"{stream} entry {i}: no RFC 3339 time ({stamp!r})")
            continue
        if t < last.get(stream, t):
            problems.append(f"{stream} entry {i}: {last[stream] - t:.0f} ms before the entry above it")
        last[stream] = t
        if isinstance(start, (int, float)) and t < start - TOLERANCE_MS:
            problems.append(f"{stream} entry {i}: {start - t:.0f} ms before the op's startTime")
        if isinstance(end, (int, float)) and t > end + TOLERANCE_MS:
            problems.append(f"{stream} entry {i}: {t - end:.0f} ms after the op's endTime")
    return problems


def compare_op(node: Any, local: Any, deep: Callable[[Any], Any]) -> list[tuple[str, Any, Any]]:
    """(field, node's value, nos2compose's value) for each flow-state field of one op where the sides disagree.
    `node` and `local` are compare.OpRun; `deep` normalizes the node's text (hosts) as the comparison does."""
    out: list[tuple[str, Any, Any]] = []
    harness = any(str(e.get("message", "")).startswith(HARNESS_PULL) for e in node.errors or [] if isinstance(e, dict))
    ev_a, shape_a, code_a = _errors(deep(node.errors), harness)
    ev_b, shape_b, code_b = _errors(local.errors, harness)
    if ev_a != ev_b:
        out.append(("errors", ev_a, ev_b))
    else:
        if shape_a != shape_b:
            out.append(("errors message", shape_a, shape_b))
        if code_a != code_b:
            out.append(("errors code", code_a, code_b))
    diag_a, diag_b = node.diagnostics or {}, local.diagnostics or {}
    if diag_a.get("reason") != diag_b.get("reason"):
        out.append(("diagnostics.reason", diag_a.get("reason"), diag_b.get("reason")))
    out += _compare_state(deep(diag_a.get("state")), diag_b.get("state"))
    times_a = log_time_problems(node.log_times, node.flow_start, node.flow_end) or "ok"
    times_b = log_time_problems(local.log_times, local.flow_start, local.flow_end) or "ok"
    if times_a != times_b:
        out.append(("log times", times_a, times_b))
    return out


def _compare_state(a: Any, b: Any) -> list[tuple[str, Any, Any]]:
    if not isinstance(a, dict) or not isinstance(b, dict):
        present = (isinstance(a, dict), isinstance(b, dict))
        return [("diagnostics.state", *present)] if present[0] != present[1] else []
    out = []
    for key in STATE_KEYS:
        va, vb = a.get(key), b.get(key)
        if key == "Error":
            va, vb = message_shape("", va), message_shape("", vb)
        if va != vb:
            out.append((f"state {key}", va, vb))
    ta, tb = state_times(a), state_times(b)
    if ta != tb:
        out.append(("state times", ta, tb))
    return out
