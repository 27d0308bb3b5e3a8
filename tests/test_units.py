"""Unit tests of the pure pieces: YAML writer, literals, host ports, service names, probe builder, import cost."""
from __future__ import annotations

import random
import subprocess
import sys

import pytest
import yaml

from nos2compose.compiler import Options, compile_job
from nos2compose.emit.healthcheck import healthcheck
from nos2compose.emit.yaml_text import dump
from nos2compose.model import Expose, HttpCheck, RunOp
from nos2compose.plan.naming import project_name, service_names
from conftest import ROOT

ALPHABET = "ab :#-?'\"\\\n\t${}[]%&*!|>@`,\u2028\x85é😀0"


def test_yaml_writer_round_trips_awkward_strings():
    rng = random.Random(7)
    for _ in range(2000):
        s = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 12)))
        doc = {"k": s, s or "empty": [s, {"x": s}], "n": [1, True, False, [], {}]}
        assert yaml.safe_load(dump(doc)) == doc, repr(s)


def test_yaml_writer_quotes_what_yaml_would_misread():
    for tricky in ["yes", "No", "on", "null", "~", "1.0", "0x10", "80:80", "1e3", "-x", ": x", "#c", "*a", "&a", "!t", ""]:
        assert yaml.safe_load(dump({"v": tricky}))["v"] == tricky


def test_project_and_service_names():
    assert project_name("Qwen3.5__job-definition-27b") == "qwen3-5__job-definition-27b"
    assert project_name("__") == "job"
    names = service_names(["gpt-oss:120b", "gpt-oss-120b", "a b", "ok.name_1"])
    assert names["gpt-oss-120b"] == "gpt-oss-120b"
    assert names["gpt-oss:120b"] == "gpt-oss-120b-2"  # never collides with a valid id
    assert names["a b"] == "a-b" and names["ok.name_1"] == "ok.name_1"


def _job(*ops, **top):
    return {"version": "0.1", "type": "container", **top, "ops": list(ops)}


def _run(op_id, **args):
    return {"type": "container/run", "id": op_id, "args": {"image": "x", **args}}


def test_host_ports_never_collide_and_are_stable():
    job = _job(_run("a", expose=80), _run("b", expose=[80, 81]), _run("c", expose=80), _run("d", expose=82))
    result = compile_job(job, Options(name="p"))
    assert result.layout.ports == {("a", 80): 80, ("b", 80): 83, ("b", 81): 81, ("c", 80): 84, ("d", 82): 82}
    again = compile_job(job, Options(name="p"))
    assert again.layout.ports == result.layout.ports


def test_literal_operators():
    variables = {"FLAGS": '["--a", "--b"]', "EMPTY": "[]", "OBJ": '{"K": "v"}', "PAIRS": '[{"key": "P", "value": "q"}]',
                 "CHUNKS": '["[1,", "2]"]'}
    job = _job(_run("a", cmd=["run", "%%global.variables.FLAGS%%", "x=%%global.variables.FLAGS%%"],
                    entrypoint=["sh", "%%global.variables.EMPTY%%", "__remove-if-empty__"],
                    env={"__spread__": "%%global.variables.OBJ%%", "__pairs__": "%%global.variables.PAIRS%%", "J": "%%global.job%%"},
                    expose={"__spread__": "%%global.variables.CHUNKS%%", "chunked": True},
                    aliases=["%%global.variables.EMPTY%%", "__remove-if-empty__"]),
               **{"global": {"variables": variables}})
    result = compile_job(job, Options(name="lit"))
    assert not result.diagnostics.has_errors(), [d.describe() for d in result.diagnostics.items]
    (op,) = result.job.run_ops
    assert op.cmd == ("run", "--a", "--b", "x=--a --b")
    assert op.entrypoint == ("sh",)
    assert dict(op.env) == {"K": "v", "P": "q", "J": "lit", "NOSANA_ID": "lit"}
    assert [e.port for e in op.expose] == [1, 2]
    assert op.aliases == ()


