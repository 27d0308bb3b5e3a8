"""The pure mapping, on hand-written projects shaped like `docker compose config --format json` output."""

from __future__ import annotations

import re

import pytest
from import_helpers import ROOT, strict_errors

from nos2compose.importer import job_from_project
from nos2compose.importer import services as services_module
from nos2compose.importer.keys import DEPLOY_KEYS, SERVICE_KEYS, TOP_LEVEL_KEYS, Handling
from nos2compose.importer.services import is_helper, restart_policy

# compose-spec/compose-go schema/compose-spec.json (commit e70e961c3a3a, 2026-07): every key a service may have
COMPOSE_SPEC_SERVICE_KEYS = """
annotations attach blkio_config build cap_add cap_drop cgroup cgroup_parent command configs container_name
cpu_count cpu_percent cpu_period cpu_quota cpu_rt_period cpu_rt_runtime cpu_shares cpus cpuset credential_spec
depends_on deploy develop device_cgroup_rules devices dns dns_opt dns_search domainname entrypoint env_file
environment expose extends external_links extra_hosts gpus group_add healthcheck hostname image init ipc isolation
label_file labels links logging mac_address mem_limit mem_reservation mem_swappiness memswap_limit models
network_mode networks oom_kill_disable oom_score_adj pid pids_limit platform ports post_start pre_start pre_stop
privileged profiles provider pull_policy pull_refresh_after read_only restart runtime scale secrets security_opt
shm_size stdin_open stop_grace_period stop_signal storage_opt sysctls tmpfs tty ulimits use_api_socket user
userns_mode uts volumes volumes_from working_dir
""".split()
COMPOSE_SPEC_TOP_LEVEL_KEYS = "configs include models name networks secrets services version volumes".split()
COMPOSE_SPEC_DEPLOY_KEYS = (
    "endpoint_mode labels mode placement replicas resources restart_policy rollback_config update_config"
).split()


def project(**services) -> dict:
    return {"name": "p", "networks": {"default": {"name": "p_default", "ipam": {}}}, "services": services}


def svc(image="busybox", **keys) -> dict:
    return {"command": None, "entrypoint": None, "image": image, "networks": {"default": None}, **keys}


def dep(condition="service_started", **more) -> dict:
    return {"condition": condition, "required": True, **more}


def run(p: dict, **kw):
    """The job and its warnings; every job import writes passes `validate --strict`."""
    job, diags = job_from_project(p, **kw)
    if job is not None:
        assert strict_errors(job) == []
    return job, [(d.path, d.message) for d in diags.items]


def ops(job: dict) -> dict[str, dict]:
    return {op["id"]: op for op in job["ops"]}


def groups(job: dict) -> list[tuple[str, list[str]]]:
    out: list[tuple[str, list[str]]] = []
    for op in job["ops"]:
        g = op["execution"]["group"]
        if not out or out[-1][0] != g:
            out.append((g, []))
        out[-1][1].append(op["id"])
    return out


# ---- the key table ----


def test_every_compose_service_key_is_in_the_table():
    assert sorted(set(COMPOSE_SPEC_SERVICE_KEYS) - set(SERVICE_KEYS)) == []


def test_every_compose_top_level_and_deploy_key_is_in_the_table():
    assert sorted(set(COMPOSE_SPEC_TOP_LEVEL_KEYS) - set(TOP_LEVEL_KEYS)) == []
    assert sorted(set(COMPOSE_SPEC_DEPLOY_KEYS) - set(DEPLOY_KEYS)) == []


def test_every_handled_key_has_a_handler():
    handled = {k for k, (h, _) in SERVICE_KEYS.items() if h is Handling.HANDLED}
    assert handled - set(services_module._HANDLERS) - services_module._ELSEWHERE == set()


def test_docs_name_every_key_of_the_table():
    doc = (ROOT / "docs" / "import.md").read_text()
    named = set(re.findall(r"`([a-z_]+)`", doc))
    assert sorted(set(SERVICE_KEYS) - named) == []
    assert sorted((set(TOP_LEVEL_KEYS) | set(DEPLOY_KEYS)) - named) == []


def test_every_warned_key_warns_with_its_path_and_what_a_node_does():
    warned = {k: "x" for k, (h, _) in SERVICE_KEYS.items() if h in (Handling.WARNED, Handling.IGNORED)}
    warned.pop("network_mode")  # its own handler
    _, said = run(project(web=svc(**warned)))
    paths = {path[2] for path, _ in said if path[:2] == ("services", "web")}
    assert set(warned) <= paths
    for path, message in said:
        key = path[2]
        if key in warned:
            assert message.startswith(f"{key} x: ") and SERVICE_KEYS[key][1] in message


