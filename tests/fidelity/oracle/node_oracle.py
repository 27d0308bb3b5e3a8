"""Nosana's own node as a test oracle: build it, run a job through it, normalize what it did.

    ensure_built(provider)      setup.sh (idempotent): the node, NOSANA_GATEWAY, the tunnel stand-in
    run_on_node(job, provider=) the flow as run-job.mjs records it (see README.md for the fields)
    normalize(flow)             the same with what is random per run replaced by stable tokens

`provider` is the node's container orchestration: "docker" (the local Docker engine) or
"podman" (the Podman service .ci/podman.sh starts; the provider production nodes run, see
../PODMAN.md).

Stdlib only, so the fidelity tests can import it without the project's dependencies.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SETUP = HERE / "setup.sh"
RUN_JOB = HERE / "run-job.mjs"

# run-job.mjs exit statuses
_OK, _HARNESS_ERROR, _TIMED_OUT = 0, 2, 3

PROVIDERS = ("docker", "podman")
# The engine each provider talks to (run-job.mjs has the same defaults).
SOCKETS = {
    "docker": "/var/run/docker.sock",
    "podman": os.environ.get("NOS2COMPOSE_PODMAN_SOCKET") or "/run/nos2compose-podman.sock",
}

_built: set[str] = set()


class OracleError(RuntimeError):
    """The oracle could not be built or could not run a job (not: the job failed)."""


def ensure_built(provider: str = "docker") -> None:
    """Run setup.sh once per process and provider; raise OracleError with its one-line message
    on failure. For "podman" the Podman service must answer (NOS2COMPOSE_ORACLE_PODMAN=require)."""
    if provider not in PROVIDERS:
        raise ValueError(f"provider must be one of {PROVIDERS}, not {provider!r}")
    if provider in _built:
        return
    env = {**os.environ, "NOS2COMPOSE_ORACLE_PODMAN": "require" if provider == "podman" else "skip"}
    proc = subprocess.run(["bash", str(SETUP)], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        errors = [line for line in lines if "ERROR" in line]
        raise OracleError((errors or lines or [f"setup.sh exited {proc.returncode}"])[-1])
    _built.add(provider)


def run_on_node(job: dict, timeout: float = 120, keep: bool = False, provider: str = "docker") -> dict:
    """Run `job` through the node's real runJob with the node's `provider` ("docker" or
    "podman"); return run-job.mjs's OUT.json as a dict.

    A job the node fails, rejects or does not finish in `timeout` seconds is a result, not
    an error: look at `status`, `runErrors` and `harness.timedOut`. OracleError means the
    harness itself failed. Containers and volumes named after the flow are removed after
    the run (unless `keep`).
    """
    ensure_built(provider)
    with tempfile.TemporaryDirectory(prefix="n2c-oracle-py-") as tmp:
        job_file = Path(tmp) / "job.json"
        out_file = Path(tmp) / "out.json"
        job_file.write_text(json.dumps(job, indent=2))
        cmd = ["node", str(RUN_JOB), "--timeout", str(timeout), "--provider", provider]
        cmd += ["--socket", SOCKETS[provider], str(job_file), str(out_file)]
        if keep:
            cmd.insert(2, "--keep")
        try:
            # run-job.mjs bounds the node itself (timeout, then 15 s grace); this is a backstop.
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + 60)
        except subprocess.TimeoutExpired as exc:
            raise OracleError(f"run-job.mjs did not return within {timeout + 60} s") from exc
        if proc.returncode not in (_OK, _TIMED_OUT) or not out_file.exists():
            lines = [line for line in proc.stderr.splitlines() if line.strip()]
            raise OracleError((lines or [f"run-job.mjs exited {proc.returncode}"])[-1])
        flow = json.loads(out_file.read_text())
    if not keep:
        cleanup_flow(flow.get("flowId"), provider)
    return flow


def engine_cli(provider: str = "docker") -> list[str]:
    """The docker CLI talking to the provider's engine (Podman's Docker-compatible API for "podman")."""
    return ["docker", "-H", f"unix://{SOCKETS[provider]}"]


def _docker_lines(provider: str, *args: str) -> list[str]:
    proc = subprocess.run([*engine_cli(provider), *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise OracleError(f"docker {' '.join(args)} ({provider}): {proc.stderr.strip()}")
    return [line for line in proc.stdout.splitlines() if line.strip()]


def cleanup_flow(flow_id: str | None, provider: str = "docker") -> None:
    """Remove the containers (`<flow>-<i>`, `frpc-<flow>-<i>`) and volumes (`<flow>-<name>`)
    of one flow from the provider's engine. Nothing else on the engine is touched."""
    if not flow_id or not re.fullmatch(r"[a-z0-9]{8,}", flow_id):
        return
    mine = re.compile(rf"(frpc-)?{flow_id}-\d+")
    names = [
        n
        for n in _docker_lines(provider, "ps", "-a", "--filter", f"name={flow_id}", "--format", "{{.Names}}")
        if mine.fullmatch(n)
    ]
    if names:
        _docker_lines(provider, "rm", "-f", "-v", *names)
    vols = [
        v
        for v in _docker_lines(provider, "volume", "ls", "-q", "--filter", f"name={flow_id}")
        if v.startswith(f"{flow_id}-")
    ]
    if vols:
        _docker_lines(provider, "volume", "rm", "-f", *vols)


