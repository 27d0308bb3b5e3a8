"""The job's own words convert records (written.py): exactly where the files say the same another way, never a
credential, and nothing for a job already in the words import reads back."""

from __future__ import annotations

from nos2compose.compiler import Options, compile_job
from nos2compose.model import Words


def _recorded(job: dict):
    result = compile_job(job, Options(name="j"))
    assert result.ok, [d.describe() for d in result.diagnostics.errors]
    return result.job.written


def _run(op_id: str, **args) -> dict:
    return {"type": "container/run", "id": op_id, "args": {"image": "busybox:1.36", **args}}


def test_a_job_in_imports_own_words_records_nothing():
    job = {
        "version": "0.1",
        "type": "container",
        "ops": [_run("a", cmd="echo hi", expose=8080, env={"A": "1"}), _run("b", cmd=["x"], aliases=["c"])],
    }
    written = _recorded(job)
    assert written.top == Words() and list(written.ops.values()) == [Words(), Words()]


def test_only_what_the_files_say_another_way_is_recorded():
    job = {
        "version": "0.1",
        "type": "container",
        "meta": {"trigger": "dashboard"},
        "global": {"variables": {"M": "m1"}, "work_dir": "/w"},
        "ops": [
            {**_run("b", cmd=["/bin/sh", "-c", "x"], expose=[80], aliases="c, d"), "execution": {"group": "g"}},
            {**_run("a", env={"M": "%%global.variables.M%%", "K": "v"}), "execution": {"group": "g"}},
            {**_run("c", work_dir="/w"), "execution": {"group": "c"}},
        ],
    }
    written = _recorded(job)
    assert written.top == Words({"meta": {"trigger": "dashboard"}, "global": job["global"]})
    assert written.ops["b"] == Words(
        {"args.cmd": ["/bin/sh", "-c", "x"], "args.expose": [80], "args.aliases": "c, d"},
        ("args.work_dir",),  # global's
        0,  # import would write a before b
    )
    assert written.ops["a"] == Words({"args.env": {"M": "%%global.variables.M%%", "K": "v"}}, ("args.work_dir",), 1)
    assert written.ops["c"] == Words({"execution": {"group": "c"}}, (), 2)  # its own work_dir is the file's


def test_credentials_are_never_recorded():
    resource = {
        "type": "S3",
        "url": "s3://b/p",
        "target": "/data",
        "IAM": {"ACCESS_KEY_ID": "k", "SECRET_ACCESS_KEY": "s", "REGION": "r"},
    }
    login = {"username": "u", "password": "p", "server": "ghcr.io"}
    job = {
        "version": "0.1",
        "type": "container",
        "ops": [_run("a", resources=[resource], authentication={"docker": login})],
    }
    words = _recorded(job).ops["a"]
    assert "IAM" not in repr(words) and "args.authentication" not in words.as_written
    assert words.as_written == {}  # the resource without its credentials is what the file says
