"""The healthcheck a service carries: a fixed script, the job's values only as its arguments."""

from __future__ import annotations

import subprocess

from nos2compose.compose.healthcheck import healthcheck
from nos2compose.model import Expose, HttpCheck, RunOp


def test_probe_keeps_hostile_values_out_of_the_script():
    hostile = ["$(touch /tmp/pwned)", "`id`", "a;b", "x\ny", "'q'", '"d"', "$HOME", "\\zz"]
    checks = tuple(
        HttpCheck(path="/" + h, method="POST", expected_status=200, headers=(("X-" + str(i), h),), body=h)
        for i, h in enumerate(hostile)
    )
    op = RunOp(id="a", index=0, group="a", image="x", expose=(Expose(8080, health_checks=checks),))
    test = healthcheck(op)["test"]
    assert test[:3] == ["CMD", "sh", "/nos2compose/probe.sh"]  # a fixed script; job values are only its arguments
    args = test[3:]
    for i, h in enumerate(hostile):
        assert f"--url=http://127.0.0.1:8080/{h}" in args and f"--header=X-{i}: {h}" in args and f"--body={h}" in args
    assert args.count("http") == len(hostile)


def test_probe_runs_under_a_real_shell_with_hostile_values(tmp_path):
    """Run the generated script with sh and fake curl/wget that record their argv."""
    hostile = f"$(touch {tmp_path}/pwned); `touch {tmp_path}/pwned2`"
    op = RunOp(
        id="a",
        index=0,
        group="a",
        image="x",
        expose=(
            Expose(
                9,
                health_checks=(
                    HttpCheck(
                        path="/p?" + hostile,
                        method="POST",
                        expected_status=201,
                        headers=(("H", hostile),),
                        body=hostile,
                    ),
                ),
            ),
        ),
    )
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
