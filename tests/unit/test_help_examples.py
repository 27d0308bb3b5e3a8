"""Every verb's --help ends with examples, and the ones that need no engine run as written (issue 20).

Each example line is taken from the help text itself and run by bash, in order, in a directory holding what
they name (job.json, jobs/, compose.yaml): a changed example is tested as it now reads."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import FIXTURES, run_cli
from import_helpers import need_compose

VERBS = ["convert", "validate", "schema", "import", "up", "ps", "logs", "stop", "restart", "down", "shell", "serve"]
VERBS += ["cache"]
# the verbs whose examples need no engine and no image; docker compose up needs both
RUNNABLE = {"convert", "validate", "schema", "import"}
NEEDS_AN_ENGINE = ("docker compose -f compose.yaml up",)
COMPOSE = """services:
  web:
    image: busybox:1.36
    command: ["httpd", "-f", "-p", "8080"]
  smoke-test:
    image: busybox:1.36
    command: ["wget", "-qO-", "http://web:8080/"]
    depends_on: [web]
"""


def examples(verb: str) -> list[str]:
    """The example lines of `verb --help`, comments dropped."""
    text = run_cli(verb, "--help").stdout
    assert "Examples:" in text, f"{verb} --help shows no example"
    block = text.split("Examples:", 1)[1].split("\n\n", 1)[0]
    lines = [line.split("  #", 1)[0].strip() for line in block.splitlines()]
    return [line for line in lines if line]


@pytest.mark.parametrize("verb", VERBS)
def test_every_verb_ends_its_help_with_examples_of_itself(verb):
    shown = examples(verb)
    assert 1 <= len(shown) <= 6 and any(f"nos2compose {verb}" in line for line in shown), shown


@pytest.mark.parametrize("verb", sorted(RUNNABLE))
def test_the_examples_that_need_no_engine_run_as_written(tmp_path, verb):
    if verb == "import":
        need_compose()
    shutil.copy(FIXTURES / "quickstart" / "quickstart.json", tmp_path / "job.json")
    (tmp_path / "jobs").mkdir()
    shutil.copy(FIXTURES / "hello-world" / "hello-world.json", tmp_path / "jobs" / "hello.json")
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    (tmp_path / "compose.gpu.yaml").write_text("services:\n  web:\n    environment: {GPU: '1'}\n")
    (tmp_path / "stack.yaml").write_text(COMPOSE.replace("busybox:1.36", "${IMAGE}"))
    (tmp_path / "prod.env").write_text("IMAGE=busybox:1.36\n")
    if verb == "import":  # its last example reads what convert -o wrote
        assert run_cli("convert", "job.json", "-o", "compose/", cwd=tmp_path).exit_code == 0
    bin_dir = str(Path(sys.executable).parent)  # where pip put the nos2compose command
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    ran = 0
    for line in examples(verb):
        if line.startswith(NEEDS_AN_ENGINE):
            continue
        done = subprocess.run(
            ["bash", "-o", "pipefail", "-c", line], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, (line, done.stdout[-2000:], done.stderr[-2000:])
        assert "Traceback" not in done.stderr, line
        ran += 1
    assert ran >= 2
    if verb == "import":
        assert [op["id"] for op in json.loads((tmp_path / "job.json").read_text())["ops"]] == [
            "prepare",
            "web",
            "smoke-test",
        ]  # the last example: the job back from the group files
