"""`validate --strict` agrees with Nosana's own validator (@nosana/types, run under Node.js).

Every case in tests/validators/nosana/cases.py goes through both. Where the network
rejects, --strict must reject. Where the network accepts, --strict must accept,
except for the values nos2compose refuses in every mode because they can never
run (EXTRA_REJECTIONS, each with its reason).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest
from helpers import ROOT, need

from nos2compose.compiler import Options, compile_job

HARNESS = ROOT / "tests" / "validators" / "nosana"
sys.path.insert(0, str(HARNESS))
from cases import cases  # noqa: E402

# Accepted by the network's validator, refused by nos2compose in every mode: values
# that can never run, or that the node itself refuses when it starts the job. Each
# pattern matches the message of such an error; any other error on a job the
# network accepts is a disagreement.
EXTRA_REJECTIONS = {
    r"expected a port \(a whole number from 1 to 65535\)": "a port must be a whole number from 1 to 65535",
    r"expected an HTTP status \(a whole number from 100 to 599\)": "an HTTP status is a whole number from 100 to 599",
    r"expected a count \(a whole number": "a restart count is a whole number >= 0",
    r"depends on '.*', which is not an op|cannot depend on itself|may only name ops of the same group|dependency cycle": "unknown, self and cross-group dependencies are refused by the node at run time; cycles never end",
    r"missing required key 'image'|missing required key 'name' \(the volume's name\)|unknown key '\w+' \(known here: name\)|unknown key 'name' \(known here: aliases": "an op's args must fit its type (a run op needs an image, a create-volume op a name)",
    r"the image name is empty": "an empty image name cannot be pulled",
    r"^\$[^ ]* \(op \"[^\"]*\"\): (literal %%|chunked spread|__spread__ of|__pairs__ of)": "a literal that cannot be resolved fails the op on the node",
    r"expected a port number \(or a literal such as": "a malformed literal where a port goes",
    r"an empty name cannot be set": "Compose refuses an environment variable or header with an empty name",
    r"nested more than \d+ levels deep|far too large for any field": "bounds that keep hostile input from exhausting memory",
    r"a port number \(the literal's value is none\)": "a literal whose value is not a port",
}


def network_verdicts(jobs: list[dict], validator: str = "types") -> list[bool]:
    """The verdicts of one of the network's validators: @nosana/types 2.1.6 (the stricter; Nosana's kit and
    template repository use it) or @nosana/sdk as the node is built with it (the node and `nosana job post`
    validate with it; see sdk_verdicts)."""
    if validator == "sdk":
        return sdk_verdicts(jobs)
    return _verdicts(jobs, validator)


def _verdicts(jobs: list[dict], validator: str) -> list[bool]:
    node = shutil.which("node")
    installed = (HARNESS / "node_modules" / "@nosana" / validator).is_dir()
    need(f"Node.js and Nosana's validator @nosana/{validator} (tests/validators/nosana)", bool(node and installed))
    command = [node, str(HARNESS / "validate.mjs"), *(["--sdk"] if validator == "sdk" else [])]
    proc = subprocess.run(command, input=json.dumps(jobs), capture_output=True, text=True, check=True)
    return [r["success"] for r in json.loads(proc.stdout)]


def sdk_verdicts(jobs: list[dict]) -> list[bool]:
    """@nosana/sdk as the node snapshot is built with it (^0.4.83). The registry here has 0.4.69, which predates
    restart_policy and refuses it; 0.4.83 types it (the node's Podman code imports its RestartPolicy and passes
    op.args.restart_policy on), with the forms @nosana/types 2.1.6 declares. So: 0.4.69 on the job without
    restart_policy, and @nosana/types on the job's restart policies alone."""
    without, policies = [], []
    for job in jobs:
        ops = job.get("ops") if isinstance(job, dict) else None
        runs = (
            [op for op in ops if isinstance(op, dict) and isinstance(op.get("args"), dict)]
            if isinstance(ops, list)
            else []
        )
        found = [op["args"]["restart_policy"] for op in runs if "restart_policy" in op["args"]]
        if found:
            job = {**job, "ops": [_without_restart(op) for op in ops]}
        without.append(job)
        policies.append(_policies_only(found))
    checked = _verdicts(policies, "types")
    return [a and b for a, b in zip(_verdicts(without, "sdk"), checked, strict=True)]


def _without_restart(op):
    if not (isinstance(op, dict) and isinstance(op.get("args"), dict)):
        return op
    return {**op, "args": {k: v for k, v in op["args"].items() if k != "restart_policy"}}


def _policies_only(policies: list) -> dict:
    """A job @nosana/types accepts unless one of these restart policies is wrong."""
    ops = [
        {"type": "container/run", "id": f"p{n}", "args": {"image": "i", "restart_policy": policy}}
        for n, policy in enumerate(policies)
    ]
    return {
        "version": "0.1",
        "type": "container",
        "ops": ops or [{"type": "container/run", "id": "p", "args": {"image": "i"}}],
    }


@pytest.fixture(scope="module")
def verdicts():
    """(cases, accepted by both validators of the network, accepted by the sdk's, which the node applies)."""
    named = cases()
    jobs = [job for _, job in named]
    types, sdk = network_verdicts(jobs), network_verdicts(jobs, "sdk")
    return named, [a and b for a, b in zip(types, sdk, strict=True)], sdk


def ours(job: dict, strict: bool = True) -> tuple[bool, list[str]]:
    result = compile_job(job, Options(name="case", strict=strict, to_run=False))
    errors = [d.describe() for d in result.diagnostics.errors]
    return (result.job is not None and not errors), errors


def test_there_are_many_cases(verdicts):
    named, network, sdk = verdicts
    assert len(named) >= 300
    assert 0 < sum(network) < len(network)
    assert sum(sdk) > sum(network)  # the sdk accepts more: port ranges, old fields, any version, ...


def test_strict_rejects_whatever_either_validator_rejects(verdicts):
    named, network, _ = verdicts
    wrong = [name for (name, job), ok in zip(named, network, strict=True) if not ok and ours(job)[0]]
    assert wrong == []


def _unexplained(named, accepted, strict):
    wrong = []
    for (name, job), ok in zip(named, accepted, strict=True):
        if not ok:
            continue
        good, errors = ours(job, strict)
        unexplained = [e for e in errors if not any(re.search(p, e) for p in EXTRA_REJECTIONS)]
        if not good and unexplained:
            wrong.append((name, unexplained))
    return wrong


def test_strict_accepts_whatever_both_validators_accept(verdicts):
    named, network, _ = verdicts
    assert _unexplained(named, network, strict=True) == []


def test_plain_validate_accepts_whatever_the_node_accepts(verdicts):
    """The node validates with @nosana/sdk: every job it accepts (and can run) passes plain validate."""
    named, _, sdk = verdicts
    assert _unexplained(named, sdk, strict=False) == []


def test_corpus_passes_both(verdicts):
    from helpers import CORPUS

    jobs = [json.loads(p.read_text()) for p in sorted(CORPUS.glob("*.json"))]
    need(f"the corpus of Nosana templates at {CORPUS}", bool(jobs))
    assert all(network_verdicts(jobs)) and all(network_verdicts(jobs, "sdk"))
    assert [ours(j)[1] for j in jobs if not ours(j)[0]] == []
