"""flow_state.py on its own (no engine): what it sets aside as random or engine wording, and what it still catches."""

from __future__ import annotations

from fidelity import compare, flow_state

DOCKER = (
    "(HTTP code 400) unexpected - failed to create shim task: OCI runtime create failed: runc create failed: unable to "
    'start container process: exec: "go": executable file not found in $PATH: unknown '
)
PODMAN = (
    'Cannot start container: runc: runc create failed: unable to start container process: exec: "go": executable '
    "file not found in $PATH: OCI runtime attempted to invoke a command that was not found"
)
CLI = DOCKER.replace("(HTTP code 400) unexpected - ", "Error response from daemon: ").strip()
STATE = {"ExitCode": 0, "OOMKilled": False, "Error": "", "RestartCount": 0, "StartedAt": "2026-01-02T03:04:05.5Z"}


def op(**kw) -> compare.OpRun:
    base = {
        "errors": [],
        "diagnostics": {"reason": {"jobStopped": False}, "state": {**STATE, "FinishedAt": "2026-01-02T03:04:06Z"}},
        "log_times": [("stdout", "2026-01-02T03:04:05.6Z"), ("stdout", "2026-01-02T03:04:05.9Z")],
        "flow_start": 1767323045_000,
        "flow_end": 1767323046_000,
    }
    return compare.OpRun(id="x", **{**base, **kw})


def test_one_runtime_failure_has_one_shape_in_every_engines_words():
    shapes = {flow_state.message_shape("container-runtime-error", m) for m in (DOCKER, PODMAN, CLI)}
    assert shapes == {'exec: "go": executable file not found in $PATH'}
    harness = "nos2compose oracle: pulling is disabled; image a/b:1 is not on the engine"
    local = "image a/b:1: not found (Error response from daemon: No such image: a/b:1); check the name and tag"
    assert flow_state.message_shape("image-pull-error", harness) == "image a/b:1"
    assert flow_state.message_shape("image-pull-error", local) == "image a/b:1"


def test_agreeing_ops_give_nothing_and_each_field_is_caught():
    assert flow_state.compare_op(op(), op(), lambda v: v) == []
    node = op(errors=[{"event": "container-runtime-error", "message": DOCKER, "code": 400}])
    same = op(errors=[{"event": "container-runtime-error", "message": CLI, "code": 400}])
    assert flow_state.compare_op(node, same, lambda v: v) == []
    other = op(errors=[{"event": "container-runtime-error", "message": CLI.replace('"go"', '"run"'), "code": 500}])
    assert [f for f, *_ in flow_state.compare_op(node, other, lambda v: v)] == ["errors message", "errors code"]
    assert flow_state.compare_op(node, op(), lambda v: v)[0] == ("errors", ["container-runtime-error"], [])
    oom = op(diagnostics={"reason": {"jobStopped": True}, "state": {**STATE, "OOMKilled": True, "RestartCount": 2}})
    found = {f: (a, b) for f, a, b in flow_state.compare_op(op(), oom, lambda v: v)}
    assert found["diagnostics.reason"] == ({"jobStopped": False}, {"jobStopped": True})
    assert found["state OOMKilled"] == (False, True) and found["state RestartCount"] == (0, 2)
    assert found["state times"] == ("ran", "running")  # no FinishedAt: still running
    assert flow_state.compare_op(op(), op(diagnostics={"reason": {"jobStopped": False}}), lambda v: v) == [
        ("diagnostics.state", True, False)
    ]


def test_a_pull_the_harness_refused_has_no_code_to_compare():
    harness = "nos2compose oracle: pulling is disabled; image a/b:1 is not on the engine"
    node = op(errors=[{"event": "image-pull-error", "message": harness}])
    local = op(errors=[{"event": "image-pull-error", "message": "image a/b:1: not found (...)", "code": 404}])
    assert flow_state.compare_op(node, local, lambda v: v) == []


def test_log_times_present_in_order_and_within_the_op_give_or_take_a_second():
    start, end = 1767323045_000, 1767323050_000
    # Podman stamps whole seconds: a line 0.9 s after the op's start carries the second before; streams apart
    whole = [("stdout", "2026-01-02T03:04:06Z"), ("stderr", "2026-01-02T03:04:05Z")]
    assert flow_state.log_time_problems(whole, start + 900, end) == []
    assert flow_state.log_time_problems([("stdout", "")], start, end) == ["stdout entry 0: no RFC 3339 time ('')"]
    back = [("stdout", "2026-01-02T03:04:07Z"), ("stdout", "2026-01-02T03:04:06Z")]
    assert flow_state.log_time_problems(back, start, end) == ["stdout entry 1: 1000 ms before the entry above it"]
    late = [("stdout", "2026-01-02T03:04:11.5Z")]
    assert flow_state.log_time_problems(late, start, end) == ["stdout entry 0: 1500 ms after the op's endTime"]
    early = [("stdout", "2026-01-02T03:04:03.5Z")]
    assert flow_state.log_time_problems(early, start, None) == ["stdout entry 0: 1500 ms before the op's startTime"]


def test_state_times_are_checked_for_consistency_only():
    assert flow_state.state_times({"StartedAt": "0001-01-01T00:00:00Z", "FinishedAt": "0001-01-01T00:00:00Z"}) == (
        "never started"
    )
    quick = {"StartedAt": "2026-01-02T03:04:05.002Z", "FinishedAt": "2026-01-02T03:04:05.001Z"}
    assert flow_state.state_times(quick) == "ran"  # Docker stamps the start once the process runs
    wrong = {"StartedAt": "2026-01-02T03:04:09Z", "FinishedAt": "2026-01-02T03:04:05Z"}
    assert flow_state.state_times(wrong) == "FinishedAt 4000 ms before StartedAt"


def test_a_podman_run_that_lost_an_ops_log_is_recognized():
    lost = "(HTTP code 500) … failed to obtain logs for Container 'abc': read /proc/425/cgroup: no such process"
    assert compare._lost_logs({"opStates": [{"logs": [{"type": "stderr", "log": lost}]}]})
    assert not compare._lost_logs({"opStates": [{"logs": [{"type": "stdout", "log": "delta-run\n"}]}, {}]})
