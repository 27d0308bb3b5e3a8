"""The run plan `up job.json` gets from the compiler is the plan `up DIR` reads back from the same group files.

Two ways to one plan (compose/plans.py): built from the typed job and its layout, and read from the files
through the codec. For every fixture job, with the options its golden converts with, both must agree
field for field, so a hand-edit-free directory runs exactly as the job does.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from helpers import FIXTURES

from nos2compose.compiler import Options, compile_job
from nos2compose.compose.layout import PlanOptions
from nos2compose.compose.plans import read_group_files

CASES = sorted(p.name for p in (FIXTURES).iterdir() if p.is_dir())


def _job(case: str):
    (path,) = [p for p in (FIXTURES / case).iterdir() if p.stem == case and p.suffix in (".json", ".yaml", ".yml")]
    text = path.read_text(encoding="utf-8")
    return (yaml.safe_load(text) if path.suffix != ".json" else json.loads(text)), path.name


def _plan_options(case: str) -> PlanOptions:
    args = (FIXTURES / case / "args").read_text().split() if (FIXTURES / case / "args").exists() else []
    return PlanOptions(health_probe="sidecar") if "sidecar" in args else PlanOptions()


@pytest.mark.parametrize("case", CASES)
def test_the_compiled_plan_is_the_plan_read_back_from_its_files(case, tmp_path: Path):
    data, source = _job(case)
    result = compile_job(data, Options(name=case, source=source, plan=_plan_options(case)))
    assert result.ok, [d.describe() for d in result.diagnostics.errors]
    compiled, files = result.run_plan()
    assert files == result.directory_files()  # what `up JOB` writes is what `convert -o` writes, stamps aside
    groups = result.group_files()
    assert files[: len(groups)] == groups
    mounted = {name: spec for _, text in groups for name, spec in (yaml.safe_load(text).get("configs") or {}).items()}
    assert sorted(name for name, _ in files[len(groups) :]) == sorted(spec["file"] for spec in mounted.values())
    read = read_group_files([(tmp_path / name, text) for name, text in groups])
    compiled = compiled.at(tmp_path)
    assert read.project == compiled.project
    assert len(read.groups) == len(compiled.groups)
    for mine, theirs in zip(compiled.groups, read.groups, strict=True):
        assert mine.ops == theirs.ops, case
        assert mine.volumes == theirs.volumes
        assert (mine.name, mine.order, mine.file, mine.runtime) == (
            theirs.name,
            theirs.order,
            theirs.file,
            theirs.runtime,
        )
        assert mine.services == theirs.services  # what the fills of results read: the same, without YAML


def test_a_hand_edit_shows_in_the_plan_read_back(tmp_path: Path):
    """The files are the truth for `up DIR`: a port moved by hand is the port the plan publishes."""
    data, source = _job("quickstart")
    result = compile_job(data, Options(name="quickstart", source=source))
    files = result.group_files()
    edited = [
        (tmp_path / name, text.replace('"127.0.0.1:8080:8080"', '"127.0.0.1:18080:8080"')) for name, text in files
    ]
    assert edited != [(tmp_path / name, text) for name, text in files]
    read = read_group_files(edited)
    assert [op.ports for op in read.groups[-1].ops if op.id == "web"] == [((18080, 8080),)]
