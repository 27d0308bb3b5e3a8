"""Hostile mutations of the 58 corpus jobs, through the real CLI as a process under a memory limit (1 GiB)
and a time limit (20 s): `validate` and `convert` answer 0 or 2 (then an `error:` line naming the file),
never a traceback, exit 1 or a signal; Compose accepts whatever `convert` writes.

Each mutation kind (prop_mutations.KINDS) is tried at paths drawn with a fixed seed from the whole
corpus: 2 per kind in CI (about 190 cases, two runs each), 50 per kind in the long run. A failing case
is saved to regressions/ as it stands (a path and a kind: already minimal).
"""

from __future__ import annotations

import json

import pytest
from helpers import CORPUS
from hypothesis import given, settings
from hypothesis import strategies as st
from prop_checks import check_compile, check_mutation
from prop_mutations import KINDS, _put, cases, corpus_files, corpus_job, paths
from prop_strategies import hostile
from prop_support import LONG, examples, in_parallel, recorded, save_regression

pytestmark = [pytest.mark.property, pytest.mark.corpus]

SEED = 20261201
PER_KIND = 50 if LONG else 2


def _cases_of(kind: str) -> list[dict]:
    return [c for c in cases(SEED, PER_KIND) if c["mutation"] == kind] if CORPUS.is_dir() else []


@pytest.mark.parametrize("kind", KINDS)
def test_hostile_mutation_is_answered_cleanly(kind):
    if not CORPUS.is_dir():
        pytest.skip(f"no corpus at {CORPUS} (NOS2COMPOSE_CORPUS)")

    def one(case):
        try:
            check_mutation(case)
        except AssertionError as exc:
            path = save_regression("mutation", case, str(exc), f"test_mutations.py[{kind}]")
            return f"{case}: {exc}\n(saved as {path.name})"
        return None

    failures = [f for f in in_parallel(one, _cases_of(kind), workers=1) if f]
    assert not failures, "\n\n".join(failures)


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=False),
        hostile,
        st.sampled_from(
            [
                "%%global.variables.X%%",
                "%%global.variables.NOPE%%",
                "%%ops.a.results.k%%",
                "%%ops.a.host%%",
                "%%ops.a.endpoint.80%%",
                "%%global.job%%",
                "%%global.frps_address%%",
                "__remove-if-empty__",
                "8000-8010",
            ]
        ),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(hostile, st.sampled_from(["__spread__", "__pairs__", "chunked", "port", "key", "value"])),
            children,
            max_size=4,
        ),
    ),
    max_leaves=10,
)


@st.composite
def mutated_jobs(draw) -> dict:
    job = corpus_job(draw(st.sampled_from(corpus_files())))
    job = json.loads(json.dumps(job))
    job.setdefault("global", {}).setdefault("variables", {})["X"] = json.dumps(draw(st.lists(json_values, max_size=3)))
    for _ in range(draw(st.integers(1, 3))):
        job = _put(job, draw(st.sampled_from(paths(job))), draw(json_values))
    return {"job": job, "probe": draw(st.sampled_from(["container", "sidecar"]))}


@settings(max_examples=examples(200))
@given(example=mutated_jobs())
def test_compile_job_never_raises_on_mutated_corpus_jobs(example):
    """In-process, so cheap: many more mutations than the CLI runs above, values of any JSON shape."""
    with recorded("compile", example):
        check_compile(example)