def test_an_unknown_key_is_never_dropped_silently():
    job, said = run({**project(web=svc(frobnicate=1)), "x-tool": {"a": 1}, "futurekey": 1})
    assert ("services", "web", "frobnicate") in [p for p, _ in said]
    assert (("futurekey",), "futurekey: unknown to nos2compose import: left out") in said
    assert [p for p, m in said if p == ("x-tool",)] == [("x-tool",)]
    assert job is not None


def test_default_values_are_accepted_silently():
    _, said = run(project(web=svc(privileged=False, tty=False, cap_add=[], labels={}, init=None)))
    assert said == []


# ---- one service ----


def test_the_smallest_job():
    job, said = run(project(hello=svc(command=["echo", "hi"])))
    assert said == []
    assert job == {
        "version": "0.1",
        "type": "container",
        "meta": {"trigger": "cli"},
        "ops": [
            {
                "type": "container/run",
                "id": "hello",
                "args": {"image": "busybox", "cmd": ["echo", "hi"], "aliases": ["hello"]},
                "execution": {"group": "main"},
            }
        ],
    }


def test_args_keep_a_fixed_key_order():
    s = svc(
        entrypoint=["/e"],
        command=["c"],
        environment={"B": "2", "A": "1"},
        working_dir="/w",
        gpus=[{"count": -1}],
        ports=[{"target": 80, "protocol": "tcp"}],
        volumes=[{"type": "volume", "source": "v", "target": "/v"}],
        restart="always",
    )
    job, _ = run({**project(web=s), "volumes": {"v": {"name": "p_v"}}})
    assert list(ops(job)["web"]["args"]) == [
        "image",
        "entrypoint",
        "cmd",
        "env",
        "work_dir",
        "gpu",
        "expose",
        "volumes",
        "aliases",
        "restart_policy",
    ]
    assert ops(job)["web"]["args"]["env"] == {"B": "2", "A": "1"}  # Compose's order


def test_compose_escapes_every_dollar_and_the_job_gets_one():
    job, _ = run(project(web=svc(command=["sh", "-c", "echo $$HOME"], environment={"A": "$${X}"})))
    args = ops(job)["web"]["args"]
    assert args["cmd"] == ["sh", "-c", "echo $HOME"] and args["env"] == {"A": "${X}"}


def test_variables_without_a_value_are_warned_and_left_out():
    job, said = run(project(web=svc(environment={"A": "1", "B": None})))
    assert ops(job)["web"]["args"]["env"] == {"A": "1"}
    assert [p for p, _ in said] == [("services", "web", "environment", "B")]


def test_an_empty_entrypoint_cannot_be_said_in_a_job():
    job, said = run(project(web=svc(entrypoint=[], command=[])))
    assert "entrypoint" not in ops(job)["web"]["args"] and "cmd" not in ops(job)["web"]["args"]
    assert [p for p, _ in said] == [("services", "web", "entrypoint")]


def test_text_a_node_would_resolve_as_a_literal_is_warned():
    _, said = run(project(web=svc(environment={"A": "%%global.job%%"})))
    assert said == [
        (("services", "web", "environment"), "%%global.job%% is a Nosana literal: a node replaces it with its value")
    ]


@pytest.mark.parametrize(
    "value, policy",
    [
        ("no", "no"),
        ("always", "always"),
        ("unless-stopped", "unless-stopped"),
        ("on-failure", "on-failure"),
        ("on-failure:5", {"policy": "on-failure", "restart_tries": 5}),
        ("sometimes", None),
    ],
)
def test_restart_policies(value, policy):
    assert restart_policy(value) == policy
    if policy is not None:  # each in a job `validate --strict` accepts (run checks it)
        job, said = run(project(web=svc(restart=value)))
        assert ops(job)["web"]["args"]["restart_policy"] == policy
        assert not any("restart" in str(path) for path, _ in said)


@pytest.mark.parametrize(
    "spec, policy",
    [
        ({"condition": "on-failure", "max_attempts": 3}, {"policy": "on-failure", "restart_tries": 3}),
        ({"condition": "on-failure"}, "on-failure"),
        ({"condition": "any"}, "always"),
        ({"condition": "none"}, "no"),
        ({}, "always"),
    ],
)
def test_deploy_restart_policy_when_restart_is_not_set(spec, policy):
    job, _ = run(project(web=svc(deploy={"restart_policy": spec, "placement": {}, "resources": {}})))
    assert ops(job)["web"]["args"]["restart_policy"] == policy


