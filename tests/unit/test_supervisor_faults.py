"""The supervisor on a bad day, against the fake engine: pulls that fail, ports taken, probes that never
pass, literals the node cannot resolve; each fails only its op, says why, and is kept in the state record."""

from __future__ import annotations

import io
import socket
from pathlib import Path

import pytest
from fake_engine import FakeEngine

from nos2compose.engine.protocol import Container
from nos2compose.run_plan import PlannedGroup, PlannedOp
from nos2compose.run_plan import RunPlan as Plan
from nos2compose.supervisor.loop import Supervisor, UpOptions
from nos2compose.supervisor.preflight import PortInUse, engine_status, pull_problem
from nos2compose.supervisor.progress import Progress
from nos2compose.supervisor.states import OpStatus

RUN = [(0, "running", "", 0)]
TASK = [(0, "running", "", 0), (1, "exited", "", 0)]


def op(op_id, group, **kw):
    return PlannedOp(
        op_id,
        op_id,
        group,
        kw.pop("check", False),
        tuple(kw.pop("ports", ())),
        False,
        image=kw.pop("image", f"img/{op_id}"),
        **kw,
    )


def make(groups, scripts, **engine_kw):
    plan = Plan("p", tuple(PlannedGroup(n, i, Path(f"{n}.yaml"), tuple(ops)) for i, (n, ops) in enumerate(groups)), {})
    engine = FakeEngine(scripts, **engine_kw)
    engine.groups = {o.service: g.name for g in plan.groups for o in g.ops}
    engine.images = {o.service: o.image for g in plan.groups for o in g.ops}
    lines, notes = [], []

    def sleep(seconds):
        engine.now += seconds

    engine.noted_errors = {}  # op id -> the node's error event the supervisor recorded for it

    def note(op_id, state, reason, exit_code=None, error=None):
        notes.append((op_id, state, reason, exit_code))
        engine.noted_errors[op_id] = error

    sup = Supervisor(plan, engine, lines.append, clock=lambda: engine.now, sleep=sleep, note=note)
    return sup, engine, lines, notes


def test_a_pull_that_fails_fails_only_its_op_naming_the_image_and_why():
    said = 'Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup x: no such host'
    sup, engine, lines, notes = make(
        [("a", [op("gone", "a")]), ("b", [op("after", "b")])],
        {"gone": TASK, "after": TASK},
        missing={"img/gone"},
        unpullable={"img/gone": said},
    )
    assert sup.up(UpOptions(detach=True)) == 1
    (failed,) = [n for n in notes if n[0] == "gone" and n[1] == "failed"]
    assert failed[2].startswith("image img/gone: registry not reachable (") and failed[3] == 2
    assert "b  after: completed" in lines
    # tried once, before anything ran, and named in one pre-flight line; not tried again at its group's start
    assert [c for c in engine.calls if c[0].startswith("pull")] == [("pull_image", "img/gone")]
    assert lines[0].startswith("warning: image img/gone of op gone cannot be had (") and "rest of the job" in lines[0]
    (gone,) = [s for s in sup.statuses() if s.op.id == "gone"]
    assert gone.state == "failed" and gone.exit_code == 2 and not gone.present
    # the node's errors[] entry: its event, the message, and the engine's HTTP status (a lookup failure: 500)
    assert engine.noted_errors["gone"] == {"event": "image-pull-error", "message": failed[2], "code": 500}


def test_a_missing_image_is_the_nodes_pull_error_with_the_engines_404():
    sup, engine, _, _ = make([("a", [op("gone", "a")])], {"gone": TASK}, no_image={"gone"})
    sup.up(UpOptions(detach=True, pull="never"))
    error = engine.noted_errors["gone"]
    assert (error["event"], error["code"]) == ("image-pull-error", 404) and "gone-image" in error["message"]


def test_engine_statuses_from_its_words():
    assert engine_status("Error response from daemon: No such image: a:1") == 404
    assert engine_status("pull access denied for a, repository does not exist or may require 'docker login'") == 404
    assert engine_status("unauthorized: authentication required") == 401
    assert engine_status('Error response from daemon: Conflict. The container name "/x" is already in use') == 409
    assert engine_status("Error response from daemon: OCI runtime create failed: exec: no such file") == 500
    missing = (  # what Docker 20.10 answers 400 for (an invalid parameter), as the node's dockerode reports it
        "Error response from daemon: failed to create shim task: OCI runtime create failed: runc create failed: unable"
        ' to start container process: exec: "echo hi": executable file not found in $PATH: unknown'
    )
    assert engine_status(missing) == 400
    assert engine_status("docker compose up failed (exit status 1)") is None


