"""The job's state record: atomic, shared by concurrent commands, and read back as the same plan."""

from __future__ import annotations

import multiprocessing

from nos2compose.results import ResultSpec
from nos2compose.run_plan import PlannedGroup, PlannedOp, from_json
from nos2compose.run_plan import RunPlan as Plan
from nos2compose.supervisor import record


def _plan() -> Plan:
    op = PlannedOp(
        "a",
        "a",
        "g",
        True,
        ((8080, 80),),
        True,
        probe="a-probe",
        depends=("b",),
        results=(ResultSpec("k", "x(\\d)", ("stdout",)), ResultSpec("all", ".*")),
        fetch=("a-fetch-1",),
    )
    return Plan(
        "proj", (PlannedGroup("g", 0, record.Path("00-g.yaml"), (op, PlannedOp("b", "b", "g", False, (), False))),), {}
    )


def test_the_plan_comes_back_as_it_was_written(tmp_path, monkeypatch):
    monkeypatch.setenv("NOS2COMPOSE_STATE_DIR", str(tmp_path))
    record.begin("proj", _plan(), {"ops": []})
    back = from_json(record.read("proj")["plan"])
    assert back.ops == _plan().ops and back.project == "proj"
    assert record.read("proj")["job_definition"] == {"ops": []}


def _note_many(args):
    directory, worker = args
    import os

    os.environ["NOS2COMPOSE_STATE_DIR"] = directory
    for i in range(20):
        record.note("proj", f"op-{worker}-{i}", record.FAILED, "reason")


def test_concurrent_writers_lose_nothing_and_down_removes_it(tmp_path, monkeypatch):
    monkeypatch.setenv("NOS2COMPOSE_STATE_DIR", str(tmp_path))
    with multiprocessing.get_context("fork").Pool(4) as pool:
        pool.map(_note_many, [(str(tmp_path), w) for w in range(4)])
    ops = record.read("proj")["ops"]
    assert len(ops) == 80 and all(v["state"] == "failed" for v in ops.values())
    assert not list(tmp_path.glob(".*.tmp"))  # every replacement was complete
    record.note("proj", "op-0-0", None)
    assert "op-0-0" not in record.read("proj")["ops"]
    record.remove("proj")
    assert record.read("proj") is None and not list(tmp_path.iterdir())


def test_an_unreadable_record_is_no_record(tmp_path, monkeypatch):
    monkeypatch.setenv("NOS2COMPOSE_STATE_DIR", str(tmp_path))
    (tmp_path / "proj.json").write_text("{not json")
    assert record.read("proj") is None
    (tmp_path / "proj.json").write_text('{"version": 99}')
    assert record.read("proj") is None
