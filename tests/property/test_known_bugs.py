"""Bugs the property suite found outside compose/, each as its minimal reproduction, kept as a regression
test once fixed. A bug not fixed yet is marked xfail(strict=True), so the suite stays green and the test
turns into a failure the day the bug is fixed (then drop the mark); none is open now."""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml
from prop_support import answered_cleanly, run_cli

pytestmark = pytest.mark.property


def _write(tmp_path, job: dict) -> None:
    (tmp_path / "job.json").write_text(json.dumps(job))


def test_an_op_named_like_a_fetcher_does_not_replace_it(tmp_path):
    _write(
        tmp_path,
        {
            "version": "0.1",
            "type": "container",
            "ops": [
                {
                    "type": "container/run",
                    "id": "a",
                    "args": {"image": "x", "resources": [{"type": "HF", "repo": "org/model", "target": "/m"}]},
                },
                {"type": "container/run", "id": "a-fetch-1", "args": {"image": "mine"}},
            ],
        },
    )
    run = run_cli("convert", "job.json", cwd=tmp_path)
    if run.status == 2:  # refusing the clash with a located error is a fix too
        assert "error: job.json:" in run.err and "$.ops[1].id" in run.err, run
        return
    assert run.status == 0, run
    services = yaml.safe_load(run.stdout)["services"]
    fetchers = [s for s in services.values() if s["labels"].get("io.nosana.fetch-for") == "a"]
    mine = [s for s in services.values() if s["labels"].get("io.nosana.op") == "a-fetch-1"]
    assert len(fetchers) == 1 and len(mine) == 1 and mine[0]["image"] == "mine", list(services)


def test_running_out_of_memory_while_converting_is_an_error_not_a_traceback(tmp_path):
    """A 133 KB job whose 1,000,000 spliced items need ~340 MB, under a 256 MiB address-space limit."""
    items = [f"item-{k}" for k in range(200)]
    _write(
        tmp_path,
        {
            "version": "0.1",
            "type": "container",
            "global": {"variables": {"V": json.dumps(items)}},
            "ops": [
                {"type": "container/run", "id": "a", "args": {"image": "x", "cmd": ["%%global.variables.V%%"] * 5000}}
            ],
        },
    )
    run = run_cli("convert", "job.json", cwd=tmp_path, memory=256 << 20)
    assert answered_cleanly(run, "job.json") is None, answered_cleanly(run, "job.json")


@pytest.mark.compose
def test_an_op_id_with_a_trailing_newline_is_renamed(tmp_path):
    _write(
        tmp_path,
        {
            "version": "0.1",
            "type": "container",
            "ops": [{"type": "container/run", "id": "a\n", "args": {"image": "x"}}],
        },
    )
    run = run_cli("convert", "job.json", cwd=tmp_path)
    assert run.status == 0, run
    assert "a\n" not in yaml.safe_load(run.stdout)["services"], list(yaml.safe_load(run.stdout)["services"])
    (tmp_path / "compose.yaml").write_bytes(run.stdout)
    proc = subprocess.run(
        ["docker", "compose", "-f", "compose.yaml", "config", "-q"], cwd=tmp_path, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
