"""No line nos2compose writes is over 200 characters: every file of both forms (the single file; the group files
and the scripts beside them), for every fixture (its goldens, walked) and every corpus job (converted here)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import CORPUS, FIXTURES, need, run_cli

LIMIT = 200
JOBS = sorted(CORPUS.glob("*.json")) if CORPUS.is_dir() else []


def _long(name: str, text: str) -> list[str]:
    return [f"{name}:{n}: {len(line)} characters" for n, line in enumerate(text.splitlines(), 1) if len(line) > LIMIT]


def test_no_golden_line_is_longer_than_200_characters():
    files = sorted(FIXTURES.glob("*/compose.yaml")) + sorted(FIXTURES.glob("*/groups/*"))
    cases = [p for p in FIXTURES.iterdir() if p.is_dir()]
    assert len(files) >= 2 * len(cases)
    assert any(not p.name.endswith(".yaml") for p in files)  # the scripts beside the group files are walked too
    long = [line for path in files for line in _long(str(path.relative_to(FIXTURES)), path.read_text("utf-8"))]
    assert long == []


@pytest.mark.corpus
def test_no_line_of_any_corpus_job_is_longer_than_200_characters(tmp_path: Path):
    """The corpus has the longest values: resources with many long file names (once a 309-character line)."""
    need(f"the corpus of Nosana templates at {CORPUS} (set NOS2COMPOSE_CORPUS)", len(JOBS) > 0)
    long, scripts = [], set()
    for job in JOBS:
        single = run_cli("convert", str(job))
        assert single.exit_code == 0, (job.name, single.stderr)
        long += _long(f"{job.name} (single file)", single.stdout)
        out = tmp_path / job.stem
        groups = run_cli("convert", str(job), "-o", str(out))
        assert groups.exit_code == 0, (job.name, groups.stderr)
        for path in sorted(out.iterdir()):
            long += _long(f"{job.name} {path.name}", path.read_text("utf-8"))
            scripts |= {path.name} if path.suffix != ".yaml" else set()
    assert long == []
    assert scripts == {"nos2compose-fetch.py", "nos2compose-ollama-pull.sh", "nos2compose-probe.sh"}
