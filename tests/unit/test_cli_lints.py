"""Lints through the CLI, in-process: the line format, --select/--ignore/--extend-select, the configuration file,
--output-format json/sarif/github for validate and convert, --error-on-warning, and no credential in any output."""

from __future__ import annotations

import json
import random
import re
import string
from pathlib import Path

import jsonschema
import pytest
import yaml
from helpers import job, run_cli, run_op

SARIF_SCHEMA = json.loads((Path(__file__).parent / "lint" / "sarif" / "sarif-schema-2.1.0.json").read_text())
RNG = random.Random(7)
# a Hugging Face token's shape, made here: no credential-shaped text is committed
TOKEN = "hf_" + "".join(RNG.choice(string.ascii_letters) for _ in range(34))
LINE = re.compile(r'^warning: job\.json:\d+:\d+: (NOS\d{3}) \$\.\S+( \(op "[^"]+"\))?: .+$')

MISTAKES = job(  # NOS101, NOS102, NOS103, NOS105, NOS201, NOS401 (opt-in)
    run_op("llm.server", image="ollama/ollama:latest", cmd=["ollama serve"], env={"HF_TOKEN": TOKEN}),
    meta={"system_requirements": {"required_vram": 8}},
)


def write(tmp_path: Path, data: dict, name: str = "job.json") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))
    return path


def codes(text: str) -> list[str]:
    return re.findall(r": (NOS\d{3}) \$", text)


def test_each_finding_is_one_warning_line_with_its_code_after_the_location(tmp_path):
    write(tmp_path, MISTAKES)
    result = run_cli("validate", "job.json", cwd=tmp_path)
    assert result.exit_code == 0 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[-1] == "job.json: valid (1 op in 1 group)"
    assert all(LINE.match(line) for line in lines[:-1]), lines
    assert sorted(codes(result.stderr)) == ["NOS101", "NOS102", "NOS103", "NOS105", "NOS201"]
    assert (
        'NOS101 $.ops[0].args.cmd[0] (op "llm.server"): cmd[0] "ollama serve" is a whole command line' in result.stderr
    )


def test_select_ignore_and_extend_select(tmp_path):
    write(tmp_path, MISTAKES)
    only = run_cli("validate", "job.json", "--select", "NOS2,NOS105", cwd=tmp_path)
    assert sorted(codes(only.stderr)) == ["NOS105", "NOS201"]
    assert codes(run_cli("validate", "job.json", "--ignore", "NOS10", cwd=tmp_path).stderr) == ["NOS201"]
    ignored = run_cli("validate", "job.json", "--ignore", "NOS1", "--ignore", "NOS201", cwd=tmp_path)
    assert codes(ignored.stderr) == [] and ignored.stderr == "job.json: valid (1 op in 1 group)\n"
    extended = run_cli("validate", "job.json", "--extend-select", "NOS401", "--select", "NOS4", cwd=tmp_path)
    assert codes(extended.stderr) == ["NOS401"]
    opt_in = run_cli("validate", "job.json", "--extend-select", "nos401", cwd=tmp_path)
    assert "NOS401" in codes(opt_in.stderr) and "NOS101" in codes(opt_in.stderr)
    bad = run_cli("validate", "job.json", "--select", "NOS5", cwd=tmp_path)
    assert bad.exit_code == 2 and "'NOS5' is no rule code" in bad.stderr


def test_ignore_applies_to_the_compilers_own_warnings_too(tmp_path):
    pipeline = job(
        {
            "type": "container/run",
            "id": "db",
            "args": {"image": "postgres:15", "expose": 5432},
            "execution": {"group": "a"},
        },
        {"type": "container/run", "id": "app", "args": {"image": "app:1"}, "execution": {"group": "b"}},
    )
    write(tmp_path, pipeline)
    assert codes(run_cli("validate", "job.json", cwd=tmp_path).stderr) == ["NOS109"]
    assert codes(run_cli("validate", "job.json", "--ignore", "NOS109", cwd=tmp_path).stderr) == []


