"""Differential comparison: one job through Nosana's own node (the oracle) and through `nos2compose up`.

    node_run(job, provider)              the node's run (oracle/node_oracle.py) with its Docker or Podman
                                         provider, as a JobRun
    local_run(job, project, workdir)     `nos2compose up JOB --barrier exit --pull never --timeout 120`, then
                                         `ps --json`, the containers' logs and times, then `down -v`
    compare(name, job, node, local)      every disagreement, op by op, as Divergence rows
    run_both(case, providers)            the node (once per provider) and nos2compose at the same time (they
                                         share no names or ports), plus the default barrier where it should agree

Both sides are reduced to the same shape (JobRun / OpRun) after replacing what is random or local by
design (see `Texts`); then each op is compared field by field, and the order constraints of the
node's scheduling are checked on each side (see `order_problems`). docs/fidelity.md describes the
method and lists what the suite found.

The node's provider: "docker" (the local Docker engine) or "podman" (Podman's service, the provider
production nodes run: PODMAN.md). What one provider's node gives and `up` does not (by design: where `up`
follows the Podman provider, or where the engine's own answer differs) is listed in PENDING, per provider.
flow_state.py compares the flow state's own fields (errors, diagnostics, log times).

Run by hand:  .venv/bin/python tests/fidelity/compare.py [--provider docker|podman|both] tests/fidelity/jobs/X.json ...
"""

from __future__ import annotations

import copy
import fnmatch
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

try:
    from . import flow_state
    from .oracle import node_oracle
except ImportError:  # run as a script, or imported from this folder
    sys.path[:0] = [str(Path(__file__).resolve().parent / "oracle"), str(Path(__file__).resolve().parent)]
    import flow_state  # type: ignore[no-redef]
    import node_oracle  # type: ignore[no-redef]

HERE = Path(__file__).resolve().parent
JOBS = HERE / "jobs"
ROOT = HERE.parent.parent
CORPUS = Path(os.environ.get("NOS2COMPOSE_CORPUS") or ROOT.parent / "shared" / "corpus" / "nosana-templates")
N2C = [sys.executable, "-m", "nos2compose"]
TIMEOUT = 120  # seconds: `up --timeout` and the node's own bound
UP_LIMIT = 90  # seconds `up` may take in the foreground: every job here ends within ~25 s
BUSYBOX = "nos2compose-test/busybox:1"
PROVIDERS = node_oracle.PROVIDERS  # ("docker", "podman")

# --- the one status table -----------------------------------------------------------------------
# The node stores per op (flow state, GET /job/<id>/results) `success` for exit 0 and `failed` for a
# non-zero exit, a pull or runtime error, or an unresolved literal. `nos2compose ps --json` says
# `completed` / `failed`. Other words cannot occur once a run has ended; they are mapped for
# completeness (docs/supervisor.md maps nos2compose's words to the node API's).
STATUS_MAP = {
    "success": "completed",
    "failed": "failed",
    "stopped": "stopped",
    "running": "running",
    "init": "pending",
    "pending": "pending",
    "waiting": "pending",
    None: "pending",
}


class Divergence(NamedTuple):
    job: str
    op: str  # "" for the whole job
    field: str
    node: Any
    local: Any

    def __str__(self) -> str:
        return f"{self.job} / {self.op or '(job)'} / {self.field}: node={self.node!r} nos2compose={self.local!r}"


@dataclass
class OpRun:
    id: str
    group: str | None = None
    status: str | None = None  # in nos2compose's words (the node's are mapped through STATUS_MAP)
    word: str | None = None  # the side's own word
    exit_code: int | None = None
    results: dict = field(default_factory=dict)  # {} when the op declares none or has none yet
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    reason: str = ""  # node: its nodeerr lines and error messages; nos2compose: ps `reason`
    ran: bool = False  # a container of the op ran (node: an op:exit; nos2compose: a StartedAt)
    start: float | None = None  # ms since the epoch (node: op start; nos2compose: the container's StartedAt)
    end: float | None = None
    ready: float | None = None  # "startup success" (node: healthcheck:startup:success; nos2compose: evidence)
    first_start: float | None = None  # node: the first op:start (an op can run twice); else start
    api: dict | None = None  # nos2compose: its opState in the local node API's /results (the node's words)
    # The flow state's own fields (flow_state.py compares them), node: its flow state; nos2compose: the opState
    # of its /results. `errors`: [{event, message, code?}]; `diagnostics`: {reason, state?}, state = the
    # container's inspect State plus RestartCount, its times as the engine wrote them; `log_times`: [(stream,
    # timestamp)] per log entry of the op's own output, in the order stored (the engine's RFC 3339 time of the
    # line); `flow_start`/`flow_end`: the opState's startTime/endTime (ms since the epoch).
    errors: list = field(default_factory=list)
    diagnostics: dict | None = None
    log_times: list[tuple[str, str]] = field(default_factory=list)
    flow_start: float | None = None
    flow_end: float | None = None


@dataclass
class JobRun:
    side: str
    provider: str = ""  # the node's: docker or podman
    refused: str | None = None  # the job was rejected before anything ran: the message
    ops: dict[str, OpRun] = field(default_factory=dict)
    groups: list[str] = field(default_factory=list)  # the order groups started in
    hosts: dict[int, str] = field(default_factory=dict)  # op index -> host name (nos2compose: the service)
    wall: float = 0.0
    raw: dict = field(default_factory=dict)  # what was read, for the report


# --- what is random or local by design ------------------------------------------------------------

