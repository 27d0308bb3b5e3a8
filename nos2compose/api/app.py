"""The HTTP layer of `nos2compose serve`: the node API's routes and a status page, on Starlette.

Each route answers as the node's handler does (services/NodeManager/node/api/routes in
nosana-cli): the same status codes, messages and body shapes, errors as plain text where
the node sends a bare sentence (`res.status(400).send('invalid job id')`) and as JSON where
it sends `{error}`. Where Express labels a JSON text as HTML (`res.send(JSON.stringify(…))`),
it is served here as application/json. Routes are grouped by what they serve: the page, the
node itself, the job's flow, and the job's tasks; guard.py checks every request first.

Starlette and uvicorn are imported only here (by `serve` and `up --api`), never
on the `convert` path.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from starlette.applications import Starlette
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from .guard import NO_JOB, Guard, failure, message, text
from .machine import validation_errors
from .masking import masked
from .node import LocalNode
from .ssh import JobKeys, KeyRefused
from .stats import Sampler, stats_query

HERE = Path(__file__).parent
INFO_POLL = 1.0  # seconds between looks at the job while /info streams (the node's INTERVAL_MS)
KEEP_ALIVE = 15.0  # seconds between the stream's keep-alive comments, as on the node


def create_app(
    node: LocalNode,
    token: str | None = None,
    bound_host: str = "127.0.0.1",
    stream_limit: float | None = None,
    sampler: Sampler | None = None,
) -> Starlette:
    """The app; `stream_limit` ends each stream after that many seconds (None: when the job ends). Its stats
    sampler runs while the app does (from its start: the first sample within 2 s)."""
    from contextlib import asynccontextmanager

    from .journal import Journal
    from .sockets import socket_routes

    guard = Guard(node.plan.project, token, bound_host, node.present)
    stopping = threading.Event()  # set when the server is asked to exit: open streams end
    sampler = sampler or Sampler(node)
    journal = Journal(node)  # the WebSocket's task log, read back from the engine when a client first asks
    routes = [
        *page_routes(guard, node),
        *node_routes(guard, node),
        *flow_routes(guard, node, stream_limit, stopping),
        *task_routes(guard, node),
        *stats_routes(guard, node, sampler, stream_limit, stopping),
        *ssh_routes(guard, node),
        *socket_routes(guard, node, journal, stopping),
    ]

    @asynccontextmanager
    async def lifespan(_app):
        import asyncio

        sampler.start()
        try:
            yield
        finally:  # the engine's stats streams and log followers end with the server
            stopping.set()
            sampler.stop()
            journal.stop()
            await asyncio.to_thread(node.engine.stop_stats)

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.bound_host = bound_host
    app.state.stopping = stopping
    app.state.sampler = sampler
    return app


def page_routes(guard: Guard, node: LocalNode) -> list[Route]:
    """The status page, its data, and the OpenAPI document of all routes."""
    page = (HERE / "page.html").read_text(encoding="utf-8")
    openapi = (HERE / "openapi.json").read_text(encoding="utf-8")
    xterm = HERE / "static" / "xterm"  # xterm.js from npm, shipped in the package: the page needs no CDN
    vendored = {"xterm.js": "text/javascript", "xterm.css": "text/css", "LICENSE": "text/plain"}

    def asset(name: str):
        if name not in vendored:
            return text("Not Found", 404)
        return Response(
            (xterm / name).read_bytes(), media_type=vendored[name], headers={"Cache-Control": "max-age=3600"}
        )

    return [
        Route("/", guard(lambda: HTMLResponse(page), job_route=False)),
        Route("/static/xterm/{name}", guard(asset, job_route=False)),
        Route("/openapi.json", guard(lambda: Response(openapi, media_type="application/json"), job_route=False)),
        Route("/local/status", guard(lambda: JSONResponse(node.reports.local_status()), job_route=False)),
    ]


def node_routes(guard: Guard, node: LocalNode) -> list[Route]:
    """The node itself: its info, and validation of a posted job as the node validates it."""

    def validate(body):
        if body is None:
            return text("Missing job definition.", 400)
        errors = validation_errors(body)
        if errors:
            return JSONResponse({"error": "Failed to validate job defintion.", "message": errors}, status_code=400)
        return Response(status_code=200)  # the node answers with an empty body, then runs it as a benchmark

    return [
        Route("/node/info", guard(lambda: JSONResponse(node.reports.node_info()), job_route=False)),
        Route("/node/validate", guard(validate, job_route=False, with_body=True), methods=["POST"]),
    ]


def flow_routes(guard: Guard, node: LocalNode, stream_limit: float | None, stopping: threading.Event) -> list[Route]:
    """The job's flow: its state, info stream, definition, ops' statuses and endpoints."""

    def definition():
        if node.job_definition is None:
            return text("no job definition: this job was started from Compose group files", 400)
        return JSONResponse(masked(node.job_definition))

    def endpoints():
        found = node.reports.endpoints()
        return JSONResponse(found) if found is not None else text("No exposed url for job id", 400)

    def info():
        return StreamingResponse(
            _info_frames(node, stream_limit, stopping),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return [
        Route("/job/{job}/info", guard(info, unknown=(404, "Failed to find job for provided job id."))),
        Route("/job/{job}/results", guard(lambda: JSONResponse(node.reports.results()))),
        Route(
            "/job/{job}/job-definition",
            guard({"GET": definition, "POST": lambda: text("cannot send job definition at this time", 400)}),
            methods=["GET", "POST"],
        ),
        Route("/job/{job}/ops", guard(lambda: JSONResponse(node.ops()))),
        Route("/job/{job}/ops/{op}", guard(lambda op: JSONResponse(node.op(op)))),
        Route("/job/{job}/group/current", guard(lambda: JSONResponse(node.group_ops("current")))),
        Route("/job/{job}/group/{group}", guard(lambda group: JSONResponse(node.group_ops(group)))),
        Route("/job/{job}/endpoints", guard(endpoints, unknown=(400, "No exposed url for job id"))),
    ]


def task_routes(guard: Guard, node: LocalNode) -> list[Route]:
    """The node's task routes (routes/post/job-operation-actions.ts): stop, restart and move, in its words."""

    def acting(action, failed: str, done: str, with_reason: bool = False):
        """A task route in the node's words: {"message": done}, or a 500 {"error": failed[: reason]}."""

        def handler(**params):  # the route's group, then op
            try:
                action(*(params[key] for key in ("group", "op") if key in params))
            except Exception as exc:
                return failure(f"{failed}: {exc}" if with_reason else failed)
            return message(done)

        return handler

    def stop_job():
        try:
            node.stop_job()
        except Exception:
            return text("Error occured while stopping job", 500)
        return text("job stopped successfully")

    stop_op = acting(node.stop_op, "Failed to Stop operation", "Operation Stopped", with_reason=True)
    restart_op = acting(node.restart_op, "Failed to restart operation", "Operation restarted", with_reason=True)
    stop_group = acting(node.stop_group, "Failed to stop group operations", "Group Operation Stopped")
    restart_group = acting(node.restart_group, "Failed to restart group operations", "Group Operation restarted")
    # sic: the node's move answers with its restart's words
    move_group = acting(node.move_group, "Failed to restart group operations", "Group Operation restarted")
    post = ["POST"]
    return [
        Route("/job/{job}/group/{group}/move", guard(move_group), methods=post),
        Route("/job/{job}/group/{group}/operation/{op}/restart", guard(restart_op), methods=post),
        Route("/job/{job}/group/{group}/restart", guard(restart_group), methods=post),
        Route("/job/{job}/group/{group}/operation/{op}/stop", guard(stop_op), methods=post),
        Route("/job/{job}/group/{group}/stop", guard(stop_group), methods=post),
        Route("/job/{job}/stop", guard(stop_job), methods=post),
    ]


