"""All 58 published Nosana templates convert, and real Compose accepts every output."""
from __future__ import annotations

import pytest

from conftest import CORPUS, compose_config_errors, run_cli

JOBS = sorted(CORPUS.glob("*.json")) if CORPUS.is_dir() else []


def test_corpus_is_there():
    if not CORPUS.is_dir():
        pytest.skip("no ../shared/corpus/nosana-templates beside the project")
    assert len(JOBS) == 58


def test_every_template_converts_and_compose_accepts_it(compose, tmp_path):
    if not JOBS:
        pytest.skip("no corpus")
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