def test_abort_on_failure_refuses_up_front_an_image_that_cannot_be_had():
    from nos2compose.supervisor.images import ImageProblem

    sup, engine, _, _ = make(
        [("a", [op("here", "a")]), ("b", [op("gone", "b")])],
        {"here": TASK, "gone": TASK},
        missing={"img/gone"},
        unpullable={"img/gone": "manifest unknown"},
    )
    with pytest.raises(ImageProblem, match=r"image img/gone of op gone cannot be had .*--abort-on-failure refuses"):
        sup.up(UpOptions(detach=True, abort_on_failure=True))
    assert engine.started == {}  # nothing ran


def test_a_helper_image_that_cannot_be_had_stops_everything_naming_its_option():
    from nos2compose.supervisor.images import ImageProblem

    web = op("web", "a", check=True, probe="web-probe", probe_image="curl:1")
    sup, engine, _, _ = make([("a", [web])], {"web": TASK}, missing={"curl:1"})
    with pytest.raises(ImageProblem, match=r"image curl:1: .*helper image for web: .*--probe-image"):
        sup.up(UpOptions(detach=True, pull="never"))
    assert engine.started == {}


def test_pull_problems_are_told_apart():
    assert "not found" in pull_problem("a:1", "manifest for a:1 not found: manifest unknown")
    assert "not authorized" in pull_problem("a:1", "pull access denied: unauthorized: authentication required")
    assert "registry not reachable" in pull_problem("a:1", "dial tcp: lookup registry-1.docker.io: no such host")


def test_a_taken_host_port_stops_up_before_the_group_starts():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        taken = listener.getsockname()[1]
        sup, engine, lines, _ = make([("a", [op("web", "a", ports=((taken, 80),))])], {"web": RUN})
        with pytest.raises(
            PortInUse,
            match=f"port {taken} on 127.0.0.1 is already in use, so op web cannot publish "
            rf"its port 80 there; free it, or publish it elsewhere: --publish web:80=\d+ \(free now\)",
        ):
            sup.up(UpOptions(detach=True))
    assert engine.ups == [] and lines == []  # nothing started, nothing claimed


def test_an_unresolved_literal_fails_its_op_before_it_starts_with_the_nodes_words():
    message = 'Unresolved literal: "%%ops.x.results.y%%" (opId="x", path="results.y")'
    sup, engine, _, notes = make(
        [("a", [op("user", "a", unresolved=(message,)), op("other", "a")])], {"user": TASK, "other": TASK}
    )
    sup.up(UpOptions(detach=True))
    assert ("user", "failed", message, 0) in notes
    assert engine.noted_errors["user"] is None  # the node logs it (nodeerr) and records no error event
    assert "user" not in engine.started and "other" in engine.started


def test_a_health_check_timeout_names_the_probes_last_answer():
    answer = "GET http://127.0.0.1:80/missing: got 404, want 200"
    sup, engine, _, notes = make(
        [("a", [op("web", "a", check=True)])], {"web": [(0, "running", "starting", 0)]}, health=answer
    )
    assert sup.up(UpOptions(detach=True, timeout=8)) == 1
    (reason,) = [n[2] for n in notes if n[0] == "web" and n[1] == "failed"]
    assert reason == f"its health check did not pass within 8 s (--timeout); the last probe said: {answer}"
    assert engine.noted_errors["web"] == {"event": "operation-error", "message": reason}  # no engine answer: no code


LOOPBACK_NOTE = (
    "port 8080 answers only on 127.0.0.1 (loopback) inside its container, not at its address 172.18.0.2 on the "
    "job network"
)
LOOPBACK_LINE = (
    "a  web: port 8080 answers only on 127.0.0.1 (loopback) inside its container; a node's probe and tunnel "
    "reach it from outside, so it never becomes healthy there: make it listen on 0.0.0.0"
)


def _looked_at(engine, answer):
    """The fake time of every read of a health log, each answering `answer`."""
    looked = []

    def health_log(container_id):
        looked.append(engine.now)
        return answer

    engine.health_log = health_log
    return looked


def test_an_op_answering_only_on_its_loopback_is_named_once_as_soon_as_its_probe_says_so():
    sup, engine, lines, notes = make([("a", [op("web", "a", check=True)])], {"web": [(0, "running", "starting", 0)]})
    looked = _looked_at(engine, LOOPBACK_NOTE)
    assert sup.up(UpOptions(detach=True, timeout=20)) == 1
    assert lines.count(LOOPBACK_LINE) == 1
    assert lines.index(LOOPBACK_LINE) < next(i for i, line in enumerate(lines) if "web: failed" in line)
    assert looked[0] < 1.0  # at its first look, not at the timeout
    (reason,) = [n[2] for n in notes if n[0] == "web" and n[1] == "failed"]
    assert reason.endswith(f"the last probe said: {LOOPBACK_NOTE}")


