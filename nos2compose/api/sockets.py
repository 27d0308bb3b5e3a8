"""The node's one WebSocket endpoint (`x-websocket` in its OpenAPI document), at the API's origin.

The first frame is a JSON handshake `{path, header, body}`: `header` carries what the HTTP routes take as their
authorization (locally the --token, with or without `Bearer `), `body.jobAddress` names the job. Every later
frame is `{path, data}` as text; only the terminal sends raw binary frames. Refusals close the socket with the
node's codes and reasons (1007 no such job, 3000 unauthorized, 3003 invalid path, 1011 internal error).
docs/websocket.md shows the frames and a client.
"""

from __future__ import annotations

import asyncio
import json
import threading

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from .guard import Guard
from .journal import Journal
from .node import LocalNode
from .terminal import run_terminal

POLL = 0.2  # seconds between looks for new entries while a stream is open


def socket_routes(guard: Guard, node: LocalNode, journal: Journal, stopping: threading.Event) -> list[WebSocketRoute]:

    async def endpoint(ws: WebSocket) -> None:
        await ws.accept()
        try:
            first = json.loads(await ws.receive_text())
            path, header, body = first.get("path"), first.get("header"), first.get("body") or {}
        except (ValueError, AttributeError, KeyError, WebSocketDisconnect):
            await _close(ws, 1011, "Internal Server Error")
            return
        refused = guard.refused_socket(header, ws.headers.get("host", ""), ws.headers.get("origin"))
        job = body.get("jobAddress") if isinstance(body, dict) else None
        if path not in ("/log", "/flog", "/status", "/terminal"):
            return await _close(ws, 3003, "Invalid Path")
        if not job:
            return await _close(ws, 1007, "Expected body to contain jobAddress.")
        if refused:
            return await _close(ws, 3000, f"Unauthorized Request: {refused}")
        if job != node.plan.project:  # as the HTTP routes refuse another job's id
            return await _close(ws, 1007, f"Could not find job with id {job}")
        try:
            if path == "/terminal":
                await run_terminal(ws, node, body, stopping)
            else:
                await asyncio.to_thread(journal.start)
                await _stream(ws, journal, path, body, stopping)
        except WebSocketDisconnect:
            pass

    return [WebSocketRoute("/", endpoint)]


async def _close(ws: WebSocket, code: int, reason: str) -> None:
    try:
        await ws.close(code, reason[:120])
    except RuntimeError:  # already closed by the client
        pass


def _chosen(path: str, body: dict):
    """(journal kind, frame path, which entries to send in the history, which later) for a stream route."""
    if path == "/status":
        return "state", "state", (lambda e: True), (lambda e: True)
    if path == "/log":
        return "flog", "log", (lambda e: True), (lambda e: True)
    group, op, kind = body.get("group"), body.get("opId"), body.get("type")

    def history(e):  # the node's history: by op, else by group, else all (its type filter is for live ones)
        return e["opId"] == op if op else e["group"] == group if group else True

    def live(e):
        return (not group or e["group"] == group) and (not op or e["opId"] == op) and (not kind or e["type"] == kind)

    return "flog", "flog", history, live


async def _stream(ws: WebSocket, journal: Journal, path: str, body: dict, stopping: threading.Event) -> None:
    """History first, then live entries as frames `{path, data}` with data a JSON text, until the client leaves."""
    kind, frame_path, history, live = _chosen(path, body)
    project = journal.view.plan.project
    entries, cursor = journal.since(kind, 0)
    chosen = [e for e in entries if history(e)]
    receiving = asyncio.ensure_future(ws.receive())
    try:
        while not stopping.is_set():
            for entry in chosen:
                data = _node_log(entry, project) if path == "/log" else entry
                await ws.send_text(json.dumps({"path": frame_path, "data": json.dumps(data, ensure_ascii=False)}))
            done, _ = await asyncio.wait({receiving}, timeout=POLL)
            if done and receiving.result().get("type") == "websocket.disconnect":
                return
            if done:  # the node ignores what a client sends on these routes
                receiving = asyncio.ensure_future(ws.receive())
            entries, cursor = journal.since(kind, cursor)
            chosen = [e for e in entries if live(e)]
        await _close(ws, 1001, "server stopping")
    finally:
        receiving.cancel()


def _node_log(entry: dict, project: str) -> dict:
    """A task log entry as the node's /log sends it (NodeLogEntry): container lines are its displayLog."""
    if entry["type"] == "container":
        method, kind = "NodeRepository.displayLog", "log"
    else:
        method, kind = "TaskManager.operation", entry["type"]
    return {"method": method, "job": project, "log": entry["message"], "timestamp": entry["timestamp"], "type": kind}