ACCESS_LINE = re.compile(r'^n2c-testserver\[\d+\]: \S+ "[A-Z]+ [^"]*" \d{3}$')
PID = re.compile(r"\bn2c-testserver\[\d+\]")
NODE_ENDPOINT = re.compile(r"\bENDPOINT\d+\.node\.k8s\.prd\.nos\.ci\b")


class Texts:
    """Normalizes log lines and result strings of one side.

    Both sides: access-log lines of the test server (`n2c-testserver[PID]: ADDR "GET /path" CODE`) are
    dropped (they carry addresses, and health probes come every 5 s from the tunnel container on the
    node but every 1 s from inside the op locally, so their number differs by design); the server's
    PID becomes `PID`.
    Node (after node_oracle.normalize): `FLOW-<i>` (the host of op i) becomes the host name nos2compose
    gives op i (its service name); endpoint hosts `ENDPOINT<n>.node.k8s.prd.nos.ci` (what
    %%ops.ID.endpoint.PORT%% gives: no scheme, no port) become `<endpoint>`. `FLOW` (NOSANA_ID, %%global.job%%) and `CONTAINER<i>` (hostnames) stay.
    nos2compose: the project name becomes `FLOW`, container ids and hostnames `CONTAINER<i>`, and
    `<service>:<port>` of an exposed port `<endpoint>`.
    """

    def __init__(self, replace: list[tuple[str | re.Pattern, str]]):
        self.replace = replace

    def line(self, s: str) -> str:
        for raw, token in self.replace:
            s = raw.sub(token, s) if isinstance(raw, re.Pattern) else s.replace(raw, token)
        return PID.sub("n2c-testserver[PID]", s)

    def lines(self, lines: Iterable[str]) -> list[str]:
        return [self.line(x) for x in lines if not ACCESS_LINE.match(x)]

    def deep(self, value: Any) -> Any:
        return node_oracle.map_text(value, self.line)


def node_texts(hosts: dict[int, str]) -> Texts:
    flow_host = re.compile(r"\bFLOW-(\d+)\b")
    return Texts(
        [
            (flow_host, lambda m: hosts.get(int(m.group(1)), m.group(0))),  # type: ignore[list-item]
            (NODE_ENDPOINT, "<endpoint>"),
        ]
    )


# --- the job's own facts ---------------------------------------------------------------------------


def op_index(job: dict) -> dict[str, int]:
    return {op.get("id"): i for i, op in enumerate(job.get("ops") or [])}


def health_checks(op: dict) -> list[dict]:
    """The op's http health checks as written (expose objects in an array or alone)."""
    expose = (op.get("args") or {}).get("expose")
    items = expose if isinstance(expose, list) else [expose]
    return [
        dict(hc, port=item.get("port"))
        for item in items
        if isinstance(item, dict)
        for hc in item.get("health_checks") or []
        if isinstance(hc, dict)
    ]


def exposes(op: dict) -> bool:
    return (op.get("args") or {}).get("expose") not in (None, [])


def depends(op: dict) -> list[str]:
    return list((op.get("execution") or {}).get("depends_on") or [])


def group_of(op: dict) -> str:
    return (op.get("execution") or {}).get("group") or op.get("id")


def job_groups(job: dict) -> list[str]:
    out: list[str] = []
    for op in job.get("ops") or []:
        if group_of(op) not in out:
            out.append(group_of(op))
    return out


def default_barrier_applies(job: dict) -> bool:
    """`up` without --barrier is meant to give the node's result when no op exposes a port: every
    group is then a group of tasks, and the next one starts when they have exited. Run where there
    is a next group (with one group the barrier decides nothing)."""
    runs = [op for op in job.get("ops") or [] if op.get("type") == "container/run"]
    return len(job_groups(job)) > 1 and not any(exposes(op) for op in runs)


# --- the node ----------------------------------------------------------------------------------------


# Podman 4.3.1 under load: the node asks for the log of a container that has already exited, and Podman answers
# 500 (`failed to obtain logs for Container '…': read /proc/N/cgroup: no such process`); the node stores that
# answer as the op's output and loses its lines. The engine's race, not the job's: such a run is made again, once.
PODMAN_LOG_RACE = "failed to obtain logs for Container"


def _lost_logs(flow: dict) -> bool:
    return any(
        PODMAN_LOG_RACE in str(entry.get("log", ""))
        for state in flow.get("opStates") or []
        for entry in state.get("logs") or []
        if isinstance(entry, dict)
    )


def node_run(job: dict, timeout: float = TIMEOUT, provider: str = "docker") -> JobRun:
    t0 = time.monotonic()
    flow = node_oracle.run_on_node(job, timeout=timeout, provider=provider)
    retried = provider == "podman" and _lost_logs(flow)
    if retried:
        flow = node_oracle.run_on_node(job, timeout=timeout, provider=provider)
    wall = time.monotonic() - t0
    norm = node_oracle.normalize(flow, times=False)
    run = JobRun("node", provider=provider, wall=wall, raw={"normalized": norm, "console": flow.get("console")})
    run.raw["retried"] = retried
    if flow.get("status") is None and not flow.get("opStates"):
        run.refused = "; ".join(flow.get("runErrors") or []) or "refused"
        return run
    if flow.get("harness", {}).get("timedOut"):
        run.raw["timedOut"] = True
    run.groups = list(norm.get("groups") or [])
    events = flow.get("taskEvents") or []
    tokens = node_oracle.tokens(flow)

    def first(event: str, op_id: str) -> float | None:
        return next((e["t"] for e in events if e.get("event") == event and e.get("opId") == op_id), None)

    for state in flow.get("opStates") or []:
        op_id = state.get("operationId")
        n = norm["ops"].get(op_id) or {}
        logs = n.get("logs") or {}
        reason = list(logs.get("nodeerr") or []) + [str(e.get("message")) for e in n.get("errors") or []]
        run.ops[op_id] = OpRun(
            id=op_id,
            group=state.get("group"),
            status=STATUS_MAP.get(state.get("status"), state.get("status")),
            word=state.get("status"),
            exit_code=state.get("exitCode"),
            results=n.get("results") or {},
            stdout=list(logs.get("stdout") or []),
            stderr=list(logs.get("stderr") or []),
            reason="; ".join(reason),
            ran=any(e.get("event") == "op:exit" and e.get("opId") == op_id for e in events),
            start=state.get("startTime"),
            end=state.get("endTime"),
            ready=first("op:healthcheck:startup:success", op_id),
            first_start=first("op:start", op_id) or state.get("startTime"),
            errors=n.get("errors") or [],
            diagnostics=tokens.deep(state.get("diagnostics")),
            log_times=[
                (x.get("type"), x.get("timestamp"))
                for x in state.get("logs") or []
                if x.get("type") in ("stdout", "stderr")
            ],
            flow_start=state.get("startTime"),
            flow_end=state.get("endTime"),
        )
    return run