def test_error_on_warning_counts_the_selected_warnings_only(tmp_path):
    write(tmp_path, MISTAKES)
    fatal = run_cli("validate", "job.json", "--error-on-warning", cwd=tmp_path)
    assert fatal.exit_code == 2 and "5 warnings, and --error-on-warning makes them fatal" in fatal.stderr
    quiet = run_cli("validate", "job.json", "--error-on-warning", "--ignore", "NOS", cwd=tmp_path)
    assert quiet.exit_code == 0, quiet.stderr


def test_configuration_file_found_walking_up_from_the_job(tmp_path):
    write(tmp_path, MISTAKES, "jobs/job.json")
    write(tmp_path, MISTAKES, "jobs/legacy/old.json")
    (tmp_path / ".nos2compose.toml").write_text(
        '[lint]\nignore = ["NOS2"]\nextend-select = ["NOS401"]\n[lint.per-file-ignores]\n"jobs/legacy/*" = ["NOS1"]\n'
    )
    result = run_cli("validate", "job.json", "legacy/old.json", cwd=tmp_path / "jobs")  # the file is one level up
    first, second = result.stderr.split("\njob.json: valid")
    assert sorted(codes(first)) == ["NOS101", "NOS102", "NOS103", "NOS105", "NOS401"]
    assert sorted(codes(second)) == ["NOS401"]
    cli = run_cli("validate", "jobs/job.json", "--select", "NOS2", cwd=tmp_path)  # replaces the file's choice
    assert codes(cli.stderr) == ["NOS201"]
    legacy = run_cli("validate", "jobs/legacy/old.json", "--select", "NOS1", cwd=tmp_path)
    assert codes(legacy.stderr) == []  # per-file ignores always apply


def test_pyproject_toml_needs_its_own_table_and_a_bad_file_is_named(tmp_path):
    write(tmp_path, MISTAKES)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert "NOS201" in codes(run_cli("validate", "job.json", cwd=tmp_path).stderr)
    (tmp_path / "pyproject.toml").write_text('[tool.nos2compose.lint]\nselect = ["NOS201"]\n')
    assert codes(run_cli("validate", "job.json", cwd=tmp_path).stderr) == ["NOS201"]
    (tmp_path / "pyproject.toml").write_text("[tool.nos2compose.lint]\nselect = [\n")
    broken = run_cli("validate", "job.json", cwd=tmp_path)
    assert broken.exit_code == 2 and "pyproject.toml: not valid TOML" in broken.stderr


def test_github_annotations(tmp_path):
    write(tmp_path, MISTAKES)
    result = run_cli("validate", "job.json", "--output-format", "github", cwd=tmp_path)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 5 and all(line.startswith("::warning file=job.json,line=") for line in lines)
    assert re.match(
        r"^::warning file=job\.json,line=\d+,col=\d+,title=NOS101::NOS101 \$\.ops\[0\]\.args\.cmd\[0\]", lines[3]
    )
    assert result.stderr == "job.json: valid (1 op in 1 group)\n"
    converted = run_cli("convert", "job.json", "--output-format", "github", cwd=tmp_path)  # stdout: the Compose file
    assert converted.exit_code == 0 and "services" in yaml.safe_load(converted.stdout)
    assert len([line for line in converted.stderr.splitlines() if line.startswith("::warning ")]) == 5


def test_json_holds_every_job_and_the_summary_stays_on_stderr(tmp_path):
    write(tmp_path, MISTAKES)
    write(tmp_path, job(run_op("a", image=7)), "broken.json")
    result = run_cli("validate", "job.json", "broken.json", "--output-format", "json", cwd=tmp_path)
    assert result.exit_code == 2
    found = json.loads(result.stdout)
    assert {f["file"] for f in found} == {"job.json", "broken.json"}
    error = next(f for f in found if f["file"] == "broken.json")
    assert error["severity"] == "error" and error["code"] is None and error["path"] == "$.ops[0].args.image"
    assert set(found[0]) == {"code", "severity", "file", "line", "column", "path", "op", "message"}
    assert "job.json: valid (1 op in 1 group)" in result.stderr and "1 of 2 jobs are not valid" in result.stderr


