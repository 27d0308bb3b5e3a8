"""Op states from the engine's rows, with what the state record knows laid over them."""

from __future__ import annotations

from nos2compose.engine.protocol import Container
from nos2compose.run_plan import PlannedOp
from nos2compose.supervisor.states import ended_state, exited_early, op_status, ran_for, with_record

OP = PlannedOp("web", "web", "g", False, ((80, 80),), False)


def test_a_stop_asked_for_reads_stopped_until_the_container_is_replaced():
    exited = op_status(OP, Container("web", "exited", "", 137, "", id="c1"))
    assert exited.state == "failed" and exited.exit_code == 137
    notes = {"web": {"state": "stopped", "container": "c1", "reason": "stopped on request"}}
    (stopped,) = with_record([exited], notes)
    assert stopped.state == "stopped" and stopped.exit_code == 137
    running = op_status(OP, Container("web", "running", "", 0, "", id="c1"))
    assert with_record([running], notes)[0].state == "running"  # restarted since: the engine's word again
    other = op_status(OP, Container("web", "exited", "", 137, "", id="c2"))
    assert with_record([other], notes)[0].state == "failed"  # another container: the note is stale


def test_a_failure_before_a_container_keeps_its_reason():
    missing = op_status(OP, None)
    assert missing.state == "pending"
    notes = {"web": {"state": "failed", "reason": "image nosuch:1 not found"}}
    (failed,) = with_record([missing], notes)
    assert failed.state == "failed" and failed.reason == "image nosuch:1 not found" and failed.exit_code is None
    created = op_status(OP, Container("web", "created", "", 0, "", id="c1"))
    assert with_record([created], notes)[0].state == "failed"
    ran = op_status(OP, Container("web", "exited", "", 0, "", id="c1"))
    assert with_record([ran], notes)[0].state == "completed"  # it ran after all: the engine knows better


def test_how_long_a_container_ran_by_the_engines_times():
    assert ran_for({"started": 1_000, "finished": 2_250}) == 1.25
    assert ran_for({"started": 1_000, "finished": None}) is None  # still running
    assert ran_for({"started": None, "finished": 2_000}) is None  # never started (the runtime refused it)
    # Docker stamps the start once the process runs: `echo hi` can finish a millisecond "before" it started
    assert ran_for({"started": 1_796_479_396_087, "finished": 1_796_479_396_086}) == 0
    assert ran_for({"started": 10_000, "finished": 2_000}) is None  # an old finish: not this run's


def test_only_a_service_that_exited_within_five_seconds_exited_early():
    quick = {"started": 0, "finished": 1_200}
    exited = op_status(OP, Container("web", "exited", "", 0, "", id="c1"))
    assert exited_early(exited, quick) == 1.2
    assert exited_early(exited, {"started": 0, "finished": 5_001}) is None
    task = op_status(OP._replace(ports=()), Container("web", "exited", "", 0, "", id="c1"))
    assert exited_early(task, quick) is None  # a task may end at once
    running = op_status(OP, Container("web", "running", "", 0, "", id="c1"))
    assert exited_early(running, quick) is None
    killed = op_status(OP, Container("web", "exited", "", 137, "", id="c1"))
    (stopped,) = with_record([killed], {"web": {"state": "stopped", "container": "c1"}})  # through the API
    assert exited_early(killed, quick) == 1.2 and exited_early(stopped, quick) is None


def test_diagnostics_state_once_the_op_has_ended_also_for_a_container_that_could_not_start():
    state = {"Status": "created", "ExitCode": 127, "Error": "exec: x: executable file not found", "RestartCount": 0}
    notes = {"web": {"state": "failed", "reason": "the runtime could not start it", "exit_code": 127}}
    (refused,) = with_record([op_status(OP, Container("web", "created", "", 0, "", id="c1"))], notes)
    assert ended_state(refused, {"state": state}) == state  # the node inspects every container it removes
    running = op_status(OP, Container("web", "running", "", 0, "", id="c1"))
    assert ended_state(running, {"state": {**state, "Status": "running"}}) is None  # not ended yet
    assert ended_state(op_status(OP, None), {"state": state}) is None  # no container: the node has no state either
