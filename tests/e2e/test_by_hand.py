"""The by-hand recipe in each generated file's header, followed literally with plain `docker compose`.

For every fixture under fixtures/convert/ that can run here, the group files are copied to a
directory with the scripts they mount (files of their own beside them) and run, in name order, by the
commands their headers give (read back out of the header text), with the variables the headers name
set to a harmless value; every service then is in the
state the recipe promises: `up -d --wait` services running, healthy where they have checks, `up`
tasks exited 0, earlier groups' services still up. The single file runs by its own recipe with a
compose.override.yaml beside it, which Compose must merge by itself.

A fixture runs here only if every image its files use is a local test image (the test machines
reach no registry, and the suite pulls nothing) and it asks for no GPU. EXCLUDED lists the others
with why, and is asserted, so no fixture is left out silently."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import time

import pytest
import yaml
from helpers import FIXTURES, docker
from recipe import commands, header_lines, quoted_commands, variables

pytestmark = pytest.mark.e2e

LOCAL = "nos2compose-test/"
HARMLESS = "n2c-harmless"
GPU = "asks for a GPU"
OVERRIDE_LABEL = "n2c.test.override"


def _images(*names: str) -> str:
    return "images that are not local test images: " + ", ".join(names)


EXCLUDED = {
    "corpus-gpt-oss": GPU,
    "dollar-signs": _images("busybox"),
    "global-fallbacks": GPU,
    "health-checks": _images("busybox"),
    "health-sidecar": GPU,
    "hello-world": GPU,
    "literals": _images("ollama/ollama:0.5.7", "busybox"),
    "port-collisions": _images("nginx:latest"),
    "quickstart": _images("busybox:1.36"),
    "resources": GPU,
    "runtime-literals": _images("busybox:1.36"),
    "seed-expose-array": _images("nginx:latest"),
    "seed-multi-service-container": GPU,
    "seed-multi-stage-pipeline": _images("postgres:15", "redis:7", "myapp/api:latest", "myapp/frontend:latest"),
    "seed-single-service": _images("nginx:latest"),
    "seed-vllm-openwebui-container": GPU,
    "seed-vllm-openwebui-multi-op": GPU,
    "sequential-ops": _images("busybox", "nginx:latest"),
    "volumes-aliases-restart": _images("busybox"),
    "yaml-input": _images("nginx:latest"),
}
# what the tasks of a runnable fixture print when the recipe worked (the variables included)
OUTPUT = {"by-hand": {"smoke-test": ["hello by hand", f"token from setup: {HARMLESS}"], "report": ["status 200"]}}


def why_not(case: str) -> str | None:
    """Why a fixture cannot run on this machine; None when it can."""
    gpu, foreign = False, []
    for path in sorted((FIXTURES / case / "groups").glob("*.yaml")):
        for svc in yaml.safe_load(path.read_text(encoding="utf-8"))["services"].values():
            gpu |= "devices" in ((svc.get("deploy") or {}).get("resources") or {}).get("reservations", {})
            if not svc["image"].startswith(LOCAL) and svc["image"] not in foreign:
                foreign.append(svc["image"])
    return GPU if gpu else _images(*foreign) if foreign else None


CASES = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())
RUNNABLE = [case for case in CASES if why_not(case) is None]


def test_the_fixtures_that_cannot_run_here_are_the_expected_ones():
    assert {case: why_not(case) for case in CASES if case not in RUNNABLE} == EXCLUDED
    assert RUNNABLE == ["by-hand"]


def _environment(values: dict[str, str]) -> dict[str, str]:
    """The caller's environment without Compose or nos2compose variables, plus the recipe's values."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "N2C_"))}
    return {**keep, **values}


def _run(argv: list[str], cwd, env) -> None:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"`{shlex.join(argv)}` exited {done.returncode}: {done.stderr[-3000:]}"


def _states(project: str) -> dict[str, str]:
    """service -> healthy | running | exited N, from the engine."""
    out = docker("compose", "-p", project, "ps", "-a", "--format", "json").stdout
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    rows = [r for row in rows for r in (row if isinstance(row, list) else [row])]
    return {r["Service"]: _state(r) for r in rows}


def _state(row: dict) -> str:
    if row["State"] == "running":
        return "healthy" if row.get("Health") == "healthy" else "running"
    return f"{row['State']} {row['ExitCode']}"


def _labels(project: str) -> dict[str, str]:
    out = docker("compose", "-p", project, "ps", "-a", "--format", "json").stdout
    return {json.loads(line)["Service"]: json.loads(line)["Labels"] for line in out.splitlines() if line.strip()}


def _promised(argv: list[str], doc: dict) -> dict[str, str]:
    """What the command promises for each service it names: `up -d --wait` services up, `up` tasks done."""
    rest = argv[argv.index("up") + 1 :]
    names = rest[rest.index("--") + 1 :] if "--" in rest else [a for a in rest if not a.startswith("-")]
    if "-d" in rest:
        assert "--wait" in rest
        return {n: "healthy" if "healthcheck" in doc["services"][n] else "running" for n in names}
    return dict.fromkeys(names, "exited 0")