def test_sarif_from_validate_and_convert_is_valid(tmp_path):
    write(tmp_path, MISTAKES)
    validated = run_cli("validate", "job.json", "--output-format", "sarif", cwd=tmp_path)
    converted = run_cli("convert", "job.json", "-o", "compose", "--output-format", "sarif", cwd=tmp_path)
    for result in (validated, converted):
        assert result.exit_code == 0, result.stderr
        document = json.loads(result.stdout)
        assert list(jsonschema.Draft4Validator(SARIF_SCHEMA).iter_errors(document)) == []
        assert sorted(r["ruleId"] for r in document["runs"][0]["results"]) == [
            "NOS101",
            "NOS102",
            "NOS103",
            "NOS105",
            "NOS201",
        ]
    assert (tmp_path / "compose").is_dir()


def test_convert_refuses_a_document_on_the_stdout_that_carries_compose(tmp_path):
    write(tmp_path, MISTAKES)
    for fmt in ("json", "sarif"):
        refused = run_cli("convert", "job.json", "--output-format", fmt, cwd=tmp_path)
        assert refused.exit_code == 2 and "give -o DIR" in refused.stderr and refused.stdout == ""


def test_convert_check_sends_its_diff_to_stderr_when_stdout_holds_the_document(tmp_path):
    write(tmp_path, MISTAKES)
    assert run_cli("convert", "job.json", "-o", "compose", cwd=tmp_path).exit_code == 0
    data = json.loads((tmp_path / "job.json").read_text())
    data["ops"][0]["args"]["image"] = "ollama/ollama:0.31.2"
    write(tmp_path, data)
    checked = run_cli("convert", "job.json", "-o", "compose", "--check", "--output-format", "json", cwd=tmp_path)
    assert checked.exit_code == 1
    assert {f["code"] for f in json.loads(checked.stdout)} == {"NOS101", "NOS102", "NOS103", "NOS105", "NOS201"}
    assert "+    image: ollama/ollama:0.31.2" in checked.stderr


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_no_output_format_ever_shows_the_credential(tmp_path, fmt):
    leaky = job(  # the token in a finding of its own, and inside a value other warnings quote (NOS305)
        run_op(
            "a", image="x:1", env={"HF_TOKEN": TOKEN, "CONFIG": json.dumps({"token": TOKEN})}, cmd=[f"--hf={TOKEN} x"]
        ),
    )
    write(tmp_path, leaky)
    outputs = [
        run_cli("validate", "job.json", "--output-format", fmt, cwd=tmp_path),
        run_cli("convert", "job.json", "-o", "out", "--output-format", fmt, cwd=tmp_path),
    ]
    if fmt in ("text", "github"):
        outputs.append(run_cli("convert", "job.json", "--output-format", fmt, cwd=tmp_path))
    for result in outputs:
        assert result.exit_code == 0, result.stderr
        shown = result.stderr + (result.stdout if "services:" not in result.stdout else "")
        assert "NOS201" in shown and TOKEN[:5] + "…" in shown
        for start in range(len(TOKEN) - 8):  # not the token, nor any 9 characters of it
            assert TOKEN[start : start + 9] not in shown, (start, shown)
    compose = outputs[-1].stdout if fmt in ("text", "github") else ""
    assert fmt not in ("text", "github") or TOKEN in compose  # the Compose file carries env values, as it must


def test_validate_lints_by_default_as_the_pre_commit_hook_runs_it(tmp_path):
    hooks = yaml.safe_load((Path(__file__).resolve().parents[2] / ".pre-commit-hooks.yaml").read_text())
    validate = next(h for h in hooks if h["id"] == "nos2compose-validate")
    assert validate["entry"] == "nos2compose validate" and validate.get("verbose") is True
    write(tmp_path, MISTAKES)
    assert "NOS101" in codes(run_cli(*validate["entry"].split()[1:], "job.json", cwd=tmp_path).stderr)
