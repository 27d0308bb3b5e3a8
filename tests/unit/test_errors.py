"""Bad input never crashes: each kind of error exits 2, names the file, line, column and JSON path, and prints no traceback."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from helpers import run_cli

GOOD_OP = {"type": "container/run", "id": "web", "args": {"image": "nginx", "expose": 80}}


def job(*ops, **top):
    return {"version": "0.1", "type": "container", **top, "ops": list(ops) or [GOOD_OP]}


def write(tmp_path, data, name="job.json"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=2), encoding="utf-8")
    return path


def run(tmp_path, data, *args, command="convert", name="job.json"):
    write(tmp_path, data, name)
    return run_cli(command, name, *args, cwd=tmp_path)


def assert_rejected(result, *fragments, line=None):
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert ("Traceback" not in result.stderr and result.exception is None) or isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)
    if line is not None:
        assert re.search(rf"job\.json:{line}:\d+: ", result.stderr), result.stderr


ERRORS = {
    # name: (job text or mapping, expected fragments, expected line or None)
    "malformed-json": ('{\n  "version": "0.1",\n  "ops": [\n    {"id": "a",,}\n  ]\n}', ["malformed JSON"], 4),
    "nan-is-not-json": (
        '{\n "version": "0.1", "type": "container",\n "ops": [{"type": "container/run", "id": "a", "args": {"image": "x", "expose": NaN}}]}',
        ["NaN is not a JSON value"],
        3,
    ),
    "top-level-array": ("[1, 2]", ["$: expected an object, found an array"], 1),
    "wrong-type": (
        job({"type": "container/run", "id": "a", "args": {"image": "x", "gpu": "yes"}}),
        ['$.ops[0].args.gpu (op "a"): expected true or false, found "yes"'],
        10,
    ),
    "port-out-of-range": (
        job({"type": "container/run", "id": "a", "args": {"image": "x", "expose": [80, {"port": 70000}]}}),
        ["$.ops[0].args.expose[1].port", "from 1 to 65535), found 70000"],
        13,
    ),
    "duplicate-port": (
        job({"type": "container/run", "id": "a", "args": {"image": "x", "expose": [80, {"port": 80}]}}),
        ["$.ops[0].args.expose[1]", "port 80 is exposed twice"],
        None,
    ),
    "missing-required": (
        job({"type": "container/run", "id": "a"}),
        ["$.ops[0] (op \"a\"): missing required key 'args'"],
        5,
    ),
    "missing-type": ({"version": "0.1", "ops": []}, ["missing required key 'type'"], 1),
    "wrong-job-type": (
        {"version": "0.1", "type": "vm", "ops": []},
        ['$.type: expected one of "container", found "vm"'],
        3,
    ),
    "unknown-op-type": (
        job({"type": "container/exec", "id": "a", "args": {}}),
        ['$.ops[0].type (op "a"): expected one of'],
        None,
    ),
    "duplicate-id": (job(GOOD_OP, GOOD_OP), ["$.ops[1].id", "'web' is used twice (first at $.ops[0].id)"], None),
    "no-image": (
        job({"type": "container/run", "id": "a", "args": {"cmd": "true"}}),
        ["missing required key 'image' (and no global.image"],
        None,
    ),
    "unknown-dependency": (
        job({"type": "container/run", "id": "a", "args": {"image": "x"}, "execution": {"depends_on": ["ghost"]}}),
        ["$.ops[0].execution.depends_on[0]", "'ghost', which is not an op of this job"],
        None,
    ),
    "self-dependency": (
        job({"type": "container/run", "id": "a", "args": {"image": "x"}, "execution": {"depends_on": ["a"]}}),
        ["cannot depend on itself"],
        None,
    ),
    "cross-group-dependency": (
        job(
            {"type": "container/run", "id": "a", "args": {"image": "x"}, "execution": {"group": "g1"}},
            {
                "type": "container/run",
                "id": "b",
                "args": {"image": "x"},
                "execution": {"group": "g2", "depends_on": ["a"]},
            },
        ),
        ["depends on 'a' in group 'g1'", "same group ('g2')"],
        None,
    ),
    "dependency-cycle": (
        job(
            {
                "type": "container/run",
                "id": "a",
                "args": {"image": "x"},
                "execution": {"group": "g", "depends_on": ["b"]},
            },
            {
                "type": "container/run",
                "id": "b",
                "args": {"image": "x"},
                "execution": {"group": "g", "depends_on": ["a"]},
            },
        ),
        ["dependency cycle: "],
        None,
    ),
    "bad-health-check": (
        job(
            {
                "type": "container/run",
                "id": "a",
                "args": {
                    "image": "x",
                    "expose": [
                        {
                            "port": 80,
                            "health_checks": [
                                {
                                    "type": "http",
                                    "path": "/",
                                    "method": "PATCH",
                                    "expected_status": 200,
                                    "continuous": True,
                                }
                            ],
                        }
                    ],
                },
            }
        ),
        [
            '$.ops[0].args.expose[0].health_checks[0].method (op "a"): expected one of "GET", "POST", "PUT", "DELETE", found "PATCH"'
        ],
        None,
    ),
    "null-optional": (
        job({"type": "container/run", "id": "a", "args": {"image": "x", "volumes": None}}),
        ["$.ops[0].args.volumes", "found null"],
        None,
    ),
    "bad-restart-policy": (
        job({"type": "container/run", "id": "a", "args": {"image": "x", "restart_policy": "sometimes"}}),
        ["$.ops[0].args.restart_policy"],
        None,
    ),
}


UNRESOLVED = {  # what the node cannot resolve: a warning with its code; the op fails at its start, on the node and under `up`
    "unknown-variable": (
        job({"type": "container/run", "id": "a", "args": {"image": "%%global.variables.IMG%%"}}),
        ["$.ops[0].args.image", "literal %%global.variables.IMG%% cannot be resolved (global.variables has no 'IMG')"],
        "NOS301",  # its code
    ),
    "malformed-literal": (
        job({"type": "container/run", "id": "a", "args": {"image": "x", "cmd": ["%%global.nope%%"]}}),
        ["$.ops[0].args.cmd[0]", "literal %%global.nope%% cannot be resolved (not a value the node knows"],
        "NOS301",  # its code
    ),
    "literal-to-unknown-op": (
        job({"type": "container/run", "id": "a", "args": {"image": "x", "env": {"H": "%%ops.b.host%%"}}}),
        ["$.ops[0].args.env.H", "cannot be resolved (there is no op 'b' in this job)"],
        "NOS301",  # its code
    ),
    "result-of-same-group": (
        job(
            {
                "type": "container/run",
                "id": "a",
                "args": {"image": "x"},
                "results": {"p": "port: (\\d+)"},
                "execution": {"group": "g"},
            },
            {
                "type": "container/run",
                "id": "b",
                "args": {"image": "x", "cmd": ["--port", "%%ops.a.results.p%%"]},
                "execution": {"group": "g"},
            },
        ),
        ["$.ops[1].args.cmd[1]", "cannot be resolved (results of op 'a' exist only once it has exited"],
        "NOS302",  # its code
    ),
    "result-not-declared": (
        job(
            {"type": "container/run", "id": "a", "args": {"image": "x"}},
            {"type": "container/run", "id": "b", "args": {"image": "x", "env": {"P": "%%ops.a.results.p%%"}}},
        ),
        ["$.ops[1].args.env.P", "cannot be resolved (op 'a' declares no result 'p')"],
        "NOS301",  # its code
    ),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_error_is_reported_with_path_and_line(tmp_path, case):
    data, fragments, line = ERRORS[case]
    assert_rejected(run(tmp_path, data), *fragments, line=line)


@pytest.mark.parametrize("case", ["port-out-of-range", "duplicate-id", "unknown-dependency", "malformed-json"])
def test_validate_reports_the_same_errors(tmp_path, case):
    data, fragments, line = ERRORS[case]
    assert_rejected(run(tmp_path, data, command="validate"), *fragments, line=line)


def test_every_error_is_reported_at_once(tmp_path):
    bad = job(
        {"type": "container/run", "id": "a", "args": {"image": 1, "gpu": "no", "expose": 0}},
        {"type": "container/run", "id": "a", "args": {"image": "x"}},
    )
    result = run(tmp_path, bad)
    assert_rejected(result, "$.ops[0].args.image", "$.ops[0].args.gpu", "$.ops[0].args.expose", "$.ops[1].id")
    errors = [line for line in result.stderr.splitlines() if re.match(r"error: job.json:\d+:", line)]
    assert len(errors) == 4, result.stderr
    assert result.stderr.rstrip().endswith("4 errors; nothing was written")
    checked = run(tmp_path, bad, "--strict", command="validate")  # validate never writes: it does not say so
    assert checked.exit_code == 2 and checked.stderr.rstrip().endswith("job.json: 4 errors"), checked.stderr


def test_yaml_errors_have_lines_too(tmp_path):
    text = "version: '0.1'\ntype: container\nops:\n  - type: container/run\n    id: a\n    args:\n      image: x\n      expose: [80, 99999]\n"
    result = run(tmp_path, text, name="job.yaml")
    assert result.exit_code == 2
    assert re.search(r"job\.yaml:8:\d+: \$\.ops\[0\]\.args\.expose\[1\]", result.stderr), result.stderr
    result = run(tmp_path, "ops: [a, b\n", name="job.yaml")
    assert result.exit_code == 2 and "malformed YAML" in result.stderr and "job.yaml:" in result.stderr


def test_strict_only_rules_warn_by_default_and_fail_with_strict(tmp_path):
    data = {
        "version": "0.2",
        "type": "container",
        "global": {"image": "busybox"},
        "extra": 1,
        "ops": [
            {
                "type": "container/run",
                "id": "a b",  # the node's @nosana/sdk accepts a space, @nosana/types refuses it
                "args": {
                    "cmd": "true",
                    "output": "x",
                    "restart_policy": "always",  # both validators accept it (the node's sdk since 0.4.83): no rule
                    "expose": [
                        {
                            "port": 80,
                            "health_checks": [{"type": "http", "path": "/", "method": "GET", "expected_status": 200}],
                        }
                    ],
                },
            }
        ],
    }
    lenient = run(tmp_path, data)
    assert lenient.exit_code == 0, lenient.stderr
    warnings = [line for line in lenient.stderr.splitlines() if line.startswith("warning:")]
    for fragment in [
        "$.version",
        "$.extra",
        "no 'image' of its own",
        "'output' is an older field",
        "without 'continuous'",
        "contains a space",
    ]:
        assert any(fragment in w for w in warnings), (fragment, lenient.stderr)
    # no validator refuses it: its one warning is NOS911, a local difference, never an error with --strict
    assert [w for w in warnings if "restart_policy" in w and "NOS911" not in w] == [], lenient.stderr
    strict = run(tmp_path, data, "--strict")
    assert strict.exit_code == 2
    assert len([line for line in strict.stderr.splitlines() if re.match(r"error: job.json:\d+:", line)]) == 6, (
        strict.stderr
    )


def test_error_on_warning(tmp_path):
    data = job({"type": "container/run", "id": "a", "args": {"image": "x", "private": True}})
    assert run(tmp_path, data).exit_code == 0
    result = run(tmp_path, data, "--error-on-warning")
    assert_rejected(result, "warning: job.json:", "--error-on-warning makes them fatal")


def test_file_problems(tmp_path):
    assert_rejected(run_cli("convert", str(tmp_path / "nope.json")), "no such file")
    assert_rejected(run_cli("convert", str(tmp_path)), "is a directory")
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe\x00")
    assert_rejected(run_cli("convert", str(tmp_path / "bin.json")), "not UTF-8")


def test_bad_name_is_a_usage_error(tmp_path):
    result = run(tmp_path, job(), "--name", "My Job")
    assert result.exit_code == 2 and "try --name my-job" in result.stderr


def test_check_needs_an_output_directory(tmp_path):
    result = run(tmp_path, job(), "--check")
    assert result.exit_code == 2 and "-o DIR" in result.stderr


@pytest.mark.parametrize("case", sorted(UNRESOLVED))
def test_what_the_node_cannot_resolve_warns_and_fails_only_that_op(tmp_path, case):
    definition, (path, message), code = UNRESOLVED[case]
    (tmp_path / "job.json").write_text(json.dumps(definition))
    converted = run_cli("convert", "job.json", cwd=tmp_path)
    assert converted.exit_code == 0, converted.stderr
    warning = next(line for line in converted.stderr.splitlines() if f": {code} {path} " in line and message in line)
    assert warning.startswith("warning: job.json:") and "on a node this op fails before it starts" in warning
    assert "Unresolved literal:" in warning  # the node's own words
    marked = [
        svc["x-nos2compose"]["unresolved"]
        for svc in yaml.safe_load(converted.stdout)["services"].values()
        if "unresolved" in svc.get("x-nos2compose", {})
    ]
    assert len(marked) == 1 and marked[0][0].startswith('Unresolved literal: "%%')
    assert run_cli("validate", "job.json", cwd=tmp_path).exit_code == 0
    assert run_cli("convert", "--error-on-warning", "job.json", cwd=tmp_path).exit_code == 2
