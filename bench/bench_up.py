"""Benchmarks for `nos2compose up -d` and `nos2compose ps` on the local Docker engine,
as ratios against references measured in the same run.

1. `nos2compose up JOB -d --pull never` against running the group files from
   `nos2compose convert JOB -o DIR` by hand, one after the other, each with
   `docker compose -f GROUPFILE up -d --wait --pull never`. Alternating runs
   (nos2compose, teardown, by hand, teardown, ...), each on a new project; the
   teardown is not timed. Goal: median ratio <= 1.10.
   The job has two groups of long-running services only: `docker compose up --wait`
   fails when a one-shot op exits, so tasks that finish have no by-hand reference.
     backend:  api-a, api-b  busybox httpd started after `sleep 0.5` / `sleep 1.5`,
                             each with an HTTP health check (GET /ok -> 200)
     frontend: web           fetches /ok from api-a and api-b (so it needs the first
                             group up), then serves; HTTP health check
               static        busybox httpd, an exposed port without checks,
                             depends_on web (Compose waits for web to be healthy)
   Timing the two ends at the same point: every op running, healthy where it has checks.
2. `nos2compose ps JOB` on a running 20-op job against `docker compose -p NAME ps -a
   --format json` on the same project (alternating). Goal: median ratio <= 1.5 (`ps`
   makes one engine call, a `docker ps`, and loads neither the compiler nor python-on-whales).
   The job: 3 groups of 5 busybox httpd services (a published port, no checks) and a last
   group of 5 `sleep 600` tasks, brought up once with `nos2compose up -d`.

Run from the repository root:  python bench/bench_up.py [--runs N] [--only up|ps] [--json]
Needs the local image nos2compose-test/busybox:1 (tests/images/build.sh); nothing is
pulled. Ports are published on 127.0.0.1 only (free ones, picked at start). Every
project it creates is removed at the end, also on failure or Ctrl-C.
Bytecode is compiled first, as a normal install has it (PYTHONDONTWRITEBYTECODE is unset).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMAGE = "nos2compose-test/busybox:1"
STEP_TIMEOUT = 180  # seconds any one command may take before the benchmark gives up
GROUP_TIMEOUT = 120  # --timeout / --wait-timeout for one group to get ready


def cli() -> list[str]:
    """What the `nos2compose` console script runs, with this Python (no PATH shims in between)."""
    return [sys.executable, "-c", "import sys; from nos2compose.cli import main; sys.exit(main())"]


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    """Run a command; on failure raise with its own words (stdout and stderr tails)."""
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=kw.pop("timeout", STEP_TIMEOUT), **kw)
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd[-8:])} exited with {result.returncode}:\n{result.stdout[-1500:]}\n{result.stderr[-1500:]}"
        )
    return result


def timed(cmds: list[list[str]], **kw) -> float:
    """Seconds to run the commands one after the other (each must succeed)."""
    start = time.perf_counter()
    for cmd in cmds:
        run(cmd, **kw)
    return time.perf_counter() - start


def free_ports(n: int) -> list[int]:
    """n distinct free TCP ports on 127.0.0.1 (bound together, then released)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def check_ok() -> list[dict]:
    return [{"type": "http", "path": "/ok", "method": "GET", "expected_status": 200, "continuous": True}]


def op(op_id: str, group: str, shell: str, port: int | None = None, checks: bool = False, **execution) -> dict:
    args: dict = {"image": IMAGE, "cmd": ["sh", "-c", shell]}
    if port is not None:
        args["expose"] = [{"port": port, "health_checks": check_ok()}] if checks else [port]
    return {"type": "container/run", "id": op_id, "args": args, "execution": {"group": group, **execution}}


