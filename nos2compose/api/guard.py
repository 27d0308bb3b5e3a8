"""What every route of `serve` checks before it answers, and the node's answer shapes.

A request passes the Origin and Host checks (what a web page elsewhere could make a browser send), then the
token when one is set (the local stand-in for the node's signed authorization), then the job id; only then
does the handler run, in Starlette's thread pool (engine calls block).
"""

from __future__ import annotations

import hmac
import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

INVALID_JOB = (400, "invalid job id")
NO_JOB = (404, {"error": "No running job with that address"})  # the newer routes answer JSON (NodeError)


def text(body: str, status: int = 200) -> PlainTextResponse:
    return PlainTextResponse(body, status_code=status)


def message(body: str) -> JSONResponse:
    return JSONResponse({"message": body})


def failure(body: str) -> JSONResponse:
    return JSONResponse({"error": body}, status_code=500)


class Guard:
    """Wraps a handler into a Starlette endpoint behind the checks; `project` is the job id routes answer for."""

    def __init__(self, project: str, token: str | None, bound_host: str, present=None):
        self.project, self.token, self.bound_host = project, token, bound_host
        self.present = present or (lambda: True)  # whether the engine still has the job (gone after `down`)

    def refusal(self, request: Request) -> Response | None:
        """The answer to a request that may not pass (foreign origin or host, missing or wrong token), else None."""
        refused = _foreign(request, self.bound_host)
        if refused:
            return JSONResponse({"error": refused}, status_code=403)
        if self.token is not None and not self.authorized(request.headers.get("authorization", ""), request):
            return JSONResponse(
                {"error": "missing or wrong bearer token"}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
        return None

    def refused_socket(self, header: object, host: str, origin: str | None) -> str | None:
        """Why a WebSocket may not pass: a foreign Host or Origin (a browser always sends Origin), or the
        handshake's `header` without the token; None when it may."""
        name = host.split("]")[0] + "]" if host.startswith("[") else host.rsplit(":", 1)[0]
        if name and name not in set(LOCAL_NAMES) | {self.bound_host}:
            return f"host {name} is not served here"
        if origin is not None:
            from urllib.parse import urlsplit

            if (urlsplit(origin).hostname or "") not in set(LOCAL_NAMES) | {"::1", self.bound_host}:
                return "cross-origin requests are refused"
        if self.token is not None and not self.authorized(header if isinstance(header, str) else "", None, True):
            return "missing or wrong token in the handshake's header"
        return None

    def authorized(self, header: str, request: Request | None = None, bare: bool = False) -> bool:
        """Whether `Authorization: Bearer TOKEN` (or the page's ?token=) carries the token."""
        if self.token is None:
            return True
        if header.lower().startswith("bearer "):
            given = header[7:]
        elif bare:  # a WebSocket handshake's header: the token, with or without `Bearer `
            given = header
        else:
            given = request.query_params.get("token", "") if request is not None else ""
        return hmac.compare_digest(given.encode(), self.token.encode())

    def __call__(self, handler, job_route: bool = True, unknown=INVALID_JOB, with_body: bool = False, query=False):
        """The endpoint for `handler` (or, for a path with several methods, {method: handler}). `unknown` is the
        route's answer to an id that is not this job's (status, text or a JSON body); `query` hands the handler
        the query parameters."""

        async def endpoint(request: Request) -> Response:
            run = handler.get(request.method, handler.get("GET")) if isinstance(handler, dict) else handler
            refused = self.refusal(request)
            if refused is not None:
                return refused
            params = request.path_params
            if job_route and (params.get("job") != self.project or not await run_in_threadpool(self.present)):
                status, said = unknown  # as the node answers for a job it does not run (also once `down` ran)
                return JSONResponse(said, status_code=status) if isinstance(said, dict) else text(said, status)
            kwargs = {k: v for k, v in params.items() if k != "job"}
            if query:
                kwargs["query"] = request.query_params
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


def _foreign(request: Request, bound_host: str) -> str | None:
    """Refuse what a web page elsewhere could make a browser send: another Host (DNS rebinding),
    or a POST from another origin (a form or fetch from a foreign site)."""
    header = request.headers.get("host") or ""
    host = header.split("]")[0] + "]" if header.startswith("[") else header.rsplit(":", 1)[0]
    allowed = set(LOCAL_NAMES) | {bound_host}
    if host and host not in allowed:
        return f"host {host} is not served here"
    origin = request.headers.get("origin")
    if request.method != "GET" and origin is not None:
        from urllib.parse import urlsplit

        if (urlsplit(origin).hostname or "") not in set(LOCAL_NAMES) | {"::1", bound_host}:
            return "cross-origin requests are refused"
    return None
