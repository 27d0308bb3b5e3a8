"""`expose`: ports (a number, {port, type, health_checks}, an array of those, or a literal) and their health checks."""

from __future__ import annotations

import re
from typing import Any

from ..diagnostics import Path
from ..model import Expose, HealthCheck, HttpCheck, Placeholder, Template, WebSocketCheck
from .literals import SPREAD
from .node_values import js_json, js_truthy
from .shape import Shape

EXPOSE_KINDS = ("api", "web", "webapi", "websocket", "none")
HTTP_METHODS = ("GET", "POST", "PUT", "DELETE")
RANGE = re.compile(r"^\s*(\d{1,5})-(\d{1,5})\s*$")  # "8000-8010": a range of ports, published whole
# Where the schema allows a literal instead of a value (expose and __spread__), it must look like this.
SCHEMA_LITERAL = re.compile(r"%%(?:ops|global)[^\n\r\u2028\u2029][^%]+%%")


def check_raw_expose(sh: Shape, raw: Any, path: Path, op_id: str) -> None:
    """What only the job's own text can show: strings in expose must be literals."""
    items = raw if isinstance(raw, list) else [raw]
    for i, item in enumerate(items):
        here = (*path, i) if isinstance(raw, list) else path
        port = item.get("port") if isinstance(item, dict) else item
        if isinstance(port, str) and RANGE.match(port):
            sh.diags.strict_rule(
                here,
                "a port range, which @nosana/sdk and the node accept (the node publishes the "
                "whole range) but @nosana/types rejects",
                "published whole",
                op_id,
                "NOS008",
            )
        elif isinstance(item, str) and not SCHEMA_LITERAL.fullmatch(item):
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
            out.append(found if found.splice.startswith("items") else found._replace(splice="items"))
    return tuple(dict.fromkeys(out))


def read_expose(sh: Shape, raw: Any, path: Path, op_id: str) -> tuple[Expose, ...] | None:
    items = raw if isinstance(raw, list) else [raw]
    out: list[Expose] = []
    seen: dict[int, Path] = {}
    located = {d.path for d in sh.diags.items if d.is_error}  # looked up per item, not scanned: items may be many
    for i, item in enumerate(items):
        here = (*path, i) if isinstance(raw, list) else path
        if (isinstance(item, str) and ("%%" in item or isinstance(item, Template))) or (
            isinstance(item, dict) and SPREAD in item
        ):
            continue  # a run-time literal (its ports come later), or a malformed one (reported already)
        if isinstance(item, str) and RANGE.match(item):
            exp = _range(sh, item, here, op_id)
        elif (
            (isinstance(item, str) and not (item.strip().isascii() and item.strip().isdigit()))
            or item is None
            or isinstance(item, (bool, list))
        ):
            if here not in located:  # a literal's value, no port
                sh.wrong(here, "a port number (the literal's value is none)", item, op_id)
            continue
        elif isinstance(item, dict):
            exp = _exposed_port(sh, item, here, op_id)
        else:
            port = sh.integer(item, here, 1, 65535, "a port", op_id, text_ok=True)
            exp = Expose(port) if port is not None else None
        if exp is None:
            continue
        twice = [p for p in range(exp.port, exp.port + exp.count) if p in seen]
        if twice:
            sh.diags.error(here, f"port {twice[0]} is exposed twice by this op (ports must be unique)", op_id)
            continue
        seen.update(dict.fromkeys(range(exp.port, exp.port + exp.count), here))
        out.append(exp)
    return tuple(out)


def _range(sh: Shape, text: str, path: Path, op_id: str, kind: str | None = None) -> Expose | None:
    first, last = (int(n) for n in RANGE.match(text).groups())
    if not 1 <= first <= last <= 65535:
        sh.wrong(path, "a port range FIRST-LAST with 1 <= FIRST <= LAST <= 65535", text, op_id)
        return None
    return Expose(first, kind, (), last if last != first else None)


def _exposed_port(sh: Shape, obj: dict, path: Path, op_id: str) -> Expose | None:
    sh.known_keys(obj, path, ["port", "type", "health_checks"], op_id)
    if not sh.required(obj, "port", path, "the container port", op_id):
        return None
    kind = sh.one_of(obj["type"], (*path, "type"), EXPOSE_KINDS, op_id) if "type" in obj else None
    if isinstance(obj["port"], str) and RANGE.match(obj["port"]):
        if obj.get("health_checks"):
            sh.diags.warning(
                (*path, "health_checks"),
                "health checks on a port range are not run locally (a healthcheck needs one port); ignored",
                op_id,
                "NOS909",
            )
        return _range(sh, obj["port"], (*path, "port"), op_id, kind)
    port = sh.integer(obj["port"], (*path, "port"), 1, 65535, "a port", op_id)
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
        sh.diags.strict_rule(path, "health check without 'continuous'", "read as false", op_id, "NOS005")
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
    if js_truthy(obj.get("body")) and method in ("POST", "PUT"):  # ExposedPortHealthCheck.ts: `if (body && …)`
        body = obj["body"] if isinstance(obj["body"], str) else js_json(obj["body"])
    if url_path is None or method is None or status is None or headers is None:
        return None
    return HttpCheck(url_path, method, status, tuple(headers.items()), body, continuous)
