"""Findings as documents: JSON, SARIF 2.1.0 and GitHub workflow commands. Pure: text in, text out.

Each finding arrives located (file, line and column worked out by the CLI from its JSON path) and masked
(secrets.mask): nothing here looks at the job.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import NamedTuple
from urllib.parse import quote

from ..diagnostics import Diagnostic, format_path
from ..source.printable import printable
from .catalogue import BY_CODE, ERROR, RULES

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVELS = {"error": "error", "warning": "warning"}


class Located(NamedTuple):
    file: str  # as the text lines show it: the job file's name as given, or <stdin>
    line: int
    column: int
    diagnostic: Diagnostic


def as_json(found: Iterable[Located]) -> str:
    """A list of findings: code (null for errors), severity, file, line, column, path, op, message."""
    return (
        json.dumps(
            [
                {
                    "code": f.diagnostic.code,
                    "severity": f.diagnostic.severity,
                    "file": f.file,
                    "line": f.line,
                    "column": f.column,
                    "path": format_path(f.diagnostic.path),
                    "op": f.diagnostic.op,
                    "message": f.diagnostic.message,
                }
                for f in found
            ],
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
    )


def as_github(found: Iterable[Located]) -> Iterator[str]:
    """One workflow command per finding, which GitHub Actions shows as an annotation on that line."""
    for f in found:
        d = f.diagnostic
        title = d.code or "nos2compose"
        props = f"file={_property(f.file)},line={f.line},col={f.column},title={_property(title)}"
        yield f"::{d.severity} {props}::{_data(printable(d.describe()))}"  # one line, as the text format shows it


def as_sarif(found: Iterable[Located], version: str) -> str:
    """One run of nos2compose: every rule of the catalogue with its help, a result per finding."""
    rules = [ERROR, *RULES]
    index = {rule.code: n for n, rule in enumerate(rules)}
    results = []
    for f in found:
        d = f.diagnostic
        rule = BY_CODE.get(d.code or "", ERROR)
        result = {
            "ruleId": rule.code,
            "ruleIndex": index[rule.code],
            "level": LEVELS.get(d.severity, "note"),
            "message": {"text": d.describe() if d.code is None else d.describe().split(" ", 1)[1]},
            "locations": [_location(f)],
        }
        if d.op is not None:
            result["properties"] = {"op": d.op}
        results.append(result)
    driver = {"name": "nos2compose", "version": version, "rules": [_rule(rule) for rule in rules]}
    run = {"tool": {"driver": driver}, "columnKind": "unicodeCodePoints", "results": results}
    log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _rule(rule) -> dict:
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.help},
        "help": {"text": f"{rule.summary}. {rule.help} (docs/lints.md#{rule.code.lower()})"},
        "defaultConfiguration": {"enabled": rule.default, "level": "error" if rule is ERROR else "warning"},
        "properties": {"family": rule.family if rule is not ERROR else "errors", "stage": rule.stage},
    }


def _location(f: Located) -> dict:
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": _uri(f.file)},
            "region": {"startLine": f.line, "startColumn": f.column},
        },
        "logicalLocations": [{"fullyQualifiedName": format_path(f.diagnostic.path), "kind": "member"}],
    }


def _uri(file: str) -> str:
    """A URI reference for a file name as given: relative stays relative (GitHub resolves it from the checkout)."""
    if file.startswith("/"):
        return "file://" + quote(file)
    return quote(file.replace("\\", "/"))


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