def test_names_the_container_answers_to_become_aliases():
    p = project(
        db=svc(container_name="pg", networks={"default": {"aliases": ["database", "pg"]}}),
        web=svc(links=["db:sql", "db"]),
    )
    job, said = run(p)
    assert ops(job)["db"]["args"]["aliases"] == ["db", "pg", "database", "sql"]
    assert said == []


def test_gpu_forms():
    p = project(
        a=svc(runtime="nvidia"),
        b=svc(gpus=[{"count": -1}]),
        c=svc(devices=[{"source": "nvidia.com/gpu=all", "target": "nvidia.com/gpu=all", "permissions": "rwm"}]),
        d=svc(deploy={"resources": {"reservations": {"devices": [{"capabilities": ["gpu"]}]}}}),
        e=svc(
            deploy={
                "resources": {"reservations": {"devices": [{"driver": "cdi", "device_ids": ["nvidia.com/gpu=all"]}]}}
            }
        ),
        f=svc(runtime="runc"),
    )
    job, said = run(p, group_by="single")
    assert {i: op["args"].get("gpu", False) for i, op in ops(job).items()} == {
        "a": True,
        "b": True,
        "c": True,
        "d": True,
        "e": True,
        "f": False,
    }
    assert [p for p, _ in said] == [
        ("services", "e", "deploy", "resources", "reservations", "devices", 0, "device_ids")
    ]


def test_gpu_memory_is_never_guessed():
    job, said = run(
        project(
            a=svc(
                shm_size="8589934592",
                deploy={
                    "resources": {
                        "reservations": {"memory": "17179869184", "devices": [{"driver": "nvidia", "count": -1}]}
                    }
                },
            )
        )
    )
    assert job["meta"] == {"trigger": "cli"}
    assert [m.split(":")[0] for _, m in said] == ["deploy.resources.reservations.memory 16 GiB", "shm_size 8 GiB"]


# ---- services that are not ops ----


def test_build_only_services_are_left_out_with_their_edges():
    p = project(
        app=svc(image=None, build={"context": "/x", "dockerfile": "Dockerfile"}, depends_on={"db": dep()}),
        db=svc(),
        web=svc(depends_on={"app": dep()}),
    )
    job, said = run(p, group_by="single")
    assert list(ops(job)) == ["db", "web"]
    assert "depends_on" not in ops(job)["web"]["execution"]
    assert [p for p, _ in said] == [("services", "app", "build"), ("services", "web", "depends_on", "app")]


def test_scale_zero_and_providers_are_not_ops():
    p = project(off=svc(scale=0), model=svc(image=None, provider={"type": "model", "options": {}}), on=svc())
    job, said = run(p)
    assert list(ops(job)) == ["on"]
    assert [p for p, _ in said] == [("services", "off", "scale"), ("services", "model", "provider")]  # input order


def test_no_service_with_an_image_is_an_error():
    job, diags = job_from_project(project(app=svc(image=None, build={"context": "."})))
    assert job is None
    assert [d.describe() for d in diags.errors] == ["$.services: no service with an image: app (it has only build:)"]


def test_nos2compose_helpers_are_not_ops():
    probe = [
        "CMD",
        "sh",
        "/nos2compose/probe.sh",
        "http",
        "--method=GET",
        "--url=http://api:80/",
        "--expect-status=200",
    ]
    spec = '{"repo": "org/m", "target": "/m", "type": "HF"}'
    p = project(
        api=svc(
            depends_on={"api-fetch-1": dep("service_completed_successfully"), "api-probe": dep()},
            expose=["80"],
        ),
        **{
            "api-fetch-1": svc(
                command=["python3", "/nos2compose/fetch.py", "hf", "/cache", spec],
                labels={"io.nosana.fetch-for": "api"},
            ),
            "api-probe": svc(healthcheck={"test": probe}, labels={"io.nosana.probe-for": "api"}),
        },
    )
    job, said = run(p)
    assert list(ops(job)) == ["api"]
    api = ops(job)["api"]["args"]
    assert api["resources"] == [{"type": "HF", "repo": "org/m", "target": "/m"}]
    assert api["expose"][0]["health_checks"][0]["expected_status"] == 200
    assert [p for p, _ in said] == [("services", "api", "expose")]  # expose: is warned as in any project
    assert is_helper({"labels": {"io.nosana.probe-for": "x"}}) and not is_helper({"labels": {"a": "b"}})


