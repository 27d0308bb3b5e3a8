"""Health checks that cost GPU time (NOS107: a continuous check that POSTs to a route where the model runs) or
never pass on a node (NOS115: a websocket check, which the node runs against its own tunnel container)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..diagnostics import Diagnostic
from .walk import RawOp, finding, run_ops

# Routes where a request makes the model work (generate, embed, draw), each with a cheap check to use instead.
INFERENCE_ROUTES: tuple[tuple[str, str], ...] = (
    ("/v1/chat/completions", "GET /v1/models"),
    ("/v1/completions", "GET /v1/models"),
    ("/v1/responses", "GET /v1/models"),
    ("/v1/embeddings", "GET /v1/models"),
    ("/v1/messages", "GET /v1/models"),
    ("/v1/images/generations", "GET /v1/models"),
    ("/v1/audio/transcriptions", "GET /v1/models"),
    ("/v1/audio/speech", "GET /v1/models"),
    ("/api/generate", "GET /api/tags"),
    ("/api/chat", "GET /api/tags"),
    ("/api/embed", "GET /api/tags"),
    ("/api/embeddings", "GET /api/tags"),
    ("/generate", "GET /health"),
    ("/generate_stream", "GET /health"),
    ("/embed", "GET /health"),
    ("/sdapi/v1/txt2img", "GET /sdapi/v1/sd-models"),
    ("/sdapi/v1/img2img", "GET /sdapi/v1/sd-models"),
    ("/prompt", "GET /system_stats"),
    ("/predict", "GET /health"),
    ("/invocations", "GET /ping"),
)
SENDS_BODY = ("POST", "PUT")


def inference_route(url_path: str) -> tuple[str, str] | None:
    """(route, cheaper check) when the path ends with an inference route (a prefix such as /openai may precede)."""
    path = url_path.split("?", 1)[0].rstrip("/").lower()
    for route, instead in INFERENCE_ROUTES:
        if path == route or path.endswith(route):
            return route, instead
    return None


def generating_checks(data: Any) -> Iterator[Diagnostic]:
    """NOS107, on each health check as written: continuous, POST or PUT, to an inference route."""
    for op in run_ops(data):
        for path, check in checks_of(op):
            method = check.get("method")
            url_path = check.get("path")
            if check.get("continuous") is not True or method not in SENDS_BODY or not isinstance(url_path, str):
                continue
            found = inference_route(url_path)
            if found is None:
                continue
            route, instead = found
            yield finding(
                "NOS107",
                path,
                f"a continuous health check that sends {method} {url_path}: on a node it runs every 30 s for the whole "
                f"job, each time making the model work ({route}), which costs GPU time and slows real requests; "
                f'check {instead} instead, or make it "continuous": false to gate start-up only',
                op.id,
            )


def websocket_checks(data: Any) -> Iterator[Diagnostic]:
    """NOS115, on each websocket health check: the node runs it at its tunnel container's own localhost."""
    for op in run_ops(data):
        for path, check in checks_of(op):
            if check.get("type") == "websocket":
                yield finding(
                    "NOS115",
                    path,
                    "a websocket health check: a node runs it as `curl ws://localhost:PORT` inside its tunnel "
                    "container, whose localhost is not this op, so it never passes there (locally it does): the op "
                    "never reports startup success and its dependents never start; check the port with an http "
                    "health check instead",
                    op.id,
                )


def checks_of(op: RawOp) -> Iterator[tuple[tuple, dict]]:
    """Each health check object of the op as written, with its path (expose as an array or a single object)."""
    expose = op.args.get("expose")
    items = list(enumerate(expose)) if isinstance(expose, list) else [(None, expose)]
    for index, item in items:
        checks = item.get("health_checks") if isinstance(item, dict) else None
        for n, check in enumerate(checks if isinstance(checks, list) else ()):
            if isinstance(check, dict):
                where = ("expose",) if index is None else ("expose", index)
                yield op.at(*where, "health_checks", n), check
