"""Benchmarks for `nos2compose convert`, as ratios against references measured in the same run.

1. Cold convert of the seed's vLLM + Open-WebUI multi-operation job, against
   `docker compose config -q` on its output: alternating runs, medians. Goal: ratio <= 1.0.
2. A synthetic job of 2,000 ops in 200 groups converts in under 1 s, and 4,000 ops
   in 400 groups take at most twice as long (goal: ratio <= 2.0).

Run from the repository root:  python bench/bench_convert.py [--runs N] [--json]
"cold" means a new process each time, with bytecode compiled as a normal install
has it (the script compiles it first; PYTHONDONTWRITEBYTECODE does not apply).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "fixtures" / "convert" / "seed-vllm-openwebui-multi-op" / "seed-vllm-openwebui-multi-op.json"


def cli() -> list[str]:
    """What the `nos2compose` console script runs, with this Python (no PATH shims in between)."""
    return [sys.executable, "-c", "import sys; from nos2compose.cli import main; sys.exit(main())"]


def timed(cmd: list[str], **kw) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
    return time.perf_counter() - start


def synthetic_job(ops: int, groups: int) -> dict:
    per_group = ops // groups
    out = []
    for g in range(groups):
        for i in range(per_group):
            op = {
                "type": "container/run",
                "id": f"g{g}-op{i}",
                "args": {
                    "image": "busybox:1.36",
                    "cmd": f"echo group {g} op {i} $HOME",
                    "env": {"INDEX": str(i), "GROUP": str(g)},
                },
                "execution": {"group": f"group-{g}"},
            }
            if i == 0:
                op["args"]["expose"] = [
                    {
                        "port": 8000 + i,
                        "health_checks": [
                            {
                                "type": "http",
                                "path": "/health",
                                "method": "GET",
                                "expected_status": 200,
                                "continuous": True,
                            }
                        ],
                    }
                ]
            elif i == 1:
                op["execution"]["depends_on"] = [f"g{g}-op0"]
            out.append(op)
    return {"version": "0.1", "type": "container", "global": {"variables": {"X": "1"}}, "ops": out}


def bench_cold(runs: int, workdir: Path) -> dict:
    compose_file = workdir / "seed.yaml"
    compose_file.write_text(
        subprocess.run(cli() + ["convert", str(SEED)], check=True, capture_output=True, text=True).stdout
    )
    ours, theirs = [], []
    for _ in range(runs):  # alternate, so both see the same machine noise
        ours.append(timed(cli() + ["convert", str(SEED)]))
        theirs.append(timed(["docker", "compose", "-f", str(compose_file), "config", "-q"]))
    a, b = statistics.median(ours), statistics.median(theirs)
    return {
        "convert_median_s": round(a, 4),
        "compose_config_median_s": round(b, 4),
        "ratio": round(a / b, 3),
        "runs": runs,
    }


def bench_scale(runs: int, workdir: Path) -> dict:
    out = {}
    for ops, groups in ((2000, 200), (4000, 400)):
        job = workdir / f"job-{ops}.json"
        job.write_text(json.dumps(synthetic_job(ops, groups)))
        times = [timed(cli() + ["convert", str(job)]) for _ in range(max(3, runs // 4))]
        out[ops] = statistics.median(times)
    return {
        "ops_2000_s": round(out[2000], 3),
        "ops_4000_s": round(out[4000], 3),
        "doubling_ratio": round(out[4000] / out[2000], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    compileall.compile_dir(str(ROOT / "nos2compose"), quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        results = {"cold_convert": bench_cold(args.runs, Path(tmp)), "scale": bench_scale(args.runs, Path(tmp))}
    results["python"] = sys.version.split()[0]
    if args.json:
        print(json.dumps(results, indent=2))
        return
    cold, scale = results["cold_convert"], results["scale"]
    print(
        f"cold convert (seed vLLM + Open-WebUI job): {cold['convert_median_s'] * 1000:.0f} ms; "
        f"docker compose config -q: {cold['compose_config_median_s'] * 1000:.0f} ms; "
        f"ratio {cold['ratio']} (goal <= 1.0)"
    )
    print(
        f"2,000 ops in 200 groups: {scale['ops_2000_s']:.3f} s (goal < 1 s); "
        f"4,000 ops in 400 groups: {scale['ops_4000_s']:.3f} s; ratio {scale['doubling_ratio']} (goal <= 2.0)"
    )


if __name__ == "__main__":
    main()
