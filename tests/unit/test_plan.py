"""The planner: names Compose accepts, host ports that never collide, variables and files named once."""

from __future__ import annotations

from helpers import job, run_op

from nos2compose.compiler import Options, compile_job
from nos2compose.compose.naming import project_name, service_names


def test_project_and_service_names():
    assert project_name("Qwen3.5__job-definition-27b") == "qwen3-5__job-definition-27b"
    assert project_name("__") == "job"
    names = service_names(["gpt-oss:120b", "gpt-oss-120b", "a b", "ok.name_1"])
    assert names["gpt-oss-120b"] == "gpt-oss-120b"
    assert names["gpt-oss:120b"] == "gpt-oss-120b-2"  # never collides with a valid id
    assert names["a b"] == "a-b" and names["ok.name_1"] == "ok.name_1"


def test_host_ports_never_collide_and_are_stable():
    definition = job(
        run_op("a", expose=80), run_op("b", expose=[80, 81]), run_op("c", expose=80), run_op("d", expose=82)
    )
    result = compile_job(definition, Options(name="p"))
    assert result.layout.ports == {("a", 80): 80, ("b", 80): 83, ("b", 81): 81, ("c", 80): 84, ("d", 82): 82}
    again = compile_job(definition, Options(name="p"))
    assert again.layout.ports == result.layout.ports