def test_spread_of_a_non_array_fails_the_op():
    job = _job(_run("a", cmd=[{"__spread__": "%%global.variables.X%%"}]), **{"global": {"variables": {"X": "plain"}}})
    result = compile_job(job, Options(name="p"))
    assert [d.describe() for d in result.diagnostics.errors] == [
        '$.ops[0].args.cmd[0] (op "a"): __spread__ of %%global.variables.X%%: expected its value to be an array, found "plain"']


def test_probe_keeps_hostile_values_out_of_the_script():
    hostile = ["$(touch /tmp/pwned)", "`id`", "a;b", "x\ny", "'q'", '"d"', "$HOME", "\\zz"]
    checks = tuple(HttpCheck(path="/" + h, method="POST", expected_status=200, headers=(("X-" + str(i), h),), body=h)
                   for i, h in enumerate(hostile))
    op = RunOp(id="a", index=0, group="a", image="x", expose=(Expose(8080, health_checks=checks),))
    test = healthcheck(op)["test"]
    assert test[:3] == ["CMD", "sh", "/nos2compose/probe.sh"]  # a fixed script; job values are only its arguments
    args = test[3:]
    for i, h in enumerate(hostile):
        assert f"--url=http://127.0.0.1:8080/{h}" in args and f"--header=X-{i}: {h}" in args and f"--body={h}" in args
    assert args.count("http") == len(hostile)


def test_probe_runs_under_a_real_shell_with_hostile_values(tmp_path):
    """Run the generated script with sh and fake curl/wget that record their argv."""
    hostile = "$(touch %s/pwned); `touch %s/pwned2`" % (tmp_path, tmp_path)
    op = RunOp(id="a", index=0, group="a", image="x", expose=(Expose(9, health_checks=(
        HttpCheck(path="/p?" + hostile, method="POST", expected_status=201, headers=(("H", hostile),), body=hostile),)),))
    from nos2compose import scripts

    (tmp_path / "probe.sh").write_text(scripts.probe(frozenset({"http"})))
    test = ["CMD", "sh", str(tmp_path / "probe.sh"), *healthcheck(op)["test"][3:]]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "curl").write_text('#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done > "$ARGV_FILE"\nprintf 201\n')
    (bin_dir / "curl").chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "ARGV_FILE": str(tmp_path / "argv"), "N2C_PROBE_STATE": str(tmp_path)}
    proc = subprocess.run(test[1:], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    argv = (tmp_path / "argv").read_text()
    assert "H: " + hostile in argv and "--data-binary\n@-" in argv and "http://127.0.0.1:9/p?" + hostile in argv
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "pwned2").exists()


def test_convert_path_imports_nothing_heavy(tmp_path):
    job = ROOT / "fixtures" / "seed-vllm-openwebui-multi-op" / "seed-vllm-openwebui-multi-op.json"
    code = ("import sys; from nos2compose.cli import main\n"
            "try: main(['convert', %r])\nexcept SystemExit: pass\n"
            "heavy = [m for m in ('jsonschema', 'python_on_whales', 'yaml', 'tenacity', 'starlette', 'uvicorn') if m in sys.modules]\n"
            "sys.stderr.write(repr(heavy))") % str(job)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stderr.strip().endswith("[]"), proc.stderr


