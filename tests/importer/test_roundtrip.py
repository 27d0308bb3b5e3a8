"""`convert` then `import` gives back the very job: the corpus, every convert fixture, both file forms, hand edits.

Equal means equal as JSON values (written.same: key order does not count, 1 is not true). What cannot come
back is in NOT_EXACT, with why (docs/import.md, "Round trip"). Every imported job passes `validate --strict`
and Nosana's own validator, and converting it again gives files `docker compose config` accepts.
"""

from __future__ import annotations

import copy
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from helpers import CORPUS, FIXTURES, compose_config_errors, need, run_cli
from import_helpers import need_compose, network_verdicts, run_import, strict_errors
from roundtrip import convert, difference, import_files

from nos2compose.written import same

JOBS = sorted(CORPUS.glob("*.json")) if CORPUS.is_dir() else []
CASES = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())
FORMS = ("single", "groups")


def _without_credentials(job: dict) -> dict:
    job = copy.deepcopy(job)
    for op in job["ops"]:
        for r in op["args"].get("resources", []):
            r.pop("IAM", None)
            r.pop("accessToken", None)
    return job


def _without_empty_volumes(job: dict) -> dict:
    job = copy.deepcopy(job)
    for op in job["ops"]:
        if op["args"].get("volumes") == []:
            del op["args"]["volumes"]
    return job


# fixture -> (why it cannot come back exactly, the job that comes back, the warning that says so)
NOT_EXACT = {
    "resources": (
        "credentials (IAM, accessToken) are never written to a file",
        _without_credentials,
        "needs credentials (IAM), and a Compose file never holds them: add IAM to that resource in the job",
    ),
    "literals": (
        "an empty volumes array, which Nosana's strict validator refuses",
        _without_empty_volumes,
        "args.volumes of op client as the job wrote it is a form Nosana's strict validator refuses",
    ),
}


def _job_file(case: str) -> Path:
    return next(p for p in (FIXTURES / case).iterdir() if p.stem == case and p.suffix in (".json", ".yaml", ".yml"))


def _original(path: Path) -> dict:
    import yaml

    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _round_trip(job_files: list[Path], tmp: Path, args: dict[Path, list[str]] | None = None) -> dict:
    """{(job file, form): (imported job, warnings)}: convert sequentially, import in parallel."""
    converted = {}
    for f in job_files:
        (tmp / f.stem).mkdir()
        converted[f] = convert(f, tmp / f.stem, *(args or {}).get(f, []))
    jobs = [(f, form) for f in job_files for form in FORMS]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = pool.map(lambda jf: import_files(converted[jf[0]][jf[1]]), jobs)
        return dict(zip(jobs, results, strict=True))


@pytest.fixture(scope="module")
def corpus_round_trip(tmp_path_factory):
    need(f"the corpus of Nosana templates at {CORPUS} (set NOS2COMPOSE_CORPUS)", len(JOBS) > 0)
    need_compose()
    return _round_trip(JOBS, tmp_path_factory.mktemp("corpus"))


@pytest.mark.corpus
@pytest.mark.compose
@pytest.mark.parametrize("form", FORMS)
def test_every_corpus_job_comes_back_exactly(corpus_round_trip, form):
    different = {}
    for job in JOBS:
        original = json.loads(job.read_text())
        imported, _ = corpus_round_trip[(job, form)]
        if not same(imported, original):
            different[job.name] = difference(original, imported)
    assert different == {}
    assert len(JOBS) == 58


@pytest.mark.corpus
@pytest.mark.compose
def test_corpus_round_trips_say_nothing(corpus_round_trip):
    """Nothing is lost, so there is nothing to warn about (a GPU job's meta comes back too)."""
    said = {job.name: warnings for (job, _), (_, warnings) in corpus_round_trip.items() if warnings}
    assert said == {}