# --- nos2compose -----------------------------------------------------------------------------------


def _run(cmd: list[str], timeout: float = 300, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False, **kw)


_ms = node_oracle.rfc3339_ms  # Docker's RFC 3339 time as ms since the epoch; None for the zero time


def _container_logs(cid: str) -> tuple[list[tuple[float | None, str]], list[tuple[float | None, str]]]:
    """(stdout, stderr) of a container, each line with its time (docker logs -t)."""
    proc = _run(["docker", "logs", "-t", cid], timeout=60)

    def split(text: str) -> list[tuple[float | None, str]]:
        out = []
        text = text[:-1] if text.endswith("\n") else text
        for line in text.split("\n") if text else []:  # "\n" only, as node_oracle splits the node's
            stamp, _, rest = line.partition(" ")
            out.append((_ms(stamp), rest))
        return out

    return split(proc.stdout), split(proc.stderr)


def local_run(
    job: dict,
    project: str,
    workdir: Path,
    barrier: str | None = "exit",
    extra: Iterable[str] = (),
    keep: bool = False,
) -> JobRun:
    """`up` in the foreground (it returns when every op has ended), then read and tear down."""
    path = workdir / f"{project}.json"
    path.write_text(json.dumps(job, indent=2))
    up = [*N2C, "up", str(path), "--name", project, "--pull", "never", "--timeout", str(TIMEOUT)]
    if barrier:
        up += ["--barrier", barrier]
    up += list(extra)
    side = "nos2compose" + ("" if barrier == "exit" else f" (barrier {barrier or 'default'})")
    run = JobRun(side)
    t0 = time.monotonic()
    try:
        code, out, err, left = _up(up)
        run.wall = time.monotonic() - t0
        run.raw.update(up_exit=code, up_stdout=out, up_stderr=err, leaked=left)
        run.raw["warnings"] = [x for x in err.splitlines() if x.startswith("warning:")]
        _read_local(run, job, project, path)
    finally:
        if not keep:
            _run([*N2C, "down", str(path), "--name", project, "-v"], timeout=120)
    return run