def up_job(ports: list[int]) -> dict:
    a, b, web, static = ports
    httpd = "exec httpd -f -p {} -h /www"
    return {
        "version": "0.1",
        "type": "container",
        "ops": [
            op("api-a", "backend", "sleep 0.5; " + httpd.format(a), a, checks=True),
            op("api-b", "backend", "sleep 1.5; " + httpd.format(b), b, checks=True),
            op(
                "web",
                "frontend",
                f"wget -q -O /dev/null http://api-a:{a}/ok && wget -q -O /dev/null http://api-b:{b}/ok && "
                + httpd.format(web),
                web,
                checks=True,
            ),
            op("static", "frontend", httpd.format(static), static, depends_on=["web"]),
        ],
    }


def ps_job(ports: list[int]) -> dict:
    ops = []
    for g in range(3):
        for i in range(5):
            port = ports[g * 5 + i]
            ops.append(op(f"svc-{g}-{i}", f"group-{g}", f"exec httpd -f -p {port} -h /www", port))
    ops += [op(f"task-{i}", "group-3", "exec sleep 600") for i in range(5)]
    return {"version": "0.1", "type": "container", "ops": ops}


def compose_rows(project: str) -> list[dict]:
    out = run(["docker", "compose", "-p", project, "ps", "-a", "--format", "json"]).stdout
    rows = []
    for line in out.splitlines():
        if line.strip():
            items = json.loads(line)
            rows += items if isinstance(items, list) else [items]
    return rows


def verify_ready(project: str, services: int, healthy: set[str]) -> None:
    """Every container running, healthy where it has checks (so both timings end at the same point)."""
    rows = compose_rows(project)
    bad = [
        r for r in rows if r.get("State") != "running" or (r.get("Service") in healthy and r.get("Health") != "healthy")
    ]
    if len(rows) != services or bad:
        raise RuntimeError(
            f"project {project} is not ready after its command returned: "
            + "; ".join(f"{r.get('Service')}: {r.get('State')} {r.get('Health')}" for r in rows)
        )


class Projects:
    """Every Compose project the benchmark starts, so each is removed (not timed), also on failure."""

    def __init__(self):
        self.prefix = f"n2cbench-{uuid.uuid4().hex[:6]}"
        self.live: list[str] = []

    def new(self, what: str) -> str:
        name = f"{self.prefix}-{what}"
        self.live.append(name)
        return name

    def down(self, name: str) -> None:
        subprocess.run(
            ["docker", "compose", "-p", name, "down", "-t", "1", "--remove-orphans"],
            capture_output=True,
            timeout=STEP_TIMEOUT,
            check=False,
        )
        if name in self.live:
            self.live.remove(name)

    def down_all(self) -> None:
        for name in list(self.live):
            try:
                self.down(name)
            except Exception as exc:  # keep removing the others
                print(f"warning: could not remove project {name}: {exc}", file=sys.stderr)


def bench_up(runs: int, workdir: Path, projects: Projects) -> dict:
    job = workdir / "up-job.json"
    job.write_text(json.dumps(up_job(free_ports(4)), indent=1))
    healthy = {"api-a", "api-b", "web"}
    ours, theirs = [], []
    for i in range(runs):  # alternate, so both see the same machine noise
        name = projects.new(f"up{i}-n2c")
        ours.append(
            timed(
                [cli() + ["up", str(job), "-d", "--pull", "never", "--name", name, "--timeout", str(GROUP_TIMEOUT)]],
                cwd=workdir,
            )
        )
        verify_ready(name, 4, healthy)
        projects.down(name)

        name = projects.new(f"up{i}-hand")
        out = workdir / name
        run(cli() + ["convert", str(job), "--name", name, "-o", str(out)], cwd=workdir)  # not timed
        files = sorted(out.glob("*.yaml"))
        theirs.append(
            timed(
                [
                    [
                        "docker",
                        "compose",
                        "-f",
                        str(f),
                        "up",
                        "-d",
                        "--wait",
                        "--wait-timeout",
                        str(GROUP_TIMEOUT),
                        "--pull",
                        "never",
                    ]
                    for f in files
                ],
                cwd=workdir,
            )
        )
        verify_ready(name, 4, healthy)
        projects.down(name)
    a, b = statistics.median(ours), statistics.median(theirs)
    return {
        "nos2compose_up_median_s": round(a, 3),
        "compose_by_hand_median_s": round(b, 3),
        "ratio": round(a / b, 3),
        "runs": runs,
        "groups": len(files),
        "nos2compose_up_s": [round(t, 3) for t in ours],
        "compose_by_hand_s": [round(t, 3) for t in theirs],
    }