@pytest.mark.corpus
@pytest.mark.compose
@pytest.mark.node
def test_every_corpus_round_trip_passes_nosanas_validator_and_converts_again(corpus_round_trip, compose, tmp_path):
    imported = [job for job, _ in corpus_round_trip.values()]
    assert [strict_errors(job) for job in imported if strict_errors(job)] == []
    verdicts = network_verdicts(imported)
    assert [(n, v["errors"]) for n, v in zip(corpus_round_trip, verdicts, strict=True) if not v["success"]] == []
    files = []
    for n, job in enumerate(imported[::2]):  # one of the two forms: they are the same job
        path = tmp_path / f"job{n}.json"
        path.write_text(json.dumps(job))
        again = run_cli("convert", str(path), "-o", str(tmp_path / f"job{n}"))
        assert again.exit_code == 0, again.stderr
        files += sorted((tmp_path / f"job{n}").glob("*.yaml"))
    assert compose_config_errors(compose, files) == ""


# ---- the convert fixtures: groups, depends_on, probes, fetchers, volumes, literals, results ----


@pytest.fixture(scope="module")
def fixture_round_trip(tmp_path_factory):
    need_compose()
    files = [_job_file(case) for case in CASES]
    args = {f: (f.parent / "args").read_text().split("\n")[:-1] for f in files if (f.parent / "args").exists()}
    return _round_trip(files, tmp_path_factory.mktemp("fixtures"), args)


@pytest.mark.compose
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("form", FORMS)
def test_every_convert_fixture_comes_back_exactly(fixture_round_trip, case, form):
    path = _job_file(case)
    imported, warnings = fixture_round_trip[(path, form)]
    expected = _original(path)
    if case in NOT_EXACT:
        _, comes_back, warned = NOT_EXACT[case]
        expected = comes_back(expected)
        assert any(warned in line for line in warnings), warnings
        assert not same(expected, _original(path))  # the case still shows what cannot come back
    else:
        assert warnings == []
    assert difference(expected, imported) == []
    assert same(imported, expected)


@pytest.mark.compose
@pytest.mark.node
def test_every_fixture_round_trip_passes_nosanas_strict_validator(fixture_round_trip):
    named = list(fixture_round_trip.items())
    assert [(k[0].name, strict_errors(job)) for k, (job, _) in named if strict_errors(job)] == []
    verdicts = network_verdicts([job for _, (job, _) in named])
    assert [(k[0].name, v["errors"]) for (k, _), v in zip(named, verdicts, strict=True) if not v["success"]] == []


# ---- the command line: one file, a directory, group files with -f ----


def test_a_directory_and_its_group_files_with_f_import_the_same(tmp_path):
    need_compose()
    job = _job_file("runtime-literals")
    out = tmp_path / "compose"
    assert run_cli("convert", str(job), "-o", str(out)).exit_code == 0
    by_directory = run_import(str(out), cwd=tmp_path)
    args = [a for f in sorted(out.glob("*.yaml")) for a in ("-f", str(f))]
    by_files = run_import(*args, cwd=tmp_path)
    single = tmp_path / "compose.yaml"
    single.write_text(run_cli("convert", str(job)).stdout)
    by_single = run_import(str(single), cwd=tmp_path)
    assert by_directory.exit_code == by_files.exit_code == by_single.exit_code == 0, by_directory.stderr
    assert by_directory.stdout == by_files.stdout == by_single.stdout
    assert by_directory.stderr == ""
    back = json.loads(by_directory.stdout)
    consumer = next(op for op in back["ops"] if op["id"] == "consumer")
    assert consumer["args"]["cmd"][1] == "%%ops.probe.results.port%%"
    assert consumer["args"]["expose"] == [{"__spread__": "%%ops.probe.results.port%%"}]
    assert consumer["args"]["env"]["__spread__"] == "%%ops.probe.results.env%%"
    assert consumer["args"]["env"]["__pairs__"] == "%%ops.probe.results.pairs%%"


def test_a_directory_without_group_files_is_refused(tmp_path):
    (tmp_path / "other.yaml").write_text("services: {}\n")
    result = run_import(str(tmp_path), cwd=tmp_path)
    assert result.exit_code == 2
    assert "a directory without the group files" in result.stderr


def test_an_override_file_beside_a_group_file_is_applied(tmp_path):
    need_compose()
    out = tmp_path / "compose"
    assert run_cli("convert", str(_job_file("quickstart")), "-o", str(out)).exit_code == 0
    group = sorted(out.glob("01-*.yaml"))[0]
    group.with_name(group.stem + ".override.yaml").write_text(
        "services:\n  web:\n    environment:\n      GREETING: hi\n"
    )
    back = json.loads(run_import(str(out), cwd=tmp_path).stdout)
    web = next(op for op in back["ops"] if op["id"] == "web")
    assert web["args"]["env"] == {"GREETING": "hi"}