def _up(cmd: list[str]) -> tuple[int | None, str, str, int]:
    """Run `up` in a session of its own; (exit status or None when it had to be killed after
    UP_LIMIT s, stdout, stderr, processes of it still alive after it returned). Whatever of it is
    left (its `docker compose logs --follow` children outlive it) is ended by its process group."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=UP_LIMIT)
        code: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        _end_group(proc.pid)
        out, err = proc.communicate()
        code = None
    left = _group_members(proc.pid)
    if left:
        _end_group(proc.pid)
    return code, out, err, len(left)


def _group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(entry.name))
    return members


def _end_group(pgid: int) -> None:
    import signal

    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        for _ in range(20):
            if not _group_members(pgid):
                return
            time.sleep(0.1)


def _read_local(run: JobRun, job: dict, project: str, path: Path) -> None:
    ids = _run(["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={project}"]).stdout.split()
    inspected = json.loads(_run(["docker", "inspect", *ids]).stdout or "[]") if ids else []
    containers: dict[str, dict] = {}
    for c in inspected:
        labels = c.get("Config", {}).get("Labels") or {}
        if labels.get("io.nosana.probe-for") or labels.get("io.nosana.fetch-for"):
            continue
        op_id = labels.get("io.nosana.op") or labels.get("com.docker.compose.service")
        containers[op_id] = c
    if run.raw.get("up_exit") == 2 and not containers:
        lines = [x for x in run.raw.get("up_stderr", "").splitlines() if x.strip()]
        run.refused = " | ".join(x for x in lines if x.startswith("error")) or (lines[-1] if lines else "exit 2")
        return
    ps = _run([*N2C, "ps", "--json", str(path), "--name", project])
    try:
        states = json.loads(ps.stdout)
    except ValueError:
        states = {}
    run.raw["ps"] = states
    api = {o["operationId"]: o for o in api_flow(project, job).get("opStates") or []}
    index = op_index(job)
    replace: list[tuple[str | re.Pattern, str]] = [(project, "FLOW")]
    for op_id, c in containers.items():
        i = index.get(op_id)
        if i is None:
            continue
        service = (c.get("Config", {}).get("Labels") or {}).get("com.docker.compose.service", op_id)
        run.hosts[i] = service
        replace += [(c["Id"], f"CONTAINER{i}"), (c["Id"][:12], f"CONTAINER{i}")]
    by_id = {op.get("id"): op for op in job.get("ops") or []}
    for op_id, op in by_id.items():
        i = index[op_id]
        for port in _ports(op):
            replace.append((re.compile(rf"\b{re.escape(run.hosts.get(i, op_id))}:{port}\b"), "<endpoint>"))
    texts = Texts(replace)
    starts = []
    for op_id, state in states.items():
        c = containers.get(op_id)
        o = OpRun(
            id=op_id,
            group=state.get("group"),
            status=state.get("status"),
            word=state.get("status"),
            exit_code=state.get("exit_code"),
            results=texts.deep(state.get("results") or {}),
            reason=state.get("reason") or "",
        )
        if op_id in api:
            a = api[op_id]
            o.api = {
                "status": a.get("status"),
                "exitCode": a.get("exitCode"),
                "results": texts.deep(a.get("results") or {}),
            }
            o.errors = texts.deep(a.get("errors") or [])
            o.diagnostics = texts.deep(a.get("diagnostics"))
            o.log_times = [
                (x.get("type"), x.get("timestamp"))
                for x in a.get("logs") or []
                if isinstance(x, dict) and x.get("type") in ("stdout", "stderr")
            ]
            o.flow_start, o.flow_end = a.get("startTime"), a.get("endTime")
        if c is not None:
            st = c.get("State") or {}
            o.start, o.end = _ms(st.get("StartedAt")), _ms(st.get("FinishedAt"))
            o.ran = o.start is not None
            o.first_start = o.start
            out, err = _container_logs(c["Id"])
            o.stdout, o.stderr = texts.lines(x for _, x in out), texts.lines(x for _, x in err)
            o.ready = _local_ready(by_id.get(op_id) or {}, c, out + err, o.start)
            run.raw.setdefault("mounts", {})[op_id] = [m.get("Destination") for m in c.get("Mounts") or []]
            if o.start is not None:
                starts.append((o.start, o.group))
        run.ops[op_id] = o
    run.groups = list(dict.fromkeys(g for _, g in sorted(starts)))


def api_flow(project: str, job: dict) -> dict:
    """The flow state nos2compose's node API answers for the project (`GET /job/<id>/results`), built in this
    process as `serve` builds it: from the state record `up` wrote and the engine."""
    from nos2compose.api.node import LocalNode
    from nos2compose.engine.docker import DockerEngine
    from nos2compose.supervisor.session import attach

    engine = DockerEngine(project)
    attached = attach(project, engine)
    return LocalNode(attached.plan, engine, job).reports.results() if attached is not None else {}


def _ports(op: dict) -> list[int]:
    """The op's exposed ports as numbers; 18641.0 is 18641, as JavaScript reads it."""
    expose = (op.get("args") or {}).get("expose")
    items = expose if isinstance(expose, list) else [expose]
    ports = (i.get("port") if isinstance(i, dict) else i for i in items)
    return [int(p) for p in ports if isinstance(p, int | float) and not isinstance(p, bool) and float(p).is_integer()]


def _local_ready(op: dict, container: dict, lines: list[tuple[float | None, str]], start: float | None) -> float | None:
    """When nos2compose's op reported "startup success", from what the engine kept.

    Without health checks: when its container started. With them: the earliest passing probe seen,
    either in the container's health log (Docker keeps the last 5 probes) or as the test server's
    access line for one of the checks' requests answered with its expected status.
    """
    checks = health_checks(op)
    if not checks:
        return start if not exposes(op) else None  # ports without checks: never, as on a node
    seen = [
        _ms(p.get("End"))
        for p in ((container.get("State") or {}).get("Health") or {}).get("Log") or []
        if p.get("ExitCode") == 0
    ]
    wanted = {f'"{hc.get("method", "GET")} {hc.get("path")}" {hc.get("expected_status")}' for hc in checks}
    for t, line in lines:
        if ACCESS_LINE.match(line) and any(line.endswith(w) for w in wanted):
            seen.append(t)
    seen = [t for t in seen if t is not None]
    return min(seen) if seen else None


# --- comparing --------------------------------------------------------------------------------------


def order_problems(job: dict, run: JobRun, groups: list[str]) -> list[str]:
    """The node's scheduling rules, checked on one side's times:

    - a group starts only after every op of the groups before it has ended (`groups` is the order);
    - a dependent starts only after its dependency reported startup success.
    """
    problems = []
    by_group: dict[str, list[OpRun]] = {}
    for o in run.ops.values():
        by_group.setdefault(o.group or "", []).append(o)
    ended: list[OpRun] = []
    for g in groups:
        mine = by_group.get(g, [])
        for o in mine:
            if o.start is None:
                continue
            for p in ended:
                if p.end is not None and o.start < p.end:
                    problems.append(f"{o.id} (group {g}) started {p.end - o.start:.0f} ms before {p.id} ended")
        ended += mine
    for op in job.get("ops") or []:
        me = run.ops.get(op.get("id"))
        if me is None or me.first_start is None:
            continue
        for dep in depends(op):
            d = run.ops.get(dep)
            if d is None:
                continue
            if d.ready is None:
                problems.append(f"{me.id} started but {dep} never reported startup success")
            elif me.first_start < d.ready:
                problems.append(f"{me.id} started {d.ready - me.first_start:.0f} ms before {dep} was ready")
    return problems


def dependency_facts(job: dict, run: JobRun) -> dict[str, str]:
    """For each dependent: did it start while its dependency still ran, or after it ended?"""
    out = {}
    for op in job.get("ops") or []:
        me = run.ops.get(op.get("id"))
        for dep in depends(op):
            d = run.ops.get(dep)
            if me is None or d is None or me.first_start is None or d.end is None:
                continue
            out[f"{me.id} after {dep}"] = "while it ran" if me.first_start < d.end else "after it ended"
    return out


