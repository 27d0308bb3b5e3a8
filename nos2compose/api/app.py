"""The HTTP layer of `nos2compose serve`: the node API's routes and a status page, on Starlette.

Each route answers as the node's handler does (services/NodeManager/node/api/routes in
nosana-cli): the same status codes, messages and body shapes, errors as plain text where
the node sends a bare sentence (`res.status(400).send('invalid job id')`) and as JSON where
it sends `{error}`. Where Express labels a JSON text as HTML (`res.send(JSON.stringify(…))`),
it is served here as application/json.

Starlette and uvicorn are imported only here (by `serve` and `up --api`), never
on the `convert` path. Engine calls block, so handlers are plain functions run in
Starlette's thread pool.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from .machine import validation_errors
from .masking import masked
from .node import LocalNode

HERE = Path(__file__).parent
INVALID_JOB = (400, "invalid job id")
INFO_POLL = 1.0  # seconds between looks at the job while /info streams (the node's INTERVAL_MS)
KEEP_ALIVE = 15.0  # seconds between the stream's keep-alive comments, as on the node


def text(body: str, status: int = 200) -> PlainTextResponse:
    return PlainTextResponse(body, status_code=status)


def create_app(
    node: LocalNode, token: str | None = None, bound_host: str = "127.0.0.1", stream_limit: float | None = None
) -> Starlette:
    """The app; `stream_limit` ends each /info stream after that many seconds (None: when the job ends)."""
    page = (HERE / "page.html").read_text(encoding="utf-8")
    openapi = (HERE / "openapi.json").read_text(encoding="utf-8")
    stopping = threading.Event()  # set when the server is asked to exit: open /info streams end

    def guarded(handler, job_route=True, unknown=INVALID_JOB, with_body=False):
        """Origin and Host first, then the token (when one is set), then the job id, then the handler
        (or, for a path with several methods, the method's). `unknown` is the route's answer to an id
        that is not this job's."""

        async def endpoint(request: Request) -> Response:
            run = handler.get(request.method, handler.get("GET")) if isinstance(handler, dict) else handler
            refusal = _foreign(request)
            if refusal:
                return JSONResponse({"error": refusal}, status_code=403)
            if token is not None:
                given = request.headers.get("authorization", "")
                given = given[7:] if given.lower().startswith("bearer ") else request.query_params.get("token", "")
                if not hmac.compare_digest(given.encode(), token.encode()):
                    return JSONResponse(
                        {"error": "missing or wrong bearer token"},
                        status_code=401,
                        headers={"WWW-Authenticate": "Bearer"},
                    )
            params = request.path_params
            if job_route and params.get("job") != node.plan.project:
                return text(unknown[1], unknown[0])
            kwargs = {k: v for k, v in params.items() if k != "job"}
            if with_body:
                body = await _body(request)
                if isinstance(body, Response):
                    return body
                kwargs["body"] = body
            try:
                return await run_in_threadpool(run, **kwargs)
            except Exception as exc:  # the engine failed: say so, with a 500 as the node's crashes do
                return JSONResponse({"error": f"engine: {exc}"}, status_code=500)

        return endpoint

    def message(body: str) -> JSONResponse:
        return JSONResponse({"message": body})

    def failure(body: str) -> JSONResponse:
        return JSONResponse({"error": body}, status_code=500)

    # -- the node's task routes (routes/post/job-operation-actions.ts) -------------------

    def acting(action, failed: str, done: str, with_reason: bool = False):
        """A task route in the node's words: {"message": done}, or a 500 {"error": failed[: reason]}."""

        def handler(**params):  # the route's group, then op
            try:
                action(*(params[key] for key in ("group", "op") if key in params))
            except Exception as exc:
                return failure(f"{failed}: {exc}" if with_reason else failed)
            return message(done)

        return handler

    stop_op = acting(node.stop_op, "Failed to Stop operation", "Operation Stopped", with_reason=True)
    restart_op = acting(node.restart_op, "Failed to restart operation", "Operation restarted", with_reason=True)
    stop_group = acting(node.stop_group, "Failed to stop group operations", "Group Operation Stopped")
    restart_group = acting(node.restart_group, "Failed to restart group operations", "Group Operation restarted")
    # sic: the node's move answers with its restart's words
    move_group = acting(node.move_group, "Failed to restart group operations", "Group Operation restarted")

    def stop_job():
        try:
            node.stop_job()
        except Exception:
            return text("Error occured while stopping job", 500)
        return text("job stopped successfully")

    # -- the flow's routes ---------------------------------------------------------------

    def definition():
        if node.job_definition is None:
            return text("no job definition: this job was started from Compose group files", 400)
        return JSONResponse(masked(node.job_definition))

    def endpoints():
        found = node.endpoints()
        return JSONResponse(found) if found is not None else text("No exposed url for job id", 400)

    def info():
        return StreamingResponse(
            _info_frames(node, stream_limit, stopping),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    def validate(body):
        if body is None:
            return text("Missing job definition.", 400)
        errors = validation_errors(body)
        if errors:
            return JSONResponse({"error": "Failed to validate job defintion.", "message": errors}, status_code=400)
        return Response(status_code=200)  # the node answers with an empty body, then runs it as a benchmark

    routes = [
        Route("/", guarded(lambda: HTMLResponse(page), job_route=False)),
        Route("/openapi.json", guarded(lambda: Response(openapi, media_type="application/json"), job_route=False)),
        Route("/local/status", guarded(lambda: JSONResponse(node.local_status()), job_route=False)),
        Route("/node/info", guarded(lambda: JSONResponse(node.node_info()), job_route=False)),
        Route("/node/validate", guarded(validate, job_route=False, with_body=True), methods=["POST"]),
        Route("/job/{job}/info", guarded(info, unknown=(404, "Failed to find job for provided job id."))),
        Route("/job/{job}/results", guarded(lambda: JSONResponse(node.results()))),
        Route(
            "/job/{job}/job-definition",
            guarded({"GET": definition, "POST": lambda: text("cannot send job definition at this time", 400)}),
            methods=["GET", "POST"],
        ),
        Route("/job/{job}/ops", guarded(lambda: JSONResponse(node.ops()))),
        Route("/job/{job}/ops/{op}", guarded(lambda op: JSONResponse(node.op(op)))),
        Route("/job/{job}/group/current", guarded(lambda: JSONResponse(node.group_ops("current")))),
        Route("/job/{job}/group/{group}", guarded(lambda group: JSONResponse(node.group_ops(group)))),
        Route("/job/{job}/endpoints", guarded(endpoints, unknown=(400, "No exposed url for job id"))),
        Route("/job/{job}/group/{group}/move", guarded(move_group), methods=["POST"]),
        Route("/job/{job}/group/{group}/operation/{op}/restart", guarded(restart_op), methods=["POST"]),
        Route("/job/{job}/group/{group}/restart", guarded(restart_group), methods=["POST"]),
        Route("/job/{job}/group/{group}/operation/{op}/stop", guarded(stop_op), methods=["POST"]),
        Route("/job/{job}/group/{group}/stop", guarded(stop_group), methods=["POST"]),
        Route("/job/{job}/stop", guarded(stop_job), methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.bound_host = bound_host
    app.state.stopping = stopping
    return app


def _info_frames(node: LocalNode, limit: float | None, stopping: threading.Event):
    """Server-sent events as the node sends them: a `data:` frame on open and whenever the info changes
    (looked at every second), a keep-alive comment every 15 s, until the flow has ended (or the server
    is stopping)."""
    began = last_sent = time.monotonic()
    last = None
    while True:
        try:
            frame = node.info()
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


async def _body(request: Request):
    """The posted JSON (whatever its content type), None for an empty body, or a plain-text 400/413."""
    from ..source.reader import input_limit

    limit = input_limit()
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            return text("request entity too large", 413)
    if not raw.strip():
        return None
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        return text(f"invalid JSON: {exc}", 400)


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


LOCAL_NAMES = ("127.0.0.1", "localhost", "[::1]")


def _foreign(request: Request) -> str | None:
    """Refuse what a web page elsewhere could make a browser send: another Host (DNS rebinding),
    or a POST from another origin (a form or fetch from a foreign site)."""
    header = request.headers.get("host") or ""
    host = header.split("]")[0] + "]" if header.startswith("[") else header.rsplit(":", 1)[0]
    allowed = set(LOCAL_NAMES) | {request.app.state.bound_host}
    if host and host not in allowed:
        return f"host {host} is not served here"
    origin = request.headers.get("origin")
    if request.method != "GET" and origin is not None:
        from urllib.parse import urlsplit

        if (urlsplit(origin).hostname or "") not in set(LOCAL_NAMES) | {"::1", request.app.state.bound_host}:
            return "cross-origin requests are refused"
    return None


def _server(app: Starlette, host: str, port: int):
    import uvicorn

    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame):  # Ctrl-C or SIGTERM: end the open /info streams first
            app.state.stopping.set()
            super().handle_exit(sig, frame)

    # whatever else holds a connection open gets 2 s before the shutdown goes on
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False, timeout_graceful_shutdown=2
    )
    return Server(config)


def serve(app: Starlette, host: str, port: int) -> None:
    """Run the server in this thread until interrupted."""
    _server(app, host, port).run()


def serve_in_background(app: Starlette, host: str, port: int):
    """Run the server in a daemon thread (for `up --api`); returns the uvicorn server (set should_exit to stop)."""
    # uvicorn installs signal handlers only in the main thread: the supervisor keeps Ctrl-C and SIGTERM
    server = _server(app, host, port)
    threading.Thread(target=server.run, daemon=True).start()
    return server
