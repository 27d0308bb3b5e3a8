"""The WebSocket's `/terminal`: an interactive shell in an op's container, on a real terminal.

The client sends `{type: stdin, data}` and `{type: resize, cols, rows}` as text frames; the node sends the
terminal's output as binary frames, then `{type: exit, code}`, or `{type: error, message}` when there is no
shell to open. The handshake's body may name the `op` (else the first running op, where a node would open the
job's own shell) and the first `cols` and `rows`; its `message` and `signature` (the node's signed grant) are
optional and ignored locally, where --token is the authorization.
"""

from __future__ import annotations

import asyncio
import json
import threading

from starlette.websockets import WebSocket, WebSocketDisconnect

from .node import LocalNode


def _container(node: LocalNode, op_id: str | None) -> tuple[str | None, str]:
    """(container id, '') of the op (or of the first running op), or (None, why not)."""
    statuses = node.statuses()
    if op_id:
        found = next((s for s in statuses if s.op.id == op_id), None)
        if found is None:
            return None, f"the job has no op {op_id}"
        if found.container_state != "running":
            return None, f"op {op_id} is not running (it is {found.state}): there is no shell to open"
        return found.container_id, ""
    running = [s for s in statuses if s.container_state == "running" and s.container_id]
    if not running:
        return None, "no op of the job is running: there is no shell to open"
    return running[0].container_id, ""


def _size(value, default: int) -> int:
    return value if isinstance(value, int) and 0 < value < 10_000 else default


async def run_terminal(ws: WebSocket, node: LocalNode, body: dict, stopping: threading.Event) -> None:
    """Run a shell in the op's container until it exits or the client leaves."""
    op_id = body.get("op") if isinstance(body.get("op"), str) else None
    container, why = await asyncio.to_thread(_container, node, op_id)
    if container is None:
        await ws.send_text(json.dumps({"type": "error", "message": why}))
        await ws.close(1000)
        return
    try:
        tty = await asyncio.to_thread(
            node.engine.shell_tty, container, _size(body.get("cols"), 80), _size(body.get("rows"), 24)
        )
    except OSError as exc:
        await ws.send_text(json.dumps({"type": "error", "message": f"cannot start docker exec: {exc}"}))
        await ws.close(1000)
        return
    loop = asyncio.get_running_loop()
    output: asyncio.Queue = asyncio.Queue()

    def readable() -> None:
        data = tty.read()
        if not data:
            loop.remove_reader(tty.fd)
        output.put_nowait(data)

    loop.add_reader(tty.fd, readable)
    try:
        await _relay(ws, tty, output, stopping)
    finally:
        loop.remove_reader(tty.fd)
        await asyncio.to_thread(tty.close)


async def _relay(ws: WebSocket, tty, output: asyncio.Queue, stopping: threading.Event) -> None:
    """Output to the client as binary frames, the client's keystrokes and sizes to the terminal."""
    receiving = asyncio.ensure_future(ws.receive())
    sending = asyncio.ensure_future(output.get())
    try:
        while not stopping.is_set():
            done, _ = await asyncio.wait({receiving, sending}, timeout=0.5, return_when=asyncio.FIRST_COMPLETED)
            if sending in done:
                data = sending.result()
                if not data:  # the shell has ended
                    code = await asyncio.to_thread(tty.proc.wait)
                    await ws.send_text(json.dumps({"type": "exit", "code": code}))
                    await ws.close(1000)
                    return
                await ws.send_bytes(data)
                sending = asyncio.ensure_future(output.get())
            if receiving in done:
                message = receiving.result()
                if message.get("type") == "websocket.disconnect":
                    return
                _control(tty, message.get("text") or (message.get("bytes") or b"").decode("utf-8", "replace"))
                receiving = asyncio.ensure_future(ws.receive())
    except WebSocketDisconnect:
        return
    finally:
        receiving.cancel()
        sending.cancel()


def _control(tty, text: str) -> None:
    """A client frame: {type: stdin, data} or {type: resize, cols, rows}; anything else is ignored."""
    try:
        frame = json.loads(text)
    except ValueError:
        return
    if not isinstance(frame, dict):
        return
    if frame.get("type") == "stdin" and isinstance(frame.get("data"), str):
        tty.write(frame["data"].encode("utf-8"))
    elif frame.get("type") == "resize":
        tty.resize(_size(frame.get("cols"), 80), _size(frame.get("rows"), 24))