# ---- hand edits come back edited ----

EDITED = """\
{"version": "0.1", "type": "container", "ops": [
  {"type": "container/run", "id": "model:small", "args": {"image": "ollama/ollama:0.31.2",
   "expose": [{"port": 11434, "health_checks": [{"type": "http", "path": "/api/tags", "method": "GET",
     "expected_status": 200, "continuous": false}]}]}, "execution": {"group": "serve"}},
  {"type": "container/run", "id": "api", "args": {"image": "ghcr.io/example/api:1.0", "env": {"A": "1"}},
   "execution": {"group": "serve", "depends_on": ["model:small"]}}]}
"""


def test_what_a_person_changed_in_the_file_is_what_the_job_gets(tmp_path):
    need_compose()
    job = tmp_path / "job.json"
    job.write_text(EDITED)
    text = run_cli("convert", str(job)).stdout
    for old, new in (
        ("image: ghcr.io/example/api:1.0", "image: ghcr.io/example/api:2.0"),
        ('      A: "1"\n', '      A: "1"\n      B: two\n'),
        ("--expect-status=200", "--expect-status=204"),
        ("        - --startup-only\n", ""),
    ):
        assert old in text, old
        text = text.replace(old, new, 1)
    # a service added by hand, without nos2compose's labels
    text = text.replace("\nservices:\n", "\nservices:\n  cache:\n    image: redis:7\n", 1)
    (tmp_path / "compose.yaml").write_text(text)
    result = run_import(cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    back = {op["id"]: op for op in json.loads(result.stdout)["ops"]}
    assert back["api"]["args"]["image"] == "ghcr.io/example/api:2.0"
    assert back["api"]["args"]["env"] == {"A": "1", "B": "two"}
    assert back["model:small"]["args"]["expose"][0]["health_checks"] == [
        {"type": "http", "path": "/api/tags", "method": "GET", "expected_status": 204, "continuous": True}
    ]
    assert back["api"]["execution"] == {"group": "serve", "depends_on": ["model:small"]}
    assert back["cache"]["execution"] == {"group": "serve"}
    assert "cache has no io.nosana.group label" in result.stderr
    assert back["api"]["args"]["aliases"] == ["api"]  # a service added by hand reaches the others by name


LITERALS = {
    "version": "0.1",
    "type": "container",
    "meta": {"trigger": "dashboard", "system_requirements": {"vram_total_mb": 1024.0}},
    "global": {"variables": {"MODEL": "qwen3:0.6b"}},
    "ops": [
        {
            "type": "container/run",
            "id": "server",
            "args": {"image": "busybox:1.36", "cmd": ["serve", "%%global.variables.MODEL%%"], "expose": 80},
            "execution": {"group": "all"},
        },
        {
            "type": "container/run",
            "id": "client",
            "args": {
                "image": "busybox:1.36",
                "cmd": "wget -qO- $SERVER",
                "env": {"SERVER": "http://%%ops.server.host%%:80", "MODEL": "%%global.variables.MODEL%%"},
            },
            "execution": {"group": "all"},
        },
    ],
}


def _edited(tmp_path: Path, job: dict, *edits: tuple[str, str]) -> tuple[dict, str]:
    """convert -o, apply each (old, new) edit to the one group file, import the directory: (job, warnings)."""
    need_compose()
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "job.json").write_text(json.dumps(job))
    assert run_cli("convert", str(tmp_path / "job.json"), "-o", str(tmp_path / "out")).exit_code == 0
    (group,) = sorted((tmp_path / "out").glob("*.yaml"))
    text = group.read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    group.write_text(text)
    result = run_import(str(tmp_path / "out"), cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    back = json.loads(result.stdout)
    assert strict_errors(back) == []
    return back, result.stderr


def test_unedited_files_give_back_literals_meta_and_a_string_cmd(tmp_path):
    back, said = _edited(tmp_path, LITERALS)
    assert back == LITERALS and said == ""


def test_an_edited_value_the_job_wrote_with_a_literal_is_what_the_file_says(tmp_path):
    back, said = _edited(tmp_path, LITERALS, ("SERVER: http://server:80", "SERVER: http://server:8080"))
    client, server = back["ops"][1]["args"], back["ops"][0]["args"]
    assert client["env"] == {"SERVER": "http://server:8080", "MODEL": "%%global.variables.MODEL%%"}  # one by one
    assert client["cmd"] == "wget -qO- $SERVER"  # the rest of the op is still the job's own
    assert server["aliases"] == ["server"]  # the edited text names it by its service name, as in Compose
    assert server["cmd"] == ["serve", "%%global.variables.MODEL%%"]
    assert back["global"] == LITERALS["global"] and back["meta"] == LITERALS["meta"] and said == ""


def test_a_fallback_of_global_an_edit_no_longer_relies_on_goes_to_each_op(tmp_path):
    job = {
        "version": "0.1",
        "type": "container",
        "global": {"work_dir": "/srv", "env": {"LEVEL": "info"}},
        "ops": [
            {"type": "container/run", "id": "a", "args": {"image": "busybox:1.36"}, "execution": {"group": "g"}},
            {
                "type": "container/run",
                "id": "b",
                "args": {"image": "busybox:1.36", "env": {"B": "1"}},
                "execution": {"group": "g"},
            },
        ],
    }
    same_job, _ = _edited(tmp_path / "same", job)
    assert same_job == job
    back, _ = _edited(tmp_path / "edited", job, ("LEVEL: info", "LEVEL: debug"))
    assert back["global"] == {"work_dir": "/srv"}  # every op still relies on it
    assert [op["args"] for op in back["ops"]] == [
        {"image": "busybox:1.36", "env": {"LEVEL": "debug"}},  # the edit
        {"image": "busybox:1.36", "env": {"LEVEL": "info", "B": "1"}},  # global's, which it no longer gives
    ]


def test_a_global_env_value_that_looks_like_json_stays_in_global(tmp_path):
    """The node parses an op's own env value "[]" as JSON, never one `global.env` gives: the file holds it as it is,
    and it comes back where the job wrote it (found by the long round-trip property)."""
    job = {
        "version": "0.1",
        "type": "container",
        "global": {"image": "busybox:1.36", "env": {"A": "[]", "C": '{"k": 1}'}},
        "ops": [
            {"type": "container/run", "id": "a", "args": {"image": "busybox:1.36"}, "execution": {"group": "a"}},
            {
                "type": "container/run",
                "id": "b",
                "args": {"image": "busybox:1.36", "env": {"B": "x"}},
                "execution": {"group": "a"},
            },
        ],
    }
    back, said = _edited(tmp_path / "same", job)
    assert back == job and said == ""
    edited, _ = _edited(tmp_path / "edited", job, ("B: x", "B: y"))
    assert edited["global"] == job["global"] and edited["ops"][1]["args"]["env"] == {"B": "y"}


def test_a_result_as_the_whole_of_a_cmd_comes_back_in_the_form_it_was_written(tmp_path):
    """`/bin/sh -c` and a result splices the result's items; a cmd string of it is one text: both come back."""
    need_compose()
    job = {
        "version": "0.1",
        "type": "container",
        "ops": [
            {
                "type": "container/run",
                "id": "x",
                "args": {"image": "busybox:1.36", "cmd": "echo a"},
                "results": {"r": "a"},
            },
            _run_cmd("items", ["/bin/sh", "-c", "%%ops.x.results.r%%"]),
            _run_cmd("text", "%%ops.x.results.r%%"),
            _run_cmd("embedded", ["/bin/sh", "-c", "echo %%ops.x.results.r%%"]),
        ],
    }
    (tmp_path / "job.json").write_text(json.dumps(job))
    for form, files in convert(tmp_path / "job.json", tmp_path).items():
        back, said = import_files(files)
        assert (form, back, said) == (form, job, [])


def _run_cmd(op_id: str, cmd) -> dict:
    return {
        "type": "container/run",
        "id": op_id,
        "args": {"image": "busybox:1.36", "cmd": cmd},
        "execution": {"group": "g"},
    }
