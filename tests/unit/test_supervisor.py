"""The supervisor loop against a fake engine boundary: fast checks of its decisions.

These add to the end-to-end tests on a real engine (tests/test_up_e2e.py), never replace them.
"""

from __future__ import annotations

from pathlib import Path

from fake_engine import FakeEngine

from nos2compose.engine.protocol import Container
from nos2compose.run_plan import PlannedGroup, PlannedOp
from nos2compose.run_plan import RunPlan as Plan
from nos2compose.supervisor.loop import Supervisor, UpOptions


def op(op_id, group, check=False, ports=(), depends=()):
    return PlannedOp(op_id, op_id, group, check, tuple(ports), False, depends=tuple(depends))


def make(groups, scripts, warn=None, **engine_kw):
    plan = Plan(
        "p", tuple(PlannedGroup(name, i, Path(f"{name}.yaml"), tuple(ops)) for i, (name, ops) in enumerate(groups)), {}
    )
    engine = FakeEngine(scripts, **engine_kw)
    engine.groups = {o.service: g.name for g in plan.groups for o in g.ops}
    lines = []

    def sleep(seconds):
        engine.now += seconds

    sup = Supervisor(plan, engine, lines.append, clock=lambda: engine.now, sleep=sleep, warn=warn)
    return sup, engine, lines


RUN = [(0, "running", "", 0)]
HEALTHY_AFTER_3 = [(0, "running", "starting", 0), (3, "running", "healthy", 0)]
TASK_2S = [(0, "running", "", 0), (2, "exited", "", 0)]


def test_next_group_waits_for_a_health_gated_service():
    sup, engine, lines = make(
        [("a", [op("db", "a", check=True, ports=[(5432, 5432)])]), ("b", [op("web", "b", ports=[(80, 80)])])],
        {"db": HEALTHY_AFTER_3, "web": RUN},
    )
    assert sup.up(UpOptions(detach=True)) == 0
    assert engine.ups == ["a", "b"]
    assert engine.started["web"] >= 3.0  # not before db was healthy
    assert "a  db: healthy" in lines and "b  web: running" in lines


def test_failed_op_is_reported_and_later_groups_go_on():
    sup, engine, lines = make(
        [("a", [op("task", "a")]), ("b", [op("web", "b", ports=[(80, 80)])])],
        {"task": [(0, "running", "", 0), (1, "exited", "", 3)], "web": RUN},
    )
    assert sup.up(UpOptions(detach=True)) == 1
    assert engine.ups == ["a", "b"]
    assert "a  task: failed (exit code 3)" in lines
    assert "  task | last words of task" in lines


def test_abort_on_failure_stops_the_job():
    sup, engine, _ = make(
        [("a", [op("task", "a")]), ("b", [op("web", "b", ports=[(80, 80)])])],
        {"task": [(0, "exited", "", 1)], "web": RUN},
    )
    assert sup.up(UpOptions(detach=True, abort_on_failure=True)) == 1
    assert engine.ups == ["a"] and engine.stopped


def test_health_that_never_passes_fails_at_the_timeout():
    sup, engine, lines = make(
        [("a", [op("api", "a", check=True, ports=[(80, 80)])])], {"api": [(0, "running", "starting", 0)]}
    )
    assert sup.up(UpOptions(detach=True, timeout=10)) == 1
    assert 10 <= engine.now < 11
    assert any("api: failed (its health check did not pass within 10 s" in line for line in lines)


def test_barrier_exit_waits_for_services_to_exit():
    scripts = {"svc": [(0, "running", "", 0), (5, "exited", "", 0)], "next": RUN}
    sup, engine, _ = make(
        [("a", [op("svc", "a", ports=[(80, 80)])]), ("b", [op("next", "b", ports=[(81, 81)])])], scripts
    )
    sup.up(UpOptions(detach=True, barrier="exit"))
    assert engine.started["next"] >= 5.0
    sup2, engine2, _ = make(
        [("a", [op("svc", "a", ports=[(80, 80)])]), ("b", [op("next", "b", ports=[(81, 81)])])], scripts
    )
    sup2.up(UpOptions(detach=True, barrier="ready"))
    assert engine2.started["next"] < 1.0


def test_detach_counts_a_long_task_of_the_last_group_after_settling():
    sup, engine, _ = make([("a", [op("worker", "a")])], {"worker": RUN})
    assert sup.up(UpOptions(detach=True)) == 0
    assert 3.0 <= engine.now < 4.0


