"""The differential suite (issue 9): each job through Nosana's own node and through `nos2compose up`.

Every job of tests/fidelity/jobs/ and the corpus templates that can run here (swapped as
compare.corpus_swap says) runs through the node's real executor (oracle/), with each of its two
container providers: Docker, and Podman (the one production nodes run: PODMAN.md), and through
`nos2compose up JOB --barrier exit --pull never` (and the default barrier where it should agree),
all at the same time; compare.py reduces them to the same shape and each test (one per job and
provider) asserts full agreement, op by op: status, exit code, results, the op's own output by
stream, the order constraints, and the flow state's own fields (flow_state.py: errors, diagnostics.reason
and .state, log times). The first test of a job runs both providers and `up`; the second takes its result.
Differences by design are asserted to still be there: BY_DESIGN (both providers, with the warning `up` prints)
and compare.PENDING (one provider). docs/fidelity.md lists the behaviours and the divergences found.

NOS2COMPOSE_FIDELITY_REPORT=FILE appends one JSON line per job and provider (ops, divergences, times) to FILE.
NOS2COMPOSE_FIDELITY_CORPUS=all runs all 58 corpus templates instead of one per shape.
"""

from __future__ import annotations

import fnmatch
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
PROVIDERS = compare.PROVIDERS


@pytest.fixture(scope="session")
def oracle() -> dict[str, str]:
    """Builds the node once per session and prepares each provider's engine: provider -> '' when
    ready, else why not (its tests then fail in CI, and skip elsewhere). The Podman provider needs
    the Podman service that .ci/podman.sh starts."""
    problems = {}
    for provider in PROVIDERS:
        try:
            node_oracle.ensure_built(provider)
            problems[provider] = ""
        except node_oracle.OracleError as exc:
            problems[provider] = f"{'could not be built' if IN_CI else 'is not available'}: {exc}"
    return problems


@pytest.fixture(scope="session")
def selected(request) -> dict[str, set[str]]:
    """case name -> the providers whose test of it this session runs (`-k podman` runs one)."""
    out: dict[str, set[str]] = {}
    for item in request.session.items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "case" in params and "provider" in params:
            out.setdefault(params["case"].name, set()).add(params["provider"])
    return out


# One job's runs, shared by its tests: case name -> (providers not yet asked for, run_both's result).
_RUNS: dict[str, tuple[set[str], tuple]] = {}


def _runs(case: compare.Case, oracle: dict[str, str], provider: str, selected) -> tuple[compare.JobRun, list]:
    """The node's run with `provider` and nos2compose's runs of the same `up`: the first test of a job
    runs the node with every selected and ready provider and `up`, all at the same time (the Docker
    provider then costs only its own node run, beside the others); the last one asked forgets them."""
    if case.name not in _RUNS:
        ready = [p for p in PROVIDERS if not oracle[p] and p in selected.get(case.name, {provider})]
        _RUNS[case.name] = (set(ready), compare.run_both(case, providers=ready))
    left, (nodes, locals_) = _RUNS[case.name]
    left.discard(provider)
    if not left:
        del _RUNS[case.name]
    node = nodes[provider]
    if isinstance(node, Exception):
        raise node
    return node, locals_


# Differences by design, each warned about at convert time (docs/fidelity.md, README "Where a local run
# differs"): job -> ((op, field), ...) that must differ, on every side that runs, and the warning's words.
BY_DESIGN = {
    # the node runs 'user' twice and its flow keeps the second run's startTime with both runs' lines: the first
    # run's line is stamped before that startTime (log times)
    "depends-without-groups": (
        (("user", "stdout"), ("user", "dependent start"), ("user", "log times")),
        "runs 'user' once, in its own group",
    ),
    # `always` on an op whose command exits: a node ends it once its polls find it stopped (the Podman provider: after
    # 6-35 s; the Docker provider runs it once, ignoring the policy); Docker restarts it without end, so `up` waits
    # for it until --timeout and it never ends (no exit code, no diagnostics.state)
    "restart-policy": (
        tuple(
            ("again", f) for f in ("status", "exit_code", "/results status", "/results exitCode", "diagnostics.state")
        ),
        "NOS911",
    ),
}


def _check(case: compare.Case, oracle: dict[str, str], provider: str, selected) -> None:
    need(f"Nosana's node as an oracle, {provider} provider ({oracle[provider]})", not oracle[provider])
    node, locals_ = _runs(case, oracle, provider, selected)
    div = compare.divergences(case, node, locals_)
    _record(case, div, node, locals_)
    expected, warning = BY_DESIGN.get(case.name, ((), ""))
    todo, why = compare.pending(provider, case.name)
    known = [d for d in div if (d.op, d.field) in expected]
    waiting = [d for d in div if d not in known and compare.pending_matches(d, todo)]
    assert not [d for d in div if d not in known and d not in waiting], compare.report(case, div, node, locals_)
    for run in locals_:  # the difference is still there, on every side, and the user was told
        tag = case.name if run.side == "nos2compose" else f"{case.name} [{run.side}]"
        found = {(d.op, d.field) for d in known if d.job == tag}
        assert found == set(expected), f"{tag}: a difference by design is gone: update BY_DESIGN and docs/fidelity.md"
        assert warning in run.raw.get("up_stderr", ""), f"{tag}: the warning naming the difference is missing"
        still = {compare.pending_matches(d, todo) for d in waiting if d.job == tag}
        assert still == set(todo), (
            f"{tag} [{provider} provider]: {sorted(set(todo) - still)} agree now ({why}): "
            f"delete them from compare.PENDING[{provider!r}] so that they are compared"
        )


def _record(case, div, node, locals_) -> None:
    path = os.environ.get("NOS2COMPOSE_FIDELITY_REPORT")
    if not path:
        return
    ops = [op.get("id") for op in case.job.get("ops") or []]
    job_level = any(d.op == "" for d in div)
    bad = {d.op for d in div}
    row = {
        "job": case.name,
        "provider": node.provider,
        "ops": len(ops),
        "agreeing_ops": 0 if job_level else sum(1 for o in ops if o not in bad),
        "divergences": [d._asdict() for d in div],
        "seconds": {"node": round(node.wall, 1), **{r.side: round(r.wall, 1) for r in locals_}},
        "node_run_again": bool(node.raw.get("retried")),
    }
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(row, default=str) + "\n")


# provider varies fastest: a job's two tests run one after the other and share one run (_runs).
@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("case", OWN, ids=[c.name for c in OWN])
def test_job_agrees_with_the_node(case, provider, oracle, selected):
    _check(case, oracle, provider, selected)


@pytest.mark.corpus
@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("case", CORPUS, ids=[c.name for c in CORPUS])
def test_corpus_template_agrees_with_the_node(case, provider, oracle, selected):
    _check(case, oracle, provider, selected)


def test_pending_names_real_jobs():
    """compare.PENDING names only providers, and jobs (or patterns) that match a job of the suite: an
    entry for a renamed job would silently stop checking anything."""
    names = [c.name for c in OWN + CORPUS]
    assert set(compare.PENDING) <= set(PROVIDERS)
    for provider, jobs in compare.PENDING.items():
        for job, (fields, why) in jobs.items():
            if job.startswith("corpus-") and not CORPUS:
                continue  # test_the_corpus_is_there says why
            assert fnmatch.filter(names, job), f"PENDING[{provider!r}][{job!r}] matches no job"
            assert fields and why, f"PENDING[{provider!r}][{job!r}] needs ((op, field), ...) and a reason"


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
