"""The differential suite (issue 9): each job through Nosana's own node and through `nos2compose up`.

Every job of tests/fidelity/jobs/ and the corpus templates that can run here (swapped as
compare.corpus_swap says) runs through the node's real executor (oracle/) and through
`nos2compose up JOB --barrier exit --pull never` (and the default barrier where it should agree),
at the same time; compare.py reduces both to the same shape and each test asserts full agreement,
op by op: status, exit code, results, the op's own output by stream, and the order constraints.
docs/fidelity.md lists the behaviours and the divergences found.

NOS2COMPOSE_FIDELITY_REPORT=FILE appends one JSON line per job (ops, divergences, times) to FILE.
NOS2COMPOSE_FIDELITY_CORPUS=all runs all 58 corpus templates instead of one per shape.
"""

from __future__ import annotations

import json
import os
import re

import pytest
from fidelity import compare
from fidelity.oracle import node_oracle
from helpers import IN_CI, need

pytestmark = [pytest.mark.oracle, pytest.mark.e2e]

OWN = compare.own_cases()
CORPUS = compare.corpus_cases() if compare.CORPUS.is_dir() else []


@pytest.fixture(scope="session")
def oracle() -> str:
    """Builds the node once per session; '' when ready, else why not (each test then fails in CI)."""
    try:
        node_oracle.ensure_built()
    except node_oracle.OracleError as exc:
        if IN_CI:
            return f"the node oracle could not be built: {exc}"
        return f"the node oracle is not available: {exc}"
    return ""


# Differences by design, each warned about at convert time (docs/fidelity.md, README "Where a local run
# differs"): job -> ((op, field), ...) that must differ, on every side that runs, and the warning's words.
BY_DESIGN = {
    "depends-without-groups": ((("user", "stdout"), ("user", "dependent start")), "runs 'user' once, in its own group"),
}


def _check(case: compare.Case, problem: str) -> None:
    need(f"Nosana's node as an oracle ({problem})", not problem)
    div, node, locals_ = compare.check(case)
    _record(case, div, node, locals_)
    expected, warning = BY_DESIGN.get(case.name, ((), ""))
    known = [d for d in div if (d.op, d.field) in expected]
    assert not [d for d in div if d not in known], compare.report(case, div, node, locals_)
    for run in locals_:  # the difference is still there, on every side, and the user was told
        tag = case.name if run.side == "nos2compose" else f"{case.name} [{run.side}]"
        found = {(d.op, d.field) for d in known if d.job == tag}
        assert found == set(expected), f"{tag}: a difference by design is gone: update BY_DESIGN and docs/fidelity.md"
        assert warning in run.raw.get("up_stderr", ""), f"{tag}: the warning naming the difference is missing"


def _record(case, div, node, locals_) -> None:
    path = os.environ.get("NOS2COMPOSE_FIDELITY_REPORT")
    if not path:
        return
    ops = [op.get("id") for op in case.job.get("ops") or []]
    job_level = any(d.op == "" for d in div)
    bad = {d.op for d in div}
    row = {
        "job": case.name,
        "ops": len(ops),
        "agreeing_ops": 0 if job_level else sum(1 for o in ops if o not in bad),
        "divergences": [d._asdict() for d in div],
        "seconds": {"node": round(node.wall, 1), **{r.side: round(r.wall, 1) for r in locals_}},
    }
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(row, default=str) + "\n")


@pytest.mark.parametrize("case", OWN, ids=[c.name for c in OWN])
def test_job_agrees_with_the_node(case, oracle):
    _check(case, oracle)


@pytest.mark.corpus
@pytest.mark.parametrize("case", CORPUS, ids=[c.name for c in CORPUS])
def test_corpus_template_agrees_with_the_node(case, oracle):
    _check(case, oracle)


@pytest.mark.corpus
def test_the_corpus_is_there():
    need(f"the corpus of templates ({compare.CORPUS})", bool(CORPUS))


def test_the_jobs_are_fit_for_the_node():
    """At least 24 jobs; unique host ports in 18600-18999; only local images; no op id made of hex
    digits only: the node looks containers up by op id, and the engine reads `c` as an id prefix
    (with several containers whose ids start with c it fails the op: "Multiple IDs found with
    provided prefix: c"), so such an id makes the node's result depend on what else runs."""
    assert len(OWN) >= 24
    ports: dict[int, str] = {}
    for case in OWN:
        text = json.dumps(case.job)
        assert "nos2compose-test/" in text, case.name
        for op in case.job.get("ops") or []:
            assert not re.fullmatch(r"[0-9a-f]+", op.get("id", "")), f"{case.name}: op id {op.get('id')!r}"
        for port in {int(p) for p in re.findall(r"\b(18[6-9]\d\d)\b", text)}:
            assert ports.setdefault(port, case.name) == case.name, f"port {port} in {ports[port]} and {case.name}"
