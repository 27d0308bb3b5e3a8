"""The codec of generated files: what the emitter writes reads back the same, and nothing a job writes can pass for it."""

from __future__ import annotations

import pytest
import yaml
from helpers import job, run_op

from nos2compose.compiler import Options, compile_job
from nos2compose.compose import codec, contract
from nos2compose.compose.layout import PlanOptions
from nos2compose.compose.plans import read_group_files as read_plan
from nos2compose.model import SPLICES, Placeholder


def test_placeholders_round_trip_through_their_record():
    for splice in SPLICES:
        p = Placeholder("op.1", "key-x", splice)
        assert codec.read_placeholder(codec.placeholder_record(p)) == p
    assert codec.read_placeholder({"op": "a", "key": "k", "splice": "bogus"}) is None
    assert codec.read_placeholder("not a record") is None


def test_references_are_generated_variables_only_and_never_escaped_text():
    text = "a ${N2C_X:?set by nos2compose up} b ${N2C_V?set} $${N2C_Y} c $$${N2C_Z} ${HOME} $N2C_W"
    assert codec.references(text) == ["N2C_X", "N2C_V", "N2C_Z"]
    assert codec.substitute(text, lambda v: "<" + v + ">") == "a <N2C_X> b <N2C_V> $${N2C_Y} c $$<N2C_Z> ${HOME} $N2C_W"
    assert codec.reference("N2C_A") == "${N2C_A?set by nos2compose up}"


def test_what_emit_writes_runtime_reads_back(tmp_path):
    """Labels, x-nos2compose keys, helper services and placeholders: one group file, read as `up` reads it."""
    first = {**run_op("first", cmd="echo port: 80"), "results": {"port": "(?<=port: )\\d+"}}
    second = run_op(
        "second",
        cmd=["serve", "%%ops.first.results.port%%"],
        env={"P": "x%%ops.first.results.port%%"},
        expose=[
            {
                "port": 8080,
                "health_checks": [
                    {"type": "http", "path": "/", "method": "GET", "expected_status": 200, "continuous": True}
                ],
            }
        ],
        resources=[{"type": "HF", "repo": "org/model", "target": "/models"}],
    )
    second["execution"] = {"group": "later"}
    result = compile_job(job(first, second), Options(name="p", plan=PlanOptions(health_probe="sidecar")))
    assert result.ok, [d.describe() for d in result.diagnostics.items]
    files = [(tmp_path / name, text) for name, text in result.group_files()]
    plan = read_plan(files)
    assert [g.name for g in plan.groups] == ["first", "later"]
    (op,) = plan.groups[1].ops
    assert op.id == "second" and op.probe == "second-probe" and op.fetch == ("second-fetch-1",)
    assert [r.key for r in plan.groups[0].ops[0].results] == ["port"]
    assert set(plan.groups[1].runtime.values()) == {
        Placeholder("first", "port", "items"),
        Placeholder("first", "port", "embedded"),
    }
    doc = yaml.safe_load(files[1][1])
    svc = doc["services"]["second"]
    assert svc["labels"][contract.OP_LABEL] == "second" and svc["labels"][contract.GROUP_LABEL] == "later"
    assert doc["services"]["second-probe"]["labels"][contract.PROBE_FOR_LABEL] == "second"
    assert doc["services"]["second-fetch-1"]["labels"][contract.FETCH_FOR_LABEL] == "second"
    variables = set(doc[contract.EXTENSION][contract.RUNTIME_KEY])
    assert {v for item in svc["command"] for v in codec.references(item)} <= variables
    assert codec.references(svc["environment"]["P"])[0] in variables


def test_job_text_that_looks_like_a_reference_stays_text():
    """`${…}` and NUL-delimited text from a job is written escaped: Compose never fills it in."""
    hostile = ["${HOME}", "\x00n2c:HOME\x00", "${N2C_FIRST_PORT:?set by nos2compose up}"]
    op = run_op("a", cmd=hostile, env={"E": hostile[2]}, work_dir="/w${HOME}")
    text = compile_job(job(op), Options(name="p")).single_file()
    assert codec.references(text) == []
    assert "$${HOME}" in text and "/w$${HOME}" in text


def test_a_plan_keeps_the_group_files_op_order_when_an_override_is_merged(tmp_path):
    """Compose's merge of a group file and its override lists services by name; `up DIR` shows ops in the
    job's order, as `up JOB` does (the override's own services after them)."""
    ops = [run_op(op_id) for op_id in ("web", "api", "cache")]
    for op in ops:
        op["execution"] = {"group": "g"}
    result = compile_job(job(*ops), Options(name="p"))
    ((name, text),) = result.group_files()
    path = tmp_path / name
    merged = {service: {"image": "x"} for service in sorted(["web", "api", "cache", "added"])}
    plan = read_plan([(path, text)], overrides={path: (tmp_path / "o.yaml", merged)})
    assert [op.service for op in plan.groups[0].ops] == ["web", "api", "cache", "added"]