def test_a_fetcher_whose_command_is_not_nos2compose_s_is_warned():
    p = project(api=svc(), **{"api-fetch-1": svc(labels={"io.nosana.fetch-for": "api"})})
    job, said = run(p)
    assert list(ops(job)) == ["api"] and "resources" not in ops(job)["api"]["args"]
    assert [p for p, _ in said] == [("services", "api-fetch-1")]
    assert "the resource cannot be rebuilt" in said[0][1]


# ---- groups ----


def test_started_and_healthy_edges_share_a_group_named_main():
    hc = {"test": ["CMD", "curl", "-f", "http://localhost:80/"]}
    p = project(
        web=svc(depends_on={"api": dep("service_healthy")}, ports=[{"target": 3000, "protocol": "tcp"}]),
        api=svc(ports=[{"target": 80, "protocol": "tcp"}], healthcheck=hc, depends_on={"cache": dep()}),
        cache=svc(),
    )
    job, said = run(p)
    assert groups(job) == [("main", ["cache", "api", "web"])]
    assert ops(job)["web"]["execution"] == {"group": "main", "depends_on": ["api"]}
    assert said == []


def test_completed_successfully_runs_the_dependency_in_an_earlier_group():
    p = project(migrate=svc(), web=svc(depends_on={"migrate": dep("service_completed_successfully")}))
    job, said = run(p)
    assert groups(job) == [("migrate", ["migrate"]), ("web", ["web"])]
    assert "depends_on" not in ops(job)["web"]["execution"]
    assert "whatever its exit code" in said[0][1]


def test_completed_successfully_inside_a_group_becomes_a_same_group_dependency():
    p = project(
        db=svc(),
        migrate=svc(depends_on={"db": dep()}),
        web=svc(depends_on={"db": dep(), "migrate": dep("service_completed_successfully")}),
    )
    job, said = run(p)
    assert groups(job) == [("main", ["db", "migrate", "web"])]
    assert ops(job)["web"]["execution"]["depends_on"] == ["db", "migrate"]
    assert "cannot wait for an op of the same group to exit" in said[0][1]


def test_groups_that_cannot_be_ordered_are_an_error():
    p = project(
        a=svc(depends_on={"b": dep("service_completed_successfully")}),
        d=svc(depends_on={"a": dep()}),
        b=svc(),
        c=svc(depends_on={"b": dep(), "d": dep("service_completed_successfully")}),
    )
    job, diags = job_from_project(p)
    assert job is None and "an order that does not exist" in diags.errors[0].message


def test_unrelated_services_get_groups_of_their_own_unless_single():
    p = project(a=svc(ports=[{"target": 80, "protocol": "tcp"}]), b=svc(), c=svc())
    job, said = run(p)
    assert groups(job) == [("b", ["b"]), ("c", ["c"]), ("a", ["a"])]  # servers last; then by name
    assert said == []
    job, _ = run(p, group_by="single")
    assert groups(job) == [("main", ["a", "b", "c"])]


def test_a_server_before_a_later_group_is_warned():
    p = project(a=svc(ports=[{"target": 80, "protocol": "tcp"}]), b=svc(ports=[{"target": 81, "protocol": "tcp"}]))
    _, said = run(p)
    assert said[-1][0] == ("services", "a", "ports") and '"b" may never start; --group-by single' in said[-1][1]


def test_single_still_puts_completed_dependencies_first():
    p = project(setup=svc(), web=svc(depends_on={"setup": dep("service_completed_successfully")}), other=svc())
    job, _ = run(p, group_by="single")
    assert groups(job) == [("setup", ["setup"]), ("web", ["web", "other"])]  # Compose's (input) order


def test_a_dependency_without_health_checks_that_exposes_ports_blocks_its_dependents():
    p = project(api=svc(expose=["8000"]), web=svc(depends_on={"api": dep("service_healthy")}))
    _, said = run(p)
    assert any(p == ("services", "web", "depends_on", "api") and "would never start" in m for p, m in said)


def test_required_false_on_a_service_outside_the_project():
    p = project(web=svc(depends_on={"metrics": {"condition": "service_started", "required": False}}))
    _, said = run(p)
    assert said == [
        (
            ("services", "web", "depends_on", "metrics"),
            "metrics is not a service of the project (required: false): left out",
        )
    ]


# ---- volumes ----


def test_named_volumes_become_create_volume_ops_in_the_first_group():
    p = {
        **project(
            **{
                "volume-data": svc(volumes=[{"type": "volume", "source": "data", "target": "/d"}]),
                "later": svc(
                    depends_on={"volume-data": dep("service_completed_successfully")},
                    volumes=[{"type": "volume", "source": "data", "target": "/e"}],
                ),
            }
        ),
        "volumes": {"data": {"name": "p_data"}, "unused": {"name": "p_unused"}},
    }
    job, said = run(p)
    first = job["ops"][0]
    assert first == {
        "type": "container/create-volume",
        "id": "volume-data-2",
        "args": {"name": "data"},
        "execution": {"group": "volume-data"},
    }
    assert ops(job)["later"]["args"]["volumes"] == [{"name": "data", "dest": "/e"}]
    assert (("volumes", "unused"), "volume unused is mounted by no op of the job: left out") in said