def test_gpu_memory_warning_uses_nvidia_smi(tmp_path, monkeypatch, capsys):
    from nos2compose.runtime.up import _vram_warning

    warnings = []

    fake = tmp_path / "nvidia-smi"
    fake.write_text("#!/bin/sh\necho 8192\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    _vram_warning({"system_requirements": {"required_vram": 6}}, warnings.append)  # 6 GiB fits in 8 GiB
    assert warnings == []
    _vram_warning({"system_requirements": {"vram_total_mb": 68608}}, warnings.append)
    err = "".join(warnings)
    assert "asks for 68608 MiB of GPU memory" in err and "has 8192 MiB" in err


def test_a_lone_spread_into_env_merges_an_object():
    job = _job(_run("a", env={"__spread__": "%%global.variables.P%%"}), **{"global": {"variables": {"P": '{"A": "1"}'}}})
    result = compile_job(job, Options(name="p"))
    assert not result.diagnostics.has_errors(), [d.describe() for d in result.diagnostics.items]
    assert dict(result.job.run_ops[0].env)["A"] == "1"


def test_hostile_shapes_are_errors_not_crashes(tmp_path):
    from conftest import run_cli

    cases = {
        "deep.json": '{"version":"0.1","type":"container","ops":[{"type":"container/run","id":"a","args":{"image":"x","env":'
                     + '{"a":' * 150 + '"x"' + '}' * 150 + '}}]}',
        "bigint.json": '{"version":"0.1","type":"container","ops":[],"meta":{"n":' + "9" * 5000 + '}}',
        "laughs.yaml": "a: &a [x, x]\nb: &b [*a, *a]\n",
        "keys.yaml": "version: '0.1'\ntype: container\nops: []\n2020-01-01: x\n",
        "surrogate.json": '{"version":"0.1","type":"container","ops":[{"type":"container/run","id":"a","args":{"image":"x"},"execution":{"group":"g\\ud800"}}]}',
        "unicode-port.json": '{"version":"0.1","type":"container","global":{"variables":{"P":"\\u00b2"}},"ops":[{"type":"container/run","id":"a","args":{"image":"x","expose":"%%global.variables.P%%"}}]}',
        "volume-dep.json": '{"version":"0.1","type":"container","ops":[{"type":"container/create-volume","id":"v","args":{"name":"v"},"execution":{"group":"g"}},'
                           '{"type":"container/run","id":"a","args":{"image":"x","volumes":[{"name":"v","dest":"/d:ro"}]},"execution":{"group":"g","depends_on":["v"]}}]}',
    }
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
        result = run_cli("convert", name, cwd=tmp_path)
        assert result.exit_code in (0, 2), (name, result.exit_code, result.stderr)
        assert result.exception is None or isinstance(result.exception, SystemExit), (name, result.exception)
        if result.exit_code == 2:
            assert f"error: {name}:" in result.stderr, (name, result.stderr)
    volume = yaml.safe_load(run_cli("convert", "volume-dep.json", cwd=tmp_path).stdout)
    assert volume["services"]["a"]["volumes"] == [{"type": "volume", "source": "v", "target": "/d:ro"}]


def test_filling_results_splices_chunks_pairs_and_objects():
    from nos2compose.contract import Placeholder
    from nos2compose.runtime.fill import Unfilled, value_of

    results = {"a": {"chunks": ['["x",', '"y"]'], "env": ['{"K": "v"}'], "pairs": ['[{"key": "P", "value": 1}]'],
                     "bad": "Invalid regular expression: /(/: missing )", "none": []}}
    spec = lambda key, splice: Placeholder("a", key, splice)
    assert value_of(spec("chunks", "items_chunked"), results) == ["x", "y"]
    assert value_of(spec("env", "object"), results) == {"K": "v"}
    assert value_of(spec("pairs", "pairs"), results) == {"P": "1"}
    assert value_of(spec("chunks", "text"), results) == '["x", "y"]'
    for key, message in (("bad", "Invalid regular expression"), ("none", "no line of op 'a' matched")):
        with pytest.raises(Unfilled, match=message):
            value_of(spec(key, "text"), results)
    with pytest.raises(Unfilled, match="has not exited"):
        value_of(Placeholder("b", "k", "text"), results)


def test_remove_if_empty_only_acts_in_arrays_and_text_embeds_json_like_javascript():
    job = _job(_run("a", env={"KEEP": "__remove-if-empty__", "OBJ": "x=%%global.variables.O%%"},
                    aliases=["__remove-if-empty__"]), **{"global": {"variables": {"O": '{"a": 1, "b": [1.0]}'}}})
    result = compile_job(job, Options(name="p"))
    env = dict(result.job.run_ops[0].env)
    assert env["KEEP"] == "__remove-if-empty__"
    assert env["OBJ"] == 'x={"a":1,"b":[1.0]}'
    assert result.job.run_ops[0].aliases == ()