def test_a_task_in_an_earlier_group_must_finish_first():
    sup, engine, _ = make(
        [("a", [op("prep", "a")]), ("b", [op("web", "b", ports=[(80, 80)])])], {"prep": TASK_2S, "web": RUN}
    )
    assert sup.up(UpOptions(detach=True)) == 0
    assert engine.started["web"] >= 2.0


def test_engine_refusing_a_group_fails_its_ops_and_goes_on():
    sup, engine, lines = make(
        [("a", [op("x", "a")]), ("b", [op("y", "b", ports=[(80, 80)])])], {"x": RUN, "y": RUN}, fail_up=["a"]
    )
    assert sup.up(UpOptions(detach=True)) == 1
    assert engine.ups == ["a", "b"]
    assert any(
        line.startswith("a  x: failed (image ") and "pull access denied for nosuch/image" in line for line in lines
    )
    assert sup.failures.codes["x"] == 2


def test_a_missing_image_fails_only_its_op_and_its_siblings_run():
    sup, engine, lines = make(
        [("g", [op("gone", "g"), op("here", "g")])], {"gone": RUN, "here": RUN}, no_image=["gone"]
    )
    assert sup.up(UpOptions(detach=True)) == 1
    assert "here" in engine.started and "gone" not in engine.started
    assert sup.failures.codes["gone"] == 2  # the node's exit code for an image it cannot pull
    assert any(line.startswith("g  gone: failed (image ") and "No such image: gone-image" in line for line in lines)


def test_up_again_skips_groups_already_up():
    sup, engine, lines = make(
        [("a", [op("prep", "a")]), ("b", [op("web", "b", ports=[(80, 80)])])], {"prep": TASK_2S, "web": RUN}
    )
    sup.up(UpOptions(detach=True))
    again = Supervisor(sup.plan, engine, lines.append, clock=lambda: engine.now, sleep=lambda s: None)
    engine.ups.clear()
    assert again.up(UpOptions(detach=True)) == 0
    assert engine.ups == []
    assert "group a: already up" in lines and "group b: already up" in lines


def test_dependents_start_after_startup_success_and_not_after_a_failure():
    api = op("api", "g", check=True, ports=[(80, 80)])
    ui = op("ui", "g", ports=[(81, 81)], depends=["api"])
    sup, engine, lines = make([("g", [api, ui])], {"api": HEALTHY_AFTER_3, "ui": RUN})
    assert sup.up(UpOptions(detach=True)) == 0
    assert engine.started["ui"] >= 3.0
    sick = op("api", "g", check=True, ports=[(80, 80)])
    sup, engine, lines = make([("g", [sick, ui])], {"api": [(0, "running", "starting", 0)], "ui": RUN})
    assert sup.up(UpOptions(detach=True, timeout=5)) == 1
    assert "ui" not in engine.started
    assert "g  ui: failed (not started: its dependency api failed)" in lines


def test_a_probe_sidecar_found_on_the_engine_gives_the_op_its_health():
    from nos2compose.engine.rows import PS_FORMAT, parse_ps
    from nos2compose.supervisor.states import statuses_of

    api = op("api", "g", check=False, ports=[(80, 80)])
    containers = [Container("api", "running", "", 0, ""), Container("api-probe", "running", "healthy", 0, "", "api")]
    (status,) = statuses_of([api], containers)
    assert status.state == "healthy" and status.op.probe == "api-probe"
    assert PS_FORMAT.count("{{json (.Label") == 6  # the service, then each label the codec reads
    row = (
        '{"State": "running", "Status": "Up 2 seconds (healthy)", "Labels": "io.nosana.probe-for=a,b,plain=1"}'
        '\t"a-probe"\t""\t""\t""\t"a,b"\t""'
    )
    (found,) = parse_ps(row)
    assert (found.service, found.probe_for, found.health) == ("a-probe", "a,b", "healthy")


def test_stop_if_dependent_stops_stops_the_op_when_its_dependency_ends():
    src = op("source", "g", ports=[(80, 80)])
    follower = op("follower", "g", ports=[(81, 81)], depends=["source"])._replace(stop_if_dependent_stops=True)
    bystander = op("bystander", "g", ports=[(82, 82)], depends=["source"])
    scripts = {"source": [(0, "running", "", 0), (4, "exited", "", 0)], "follower": RUN, "bystander": RUN}
    sup, engine, lines = make([("g", [src, follower, bystander])], scripts)
    stopped = []
    engine.stop = lambda services=None, timeout=10: stopped.append(services)
    sup.up(UpOptions(detach=True, barrier="exit", timeout=10))
    assert stopped == [["follower"]]
    assert "g  follower: stopping, as source ended (stop_if_dependent_stops)" in lines