def test_error_on_warning_makes_every_warning_an_error_and_gives_no_job():
    job, diags = job_from_project(project(web=svc(privileged=True)), error_on_warning=True)
    assert job is None
    assert [(d.severity, d.path) for d in diags.items] == [("error", ("services", "web", "privileged"))]


def test_the_mapping_does_not_change_its_input():
    p = project(web=svc(command=["echo", "$$X"]))
    before = repr(p)
    job_from_project(p)
    assert repr(p) == before


# ---- ports and names ----


def test_expose_ranges_small_become_ports_large_are_left_out():
    job, said = run(project(a=svc(expose=["7000-7002", "20000-20200", "53/udp", "7001"])))
    assert ops(job)["a"]["args"]["expose"] == [7000, 7001, 7002]  # the strict validator refuses a range
    messages = [m for _, m in said]
    assert any("becomes 3 ports" in m for m in messages)
    assert any(m.startswith("expose 20000-20200: left out; Nosana's strict validator") for m in messages)
    assert any(m.startswith("expose 53/udp: left out") for m in messages)


def test_published_ports_are_exposed_once_and_host_ports_warned_once():
    ports = [
        {"target": 80, "published": "8080", "protocol": "tcp"},
        {"target": 80, "published": "8081", "protocol": "tcp"},
        {"target": 443, "host_ip": "::1", "published": "443", "protocol": "tcp"},
        {"target": 53, "published": "53", "protocol": "udp"},
    ]
    job, said = run(project(a=svc(ports=ports)))
    assert ops(job)["a"]["args"]["expose"] == [80, 443]
    assert [(p, m.split(":", 1)[0] if p[-1] == 3 else m.split(" (")[1].split(")")[0]) for p, m in said] == [
        (("services", "a", "ports", 3), "53"),
        (("services", "a", "ports"), "8080:80, 8081:80, [::1]:443:443"),
    ]


def test_a_link_to_a_service_that_is_not_an_op_is_warned():
    _, said = run(project(a=svc(links=["gone:g"]), gone=svc(scale=0)))
    assert (("services", "a", "links"), "link gone:g: gone is not in the job (0 replicas): left out") in said


@pytest.mark.parametrize("mode, warned", [("bridge", False), ("host", True), ("none", True), ("service:b", True)])
def test_network_modes(mode, warned):
    _, said = run(project(a=svc(network_mode=mode)))
    assert bool(said) is warned


def test_unknown_deploy_and_resource_keys_are_warned():
    _, said = run(project(a=svc(deploy={"newthing": 1, "resources": {"shiny": 1}})))
    assert [p for p, _ in said] == [
        ("services", "a", "deploy", "newthing"),
        ("services", "a", "deploy", "resources", "shiny"),
    ]


def test_text_the_node_would_parse_as_json_is_warned_at_the_compose_key():
    """Compose passes '{"a": 1}' as text; a node parses it in an op's own env (and cmd items), so the job would not
    run as the project does: the compiler's NOS305/NOS306, named by the service and its Compose key."""
    p = project(app=svc(command=["echo", "[1,2]"], environment={"CFG": '{"a": 1}', "PLAIN": "[x"}))
    job, said = run(p)
    assert ops(job)["app"]["args"]["env"] == {"CFG": '{"a": 1}', "PLAIN": "[x"}  # written as the project says
    paths = sorted(path for path, _ in said)
    assert paths == [
        ("services", "app", "command"),
        ("services", "app", "command", 1),
        ("services", "app", "environment", "CFG"),
    ], said
    assert all("Compose passes it as text" in m or "under Compose it runs" in m for _, m in said)


def test_compose_doubles_every_dollar_of_its_output_in_keys_too():
    """`docker compose config` writes `$` as `$$` in keys as in values, but never interpolates a key: the key
    `A$$B` of a compose.yaml is printed `A$$$$B` and is `A$$B` in the container; a value `x$$y` is `x$y`."""
    p = project(app=svc(environment={"A$$$$B": "x$$y", "C$$D": "1"}))
    job, _ = run(p)
    assert ops(job)["app"]["args"]["env"] == {"A$$B": "x$y", "C$D": "1"}