def keyed_parts(lines: list[str]) -> dict[str, list[str]]:
    """Output made of `key: value` lines (container-sees), by key: each key is compared on its own
    (field `stdout KEY`)."""
    out: dict[str, list[str]] = {}
    for line in lines:
        key, sep, _ = line.partition(": ")
        out.setdefault(key if sep else "", []).append(line)
    return out


def probe_parts(lines: list[str]) -> dict[str, list[str]]:
    """The argv probe's output (corpus_swap): each environment variable on its own (field `stdout env
    NAME`), the rest (argv, pwd) together (field `stdout`)."""
    out: dict[str, list[str]] = {}
    for line in lines:
        m = re.match(r"env: ([A-Za-z_][A-Za-z0-9_]*)=", line)
        out.setdefault(f"env {m.group(1)}" if m else "", []).append(line)
    return out


def compare(
    name: str, job: dict, node: JobRun, local: JobRun, parts: Callable[[list[str]], dict] | None = None
) -> list[Divergence]:
    """Every disagreement between the node's run and nos2compose's, op by op (empty: full agreement).
    With `parts`, each op's stdout is compared part by part (field `stdout PART`; `stdout` for the
    part named "")."""
    div: list[Divergence] = []

    def add(op: str, fld: str, a: Any, b: Any) -> None:
        div.append(Divergence(name if local.side == "nos2compose" else f"{name} [{local.side}]", op, fld, a, b))

    node_ended, local_ended = not node.raw.get("timedOut"), local.raw.get("up_exit", 0) is not None
    if node_ended != local_ended:
        add(
            "",
            "ended",
            "yes" if node_ended else f"no (killed after {TIMEOUT} s)",
            "yes" if local_ended else f"no: `up` was killed after {UP_LIMIT} s",
        )
    if node.refused or local.refused:
        if bool(node.refused) != bool(local.refused):
            add("", "refused", node.refused, local.refused)
        return div
    texts = node_texts(local.hosts or {i: op.get("id") for i, op in enumerate(job.get("ops") or [])})
    kinds = {op.get("id"): op.get("type") for op in job.get("ops") or []}
    for op_id in list(dict.fromkeys([*node.ops, *local.ops])):
        a, b = node.ops.get(op_id), local.ops.get(op_id)
        if a is None or b is None:
            add(op_id, "present", a is not None, b is not None)
            continue
        if a.group != b.group:
            add(op_id, "group", a.group, b.group)
        if a.status != b.status:  # the words, each with the side's reason when it has one
            add(
                op_id,
                "status",
                f"{a.word} ({a.reason})" if a.reason else a.word,
                f"{b.status} ({b.reason})" if b.reason else b.status,
            )
        if a.exit_code != b.exit_code:
            add(op_id, "exit_code", a.exit_code, b.exit_code)
        if texts.deep(a.results) != b.results:
            add(op_id, "results", texts.deep(a.results), b.results)
        node_state = {"status": a.word, "exitCode": a.exit_code, "results": texts.deep(a.results)}
        for key, value in (b.api or dict.fromkeys(node_state, "(not in /results)")).items():
            if value != node_state[key]:  # the API speaks the node's words: compared as they are
                add(op_id, f"/results {key}", node_state[key], value)
        for stream in ("stdout", "stderr"):
            mine, theirs = texts.lines(getattr(a, stream)), getattr(b, stream)
            if stream == "stdout" and parts is not None:
                pa, pb = parts(mine), parts(theirs)
                for key in dict.fromkeys([*pa, *pb]):
                    if pa.get(key) != pb.get(key):
                        add(op_id, f"stdout {key}".rstrip(), pa.get(key), pb.get(key))
            elif mine != theirs:
                add(op_id, stream, mine, theirs)
        if a.ran != b.ran and kinds.get(op_id) == "container/run":  # a create-volume op runs no container
            add(op_id, "ran", a.ran, b.ran)
        for fld, theirs, mine in flow_state.compare_op(a, b, texts.deep):
            add(op_id, fld, theirs, mine)
        literal = re.search(r'Unresolved literal: "([^"]+)"', a.reason)
        if literal and literal.group(1) not in b.reason:
            add(op_id, "reason", a.reason, b.reason)
    order = node.groups or job_groups(job)
    for side, run in (("node", node), ("local", local)):
        for problem in order_problems(job, run, order):
            add(
                problem.split(" ", 1)[0],
                "order",
                problem if side == "node" else None,
                problem if side != "node" else None,
            )
    fa, fb = dependency_facts(job, node), dependency_facts(job, local)
    for key in sorted(set(fa) | set(fb)):
        if fa.get(key) != fb.get(key):
            add(key.split(" ", 1)[0], "dependent start", fa.get(key), fb.get(key))
    return div


# --- jobs -----------------------------------------------------------------------------------------------


@dataclass
class Case:
    """One job of the suite: what the node runs, what nos2compose runs, with which extra options."""

    name: str
    job: dict
    node_job: dict | None = None  # the node's copy when it differs (resources it cannot fetch offline)
    local_args: Callable[[Path], list[str]] | None = None  # extra `up` arguments, given a temp dir
    local_check: Callable[[JobRun], list[tuple[str, str, Any, Any]]] | None = None  # nos2compose only
    note: str = ""
    stdout_parts: Callable[[list[str]], dict[str, list[str]]] | None = None  # compare() `parts`

    @property
    def ops(self) -> int:
        return len(self.job.get("ops") or [])


def _without_resources(job: dict) -> dict:
    out = copy.deepcopy(job)
    for op in out.get("ops") or []:
        (op.get("args") or {}).pop("resources", None)
    return out