# --- normalization ------------------------------------------------------------------------

_ENDPOINT = re.compile(r"\b[A-Za-z0-9]{20,}(?=\.node\.k8s\.prd\.nos\.ci\b)")
_GATEWAY_IP = re.compile(r"\b192\.168\.101\.(\d{1,3})\b")


class _Tokens:
    """Replaces random per-run values by tokens numbered in order of first appearance."""

    def __init__(self, flow: dict) -> None:
        self.fixed: list[tuple[str, str]] = []
        if flow.get("flowId"):
            # Host names `<flow>-<i>`, NOSANA_ID values and volume names all embed the flow id.
            self.fixed.append((flow["flowId"], "FLOW"))
        if flow.get("project"):
            self.fixed.append((flow["project"], "PROJECT"))
        for i, op in enumerate(flow.get("opStates") or []):
            pid = op.get("providerId")
            if isinstance(pid, str) and re.fullmatch(r"[0-9a-f]{64}", pid):
                self.fixed.append((pid, f"CONTAINER{i}"))
                self.fixed.append((pid[:12], f"CONTAINER{i}"))  # the container's hostname
        self.endpoints: dict[str, str] = {}
        self.ips: dict[str, str] = {}

    def _endpoint(self, m: re.Match) -> str:
        return self.endpoints.setdefault(m.group(0), f"ENDPOINT{len(self.endpoints) + 1}")

    def _ip(self, m: re.Match) -> str:
        if m.group(1) == "1":
            return "192.168.101.1"  # the network's gateway: fixed
        return "192.168.101." + self.ips.setdefault(m.group(0), f"IP{len(self.ips) + 1}")

    def text(self, s: str) -> str:
        for raw, token in self.fixed:
            s = s.replace(raw, token)
        s = _ENDPOINT.sub(self._endpoint, s)
        return _GATEWAY_IP.sub(self._ip, s)

    def deep(self, value: Any) -> Any:
        return map_text(value, self.text, keys=True)


def tokens(flow: dict) -> _Tokens:
    """The flow's tokens (see normalize), to normalize parts of it that normalize leaves out."""
    return _Tokens(flow)


