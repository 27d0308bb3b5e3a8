"""Every fixtures/import/<case>/ imports to its committed job.json and warnings.txt, byte for byte.

A case holds compose.yaml (and the .env, override, include and env files it needs),
optional `args` (one CLI argument per line) and `shell-env` (KEY=VALUE lines: the
only environment Compose sees besides PATH and HOME). Regenerate after an intended change:
    NOS2COMPOSE_UPDATE_GOLDENS=1 python -m pytest tests/importer/test_import_goldens.py
then review `git diff fixtures/import/`.
"""

from __future__ import annotations

import json

import pytest
from helpers import run_cli
from import_helpers import CASES_DIR, compare, import_case, need_compose, network_verdicts

CASES = sorted(p.name for p in CASES_DIR.iterdir() if p.is_dir())


@pytest.mark.parametrize("case", CASES)
def test_import_golden(case):
    need_compose()
    result = import_case(CASES_DIR / case)
    assert result.exit_code == 0, result.stderr
    compare(CASES_DIR / case / "job.json", result.stdout)
    compare(CASES_DIR / case / "warnings.txt", result.stderr)


def test_there_are_enough_cases():
    assert len(CASES) >= 15


def _golden_jobs() -> list[tuple[str, dict]]:
    return [(case, json.loads((CASES_DIR / case / "job.json").read_text())) for case in CASES]


def test_every_imported_job_passes_nosanas_strict_validator():
    named = _golden_jobs()
    verdicts = network_verdicts([job for _, job in named])
    rejected = [(case, v["errors"]) for (case, _), v in zip(named, verdicts, strict=False) if not v["success"]]
    assert rejected == []


@pytest.mark.parametrize("case", CASES)
def test_what_import_writes_passes_validate_strict(case, tmp_path):
    need_compose()
    result = import_case(CASES_DIR / case)
    assert result.exit_code == 0, result.stderr
    (tmp_path / "job.json").write_text(result.stdout, encoding="utf-8")
    checked = run_cli("validate", "--strict", str(tmp_path / "job.json"))
    assert checked.exit_code == 0, checked.output


def test_same_bytes_every_run():
    need_compose()
    outputs = {(r.stdout, r.stderr) for r in (import_case(CASES_DIR / "ollama-openwebui") for _ in range(3))}
    assert len(outputs) == 1