def _model_dir(tmp: Path) -> list[str]:
    models = tmp / "models"
    models.mkdir(exist_ok=True)
    (models / "weights.txt").write_text("local weights\n")
    return ["--resource-dir", f"/models={models}"]


# Per job, what differs between the two sides' inputs, and why.
def _model_mounted(run: JobRun) -> list[tuple[str, str, Any, Any]]:
    mounts = (run.raw.get("mounts") or {}).get("model") or []
    return [] if "/models" in mounts else [("model", "resource mounted at /models", True, mounts)]


SPECIAL = {
    # The node fetches resources before the container starts, with its S3 helper image and the network:
    # neither exists offline (it would fail the op with a pull error). Its run gets the job without
    # `resources`; nos2compose runs the whole job with the resource from a local directory. The op's
    # output does not depend on the resource (it only lists /models quietly), so it must agree.
    # nos2compose's side is also checked on its own: the directory is mounted at the target.
    "resources-local-dir": {"node_job": _without_resources, "local_args": _model_dir, "local_check": _model_mounted},
    # restart_policy, as the Podman provider passes it on (the Docker provider ignores it). A node follows a
    # restarted container's log again from the second after its last line, and Podman stamps whole seconds, so
    # how many runs' lines it keeps depends on timing: the output is compared as its distinct lines. `always`
    # restarts `again` without end under Docker, so `up` waits for it only briefly (it fails it then).
    "restart-policy": {
        "local_args": lambda _tmp: ["--timeout", "8"],
        "stdout_parts": lambda lines: {"": sorted(set(lines))},
    },
    # One line per thing the container sees (/dev/shm, capabilities, devices, /etc/hosts, IPC): each is
    # compared on its own, so that what already agrees is checked while the rest is PENDING.
    "container-sees": {"stdout_parts": keyed_parts},
}


def own_cases() -> list[Case]:
    cases = []
    for path in sorted(JOBS.glob("*.json")):
        job = json.loads(path.read_text())
        special = SPECIAL.get(path.stem, {})
        cases.append(
            Case(
                path.stem,
                job,
                special["node_job"](job) if "node_job" in special else None,
                special.get("local_args"),
                special.get("local_check"),
                stdout_parts=special.get("stdout_parts"),
            )
        )
    return cases


# --- the corpus ---------------------------------------------------------------------------------------

# The argv probe: the swapped op prints the command line it was given (entrypoint and cmd after the
# node's literal rules), its working directory and its environment, then exits 0.
PROBE = 'for x in "$@"; do echo "argv: [$x]"; done; echo "pwd: $(pwd)"; env | sort | sed "s/^/env: /"'


def corpus_swap(job: dict) -> dict:
    """A corpus template made runnable here (docs/fidelity.md, "The corpus"):

    - every op's `image` (and `global.image`) becomes nos2compose-test/busybox:1;
    - `gpu` is dropped (op and global): there is no GPU here;
    - `resources` are dropped: the node cannot fetch them offline (see SPECIAL above);
    - the entrypoint becomes `["/bin/sh", "-c", PROBE, "n2c-probe"]` followed by the op's own
      entrypoint (a string as one item, none: nothing), so the container prints the argv the node
      would start (its entrypoint, then cmd) instead of running the real program;
    - everything else is kept: cmd, env, work_dir, expose and health checks, results, execution,
      global variables and env, the op ids.
    """
    out = copy.deepcopy(job)
    glob = out.get("global") or {}
    for key in ("gpu", "image"):
        glob.pop(key, None)
    own_entry = glob.pop("entrypoint", None)
    for op in out.get("ops") or []:
        if op.get("type") != "container/run":
            continue
        args = op.setdefault("args", {})
        args["image"] = BUSYBOX
        args.pop("gpu", None)
        args.pop("resources", None)
        entry = args.get("entrypoint", own_entry)
        entry = [] if entry is None else [entry] if isinstance(entry, str) else list(entry)
        args["entrypoint"] = ["/bin/sh", "-c", PROBE, "n2c-probe", *entry]
    return out


def corpus_shape(job: dict) -> str:
    """What a template exercises once swapped, with its own strings left out: templates of one shape
    (the same vLLM command line for another model, say) test nos2compose the same way. Per op: the
    kind of cmd, entrypoint, env and work_dir (absent, string, list, [], with literals or not), the
    expose form and its health checks (type, method, body, headers), other args, whether the id
    needs renaming for Compose, results and execution; and the keys of `global`."""

    def kind(v: Any) -> str | None:
        if v is None:
            return None
        literal = "+literal" if "%%" in json.dumps(v) else ""
        if isinstance(v, str):
            return "str" + literal
        if isinstance(v, list):
            return ("list" if v else "[]") + literal
        return type(v).__name__ + literal

    def expose_kind(e: Any) -> str | None:
        if e is None:
            return None
        items, out = (e if isinstance(e, list) else [e]), set()
        for item in items:
            if isinstance(item, dict):
                checks = {
                    f"{h.get('type')}/{h.get('method')}{'/body' if h.get('body') else ''}"
                    f"{'/headers' if h.get('headers') else ''}"
                    for h in item.get("health_checks") or []
                }
                out.add("object:" + ",".join(sorted(checks)))
            else:
                out.add(type(item).__name__)
        return ("list:" if isinstance(e, list) else "") + "|".join(sorted(out))

    known = {"image", "gpu", "resources", "cmd", "entrypoint", "env", "work_dir", "expose"}
    ops = []
    for op in job.get("ops") or []:
        args = op.get("args") or {}
        ops.append(
            {
                "rename": bool(re.search(r"[^a-zA-Z0-9_.-]", op.get("id", ""))),
                **{k: kind(args.get(k)) for k in ("cmd", "entrypoint", "env", "work_dir")},
                "expose": expose_kind(args.get("expose")),
                "other": sorted(set(args) - known),
                "results": bool(op.get("results")),
                "execution": kind(op.get("execution")),
            }
        )
    return json.dumps({"global": sorted(job.get("global") or {}), "ops": ops}, sort_keys=True)


