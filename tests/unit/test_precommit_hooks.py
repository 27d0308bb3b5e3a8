"""The hooks in .pre-commit-hooks.yaml, installed and run by pre-commit itself against a scratch git repository.

pre-commit builds the hooks' environment from this checkout (`pip install .`, dependencies from PyPI), so
this is the path a project that adds the hooks takes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import FIXTURES, ROOT, need

pytestmark = pytest.mark.hooks

JOB = FIXTURES / "seed-multi-stage-pipeline" / "seed-multi-stage-pipeline.json"


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), *args],
        check=True,
        capture_output=True,
        env={
            **os.environ,
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@t",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@t",
        },
    )


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """A project with job.json and compose/, whose .pre-commit-config.yaml takes both hooks from this repository."""
    pre_commit = Path(sys.executable).with_name("pre-commit")
    need("pre-commit (the test extras) and git", pre_commit.exists() and bool(shutil.which("git")))
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    repo = tmp_path_factory.mktemp("project")
    _git(repo, "init", "-q")
    shutil.copy(JOB, repo / "job.json")
    subprocess.run(
        [sys.executable, "-m", "nos2compose", "convert", "job.json", "-o", "compose"],
        cwd=repo,
        check=True,
        capture_output=True,
    )
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {ROOT}\n    rev: {head.stdout.strip()}\n    hooks:\n"
        "      - id: nos2compose-validate\n        args: [--strict]\n"
        "      - id: nos2compose-check\n        args: [job.json, -o, compose]\n"
    )
    _git(repo, "add", ".")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path_factory.mktemp("pre-commit-home"))}

    def run() -> subprocess.CompletedProcess:
        _git(repo, "add", ".")
        return subprocess.run(
            [str(pre_commit), "run", "--all-files"],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )

    return repo, run


def test_both_hooks_pass_on_a_valid_job_whose_files_match(scratch):
    _, run = scratch
    ok = run()
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "validate Nosana job definitions" in ok.stdout and "Compose files match their Nosana job" in ok.stdout
    assert ": NOS109 $.ops[0].args.expose" in ok.stdout  # the hook shows its warnings, with codes, on success


def test_the_hooks_fail_on_a_broken_job_and_on_files_that_drifted_from_the_job(scratch):
    repo, run = scratch
    good = (repo / "job.json").read_text()
    job = json.loads(good)
    job["ops"][0]["args"]["image"] = "postgres:17"
    (repo / "job.json").write_text(json.dumps(job))
    drift = run()
    assert drift.returncode == 1 and "+    image: postgres:17" in drift.stdout
    assert "regenerate with `nos2compose convert job.json -o compose`" in drift.stdout
    job["ops"][0]["args"]["image"] = 7
    (repo / "job.json").write_text(json.dumps(job))
    broken = run()
    assert broken.returncode == 1 and "error: job.json:" in broken.stdout and "expected a string" in broken.stdout
    (repo / "job.json").write_text(good)
    assert run().returncode == 0
