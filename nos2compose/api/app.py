"""The HTTP layer of `nos2compose serve`: the node API's job routes and a status page, on Starlette.

Starlette and uvicorn are imported only here (by `serve` and `up --api`), never
on the `convert` path. Engine calls block, so the endpoints are plain functions,
which Starlette runs in its thread pool.
"""

from __future__ import annotations

import hmac
import json
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from .masking import masked
from .node import LocalNode, NodeRefusal

HERE = Path(__file__).parent


def create_app(node: LocalNode, token: str | None = None, bound_host: str = "127.0.0.1") -> Starlette:
    page = (HERE / "page.html").read_text(encoding="utf-8")
    openapi = (HERE / "openapi.json").read_text(encoding="utf-8")

    def guarded(handler, job_route=True):
        """Origin and Host first, then the token (when one is set), then the job id, then the handler;
        refusals become the node's answers."""

        def endpoint(request: Request) -> Response:
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
                return JSONResponse({"error": "invalid job id"}, status_code=400)
            try:
                return handler(**{k: v for k, v in params.items() if k != "job"})
            except NodeRefusal as refusal:
                return JSONResponse({"error": refusal.message}, status_code=refusal.status)
            except Exception as exc:  # the engine failed: say so, as the node does with 500
                return JSONResponse({"error": f"engine: {exc}"}, status_code=500)

        return endpoint

    def message(text: str, status: int = 200) -> JSONResponse:
        return JSONResponse({"message": text}, status_code=status)

    routes = [
        Route("/", guarded(lambda: HTMLResponse(page), job_route=False)),
        Route("/openapi.json", guarded(lambda: Response(openapi, media_type="application/json"), job_route=False)),
        Route("/local/status", guarded(lambda: JSONResponse(node.local_status()), job_route=False)),
        Route("/job/{job}/ops", guarded(lambda: JSONResponse(node.ops()))),
        Route("/job/{job}/ops/{op}", guarded(lambda op: JSONResponse(node.op(op)))),
        Route("/job/{job}/group/current", guarded(lambda: JSONResponse(node.group_ops("current")))),
        Route("/job/{job}/group/{group}", guarded(lambda group: JSONResponse(node.group_ops(group)))),
        Route(
            "/job/{job}/group/{group}/operation/{op}/stop",
            guarded(lambda group, op: message(node.stop_op(group, op))),
            methods=["POST"],
        ),
        Route(
            "/job/{job}/group/{group}/operation/{op}/restart",
            guarded(lambda group, op: message(node.restart_op(group, op), 202)),
            methods=["POST"],
        ),
        Route(
            "/job/{job}/group/{group}/stop", guarded(lambda group: message(node.stop_group(group))), methods=["POST"]
        ),
        Route(
            "/job/{job}/group/{group}/restart",
            guarded(lambda group: message(node.restart_group(group), 202)),
            methods=["POST"],
        ),
        Route("/job/{job}/stop", guarded(lambda: PlainTextResponse(node.stop_job())), methods=["POST"]),
        Route("/job/{job}/job-definition", guarded(lambda: _definition(node))),
        Route("/job/{job}/results", guarded(lambda: JSONResponse(node.results()))),
    ]
    app = Starlette(routes=routes)
    app.state.bound_host = bound_host
    return app


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


def _definition(node: LocalNode) -> Response:
    if node.job_definition is None:
        raise NodeRefusal("no job definition: this job was started from Compose group files", 400)
    return Response(json.dumps(masked(node.job_definition)), media_type="application/json")


def serve(app: Starlette, host: str, port: int) -> None:
    """Run the server in this thread until interrupted."""
    import uvicorn

    uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)).run()


def serve_in_background(app: Starlette, host: str, port: int):
    """Run the server in a daemon thread (for `up --api`); returns the uvicorn server (set should_exit to stop)."""
    import threading

    import uvicorn

    # uvicorn installs signal handlers only in the main thread: the supervisor keeps Ctrl-C and SIGTERM
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False))
    threading.Thread(target=server.run, daemon=True).start()
    return server