# Templates that run here as they are once the image is local (busybox) and `gpu` is dropped: their
# command needs only a shell and ends by itself. Every other template starts a server (or a worker)
# that needs its real image, a GPU, and models from the network, and never ends (docs/fidelity.md).
AS_IS = {"hello-world__job-definition.json"}


def corpus_as_is(job: dict) -> dict:
    """Only the image swapped (busybox) and `gpu` dropped; everything else as published."""
    out = copy.deepcopy(job)
    (out.get("global") or {}).pop("gpu", None)
    for op in out.get("ops") or []:
        if op.get("type") == "container/run":
            op.setdefault("args", {})["image"] = BUSYBOX
            op["args"].pop("gpu", None)
    return out


def corpus_cases(every: bool | None = None) -> list[Case]:
    """The corpus templates: those in AS_IS as they are (image and gpu swapped), and every template
    through the argv probe (`corpus_swap`): by default the first of each shape (`corpus_shape`),
    with NOS2COMPOSE_FIDELITY_CORPUS=all (or every=True) all 58."""
    if every is None:
        every = os.environ.get("NOS2COMPOSE_FIDELITY_CORPUS", "") == "all"
    cases, seen = [], set()
    for path in sorted(CORPUS.glob("*.json")):
        job = json.loads(path.read_text())
        stem = path.stem.replace("__job-definition", "")
        if path.name in AS_IS:
            cases.append(Case(f"corpus-{stem}-as-is", corpus_as_is(job), note=path.name))
        shape = corpus_shape(job)
        if every or shape not in seen:
            seen.add(shape)
            cases.append(Case(f"corpus-{stem}-probe", corpus_swap(job), note=path.name, stdout_parts=probe_parts))
    return cases


# --- one job, both sides ----------------------------------------------------------------------------


def project_name(name: str, tag: str = "") -> str:
    base = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")[:40]
    return f"fid-{base}-{tag}{uuid.uuid4().hex[:6]}"


def run_both(
    case: Case, default_barrier: bool | None = None, providers: Iterable[str] = ("docker",)
) -> tuple[dict[str, JobRun | Exception], list[JobRun]]:
    """The node, once per provider, and nos2compose (`--barrier exit`, and the default barrier where it
    should agree), all at the same time: the node's containers live on its own network under flow ids
    (Docker's, and Podman's in the Podman service's network namespace), nos2compose's under unique
    project names, and only runs without published ports overlap locally. A node run that failed
    (OracleError: the harness, not the job) is returned as its exception, so that the other
    provider's result still counts."""
    if default_barrier is None:
        default_barrier = default_barrier_applies(case.job)
    os.environ.setdefault("NOS2COMPOSE_STATE_DIR", tempfile.mkdtemp(prefix="n2c-fidelity-state-"))
    providers = list(providers)
    with tempfile.TemporaryDirectory(prefix="n2c-fidelity-") as tmp:
        work = Path(tmp)
        extra = case.local_args(work) if case.local_args else []
        with ThreadPoolExecutor(max_workers=2 + len(providers)) as pool:
            nodes = {p: pool.submit(node_run, case.node_job or case.job, TIMEOUT, p) for p in providers}
            runs = [pool.submit(local_run, case.job, project_name(case.name, "x"), work, "exit", extra)]
            if default_barrier:
                runs.append(pool.submit(local_run, case.job, project_name(case.name, "d"), work, None, extra))
            locals_ = [r.result() for r in runs]
            out: dict[str, JobRun | Exception] = {}
            for provider, future in nodes.items():
                try:
                    out[provider] = future.result()
                except Exception as exc:  # handed to that provider's test
                    out[provider] = exc
            return out, locals_


def divergences(case: Case, node: JobRun, locals_: list[JobRun]) -> list[Divergence]:
    """Every disagreement of each nos2compose run with the node's run, plus the case's own checks."""
    div = [d for local in locals_ for d in compare(case.name, case.job, node, local, case.stdout_parts)]
    if case.local_check:
        for local in locals_:
            tag = case.name if local.side == "nos2compose" else f"{case.name} [{local.side}]"
            div += [Divergence(tag, *row) for row in case.local_check(local)]
    return div


def check(
    case: Case, default_barrier: bool | None = None, providers: Iterable[str] = ("docker",)
) -> dict[str, tuple[list[Divergence], JobRun, list[JobRun]]]:
    """run_both, then per provider: (divergences, the node's run, nos2compose's runs). A provider whose
    node run failed raises here."""
    nodes, locals_ = run_both(case, default_barrier, providers)
    out = {}
    for provider, node in nodes.items():
        if isinstance(node, Exception):
            raise node
        out[provider] = (divergences(case, node, locals_), node, locals_)
    return out


# --- what differs by design, per provider -------------------------------------------------------------