def bench_ps(runs: int, workdir: Path, projects: Projects) -> dict:
    job = workdir / "ps-job.json"
    job.write_text(json.dumps(ps_job(free_ports(15)), indent=1))
    name = projects.new("ps")
    start = time.perf_counter()
    run(cli() + ["up", str(job), "-d", "--pull", "never", "--name", name, "--timeout", str(GROUP_TIMEOUT)], cwd=workdir)
    up_s = time.perf_counter() - start
    verify_ready(name, 20, set())
    table = run(cli() + ["ps", str(job), "--name", name], cwd=workdir).stdout.splitlines()
    if len(table) != 21 or any(line.split()[2] != "running" for line in table[1:]):
        raise RuntimeError("nos2compose ps did not show 20 running ops:\n" + "\n".join(table))
    ours, theirs = [], []
    for _ in range(runs):
        ours.append(timed([cli() + ["ps", str(job), "--name", name]], cwd=workdir))
        theirs.append(timed([["docker", "compose", "-p", name, "ps", "-a", "--format", "json"]], cwd=workdir))
    projects.down(name)
    a, b = statistics.median(ours), statistics.median(theirs)
    return {
        "nos2compose_ps_median_s": round(a, 3),
        "compose_ps_median_s": round(b, 3),
        "ratio": round(a / b, 2),
        "runs": runs,
        "ops": 20,
        "groups": 4,
        "setup_up_d_s": round(up_s, 2),
        "nos2compose_ps_s": [round(t, 3) for t in ours],
        "compose_ps_s": [round(t, 3) for t in theirs],
    }


def preflight() -> None:
    try:
        run(["docker", "image", "inspect", IMAGE], timeout=30)
        run(["docker", "compose", "version"], timeout=30)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        sys.exit(
            f"error: needs a running Docker engine, Compose v2 and the local image {IMAGE} "
            f"(tests/images/build.sh): {exc}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--only", choices=["up", "ps"], default=None, help="run one of the two benchmarks")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    compileall.compile_dir(str(ROOT / "nos2compose"), quiet=1)
    preflight()
    # SIGTERM unwinds like Ctrl-C, so the finally below still removes the projects
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    projects = Projects()
    try:
        with tempfile.TemporaryDirectory(prefix="n2c-bench-up-") as tmp:
            results = {}
            if args.only in (None, "up"):
                results["up_d"] = bench_up(args.runs, Path(tmp), projects)
            if args.only in (None, "ps"):
                results["ps"] = bench_ps(max(args.runs, 7), Path(tmp), projects)
    finally:
        projects.down_all()
    results["python"] = sys.version.split()[0]
    if args.json:
        print(json.dumps(results, indent=2))
        return
    up, ps = results.get("up_d"), results.get("ps")
    if up:
        print(
            f"up -d ({up['groups']} groups, 4 services, {up['runs']} runs): "
            f"nos2compose {up['nos2compose_up_median_s']:.3f} s; "
            f"docker compose up -d --wait per group file {up['compose_by_hand_median_s']:.3f} s; "
            f"ratio {up['ratio']} (goal <= 1.10)"
        )
    if ps:
        print(
            f"ps (20 ops in 4 groups, {ps['runs']} runs): nos2compose ps {ps['nos2compose_ps_median_s'] * 1000:.0f} ms "
            f"; docker compose ps -a --format json {ps['compose_ps_median_s'] * 1000:.0f} ms; "
            f"ratio {ps['ratio']} (goal <= 1.5)"
        )


if __name__ == "__main__":
    main()