def _down(project: str) -> None:
    docker("compose", "-p", project, "down", "-v", "--remove-orphans", "-t", "0")


def _check_output(case: str, project: str) -> None:
    for service, wanted in OUTPUT.get(case, {}).items():
        found = docker(
            "ps",
            "-aq",
            "--filter",
            f"label=com.docker.compose.project={project}",
            "--filter",
            f"label=com.docker.compose.service={service}",
        )
        (container,) = found.stdout.split()
        logs = docker("logs", container)
        log = logs.stdout + logs.stderr
        assert all(line in log.splitlines() for line in wanted), (service, log)


def _mounted_scripts(files) -> set[str]:
    """The files the group files' top-level configs name: the scripts `convert -o` writes beside them."""
    found = set()
    for path in files:
        for name, spec in (yaml.safe_load(path.read_text(encoding="utf-8")).get("configs") or {}).items():
            assert set(spec) == {"file"}, f"{path.name}: configs {name} is not a file beside it: {spec}"
            found.add(spec["file"])
    return found


@pytest.mark.parametrize("case", RUNNABLE)
def test_each_group_file_runs_by_the_recipe_in_its_header(engine, case, tmp_path):
    for path in sorted((FIXTURES / case / "groups").iterdir()):  # the group files and the scripts they mount
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    files = sorted(tmp_path.glob("*.yaml"))
    scripts = {p.name for p in tmp_path.iterdir() if p.suffix != ".yaml"}
    assert scripts and _mounted_scripts(files) == scripts  # the probe runs from nos2compose-probe.sh, as it is
    project = yaml.safe_load(files[0].read_text(encoding="utf-8"))["name"]
    _down(project)
    promised: dict[str, str] = {}
    try:
        for path in files:
            text = path.read_text(encoding="utf-8")
            doc, lines = yaml.safe_load(text), header_lines(text)
            meta = doc["x-nos2compose"]
            named = variables(lines)
            assert sorted(named) == sorted([*(meta.get("runtime") or {}), *(meta.get("secrets") or [])])
            env = _environment(dict.fromkeys(named, HARMLESS))
            steps = commands(lines)
            assert steps, f"{path.name}: its header gives no command"
            covered: dict[str, str] = {}
            for argv in steps:
                assert argv[:4] == ["docker", "compose", "-f", path.name], argv
                _run(argv, tmp_path, env)
                covered.update(_promised(argv, doc))
            fetchers = {s for s, svc in doc["services"].items() if "io.nosana.fetch-for" in svc.get("labels", {})}
            assert set(covered) == set(doc["services"]) - fetchers, f"{path.name}: the recipe leaves out services"
            promised.update(covered)
            states = _states(project)
            assert {s: states.get(s) for s in promised} == promised, f"after {path.name}"
        _check_output(case, project)
        assert set(_script_sources(project)) == {str(tmp_path / name) for name in scripts}  # mounted as they are
    finally:
        _down(project)
    assert _states(project) == {}


def _script_sources(project: str) -> list[str]:
    """The host files the project's containers mount under /nos2compose (the scripts nos2compose's helpers run)."""
    ids = docker("ps", "-aq", "--filter", f"label=com.docker.compose.project={project}").stdout.split()
    found = json.loads(docker("inspect", *ids).stdout) if ids else []
    return [m["Source"] for c in found for m in c["Mounts"] if m["Destination"].startswith("/nos2compose/")]


@pytest.mark.parametrize("case", RUNNABLE)
def test_the_single_file_runs_by_its_recipe_and_compose_merges_compose_override_yaml(engine, case, tmp_path):
    text = (FIXTURES / case / "compose.yaml").read_text(encoding="utf-8")
    doc, lines = yaml.safe_load(text), header_lines(text)
    (tmp_path / "compose.yaml").write_text(text, encoding="utf-8")
    override = {"services": {s: {"labels": {OVERRIDE_LABEL: "merged"}} for s in doc["services"]}}
    (tmp_path / "compose.override.yaml").write_text(yaml.safe_dump(override), encoding="utf-8")
    (argv,) = quoted_commands(lines)
    assert argv == ["docker", "compose", "up", "-d"]
    env = _environment(dict.fromkeys(variables(lines), HARMLESS))
    want = {
        s: "healthy" if "healthcheck" in svc else "running" if "ports" in svc else "exited 0"
        for s, svc in doc["services"].items()
    }
    project = doc["name"]
    _down(project)
    try:
        _run(argv, tmp_path, env)
        deadline = time.monotonic() + 120
        while (states := _states(project)) != want and time.monotonic() < deadline:
            time.sleep(0.5)
        assert states == want
        labels = _labels(project)
        assert all(f"{OVERRIDE_LABEL}=merged" in labels[s].split(",") for s in want), labels
        _check_output(case, project)
    finally:
        _down(project)
