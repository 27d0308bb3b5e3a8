"""`nos2compose import` as a user runs it: options, output, exit status, and the Compose boundary."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from import_helpers import CASES_DIR, need_compose, pinned_env, run_import

from nos2compose.cli.importing import import_command
from nos2compose.compose.project import ImportProblem, compose_args, load_project
from nos2compose.engine.compose_config import ComposeConfig
from nos2compose.engine.compose_config import split_stderr as _split_stderr

SIMPLE = """\
services:
  web:
    image: nginx:1.27
    ports: ["8080:80"]
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text)
    return path


def fake_docker(tmp_path: Path, script: str) -> dict[str, str]:
    """An environment whose only `docker` is this shell script."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = write(bin_dir, "docker", "#!/bin/sh\n" + script)
    docker.chmod(docker.stat().st_mode | stat.S_IEXEC)
    return {"PATH": str(bin_dir)}


# ---- the command line ----


def test_help_teaches_with_examples():
    assert import_command.name == "import"
    result = run_import("--help", cwd=CASES_DIR)
    assert result.exit_code == 0
    for text in (
        "Examples:",
        "nos2compose import > job.json",
        "--group-by",
        "--error-on-warning",
        "--profile",
        "-f, --file",
        "docs/import.md",
    ):
        assert text in result.stdout


def test_no_file_means_compose_yaml_in_this_directory(tmp_path):
    need_compose()
    write(tmp_path, "compose.yaml", SIMPLE)
    result = run_import(cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    job = json.loads(result.stdout)
    assert job["ops"][0]["args"]["image"] == "nginx:1.27" and result.stdout.endswith("}\n")
    assert result.stderr == (
        f"warning: project {tmp_path.name}: $.services.web.ports: host ports and addresses are "
        "not kept (8080:80): a node publishes each exposed container port through its own "
        "tunnel, at a URL of its own\n"
    )


def test_files_as_arguments_and_with_f_merge_in_order(tmp_path):
    need_compose()
    write(tmp_path, "a.yaml", "services:\n  web:\n    image: one\n")
    write(tmp_path, "b.yaml", "services:\n  web:\n    image: two\n")
    write(tmp_path, "c.yaml", "services:\n  web:\n    image: three\n")
    result = run_import("a.yaml", "-f", "c.yaml", "b.yaml", cwd=tmp_path)  # arguments first, then -f
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["ops"][0]["args"]["image"] == "three"


def test_output_file(tmp_path):
    need_compose()
    write(tmp_path, "compose.yaml", SIMPLE)
    result = run_import("-o", "job.json", cwd=tmp_path)
    assert result.exit_code == 0 and result.stdout == ""
    assert json.loads((tmp_path / "job.json").read_text())["version"] == "0.1"


def test_output_that_cannot_be_written_is_one_line(tmp_path):
    need_compose()
    write(tmp_path, "compose.yaml", SIMPLE)
    (tmp_path / "sub").write_text("a file, not a directory")
    result = run_import("-o", "sub/job.json", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1].startswith("error: sub/job.json: cannot write the job")


def test_error_on_warning_turns_warnings_into_errors_and_writes_nothing(tmp_path):
    need_compose()
    write(tmp_path, "compose.yaml", SIMPLE)
    result = run_import("--error-on-warning", "-o", "job.json", cwd=tmp_path)
    assert result.exit_code == 2 and not (tmp_path / "job.json").exists()
    assert result.stderr.startswith(f"error: project {tmp_path.name}: $.services.web.ports: ")


def test_error_on_warning_with_nothing_lost_succeeds(tmp_path):
    need_compose()
    write(tmp_path, "compose.yaml", "services:\n  job:\n    image: busybox\n    command: [echo, hi]\n")
    result = run_import("--error-on-warning", cwd=tmp_path)
    assert result.exit_code == 0 and result.stderr == ""


def test_the_old_strict_still_means_error_on_warning_and_says_so_in_one_line(tmp_path):
    need_compose()
    write(tmp_path, "compose.yaml", SIMPLE)
    result = run_import("--strict", "-o", "job.json", cwd=tmp_path)
    assert result.exit_code == 2 and not (tmp_path / "job.json").exists()
    note, first_error, *_ = result.stderr.splitlines()
    assert note.startswith("note: import --strict is now --error-on-warning")
    assert first_error.startswith(f"error: project {tmp_path.name}: $.services.web.ports: ")
    options = [line.split()[0] for line in run_import("--help", cwd=tmp_path).stdout.splitlines() if line[:4] == "  --"]
    assert "--error-on-warning" in options and "--strict" not in options  # the old name works, unlisted


def test_profiles_env_files_and_project_directory(tmp_path):
    need_compose()
    project = tmp_path / "proj"
    project.mkdir()
    write(
        project,
        "compose.yaml",
        "services:\n  a:\n    image: busybox:${TAG}\n  b:\n    image: x\n    profiles: [extra]\n",
    )
    write(project, "vars.env", "TAG=1.36\n")
    result = run_import(
        "--project-directory",
        "proj",
        "-f",
        "proj/compose.yaml",
        "--env-file",
        "proj/vars.env",
        "--profile",
        "extra",
        cwd=tmp_path,
    )
    assert result.exit_code == 0, result.stderr
    job = json.loads(result.stdout)
    assert [(o["id"], o["args"]["image"]) for o in job["ops"]] == [("a", "busybox:1.36"), ("b", "x")]


def test_composes_own_warnings_are_passed_on(tmp_path):
    need_compose()
    write(tmp_path, "compose.yaml", "services:\n  a:\n    image: busybox:${UNSET_TAG}latest\n")
    result = run_import(cwd=tmp_path)
    assert result.exit_code == 0
    assert result.stderr == (
        'warning: docker compose: The "UNSET_TAG" variable is not set. Defaulting to a blank string.\n'
    )
    fatal = run_import("--error-on-warning", cwd=tmp_path)
    assert fatal.exit_code == 2 and fatal.stderr.startswith('error: docker compose: The "UNSET_TAG"')


def test_shell_environment_is_composes_to_read(tmp_path):
    need_compose()
    write(tmp_path, "compose.yaml", "services:\n  a:\n    image: busybox\n    environment: [FROM_SHELL]\n")
    result = run_import(cwd=tmp_path, env={"FROM_SHELL": "yes"})
    assert json.loads(result.stdout)["ops"][0]["args"]["env"] == {"FROM_SHELL": "yes"}


@pytest.mark.parametrize(
    "text, message",
    [
        ("services:\n  a:\n    imag: x\n", "services.a additional properties 'imag' not allowed"),
        ("services:\n  a:\n    build: .\n", None),
        ("services: [\n", "yaml:"),
        ("services:\n  a:\n    image: x\n    depends_on: [b]\n", 'service "a" depends on undefined service "b"'),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, text, message):
    need_compose()
    write(tmp_path, "compose.yaml", text)
    result = run_import(cwd=tmp_path)
    assert result.exit_code == 2 and result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "Traceback" not in result.stderr
    if message:
        assert message in errors[0]


def test_a_missing_file_is_one_line(tmp_path):
    need_compose()
    result = run_import("nope.yaml", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr == "error: open ./nope.yaml: no such file or directory\n"


def test_no_compose_project_here(tmp_path):
    need_compose()
    result = run_import(cwd=tmp_path)
    assert result.exit_code == 2 and result.stderr.startswith("error: no configuration file provided")


def test_docker_missing_is_exit_1(tmp_path):
    (tmp_path / "empty").mkdir()
    result = run_import(cwd=tmp_path, env={"PATH": str(tmp_path / "empty")})
    assert result.exit_code == 1
    assert result.stderr == "error: docker compose (Compose v2) is not installed: no `docker` command on PATH\n"


def test_compose_plugin_missing_is_exit_1(tmp_path):
    env = fake_docker(tmp_path, "echo \"docker: 'compose' is not a docker command.\" >&2\nexit 1\n")
    result = run_import(cwd=tmp_path, env=env)
    assert result.exit_code == 1
    assert result.stderr == (
        "error: docker compose (Compose v2) is not installed: `docker compose version` says: "
        "docker: 'compose' is not a docker command.\n"
    )


# ---- the Compose boundary ----


def test_the_command_line_compose_gets():
    assert compose_args([], None, [], []) == ["compose", "config", "--format", "json"]
    assert compose_args(["a.yaml", "b.yaml"], "dir", ["x.env"], ["p", "q"]) == [
        "compose",
        "-f",
        "a.yaml",
        "-f",
        "b.yaml",
        "--project-directory",
        "dir",
        "--env-file",
        "x.env",
        "--profile",
        "p",
        "--profile",
        "q",
        "config",
        "--format",
        "json",
    ]


def test_load_project_returns_composes_json(tmp_path):
    need_compose()
    write(tmp_path, "compose.yaml", SIMPLE)
    said: list[str] = []
    project = load_project(
        [str(tmp_path / "compose.yaml")],
        None,
        [],
        [],
        ComposeConfig({k: v for k, v in pinned_env().items() if v is not None}),
        on_warning=said.append,
    )
    assert project["services"]["web"]["ports"] == [
        {"mode": "ingress", "target": 80, "published": "8080", "protocol": "tcp"}
    ]
    assert said == []


def test_load_project_raises_with_composes_first_error_line(tmp_path):
    env = fake_docker(
        tmp_path,
        'if [ "$2" = version ]; then echo v2; exit 0; fi\n'
        'echo \'time="2026-01-01T00:00:00Z" level=warning msg="a \\"quoted\\" warning"\' >&2\n'
        "echo 'first line of the error' >&2\necho 'second line' >&2\nexit 15\n",
    )
    with pytest.raises(ImportProblem) as caught:
        load_project([], None, [], [], ComposeConfig(env))
    assert (caught.value.status, caught.value.message) == (2, "first line of the error")


def test_output_that_is_not_json_is_a_problem(tmp_path):
    env = fake_docker(tmp_path, "echo 'services: {}'\n")
    with pytest.raises(ImportProblem, match="printed no JSON"):
        load_project([], None, [], [], ComposeConfig(env))


def test_composes_stderr_is_split_into_warnings_and_errors():
    warnings, errors = _split_stderr('time="t" level=warning msg="The \\"X\\" variable is not set."\n\nboom\n')
    assert warnings == ['The "X" variable is not set.'] and errors == ["boom"]