def map_text(value: Any, change, keys: bool = False) -> Any:
    """`value` with `change` applied to every string inside it (to object keys too, with keys)."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, list):
        return [map_text(v, change, keys) for v in value]
    if isinstance(value, dict):
        return {(change(k) if keys else k): map_text(v, change, keys) for k, v in value.items()}
    return value


# Streams in a fixed order: the node stores stdout and stderr lines in the order Docker's log
# stream delivers them, which interleaves the two differently from run to run.
_STREAMS = ("stdout", "stderr", "nodeerr")


def _lines(log: str) -> list[str]:
    if log.endswith("\n"):
        log = log[:-1]
    return log.split("\n")


def _whole_lines(entries: list[dict]) -> list[tuple[str, str, Any]]:
    """(stream, text, timestamp) per log entry, with a line the engine delivered in parts joined.

    Podman's log stream delivers text written without a newline (`curl URL; echo`: "ok", then
    "\n") as an entry of its own whenever conmon read it before the rest; the node stores each
    entry as it comes, so one line can be two entries, depending on timing (../PODMAN.md).
    Docker delivers whole lines. A container stream's entry without a trailing newline is joined
    with that stream's next entry (at the first entry's time); the node's own `nodeerr` entries
    stay as they are."""
    out: list[tuple[str, str, Any]] = []
    parts: dict[str, int] = {}  # stream -> index in out of its entry that waits for the rest of its line
    for item in entries:
        stream, text, stamp = item.get("type") or "?", str(item.get("log", "")), item.get("timestamp")
        if stream in parts:
            i = parts.pop(stream)
            out[i] = (stream, out[i][1] + text, out[i][2])
        else:
            i = len(out)
            out.append((stream, text, stamp))
        if stream in ("stdout", "stderr") and not out[i][1].endswith("\n"):
            parts[stream] = i
    return out


_RFC3339 = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def rfc3339_ms(stamp: Any) -> float | None:
    """An engine's RFC 3339 time (any fraction: Docker gives nanoseconds, Podman's log stream
    whole seconds) as ms since the epoch; None for the zero time (`0001-01-01T…`) and anything
    else."""
    m = _RFC3339.match(stamp) if isinstance(stamp, str) and not stamp.startswith("0001-") else None
    if not m:
        return None
    base = datetime.fromisoformat(m.group(1) + ("+00:00" if m.group(3) == "Z" else m.group(3)))
    return base.timestamp() * 1000 + float(m.group(2) or 0) * 1000


# diagnostics.state (the container's inspect State plus RestartCount, as the node records it when it
# removes the container): its times and PID are per run.
_STATE_TIMES = ("StartedAt", "FinishedAt")


def _diagnostics(diag: Any, rel, times: bool) -> Any:
    """The op's `diagnostics` with `state`'s StartedAt/FinishedAt in ms after the flow started (with
    `times`, else `TIME`; the zero time stays as it is) and a running process's Pid as `PID`."""
    if not isinstance(diag, dict) or not isinstance(diag.get("state"), dict):
        return diag
    state = dict(diag["state"])
    for key in _STATE_TIMES:
        if key in state and rfc3339_ms(state[key]) is not None:
            state[key] = rel(rfc3339_ms(state[key])) if times else "TIME"
    if state.get("Pid"):
        state["Pid"] = "PID"
    return {**diag, "state": state}


def normalize(flow: dict, times: bool = True) -> dict:
    """The comparable part of a run: per op status, exit code, results, logs by stream
    (stdout, stderr, nodeerr, in that order; a line delivered in parts joined: `_whole_lines`),
    the flow state's `errors` and `diagnostics`
    (`reason`, and `state` once the node has removed the op's container), and (with `times`)
    start/end and each log line's engine time (`logTimes`, by stream as `logs`; `null` where an
    entry has none, as the node's own `nodeerr` lines) in ms after the flow started; plus the
    group order and a timeline of op lifecycle events.

    Tokens: flow id -> FLOW (so hosts are FLOW-<i>, NOSANA_ID is FLOW), the node's project
    key -> PROJECT, container ids and hostnames -> CONTAINER<i>, `<hash>.node.k8s.prd.nos.ci`
    -> ENDPOINT<n>.node.k8s.prd.nos.ci, 192.168.101.x (not .1) -> 192.168.101.IP<n>; <n>
    counts distinct values in order of first appearance.
    """
    tok = _Tokens(flow)
    t0 = flow.get("startTime")
    if t0 is None:  # no flow (the node refused the job): time from the first event
        t0 = min((e["t"] for e in flow.get("taskEvents") or [] if isinstance(e.get("t"), (int, float))), default=None)

    def rel(t: Any) -> Any:
        return round(t - t0) if isinstance(t, (int, float)) and isinstance(t0, (int, float)) else t

    ops: dict[str, dict] = {}
    order = {name: i for i, name in enumerate(_STREAMS)}
    for op in flow.get("opStates") or []:
        logs: dict[str, list[str]] = {}
        log_times: dict[str, list[Any]] = {}
        for stream, text, stamp in _whole_lines(op.get("logs") or []):
            lines = _lines(tok.text(text))
            logs.setdefault(stream, []).extend(lines)
            log_times.setdefault(stream, []).extend([rel(rfc3339_ms(stamp))] * len(lines))
        logs = dict(sorted(logs.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))
        entry: dict[str, Any] = {
            "group": op.get("group"),
            "status": op.get("status"),
            "exitCode": op.get("exitCode"),
            "results": tok.deep(op.get("results")),
            "logs": logs,
            "errors": tok.deep(op.get("errors") or []),
            "diagnostics": tok.deep(_diagnostics(op.get("diagnostics"), rel, times)),
        }
        if times:
            entry["start"] = rel(op.get("startTime"))
            entry["end"] = rel(op.get("endTime"))
            entry["logTimes"] = {stream: log_times[stream] for stream in logs}
        ops[op.get("operationId")] = entry

    timeline = []
    groups = []
    for e in flow.get("taskEvents") or []:
        ev = e.get("event", "")
        if ev == "group:start":
            groups.append(e.get("group"))
            item = f"group {e.get('group')}: start"
        elif ev == "group:end":
            item = f"group {e.get('group')}: end"
        elif ev in (
            "op:start",
            "op:healthcheck:startup:success",
            "op:healthcheck:url:exposed",
            "op:healthcheck:continuous:failure",
            "op:error",
        ):
            item = f"{e.get('opId')}: {ev[3:]}"
            if ev == "op:error":
                item += f" ({tok.text(str(e.get('message')))})"
        elif ev == "op:exit":
            item = f"{e.get('opId')}: exit {e.get('exitCode')}"
        elif ev == "runJob:error":
            item = f"{ev} ({tok.text(str(e.get('message')))})"
        else:
            continue
        timeline.append((e.get("seq", 0), rel(e.get("t")), item))
    # Ops that fail before starting (an unresolved literal) appear only in the repository.
    for e in flow.get("events") or []:
        args = e.get("args") or []
        if (
            e.get("method") == "updateOpStateLogs"
            and len(args) >= 3
            and isinstance(args[2], dict)
            and args[2].get("type") == "nodeerr"
        ):
            op_states = flow.get("opStates") or []
            idx = args[1]
            op_id = op_states[idx]["operationId"] if isinstance(idx, int) and idx < len(op_states) else idx
            timeline.append((e.get("seq", 0), rel(e.get("t")), f"{op_id}: nodeerr"))
    timeline.sort(key=lambda x: x[0])

    out: dict[str, Any] = {
        "status": flow.get("status"),
        "errors": tok.deep(flow.get("errors") or []),
        "groups": groups,
        "ops": ops,
        "timeline": [[t, item] if times else item for _, t, item in timeline],
    }
    if flow.get("runErrors"):
        out["runErrors"] = tok.deep(flow["runErrors"])
    if (flow.get("harness") or {}).get("timedOut"):
        out["timedOut"] = True
    return out


