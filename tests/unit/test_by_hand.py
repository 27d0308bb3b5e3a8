"""The by-hand part of each file's header: the variables to set, the commands, port ranges, the override."""

from __future__ import annotations

from helpers import job, run_op
from recipe import commands, header_lines, variables

from nos2compose.compiler import Options, compile_job
from nos2compose.compose.layout import PlanOptions


def _headers(definition: dict, plan: PlanOptions = PlanOptions()) -> dict[str, list[str]]:
    """file name -> its header lines, for the group files and for the single file."""
    result = compile_job(definition, Options(name="j", plan=plan))
    assert result.ok, [d.describe() for d in result.diagnostics.items]
    return {name: header_lines(text) for name, text in [*result.group_files(), ("compose.yaml", result.single_file())]}


def served(op_id: str, port, **args) -> dict:
    check = {"type": "http", "path": "/", "method": "GET", "expected_status": 200, "continuous": True}
    return run_op(op_id, expose=[{"port": port, "health_checks": [check]}], **args)


def grouped(op: dict, group: str, *depends_on: str) -> dict:
    return {**op, "execution": {"group": group, **({"depends_on": list(depends_on)} if depends_on else {})}}


def test_a_mixed_group_waits_for_its_services_then_runs_its_tasks_in_the_foreground():
    headers = _headers(job(run_op("first"), served("web", 8080), run_op("check")))
    groups = [name for name in headers if name != "compose.yaml"]
    assert groups == ["00-first.yaml", "01-web.yaml", "02-check.yaml"]
    assert commands(headers["00-first.yaml"]) == [["docker", "compose", "-f", "00-first.yaml", "up", "first"]]
    assert commands(headers["01-web.yaml"]) == [["docker", "compose", "-f", "01-web.yaml", "up", "-d", "--wait", "web"]]
    assert any("in this directory, after the files before it" in line for line in headers["01-web.yaml"])
    assert not any("after the files before it" in line for line in headers["00-first.yaml"])
    assert headers["01-web.yaml"][-1] == "With your edits: -f 01-web.yaml -f 01-web.override.yaml in each command."


def test_one_group_with_services_and_tasks():
    ops = [
        grouped(served("web", 8080), "g"),
        grouped(run_op("api", expose=9000), "g"),
        grouped(run_op("smoke"), "g", "web"),
    ]
    (recipe,) = [h for name, h in _headers(job(*ops)).items() if name != "compose.yaml"]
    assert commands(recipe) == [
        ["docker", "compose", "-f", "00-g.yaml", "up", "-d", "--wait", "web", "api"],
        ["docker", "compose", "-f", "00-g.yaml", "up", "smoke"],
    ]


def test_a_service_that_depends_on_a_task_says_that_compose_reports_the_task_as_exited():
    ops = [grouped(run_op("seed"), "g"), grouped(served("web", 8080), "g", "seed")]
    (recipe,) = [h for name, h in _headers(job(*ops)).items() if name != "compose.yaml"]
    assert "  # it also runs the tasks they depend on, then exits 1 saying they exited: seed" in recipe
    assert commands(recipe) == [["docker", "compose", "-f", "00-g.yaml", "up", "-d", "--wait", "web"]]  # once


def test_variables_are_named_never_valued_and_long_lists_wrap():
    producer = {**run_op("p", cmd="echo x"), "results": {f"key{i}": "x" for i in range(12)}}
    consumer = run_op("c", cmd=" ".join(f"%%ops.p.results.key{i}%%" for i in range(12)))
    headers = _headers(job(producer, consumer))
    lines = headers["01-c.yaml"]
    start = lines.index(
        "Set these variables first (`nos2compose up` sets them; plain Compose stops and names a missing one):"
    )
    assert variables(lines) == [f"N2C_P_KEY{i}_TEXT" for i in range(12)]
    assert all(len(line) <= 102 for line in lines[start + 1 : start + 4]) and lines[start + 2].startswith("    N2C_")
    assert any("N2C_P_KEY0_TEXT" in line for line in headers["compose.yaml"])


def test_port_ranges_and_ports_from_results_are_listed_with_their_host_ports():
    producer = {**run_op("p", cmd="echo 1"), "results": {"port": "\\d+"}}
    ranged = run_op("r", expose=["18100-18102"])
    spread = run_op("s", expose=[{"__spread__": "%%ops.p.results.port%%"}])
    headers = _headers(job(producer, ranged, spread))
    assert "  r: 127.0.0.1:18100-18102 -> ports 18100-18102" in headers["01-r.yaml"]
    assert "  s: 127.0.0.1:PORT -> port PORT, for each PORT in N2C_P_PORT_ITEMS" in headers["02-s.yaml"]


def test_a_service_name_that_starts_with_a_dash_is_not_read_as_an_option():
    (recipe,) = [h for name, h in _headers(job(run_op("-x"))).items() if name != "compose.yaml"]
    assert commands(recipe) == [["docker", "compose", "-f", "00-x.yaml", "up", "--", "-x"]]


def test_many_services_wrap_with_continuations():
    ops = [grouped(run_op(f"service-number-{i}", expose=9000 + i), "g") for i in range(12)]
    (recipe,) = [h for name, h in _headers(job(*ops)).items() if name != "compose.yaml"]
    (command,) = commands(recipe)
    assert command[7:] == [f"service-number-{i}" for i in range(12)]
    wrapped = [line for line in recipe if line.endswith(" \\")]
    assert len(wrapped) == 2 and all(len(line) <= 102 for line in wrapped) and all(len(line) < 200 for line in recipe)


def test_the_single_file_names_compose_override_yaml():
    header = _headers(job(run_op("a")))["compose.yaml"]
    assert "`docker compose up -d`" in header[-2] and "compose.override.yaml" in header[-1]


def test_a_probe_sidecar_is_waited_for_with_its_op_and_resource_fetchers_are_left_to_compose():
    op = served("web", 8080, resources=[{"type": "HF", "repo": "org/model", "target": "/hf"}])
    (recipe,) = [
        h for name, h in _headers(job(op), PlanOptions(health_probe="sidecar")).items() if name != "compose.yaml"
    ]
    assert commands(recipe) == [["docker", "compose", "-f", "00-web.yaml", "up", "-d", "--wait", "web", "web-probe"]]
