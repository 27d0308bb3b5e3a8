"""Where the scripts that group files mount are when `up` runs them: beside the group files, in both ways in.

`up JOB` writes the group files and their scripts to the job's files directory (record.files_dir), which lives
until `down`: the engine mounts a script from there again each time it restarts a container. `up DIR` mounts
the directory's own scripts, and says which one is missing before anything starts."""

from __future__ import annotations

import json
import shutil

import pytest
from helpers import FIXTURES

from nos2compose.cli.run import open_job
from nos2compose.compiler import Options, compile_job
from nos2compose.run_plan import PlanError
from nos2compose.supervisor import record
from nos2compose.supervisor.session import open_compiled, open_directory

QUICKSTART = FIXTURES / "quickstart" / "quickstart.json"


@pytest.fixture
def state(tmp_path, monkeypatch):
    monkeypatch.setenv("NOS2COMPOSE_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


def test_up_job_writes_the_group_files_and_their_scripts_to_the_jobs_files_directory(state):
    opened = open_job(str(QUICKSTART), None, None, {})
    where = record.files_dir("quickstart")
    assert where == state / "files" / "quickstart"
    assert sorted(p.name for p in where.iterdir()) == ["00-setup.yaml", "01-serve.yaml", "nos2compose-probe.sh"]
    assert [g.file for g in opened.plan.groups] == [where / "00-setup.yaml", where / "01-serve.yaml"]
    assert "  nos2compose-probe:\n    file: nos2compose-probe.sh\n" in (where / "01-serve.yaml").read_text()
    record.remove("quickstart")  # what `down` does
    assert not where.exists()


def test_open_compiled_replaces_an_earlier_runs_files(tmp_path):
    (tmp_path / "00-old.yaml").write_text("services: {}\n")
    (tmp_path / "nos2compose-fetch.py").write_text("# an earlier job's fetcher\n")
    result = compile_job(json.loads(QUICKSTART.read_text()), Options(name="q"))
    open_compiled(result, tmp_path, None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["00-setup.yaml", "01-serve.yaml", "nos2compose-probe.sh"]


def test_up_dir_names_a_missing_script_before_anything_runs(tmp_path):
    shutil.copytree(FIXTURES / "quickstart" / "groups", tmp_path / "compose")
    assert open_directory(tmp_path / "compose", None).plan.project == "quickstart"
    (tmp_path / "compose" / "nos2compose-probe.sh").unlink()
    with pytest.raises(PlanError) as failed:
        open_directory(tmp_path / "compose", None)
    assert str(failed.value) == (
        f"{tmp_path / 'compose' / '01-serve.yaml'} mounts nos2compose-probe.sh (configs: nos2compose-probe), which "
        f"is not in {tmp_path / 'compose'}: convert the job with -o {tmp_path / 'compose'} again to write it"
    )
