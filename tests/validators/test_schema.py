"""The JSON Schema that `nos2compose schema` prints (nos2compose/schema/job.schema.json).

It must be a valid draft 2020-12 schema, accept every real job we know to be valid,
and give the same verdict as Nosana's own strict validator (@nosana/types, run under
Node.js) on every case of tests/validators/nosana/cases.py, except for the few rules
JSON Schema cannot express (KNOWN_DIFFERENCES).
"""

from __future__ import annotations

import json
import re

import pytest
import yaml
from cases import cases
from helpers import CORPUS, FIXTURES, ROOT, need, run_cli
from jsonschema import Draft202012Validator
from test_strict_vs_nosana import network_verdicts  # also puts tests/validators/nosana on sys.path

SCHEMA_FILE = ROOT / "nos2compose" / "schema" / "job.schema.json"

# Cases where the schema may accept what the network rejects, because the rule behind
# the rejection cannot be written in JSON Schema (also listed in the schema's top-level
# $comment). Matched against the case name; every other case must agree. These rules
# can only make the schema more lenient, never stricter (checked below).
KNOWN_DIFFERENCES = {
    r"^min/ops:duplicate-ids$": "op ids must be unique across ops: JSON Schema cannot compare a property across array items",
    r"^min/ops\[0\]\.args\.expose=\[(8000,8000|8000,8000\.0|8000,\{\"port\":8000\}|\{\"port\":8000\},\{\"port\":8000\})\]$": "numeric ports in an expose array must be unique across bare numbers and objects' port; "
    "uniqueItems cannot express it (it compares whole items, and duplicated literals and "
    "spread markers are allowed)",
}
# Not a difference: the validator throws on a null item in an expose array (counted as
# rejected), and the schema rejects null items too.


@pytest.fixture(scope="module")
def schema() -> dict:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator(schema) -> Draft202012Validator:
    return Draft202012Validator(schema)


def errors_of(validator: Draft202012Validator, job) -> list[str]:
    return [f"{e.json_path}: {e.message}" for e in validator.iter_errors(job)]


def test_schema_is_a_valid_draft_2020_12_schema(schema):
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    for key in ("$id", "title", "description", "$comment", "$defs"):
        assert schema.get(key), key


def test_schema_file_is_formatted_canonically(schema):
    text = SCHEMA_FILE.read_text(encoding="utf-8")
    assert text == json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.corpus
def test_corpus_jobs_validate(validator):
    files = sorted(CORPUS.glob("*.json"))
    need(f"the corpus of Nosana templates at {CORPUS} (set NOS2COMPOSE_CORPUS)", bool(files))
    bad = {p.name: errs for p in files if (errs := errors_of(validator, json.loads(p.read_text(encoding="utf-8"))))}
    assert bad == {}


# Every fixture's job (fixtures/<case>/<case>.json, and the one YAML job) is accepted by
# @nosana/types 2.1.6: none of them is meant to be rejected by the strict validator
# (fixtures that omit things, e.g. global-fallbacks, still satisfy it).
FIXTURE_JOBS = sorted(
    p for p in FIXTURES.glob("*/*") if p.stem == p.parent.name and p.suffix in (".json", ".yaml", ".yml")
)


def test_there_are_fixture_jobs():
    assert len([p for p in FIXTURE_JOBS if p.suffix == ".json"]) >= 10


@pytest.mark.parametrize("path", FIXTURE_JOBS, ids=lambda p: p.parent.name)
def test_fixture_jobs_validate(validator, path):
    text = path.read_text(encoding="utf-8")
    job = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    assert errors_of(validator, job) == []


@pytest.fixture(scope="module")
def verdicts(validator):
    named = cases()
    network = network_verdicts([job for _, job in named])
    ours = [validator.is_valid(job) for _, job in named]
    return named, network, ours


def known(name: str) -> str | None:
    return next((reason for pattern, reason in KNOWN_DIFFERENCES.items() if re.search(pattern, name)), None)


def test_schema_agrees_with_the_network(verdicts):
    named, network, ours = verdicts
    assert len(named) >= 300 and 0 < sum(network) < len(network)
    unexplained = [
        (name, {"network": net, "schema": mine})
        for (name, _), net, mine in zip(named, network, ours, strict=False)
        if net != mine and not known(name)
    ]
    assert unexplained == []


def test_known_differences_are_few_real_and_only_lenient(verdicts):
    named, network, ours = verdicts
    names = [name for name, _ in named]
    for pattern in KNOWN_DIFFERENCES:
        assert any(re.search(pattern, n) for n in names), f"{pattern} matches no case: drop it"
    differing = [(name, net, mine) for name, net, mine in zip(names, network, ours, strict=False) if net != mine]
    # Only the network's extra (inexpressible) checks may differ: it rejects, the schema accepts.
    assert [(n, net, mine) for n, net, mine in differing if not (mine and not net)] == []
    assert len(differing) <= 10


def test_cli_prints_the_schema_file():
    result = run_cli("schema")
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == SCHEMA_FILE.read_bytes()
    assert json.loads(result.stdout)["$id"] == "https://nos2compose.local/schema/job.schema.json"