def test_up_again_does_not_rerun_a_finished_task_beside_a_failed_one():
    sup, engine, lines = make(
        [("a", [op("good", "a"), op("bad", "a")])],
        {"good": TASK_2S, "bad": [(0, "running", "", 0), (1, "exited", "", 3)]},
    )
    assert sup.up(UpOptions(detach=True)) == 1
    calls = []
    original = engine.up
    engine.up = lambda files, pull, services=None, env=None: (calls.append(services), original(files, pull, services))
    again = Supervisor(sup.plan, engine, lines.append, clock=lambda: engine.now, sleep=lambda s: None)
    again.up(UpOptions(detach=True))
    assert calls == [["bad"]]


# NOS110: a service whose command returns within a few seconds of its start (states.EARLY_EXIT)


def test_a_service_whose_command_returns_at_once_gets_one_nos110_warning():
    warnings = []
    web = op("web", "g", ports=[(18080, 8080)])
    scripts = {"web": [(0, "running", "", 0), (1.2, "exited", "", 0)], "worker": TASK_2S}
    sup, _, lines = make([("g", [web, op("worker", "g")])], scripts, warn=warnings.append)
    sup.up(UpOptions(detach=True))  # returns while web still runs (ready: a service without checks is running)
    sup.follow()  # in the foreground, until every op has exited
    assert warnings == [
        'warning: NOS110 op "web" exposes port 8080 but its command exited after 1.2 s (exit code 0): on a node '
        "its URL never answers and the op ends; run the server in the foreground (exec it, or end a wrapper "
        "script with `wait`)"
    ]
    assert "g  web: completed" in lines and not any("NOS110" in line for line in lines)  # warnings go to `warn`


def test_a_server_that_crashes_at_once_is_told_to_look_at_its_log():
    warnings = []
    api = op("api", "g", ports=[(18080, 8080), (18081, 8081)])
    crashes = [(0, "running", "", 0), (0.3, "exited", "", 1), (3, "restarting", "", 1), (3.2, "running", "", 0)]
    crashes.append((4.0, "exited", "", 1))  # a restart policy (Compose's restart) starts it again: told once
    sup, engine, lines = make([("g", [api])], {"api": crashes}, warn=warnings.append)
    sup.up(UpOptions(detach=True))
    assert sup.follow() == 1
    for later in (3.1, 4.5):  # later looks see it restart and fail again
        engine.now = later
        sup.report(sup.statuses())
    assert lines.count("g  api: failed (exit code 1)") == 2
    (line,) = warnings
    assert line.startswith('warning: NOS110 op "api" exposes ports 8080, 8081 but its command exited after 0.3 s')
    assert "(exit code 1)" in line and "its log says why it stopped" in line


def test_no_nos110_for_a_service_that_ran_longer_a_task_or_a_stop_the_supervisor_made():
    warnings = []
    slow = op("slow", "g", ports=[(80, 80)])
    follower = op("follower", "g", ports=[(81, 81)], depends=["task"])._replace(stop_if_dependent_stops=True)
    scripts = {
        "slow": [(0, "running", "", 0), (5.5, "exited", "", 0)],  # ran past EARLY_EXIT
        "task": [(0, "running", "", 0), (0.5, "exited", "", 0)],  # exposes nothing: a task may end at once
        "follower": RUN,  # stopped by the supervisor within a second: its exit is not its command's
    }
    sup, engine, lines = make([("g", [slow, op("task", "g"), follower])], scripts, warn=warnings.append)
    sup.up(UpOptions(detach=True, barrier="exit", timeout=30))
    sup.follow()
    assert "g  follower: stopping, as task ended (stop_if_dependent_stops)" in lines
    assert {c.service: c.state for c in engine.containers()} == {
        "slow": "exited",
        "task": "exited",
        "follower": "exited",
    }
    assert warnings == []


def test_no_nos110_for_services_stopped_by_abort_on_failure():
    warnings = []
    groups = [("g", [op("web", "g", ports=[(80, 80)]), op("bad", "g")])]
    scripts = {"web": RUN, "bad": [(0, "running", "", 0), (1, "exited", "", 3)]}
    sup, engine, lines = make(groups, scripts, warn=warnings.append)
    assert sup.up(UpOptions(detach=True, abort_on_failure=True)) == 1
    assert engine.stopped and "g  web: failed (exit code 137)" in lines and warnings == []


def test_nos110_is_the_catalogues_up_time_rule():
    from nos2compose.lint.catalogue import BY_CODE
    from nos2compose.supervisor.report import EXITED_EARLY

    assert BY_CODE[EXITED_EARLY].stage == "up" and BY_CODE[EXITED_EARLY].name == "service-exits-early"