def test_the_probe_in_the_ops_own_container_asks_the_op_by_name_and_reads_back_as_the_jobs_checks():
    checks = [
        {"type": "http", "path": "/v1/models", "method": "GET", "expected_status": 200, "continuous": True},
        {"type": "websocket", "expected_response": "pong", "continuous": False},
    ]
    result = compile_job(job(run_op("web:ui", expose=[{"port": 8080, "health_checks": checks}])), Options(name="p"))
    assert result.ok, [d.describe() for d in result.diagnostics.items]
    ((_, text),) = result.group_files()
    svc = yaml.safe_load(text)["services"]["web-ui"]
    args = codec.read_probe_test(svc["healthcheck"]["test"])
    # the service's own name, never 127.0.0.1: the probe asks it at the container's network address
    assert args[:5] == [
        "--self=web-ui",
        "http",
        "--method=GET",
        "--url=http://web-ui:8080/v1/models",
        "--expect-status=200",
    ]
    read, problems = codec.read_probe_args(args, {"web-ui"})
    assert problems == [] and [(c.host, c.port, c.check) for c in read] == [
        ("web-ui", 8080, checks[0]),
        ("web-ui", 8080, {"type": "websocket", "expected_response": "pong", "continuous": False}),
    ]


def test_the_probes_loopback_note_is_read_by_its_port():
    note = "port 18731 answers only on 127.0.0.1 (loopback) inside its container, not at its address 10.0.0.2 on …"
    assert codec.loopback_only_port(note) == 18731
    assert codec.loopback_only_port("GET http://web:80/ at 10.0.0.2: got no answer, want 200") is None
    assert codec.loopback_only_port("") is None


def test_the_jobs_own_words_read_back_the_same_through_yaml():
    """What Compose would change in YAML ([] is null, 1.0 is 1, an object's keys sorted) goes as JSON text."""
    from nos2compose.compose.yaml_text import dump
    from nos2compose.model import Words, Written

    words = Words(
        {
            "args.cmd": "echo $HOME",
            "args.volumes": [],
            "args.env": {"B": "1", "A": "2"},
            "args.aliases": ["a", "b"],
            "meta": {"vram": 1.0},
            "args.x": None,
        },
        ("args.image",),
        3,
    )
    block = codec.words_block(words)
    assert set(block[contract.AS_JSON_KEY]) == {"args.volumes", "args.env", "meta", "args.x"}
    assert codec.read_words(yaml.safe_load(dump({"x": block}))["x"]) == words
    assert codec.words_block(Words()) == {} and codec.words_block(None) == {}
    top = Written(Words({"meta": {"trigger": "cli"}}), {"v": Words({"execution": {"group": "g"}})})
    meta = codec.read_file_meta({contract.EXTENSION: codec.file_meta("j", "j.json", ["g"], written=top)})
    assert meta.words == top.top
    volume = codec.file_meta("j", "j.json", group="g", order=0, volume_ops=[_volume_op("v")], written=top)
    assert codec.read_file_meta({contract.EXTENSION: volume}).volume_words == {"v": top.ops["v"]}
    assert codec.read_file_meta({contract.EXTENSION: codec.file_meta("j", "j.json", ["g"])}).words is None


def test_words_a_hand_edit_broke_are_left_out():
    block = {contract.AS_WRITTEN_KEY: {"args.cmd": "x"}, contract.AS_JSON_KEY: {"args.env": "{not json", "k": 5}}
    assert codec.read_words({**block, contract.INDEX_KEY: True, contract.NOT_WRITTEN_KEY: "args.image"}) == (
        codec.read_words({contract.AS_WRITTEN_KEY: {"args.cmd": "x"}})
    )


def _volume_op(op_id: str):
    from nos2compose.model import VolumeOp

    return VolumeOp(op_id, 0, "g", "data")


RESULT_KEYS = ["\ufeff$$", "$$", "a$", "${HOME}", ""]


def _results_job() -> dict:
    return job({**run_op("a", image="alpine"), "results": dict.fromkeys(RESULT_KEYS, "x$")})


def test_results_keys_are_written_as_they_are():
    """Compose never interpolates a mapping's keys: a `$` of a results key is written once (a value's twice)."""
    text = compile_job(_results_job(), Options(name="p")).single_file()
    service = yaml.safe_load(text)["services"]["a"]
    specs = codec.read_service_extension(service).results
    assert [(s.key, s.regex) for s in specs] == [(k, "x$$") for k in RESULT_KEYS]  # the value, as Compose reads it


@pytest.mark.compose
def test_compose_holds_results_keys_exactly(compose, tmp_path):
    """regressions/roundtrip-601e7d3acd26.json: Compose doubles the `$` of its output's text, and go-yaml writes
    a string that starts with a BOM all escaped (`$` as \\x24), so only the text, undone before it is read,
    gives back what Compose holds: the job's keys."""
    import subprocess

    (tmp_path / "compose.yaml").write_text(compile_job(_results_job(), Options(name="p")).single_file())
    proc = subprocess.run([*compose, "config"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert '"\\uFEFF\\x24\\x24":' in proc.stdout  # not doubled: only undoing the text is exact
    held = yaml.load(proc.stdout.replace("$$", "$"), Loader=yaml.BaseLoader)["services"]["a"]
    assert set(held[contract.EXTENSION][contract.RESULTS_KEY]) == set(RESULT_KEYS)