# Differences with `up` that one provider's node shows, per provider. Each entry's reason says whether it is by
# design (docs/fidelity.md lists those, each with the warning that covers it) or still to do: for the Docker
# provider, where `up` follows the production (Podman) provider; for the Podman provider, where the answer is the
# engine's own (Podman 4.3.1 with runc here) and `up` gives Docker's. Differences by design that both providers
# show, with a warning `up` prints, are test_fidelity.BY_DESIGN.
#   provider -> job -> (((op, field), ...) that differ, why)
# A job may be an fnmatch pattern and an op "*" (any op). The tests compare everything else as usual, and
# assert that each listed difference is still there, on every nos2compose run of the job: once `up` gives
# what the node gives, the test fails and says to delete the entry, which turns the comparison on.
# PODMAN.md shows what each provider gave, with the commands.
PENDING: dict[str, dict[str, tuple[tuple[tuple[str, str], ...], str]]] = {
    # `up` gives what the production provider (Podman) gives; the node's Docker path, which no production
    # host runs, differs from it there by design (docs/fidelity.md, "The container a node gives")
    "docker": {
        "container-sees": (
            tuple(("sees", f"stdout {key}") for key in ("shm_kb", "CapEff", "tun", "dev")),
            "the node's Docker path gives Docker's defaults (64 MiB /dev/shm, Docker's capabilities, no "
            "/dev/net/tun); `up` gives the Podman provider's container, as production hosts do (by design)",
        ),
        "corpus-*-probe": (
            (("*", "stdout env TERM"), ("*", "stdout env container")),
            "the node's Docker path sets neither TERM nor container; `up` gives Podman's TERM=xterm and "
            "container=podman, as production hosts do (by design)",
        ),
        "restart-policy": (
            (("retry", "state RestartCount"),),
            "the node's Docker path ignores restart_policy (one run); `up` restarts the op as the Podman provider "
            "does, twice for restart_tries 2 (by design)",
        ),
    },
    "podman": {
        "entrypoint-string": (
            (
                ("entrystr", "exit_code"),
                ("entrystr", "/results exitCode"),
                ("entrystr", "state ExitCode"),
                ("entrystr", "state Error"),
                ("entrystr", "errors code"),
            ),
            "a container that cannot start stays `created` with ExitCode 0 and no Error in Podman (4.3.1, runc; "
            "Docker says 127 and runc's words), and the node stores that inspect ExitCode: `failed` with exit code "
            "0; its error event (container-runtime-error, runc's same cause) has no HTTP code, as the node's "
            "libpod call words it (`Cannot start container: ...`); `up` reports Docker's: 127, Error, code 400 "
            "(by design: the engine's own answer; NOS101 warns about the string entrypoint)",
        ),
        "literal-json-looking-strings": (
            (("args-object", "errors"),),
            "the node's Podman path reports a create the engine refuses as operation-error: its libpod call throws "
            "Podman's JSON answer, not an Error, so no eventType (`decode(): json: cannot unmarshal object into Go "
            "struct field SpecGenerator.command of type string`, no code); `up` reports the Docker provider's "
            "container-runtime-error, with Docker's words and code 500 (by design: NOS306 warns)",
        ),
        "literal-whole-cmd-number": (
            (("num", "errors"),),
            "as literal-json-looking-strings, for a whole-literal cmd that became the number 0: operation-error on "
            "the node's Podman path, the Docker provider's container-runtime-error from `up` (by design: NOS306 warns)",
        ),
    },
}


def pending(provider: str, job: str) -> tuple[tuple[tuple[str, str], ...], str]:
    """PENDING's entries for the job under the provider (every pattern that matches it): ((op, field), ...)
    and why; ((), "") when none."""
    fields: list[tuple[str, str]] = []
    why = []
    for pattern, (more, reason) in PENDING.get(provider, {}).items():
        if fnmatch.fnmatchcase(job, pattern):
            fields += [f for f in more if f not in fields]
            why.append(reason)
    return tuple(fields), "; ".join(why)


def pending_matches(d: Divergence, fields: Iterable[tuple[str, str]]) -> tuple[str, str] | None:
    """The pending (op, field) that the divergence is, if any ("*" is any op)."""
    return next((f for f in fields if f[1] == d.field and f[0] in ("*", d.op)), None)


def report(case: Case, div: list[Divergence], node: JobRun, locals_: list[JobRun]) -> str:
    lines = [
        f"{case.name} [{node.provider or 'docker'} provider]: {len(div)} divergence(s); node {node.wall:.1f} s, "
        + ", ".join(f"{r.side} {r.wall:.1f} s" for r in locals_)
    ]
    lines += [f"  {d}" for d in div]
    if node.raw.get("retried"):
        lines.append(f"  [node] run again: Podman lost an op's log ({PODMAN_LOG_RACE})")
    for r in locals_[:1]:
        lines += [f"  [{r.side}] {w}" for w in r.raw.get("warnings") or []]
    for r in locals_:
        if r.raw.get("leaked"):
            lines.append(f"  [{r.side}] {r.raw['leaked']} process(es) of `up` outlived it (ended by the suite)")
        if r.raw.get("up_exit") != 0:
            lines.append(
                f"  [{r.side}] up exited {r.raw.get('up_exit')}: "
                + " | ".join(x for x in (r.raw.get("up_stderr") or "").splitlines()[-6:])
            )
    return "\n".join(lines)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Run jobs through the node and `nos2compose up`; print divergences.")
    parser.add_argument("--provider", choices=[*PROVIDERS, "both"], default="docker", help="the node's provider")
    parser.add_argument("jobs", nargs="+", type=Path)
    args = parser.parse_args()
    chosen = PROVIDERS if args.provider == "both" else (args.provider,)
    total = 0
    for p in args.jobs:
        found = [c for c in own_cases() + corpus_cases(True) if c.name == p.stem or c.note == p.name]
        case = found[0] if found else Case(p.stem, json.loads(p.read_text()))
        for d, n, ls in check(case, providers=chosen).values():
            total += len(d)
            print(report(case, d, n, ls), flush=True)
    sys.exit(1 if total else 0)
