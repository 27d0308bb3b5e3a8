"""The node's words for a local op's state (the API's status maps and its flow state), defined once."""

from __future__ import annotations

import time

from ..supervisor.states import COMPLETED, ENDED, FAILED, PENDING, STOPPED, OpStatus

LOG_LINES = 20
MAX_LOGS = 24999  # the node keeps at most this many log lines per op (NodeRepository's MAX_LOGS)
EXPIRED_REASON = "Operation stopped due to flow expired"


class TaskError(Exception):
    """What the node's TaskManager throws; the message is its code (GROUP_NOT_ACTIVE, OPERATION_STOPPING, ...)."""


def node_status(status: OpStatus) -> str:
    """nos2compose's state in the node API's words (its TaskManager's OperationProgressStatuses).

    The node says `running` from the moment an op begins (before its image is pulled and
    whatever its health), `finished` for any exit, `failed` when it could not run.
    """
    if status.state == PENDING:
        return "pending"
    if status.state == STOPPED:
        return "stopped"
    if status.state == FAILED and not has_run(status):
        return "failed"
    if status.state in ENDED:
        return "finished" if status.exit_code is not None else "failed"
    if status.container_state == "restarting":
        return "restarting"
    return "running"


def has_run(status: OpStatus) -> bool:
    """Whether its container got to run (a create-volume op has none of its own)."""
    return status.present and status.container_state not in ("", "created")


def flow_status(status: OpStatus) -> str:
    """The op's status in the node's flow state (`/results`): success, failed, stopped, running, init."""
    if status.state == PENDING:
        return "init"
    if status.state == COMPLETED:
        return "success"
    if status.state == FAILED:
        return "failed"
    if status.state == STOPPED:
        return "stopped"
    return "running"


def _ms() -> int:
    return int(time.time() * 1000)
