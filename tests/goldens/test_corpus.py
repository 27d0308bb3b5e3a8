"""All 58 published Nosana templates convert, and real Compose accepts every output.

The corpus lies beside the project (../shared/corpus/nosana-templates); NOS2COMPOSE_CORPUS points elsewhere.
Without it these tests fail in CI and skip elsewhere, like every test whose prerequisite is missing.
"""

from __future__ import annotations

import pytest
from helpers import CORPUS, compose_config_errors, need, run_cli

pytestmark = pytest.mark.corpus
JOBS = sorted(CORPUS.glob("*.json")) if CORPUS.is_dir() else []


@pytest.fixture(autouse=True)
def corpus():
    need(f"the corpus of Nosana templates at {CORPUS} (set NOS2COMPOSE_CORPUS)", len(JOBS) > 0)


def test_corpus_is_there():
    assert len(JOBS) == 58


def test_every_template_converts_and_compose_accepts_it(compose, tmp_path):
    files = []
    for job in JOBS:
        single = run_cli("convert", str(job))
        assert single.exit_code == 0, (job.name, single.stderr)
        assert "error:" not in single.stderr
        assert "resource" not in single.stderr.lower(), (job.name, single.stderr)  # fetched locally now
        path = tmp_path / f"{job.stem}.yaml"
        path.write_text(single.stdout)
        files.append(path)
        groups = run_cli("convert", str(job), "-o", str(tmp_path / job.stem))
        assert groups.exit_code == 0, (job.name, groups.stderr)
        files.extend(sorted((tmp_path / job.stem).glob("*.yaml")))
    assert len(files) >= 2 * len(JOBS)
    assert compose_config_errors(compose, files) == ""


def test_templates_pass_strict_validation():
    for job in JOBS:
        result = run_cli("validate", "--strict", str(job))
        assert result.exit_code == 0, (job.name, result.stderr)


def test_lints_over_the_corpus_find_what_docs_lints_md_lists():
    """Every rule, opt-in included, over the 58 templates: the counts docs/lints.md gives, each a real problem
    it names. A new rule or a change that makes one fire elsewhere shows here: a false alarm, or docs to update."""
    import json
    from collections import Counter

    from nos2compose.compiler import Options, compile_job
    from nos2compose.lint import lint_job

    counts: Counter = Counter()
    for job in JOBS:
        data = json.loads(job.read_text())
        result = compile_job(data, Options(to_run=False))
        counts.update(d.code for d in [*result.diagnostics.warnings, *lint_job(data, result.job)])
    assert dict(counts) == {"NOS104": 14, "NOS105": 1, "NOS401": 4, "NOS902": 4}
