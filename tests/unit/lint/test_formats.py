"""The machine formats: SARIF 2.1.0 checked against its published JSON Schema, the JSON list, GitHub commands."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest

from nos2compose.diagnostics import Diagnostic
from nos2compose.lint.catalogue import RULES
from nos2compose.lint.formats import Located, as_github, as_json, as_sarif

# OASIS's SARIF 2.1.0 schema (errata 01, the OASIS Standard), as published; see sarif/README.md
SCHEMA = json.loads((Path(__file__).parent / "sarif" / "sarif-schema-2.1.0.json").read_text())

FOUND = [
    Located("jobs/my job.json", 3, 5, Diagnostic("error", ("ops", 0, "args", "image"), "the image name is empty", "a")),
    Located(
        "jobs/my job.json",
        7,
        13,
        Diagnostic(
            "warning", ("ops", 0, "args", "cmd", 0), 'cmd[0] "a b" is a whole command line', "a", None, "NOS101"
        ),
    ),
    Located(
        "/abs/job.json", 1, 1, Diagnostic("warning", ("meta",), "50% done, line\nbreak: here", None, None, "NOS105")
    ),
]


def sarif_errors(document: dict) -> list[str]:
    validator = jsonschema.Draft4Validator(SCHEMA)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


def test_the_vendored_schema_is_sarif_2_1_0():
    jsonschema.Draft4Validator.check_schema(SCHEMA)
    assert SCHEMA["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    assert SCHEMA["properties"]["version"]["enum"] == ["2.1.0"]


def test_sarif_is_valid_with_rules_help_and_a_result_per_finding():
    document = json.loads(as_sarif(FOUND, "0.1.0"))
    assert sarif_errors(document) == []
    (run,) = document["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["NOS000", *(rule.code for rule in RULES)]
    assert all(r["help"]["text"] and r["fullDescription"]["text"] for r in rules)
    assert {r["id"]: r["defaultConfiguration"]["enabled"] for r in rules}["NOS401"] is False
    results = run["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [
        ("NOS000", "error"),
        ("NOS101", "warning"),
        ("NOS105", "warning"),
    ]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    location = results[1]["locations"][0]
    assert location["physicalLocation"] == {
        "artifactLocation": {"uri": "jobs/my%20job.json"},
        "region": {"startLine": 7, "startColumn": 13},
    }
    assert location["logicalLocations"][0]["fullyQualifiedName"] == "$.ops[0].args.cmd[0]"
    assert results[1]["message"]["text"] == '$.ops[0].args.cmd[0] (op "a"): cmd[0] "a b" is a whole command line'
    assert results[2]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "file:///abs/job.json"


def test_sarif_uris_are_uri_references():
    """The schema says format: uri-reference, which jsonschema does not check without extra packages."""
    document = json.loads(as_sarif(FOUND, "0.1.0"))
    for result in document["runs"][0]["results"]:
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert " " not in uri and urlsplit(uri).path


@pytest.mark.parametrize("broken", ["version", "ruleIndex"])
def test_the_schema_check_catches_a_broken_document(broken):
    document = json.loads(as_sarif(FOUND, "0.1.0"))
    if broken == "version":
        document["version"] = "2.0.0"
    else:
        document["runs"][0]["results"][0]["ruleIndex"] = -2
    assert sarif_errors(document) != []


def test_json_is_a_list_of_findings_with_every_field():
    document = json.loads(as_json(FOUND))
    assert document[1] == {
        "code": "NOS101",
        "severity": "warning",
        "file": "jobs/my job.json",
        "line": 7,
        "column": 13,
        "path": "$.ops[0].args.cmd[0]",
        "op": "a",
        "message": 'cmd[0] "a b" is a whole command line',
    }
    assert document[0]["code"] is None and document[0]["severity"] == "error"


def test_github_commands_escape_what_would_end_them():
    lines = list(as_github(FOUND))
    assert lines[1] == (
        '::warning file=jobs/my job.json,line=7,col=13,title=NOS101::NOS101 $.ops[0].args.cmd[0] (op "a"): '
        'cmd[0] "a b" is a whole command line'
    )
    assert lines[0].startswith("::error file=jobs/my job.json,line=3,col=5,title=nos2compose::$.ops[0]")
    assert lines[2].endswith("50%25 done, line\\x0abreak: here") and "\n" not in lines[2]  # escaped as text shows it
