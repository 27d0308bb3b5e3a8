"""The same job converts to the same bytes whatever the process: hash seed, working directory, locale.

Each variant is a separate process. The real CLI (a process per run) converts a sample of jobs, to
standard output and with -o; a driver process per variant converts every corpus job through the CLI's
own entry point (`main([...])`, standard output redirected at the file descriptor, so the locale's
encoding is the real one) in one process, so the whole corpus costs one start-up per variant.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sys
from pathlib import Path

import pytest
from helpers import CORPUS, ROOT
from prop_strategies import TOKENS
from prop_support import in_parallel, run_cli, temp_dir

pytestmark = pytest.mark.property

VARIANTS = {  # name -> (environment, working directory: "a", "b" or "/")
    "seed0-C.UTF-8": ({"PYTHONHASHSEED": "0", "LC_ALL": "C.UTF-8"}, "a"),
    "seed1-C": ({"PYTHONHASHSEED": "1", "LC_ALL": "C"}, "b"),
    "seed4242-POSIX": ({"PYTHONHASHSEED": "4242", "LC_ALL": "POSIX"}, "a"),
    "random-C-no-utf8-mode": (
        {"PYTHONHASHSEED": "random", "LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"},
        "/",
    ),
    "seed99-no-locale": ({"PYTHONHASHSEED": "99", "LC_ALL": "", "LANG": "", "LC_CTYPE": ""}, "b"),
}
OPTIONS = [[], ["--health-probe", "sidecar"]]


def hostile_job(seed: int) -> dict:
    """A job that uses every part of the output: groups, dependencies, health checks, results, resources,
    volumes, literals, renamed services, clashing ports, all in hostile text."""
    rng = random.Random(seed)

    def text(n: int = 4) -> str:
        return "".join(rng.choice(TOKENS) for _ in range(n)).replace("%%", "%")

    ops: list[dict] = [{"type": "container/create-volume", "id": "vol", "args": {"name": "data"}}]
    for i in range(6):
        op_id = f"op{i}" + text(1).replace(" ", "")
        args: dict = {
            "image": "img" + text(2),
            "cmd": [text(), "%%global.variables.V%%", text()] if i % 2 else text(6),
            "env": {f"K{j}" + text(1): text() for j in range(4)},
            "work_dir": "/w" + text(),
            "aliases": [text(), text()],
            "expose": [
                80,
                {
                    "port": 8000 + i % 2,
                    "health_checks": [
                        {
                            "type": "http",
                            "path": "/" + text(),
                            "method": "POST",
                            "expected_status": 200,
                            "headers": {"H" + text(1): text()},
                            "body": {"b": text()},
                            "continuous": bool(i % 2),
                        }
                    ],
                },
            ],
            "volumes": [{"name": "data", "dest": "/data"}],
        }
        if i % 3 == 0:
            args["resources"] = [{"type": "HF", "repo": "org/model", "target": f"/m{i}"}]
        op = {"type": "container/run", "id": op_id, "args": args, "results": {"r" + text(1): "x(.*)" + text(1)}}
        if i >= 2:
            op["execution"] = {"group": "g" + str(i // 3) + text(1)}
        ops.append(op)
    return {
        "version": "0.1",
        "type": "container",
        "global": {"variables": {"V": "v" + text()}, "env": {"G": text()}},
        "ops": ops,
    }


def _digest(directory: Path) -> dict[str, str]:
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def jobs(tmp_path_factory) -> list[Path]:
    where = tmp_path_factory.mktemp("jobs")
    out = []
    for seed in (1, 2, 3):
        path = where / f"hostile-{seed}.json"
        path.write_text(json.dumps(hostile_job(seed), ensure_ascii=False), encoding="utf-8")
        out.append(path)
    return out


def test_the_real_cli_writes_the_same_bytes_in_every_process(jobs):
    sample = [*jobs[:2], *sorted(CORPUS.glob("*.json"))[:1]] if CORPUS.is_dir() else jobs[:2]
    work = temp_dir()
    (work / "a").mkdir()
    (work / "b").mkdir()

    def one(item):
        variant, job, options = item
        env, cwd = VARIANTS[variant]
        here = Path("/") if cwd == "/" else work / cwd
        out = work / "out" / variant / f"{job.stem}{len(options)}"
        single = run_cli("convert", str(job), *options, cwd=here, env=env)
        split = run_cli("convert", str(job), *options, "-o", str(out), cwd=here, env=env)
        assert single.status == 0 and split.status == 0, (single, split)
        return variant, f"{job.name} {options}", hashlib.sha256(single.stdout).hexdigest(), _digest(out)

    items = [(v, j, o) for v in VARIANTS for j in sample for o in (OPTIONS if j == jobs[0] else OPTIONS[:1])]
    seen: dict[str, tuple] = {}
    differ = []
    for variant, key, single, split in in_parallel(one, items):
        first = seen.setdefault(key, (variant, single, split))
        if (single, split) != first[1:]:
            differ.append(f"{key}: {variant} differs from {first[0]}")
    assert not differ, "\n".join(differ)


DRIVER = r"""
import hashlib, json, os, sys, tempfile
from pathlib import Path
from nos2compose.cli import main
out = {}
ended = []  # how runs that did not return ended: only click's own ways are fine
work = Path(tempfile.mkdtemp())
for n, job in enumerate(sys.argv[1:]):
    target = work / f"{n}.yaml"
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(fd, 1)
    os.close(fd)
    try:
        try:
            main(["convert", job], standalone_mode=False)
        except BaseException as exc:
            ended.append(type(exc).__name__)
        sys.stdout.flush()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    try:
        main(["convert", job, "-o", str(work / f"{n}.d")], standalone_mode=False)
    except BaseException as exc:
        ended.append(type(exc).__name__)
    files = [target, *sorted((work / f"{n}.d").glob("*"))]
    out[Path(job).name] = [hashlib.sha256(f.read_bytes()).hexdigest() for f in files]
print(json.dumps({"digests": out, "ended": sorted(set(ended))}))
"""


def test_every_corpus_job_converts_to_the_same_bytes_in_every_process(jobs):
    if not CORPUS.is_dir():
        pytest.skip(f"no corpus at {CORPUS}")
    import subprocess

    paths = [str(p) for p in [*jobs, *sorted(CORPUS.glob("*.json"))]]
    work = temp_dir()

    def one(variant):
        env, cwd = VARIANTS[variant]
        here = "/" if cwd == "/" else work
        proc = subprocess.run(
            [sys.executable, "-c", DRIVER, *paths],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        found = json.loads(proc.stdout.splitlines()[-1])
        assert set(found["ended"]) <= {"Failure", "SystemExit", "Exit", "ClickException"}, found["ended"]
        return variant, found["digests"]

    results = dict(in_parallel(one, list(VARIANTS)))
    first_name, first = next(iter(results.items()))
    assert len(first) == len(paths)
    for variant, digests in results.items():
        differ = [job for job in first if digests.get(job) != first[job]]
        assert not differ, f"{variant} and {first_name} differ for {differ}"
