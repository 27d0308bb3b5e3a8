"""`convert` then `import` gives the job back: the corpus, every convert fixture, both file forms, and hand edits.

Equal means equal under roundtrip.normal_form (the forms the network treats as equal,
docs/import.md "Round trip"), without what roundtrip.LOSSES lists (what a Compose file
cannot hold). Every imported job passes Nosana's strict validator, and converting it
again gives files `docker compose config` accepts.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from helpers import CORPUS, FIXTURES, compose_config_errors, need, run_cli
from import_helpers import need_compose, network_verdicts, run_import
from roundtrip import LOSSES, convert, difference, import_files, losses, normal_form, without_losses

from nos2compose.compose.naming import project_name

JOBS = sorted(CORPUS.glob("*.json")) if CORPUS.is_dir() else []
CASES = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())
FORMS = ("single", "groups")


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


def _compare(original: dict, imported: dict, name: str) -> tuple[bool, list[str]]:
    """(identical under the normal forms alone, differences once the listed losses are set aside)."""
    want, got = normal_form(original, name), normal_form(imported, name)
    return want == got, difference(without_losses(want), without_losses(got))


@pytest.fixture(scope="module")
def corpus_round_trip(tmp_path_factory):
    need(f"the corpus of Nosana templates at {CORPUS} (set NOS2COMPOSE_CORPUS)", len(JOBS) > 0)
    need_compose()
    return _round_trip(JOBS, tmp_path_factory.mktemp("corpus"))


@pytest.mark.corpus
@pytest.mark.compose
@pytest.mark.parametrize("form", FORMS)
def test_the_corpus_comes_back_after_the_normal_forms(corpus_round_trip, form):
    identical, lossy, different = [], {}, {}
    for job in JOBS:
        original = json.loads(job.read_text())
        same, left = _compare(original, corpus_round_trip[(job, form)][0], project_name(job.stem))
        if left:
            different[job.name] = left
        elif same:
            identical.append(job.name)
        else:
            lossy[job.name] = losses(normal_form(original, project_name(job.stem)))
    assert different == {}
    assert len(identical) + len(lossy) == len(JOBS) == 58
    # what keeps the others from being identical is only ever a listed loss (today: meta.system_requirements)
    assert all(found and set(found) <= set(LOSSES) for found in lossy.values()), lossy
    assert len(identical) >= 14, identical


@pytest.mark.corpus
@pytest.mark.compose
def test_each_corpus_job_warns_only_about_what_it_loses(corpus_round_trip):
    for (job, _), (_, warnings) in corpus_round_trip.items():
        original = json.loads(job.read_text())
        lost = losses(normal_form(original, project_name(job.stem)))
        for line in warnings:  # a GPU job: its meta; otherwise nothing at all
            assert "a Compose file holds no job meta" in line, (job.name, line)
        if "meta" in lost:
            assert warnings, job.name


@pytest.mark.corpus
@pytest.mark.compose
@pytest.mark.node
def test_every_corpus_round_trip_passes_nosanas_validator_and_converts_again(corpus_round_trip, compose, tmp_path):
    imported = [job for job, _ in corpus_round_trip.values()]
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
def test_every_convert_fixture_comes_back(fixture_round_trip, case, form):
    path = _job_file(case)
    imported, _ = fixture_round_trip[(path, form)]
    _, left = _compare(_original(path), imported, project_name(path.stem))
    assert left == []


@pytest.mark.compose
@pytest.mark.node
def test_every_fixture_round_trip_passes_nosanas_strict_validator(fixture_round_trip):
    named = list(fixture_round_trip.items())
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