def test_the_probes_answer_is_read_every_2_s_at_most_and_never_for_a_sidecar():
    sup, engine, lines, _ = make([("a", [op("web", "a", check=True)])], {"web": [(0, "running", "starting", 0)]})
    looked = _looked_at(engine, "GET http://web:8080/ at 172.18.0.2: got no answer, want 200")
    sup.up(UpOptions(detach=True, timeout=20))
    assert 8 <= len(looked) <= 12 and not any("loopback" in line for line in lines)  # every 2 s, and the timeout's
    starting = [(0, "running", "starting", 0)]
    sup, engine, lines, _ = make(
        [("a", [op("web", "a", check=True, probe="web-probe")])], {"web": starting, "web-probe": starting}
    )
    engine.groups["web-probe"] = "a"
    looked = _looked_at(engine, LOOPBACK_NOTE)
    sup.up(UpOptions(detach=True, timeout=6))
    assert len(looked) == 1  # the timeout's reason only: a sidecar asks over the network, never the op's loopback
    assert LOOPBACK_LINE not in lines


def _status(op_id, state="starting", health="starting"):
    return OpStatus(op(op_id, "g", check=True), state, health=health, container_id="c")


def test_progress_in_a_log_a_line_after_5_s_then_every_10_s_with_the_probes_answer():
    lines = []
    progress = Progress(lines.append, lambda s: "GET /: got 503, want 200", stream=io.StringIO(), tty=False)
    for t in range(31):
        progress.waiting([_status("web")], float(t))
    assert [line.split(": waiting ")[1] for line in lines] == [
        f"{n} s (starting; last probe: GET /: got 503, want 200)" for n in (5, 15, 25)
    ]
    progress.waiting([], 31.0)  # done: forgotten
    progress.waiting([_status("web")], 32.0)
    assert len(lines) == 3


def test_progress_in_a_terminal_is_one_live_line_cleared_before_other_lines():
    screen, lines = io.StringIO(), []
    progress = Progress(lines.append, lambda s: "", stream=screen, tty=True)
    progress.waiting([_status("web"), _status("db", "running", "")], 0.0)
    progress.waiting([_status("web"), _status("db", "running", "")], 7.0)
    assert screen.getvalue().endswith("\r\033[K  waiting: web 7s starting, db 7s running") and lines == []
    progress.say("group g: ready")
    assert screen.getvalue().endswith("\r\033[K") and lines == ["group g: ready"]


def test_a_stop_asked_for_reads_stopped_and_is_not_a_failure():
    from nos2compose.supervisor import record, session

    sup, engine, _, _ = make([("a", [op("web", "a")])], {"web": RUN})
    sup.up(UpOptions(detach=True))
    record.begin("p", sup.plan, None)
    session.act(engine, sup.plan, [sup.plan.op("web")], "stop")
    attached = session.attach("p", engine)
    (web,) = session.statuses(attached, engine)
    assert web.state == "stopped" and web.exit_code == 137 and engine.calls[-1] == ("stop", ("web",), None)
    record.remove("p")


def test_a_create_volume_op_is_pending_until_its_file_begins_then_completed():
    volume = PlannedOp("vol", "", "vol", False, (), False, volume="data", host=("writer",))
    from nos2compose.supervisor.states import statuses_of

    assert statuses_of([volume], [])[0].state == "pending"
    done = statuses_of([volume], [Container("writer", "running", "", 0, "")])[0]
    assert done.state == "completed" and done.exit_code == 0 and volume.containers == ()


def test_results_spliced_past_the_output_limit_fail_the_ops_that_splice_them(monkeypatch):
    """`up`'s override file is counted as it grows (issue 21): past the limit, the ops splicing results into
    it fail with the reason, and the others of the group start."""
    from nos2compose.model import Placeholder
    from nos2compose.supervisor import loop

    monkeypatch.setenv("NOS2COMPOSE_MAX_OUTPUT_BYTES", "100000")
    monkeypatch.setattr(loop, "results_of", lambda engine, statuses: {"x": {"k": ["v" * 100] * 100}})
    placeholder = Placeholder("x", "k", "items")
    group = [op("user", "b"), op("other", "b")]
    sup, engine, _, notes = make([("a", [op("x", "a")]), ("b", group)], {"x": TASK, "user": TASK, "other": TASK})
    b = sup.plan.groups[1]._replace(
        runtime={"N2C_X_K": placeholder}, services={"user": {"command": ["${N2C_X_K?x}"] * 50}, "other": {}}
    )
    sup.plan = sup.plan._replace(groups=(sup.plan.groups[0], b))
    sup.up(UpOptions(detach=True))
    (failed,) = [n for n in notes if n[1] == "failed"]
    assert failed[0] == "user" and "override file come to more than 100,000 bytes of Compose" in failed[2]
    assert "user" not in engine.started and "other" in engine.started
