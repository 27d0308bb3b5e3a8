"""The Compose files people keep, on a real engine: an override file beside a group file is applied by
`up DIR` exactly as `docker compose -f FILE -f OVERRIDE` applies it, other YAML files there are named and
not run, plain `docker compose` creates a job with resources, the scripts `up JOB` mounts outlive it until
`down`, and a corpus job's outputs load with an empty environment unless the job carries credentials."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from helpers import CORPUS, docker, free_port, job, nos2compose, run_op

pytestmark = pytest.mark.e2e

BUSYBOX = "nos2compose-test/busybox:1"


@pytest.fixture
def project(engine, tmp_path):
    name = f"n2c-files-{uuid.uuid4().hex[:8]}"
    yield name, tmp_path
    docker("compose", "-p", name, "down", "-v", "--remove-orphans", "-t", "0")


def _job_file(tmp, name: str, *ops: dict):
    """The job of `ops` as the file NAME.json (the project name `up` derives from it)."""
    path = tmp / f"{name}.json"
    path.write_text(json.dumps(job(*ops)))
    return path


def test_up_dir_applies_the_override_and_names_files_it_does_not_run(project):
    name, tmp = project
    path = _job_file(tmp, name, {**run_op("say", image=BUSYBOX, cmd="echo MODE=$MODE"), "execution": {"group": "main"}})
    out = tmp / "compose"
    assert nos2compose("convert", str(path), "-o", str(out)).returncode == 0
    (out / "00-main.override.yaml").write_text("services:\n  say:\n    environment:\n      MODE: edited\n")
    (out / "notes.yaml").write_text("mine: true\n")
    up = nos2compose("up", str(out), "--pull", "never")
    assert up.returncode == 0, up.stdout + up.stderr
    assert "say | MODE=edited" in up.stdout  # the override's value, as docker compose -f -f gives it
    assert f"warning: {out / 'notes.yaml'} is neither a group file nor a group file's .override.yaml" in up.stderr
    by_hand = subprocess.run(
        [
            "docker",
            "compose",
            "-f",
            str(out / "00-main.yaml"),
            "-f",
            str(out / "00-main.override.yaml"),
            "config",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    env = json.loads(by_hand.stdout)["services"]["say"]["environment"]
    assert (env.get("MODE") if isinstance(env, dict) else "MODE=edited" in env) in ("edited", True)


def test_plain_docker_compose_creates_a_job_with_resources(project):
    """No external volume that nothing creates: the shared cache is declared with its fixed name."""
    name, tmp = project
    resources = [
        {
            "type": "S3",
            "url": "https://models.example/llama",
            "target": "/models",
            "IAM": {"REGION": "", "ACCESS_KEY_ID": "", "SECRET_ACCESS_KEY": ""},  # empty: anonymous
        },
        {"type": "HF", "repo": "org/model", "target": "/hf"},
    ]
    path = _job_file(tmp, name, run_op("app", image=BUSYBOX, cmd="ls /models", resources=resources))
    out = tmp / "compose"
    convert = nos2compose("convert", str(path), "-o", str(out), "--fetch-image", "nos2compose-test/python:1")
    assert convert.returncode == 0, convert.stderr
    (path,) = sorted(out.glob("*.yaml"))
    assert "N2C_SECRET_" not in path.read_text()  # empty credentials need no variable
    env = {"PATH": os.environ["PATH"]}
    create = subprocess.run(
        ["docker", "compose", "-f", str(path), "create", "--pull", "never"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert create.returncode == 0, create.stderr
    volumes = docker("volume", "ls", "--filter", "label=io.nosana.cache=1", "--format", "{{.Name}}").stdout.split()
    assert sum(v.startswith("nos2compose-cache-") for v in volumes) >= 2


def test_the_scripts_up_job_mounts_outlive_it_so_a_restarted_op_is_probed_again_until_down(project):
    """A `configs: file:` is a bind mount the engine makes again at each restart: `up JOB` keeps its files in the
    state directory (files/PROJECT/) until `down`, not in a directory gone once `up -d` returns."""
    name, tmp = project
    port = free_port()
    check = {"type": "http", "path": "/status/200", "method": "GET", "expected_status": 200, "continuous": True}
    web = run_op(
        "web", image=BUSYBOX, cmd=["n2c-testserver", str(port)], expose=[{"port": port, "health_checks": [check]}]
    )
    path = _job_file(tmp, name, web)
    up = nos2compose("up", str(path), "-d", "--pull", "never", "--timeout", "60")
    assert up.returncode == 0, up.stdout + up.stderr
    files = Path(os.environ["NOS2COMPOSE_STATE_DIR"]) / "files" / name
    (container,) = json.loads(docker("inspect", f"{name}-web-1").stdout)
    mounts = [m["Source"] for m in container["Mounts"] if m["Destination"] == "/nos2compose/probe.sh"]
    assert mounts == [str(files / "nos2compose-probe.sh")] and (files / "nos2compose-probe.sh").is_file()
    restart = nos2compose("restart", str(path), "--op", "web", "-t", "1")
    assert restart.returncode == 0, restart.stderr
    deadline = time.monotonic() + 60
    while (status := json.loads(nos2compose("ps", str(path), "--json").stdout)["web"]["status"]) != "healthy":
        assert time.monotonic() < deadline, status
        time.sleep(1)
    assert nos2compose("down", str(path), "-t", "1").returncode == 0
    assert not files.exists()


@pytest.mark.corpus
def test_corpus_outputs_load_with_an_empty_environment(compose, tmp_path):
    jobs = sorted(CORPUS.glob("*.json"))
    assert jobs
    failures = []
    for template in jobs:
        out = tmp_path / template.stem
        assert nos2compose("convert", str(template), "-o", str(out)).returncode == 0
        for path in sorted(out.glob("*.yaml")):
            proc = subprocess.run(
                [*compose, "-f", str(path), "config", "-q"],
                capture_output=True,
                text=True,
                env={"PATH": os.environ["PATH"]},
                check=False,
            )
            text = path.read_text()
            if proc.returncode != 0:
                variable = "N2C_" in proc.stderr and ("required variable" in proc.stderr or "is missing" in proc.stderr)
                if not (variable and ("secrets:" in text or "runtime:" in text)):
                    failures.append((path.name, proc.stderr.strip()))
    assert failures == []