def dumps(value: Any) -> str:
    """JSON with 2-space indent, but short lists of scalars (timeline items) on one line."""
    text = json.dumps(value, indent=2, ensure_ascii=False)

    def join(m: re.Match) -> str:
        items = [line.strip() for line in m.group(2).split("\n") if line.strip()]
        one = m.group(1) + "[" + " ".join(items) + "]"
        return one if len(one) <= 120 else m.group(0)

    return re.sub(r'(\n *|: )\[((?:\n *(?:-?\d+|null|"(?:[^"\\]|\\.)*"),?)+)\n *\]', join, text) + "\n"


SAMPLE_SUFFIX = {"docker": "node", "podman": "podman"}  # samples/NAME.node.json, samples/NAME.podman.json


def write_samples(names: list[str] | None = None, provider: str = "docker") -> None:
    """Rerun samples/NAME.job.json through the node with `provider` and rewrite samples/NAME.node.json
    (Docker provider) or samples/NAME.podman.json (Podman provider)."""
    samples = HERE / "samples"
    for job_file in sorted(samples.glob("*.job.json")):
        name = job_file.name[: -len(".job.json")]
        if names and name not in names:
            continue
        flow = run_on_node(json.loads(job_file.read_text()), provider=provider)
        (samples / f"{name}.{SAMPLE_SUFFIX[provider]}.json").write_text(dumps(normalize(flow)))
        print(f"{name} ({provider}): {flow.get('status')} ({flow['harness']['wallMs']} ms)")


if __name__ == "__main__":
    # python3 node_oracle.py [--provider P] JOB.json            normalized flow on stdout
    # python3 node_oracle.py [--provider P] --samples [NAME...] rewrite samples/NAME.{node,podman}.json
    import sys

    args = sys.argv[1:]
    chosen = "docker"
    if args[:1] == ["--provider"] and len(args) >= 2 and args[1] in PROVIDERS:
        chosen, args = args[1], args[2:]
    if args[:1] == ["--samples"]:
        write_samples(args[1:], chosen)
    elif len(args) == 1:
        sys.stdout.write(dumps(normalize(run_on_node(json.loads(Path(args[0]).read_text()), provider=chosen))))
    else:
        sys.exit("usage: python3 node_oracle.py [--provider docker|podman] JOB.json | --samples [NAME...]")
