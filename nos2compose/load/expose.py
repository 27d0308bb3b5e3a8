"""`expose`: ports (a number, {port, type, health_checks}, an array of those, or a literal) and their health checks."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

from ..contract import Placeholder
from ..diagnostics import Path
from ..model import Expose, HealthCheck, HttpCheck, Template, WebSocketCheck
from .literals import SPREAD
from .shape import Shape

EXPOSE_KINDS = ("api", "web", "webapi", "websocket", "none")
HTTP_METHODS = ("GET", "POST", "PUT", "DELETE")
# Where the schema allows a literal instead of a value (expose and __spread__), it must look like this.
SCHEMA_LITERAL = re.compile(r"%%(?:ops|global)[^\n\r\u2028\u2029][^%]+%%")


def check_raw_expose(sh: Shape, raw: Any, path: Path, op_id: str) -> None:
    """What only the job's own text can show: strings in expose must be literals."""
    items = raw if isinstance(raw, list) else [raw]
    for i, item in enumerate(items):
        here = (*path, i) if isinstance(raw, list) else path
        if isinstance(item, str) and not SCHEMA_LITERAL.fullmatch(item):
            sh.wrong(here, "a port number (or a literal such as %%global.variables.PORT%%)", item, op_id)
        elif isinstance(item, dict) and SPREAD in item:
            check_spread_marker(sh, item, here, op_id)
        elif (
            item is None
            or isinstance(item, (bool, list))
            or (isinstance(raw, list) and isinstance(item, dict) and not item)
        ):
            sh.wrong(here, "a port number, {port, type?, health_checks?}, or a literal", item, op_id)


def check_spread_marker(sh: Shape, obj: dict, path: Path, op_id: str) -> None:
    """`{__spread__: literal, chunked?}` as the schema allows it (in expose and resources)."""
    sh.known_keys(obj, path, [SPREAD, "chunked"], op_id)
    literal = obj[SPREAD]
    if not (isinstance(literal, str) and SCHEMA_LITERAL.fullmatch(literal)):
        sh.wrong((*path, SPREAD), "a literal such as %%ops.ID.results.KEY%%", literal, op_id)
    if "chunked" in obj:
        sh.boolean(obj["chunked"], (*path, "chunked"), op_id)


def expose_from(expose: Any) -> tuple[Placeholder, ...]:
    """Ports that come from results of earlier ops: each placeholder as a list to splice."""
    out = []
    for item in expose if isinstance(expose, list) else [expose]:
        found = item.whole if isinstance(item, Template) else None
        if found is not None:
            out.append(found if found.splice.startswith("items") else dataclasses.replace(found, splice="items"))
    return tuple(dict.fromkeys(out))


def read_expose(sh: Shape, raw: Any, path: Path, op_id: str) -> tuple[Expose, ...] | None:
    items = raw if isinstance(raw, list) else [raw]
    out: list[Expose] = []
    seen: dict[int, Path] = {}
    for i, item in enumerate(items):
        here = (*path, i) if isinstance(raw, list) else path
        if (isinstance(item, str) and ("%%" in item or isinstance(item, Template))) or (
            isinstance(item, dict) and SPREAD in item
        ):
            continue  # a run-time literal (its ports come later), or a malformed one (reported already)
        if (
            (isinstance(item, str) and not (item.strip().isascii() and item.strip().isdigit()))
            or item is None
            or isinstance(item, (bool, list))
        ):
            if not any(d.path == here and d.is_error for d in sh.diags.items):  # a literal's value, no port
                sh.wrong(here, "a port number (the literal's value is none)", item, op_id)
            continue
        if isinstance(item, dict):
            exp = _exposed_port(sh, item, here, op_id)
        else:
            port = sh.integer(item, here, 1, 65535, "a port", op_id, text_ok=True)
            exp = Expose(port) if port is not None else None
        if exp is None:
            continue
        if exp.port in seen:
            sh.diags.error(here, f"port {exp.port} is exposed twice by this op (ports must be unique)", op_id)
            continue
        seen[exp.port] = here
        out.append(exp)
    return tuple(out)


def _exposed_port(sh: Shape, obj: dict, path: Path, op_id: str) -> Expose | None:
    sh.known_keys(obj, path, ["port", "type", "health_checks"], op_id)
    if not sh.required(obj, "port", path, "the container port", op_id):
        return None
    port = sh.integer(obj["port"], (*path, "port"), 1, 65535, "a port", op_id)
    kind = sh.one_of(obj["type"], (*path, "type"), EXPOSE_KINDS, op_id) if "type" in obj else None
    checks: list[HealthCheck] = []
    if "health_checks" in obj:
        raw_checks = obj["health_checks"]
        if not isinstance(raw_checks, list):
            sh.wrong((*path, "health_checks"), "an array of health checks", raw_checks, op_id)
        else:
            for i, raw in enumerate(raw_checks):
                check = _health_check(sh, raw, (*path, "health_checks", i), op_id)
                if check is not None:
                    checks.append(check)
    return Expose(port, kind, tuple(checks)) if port is not None else None


def _health_check(sh: Shape, raw: Any, path: Path, op_id: str) -> HealthCheck | None:
    obj = sh.obj(raw, path, op_id)
    if obj is None or not sh.required(obj, "type", path, '"http" or "websocket"', op_id):
        return None
    kind = sh.one_of(obj["type"], (*path, "type"), ["http", "websocket"], op_id)
    if kind is None:
        return None
    continuous = False
    if "continuous" not in obj:
        sh.diags.strict_rule(path, "health check without 'continuous'", "read as false", op_id)
    else:
        continuous = bool(sh.boolean(obj["continuous"], (*path, "continuous"), op_id))
    if kind == "websocket":
        sh.known_keys(obj, path, ["type", "expected_response", "continuous"], op_id)
        if not sh.required(obj, "expected_response", path, "text the reply must contain", op_id):
            return None
        text = sh.string(obj["expected_response"], (*path, "expected_response"), op_id)
        return WebSocketCheck(text, continuous) if text is not None else None
    sh.known_keys(obj, path, ["type", "path", "method", "expected_status", "headers", "body", "continuous"], op_id)
    present = [
        sh.required(obj, key, path, what, op_id)
        for key, what in (
            ("path", "the URL path to request"),
            ("method", "GET, POST, PUT or DELETE"),
            ("expected_status", "the HTTP status that means healthy"),
        )
    ]
    if not all(present):
        return None
    url_path = sh.string(obj["path"], (*path, "path"), op_id)
    method = sh.one_of(obj["method"], (*path, "method"), HTTP_METHODS, op_id)
    status = sh.integer(obj["expected_status"], (*path, "expected_status"), 100, 599, "an HTTP status", op_id)
    headers = sh.string_map(obj["headers"], (*path, "headers"), op_id) if "headers" in obj else {}
    body = None
    if "body" in obj and method in ("POST", "PUT"):
        body = (
            obj["body"]
            if isinstance(obj["body"], str)
            else json.dumps(obj["body"], separators=(",", ":"), ensure_ascii=False)
        )
    if url_path is None or method is None or status is None or headers is None:
        return None
    return HttpCheck(url_path, method, status, tuple(headers.items()), body, continuous)