def stats_routes(
    guard: Guard, node: LocalNode, sampler: Sampler, limit: float | None, stopping: threading.Event
) -> list[Route]:
    """Each op's CPU, memory, disk and network (the node's TaskStat), in a window or as a stream."""

    def window(query):
        asked = stats_query(query)
        if isinstance(asked, str):
            return JSONResponse({"error": asked}, status_code=400)
        interval, start, end = asked
        return JSONResponse(sampler.window(start, end, interval))

    def stream(query):
        asked = stats_query({"interval": query.get("interval")})
        if isinstance(asked, str):
            return JSONResponse({"error": asked}, status_code=400)
        return StreamingResponse(
            _stat_frames(node, sampler, asked[0], limit, stopping),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return [
        Route("/job/{job}/stats", guard(window, unknown=NO_JOB, query=True)),
        Route("/job/{job}/stats/stream", guard(stream, unknown=NO_JOB, query=True)),
    ]


def ssh_routes(guard: Guard, node: LocalNode) -> list[Route]:
    """The SSH keys granted to the job (kept in its state record; no SSH server runs locally)."""
    keys = JobKeys(node.plan.project)

    def answer(act, status: int = 200):
        def handler(body):
            try:
                done = act(body)
            except KeyRefused as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
            if done is None:
                return JSONResponse({"error": "No such SSH key for this job"}, status_code=404)
            return JSONResponse(done, status_code=status)

        return handler

    return [
        Route(
            "/job/{job}/ssh/authorize",
            guard(answer(keys.authorize, 201), unknown=NO_JOB, with_body=True),
            methods=["POST"],
        ),
        Route(
            "/job/{job}/ssh/keys",
            guard(
                {"GET": lambda body: JSONResponse(keys.listed()), "DELETE": answer(keys.revoke)},
                unknown=NO_JOB,
                with_body=True,
            ),
            methods=["GET", "DELETE"],
        ),
    ]


def _stat_frames(node: LocalNode, sampler: Sampler, interval: int, limit: float | None, stopping: threading.Event):
    """Server-sent events: the latest sample of each op (TaskStat[]) every `interval` seconds, until the flow
    has ended (or the server is stopping, or `limit` seconds have passed)."""
    began = time.monotonic()
    while True:
        yield f"data: {json.dumps(sampler.latest(), separators=(',', ':'))}\n\n"
        try:
            over = node.ended(node.statuses())
        except Exception:  # the engine went away: end the stream
            return
        if over or (limit is not None and time.monotonic() - began >= limit) or stopping.wait(interval):
            return


def _info_frames(node: LocalNode, limit: float | None, stopping: threading.Event):
    """Server-sent events as the node sends them: a `data:` frame on open and whenever the info changes
    (looked at every second), a keep-alive comment every 15 s, until the flow has ended (or the server
    is stopping)."""
    began = last_sent = time.monotonic()
    last = None
    while True:
        try:
            frame = node.reports.info()
        except Exception:  # the engine went away: end the stream
            return
        body = json.dumps(frame, separators=(",", ":"), ensure_ascii=False)
        if body != last:
            yield f"data: {body}\n\n"
            last, last_sent = body, time.monotonic()
        if frame["endTime"] is not None or (limit is not None and time.monotonic() - began >= limit):
            return
        if stopping.wait(INFO_POLL):
            return
        if time.monotonic() - last_sent >= KEEP_ALIVE:
            yield ": keep-alive\n\n"
            last_sent = time.monotonic()
