"""The `up` use case: pre-flight, the state record, signals, the supervisor, and what is left on exit.

The CLI parses options and prints; everything `up` does between compiling the job
and returning its exit status is here, so `up` reads as one short function.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

from ..compose.node_defaults import TUN
from ..engine.protocol import Engine
from . import record
from .images import ImageProblem
from .loop import Interrupted, Supervisor, UpOptions, handle_signals
from .preflight import PortInUse, cuda_wanted, gpu_requirements, vram_wanted
from .session import Opened, stop_running


def run_up(
    opened: Opened,
    engine: Engine,
    options: UpOptions,
    say: Callable[[str], None],
    warn: Callable[[str], None],
    no_gpu: bool = False,
    start_api: Callable[[], None] | None = None,
) -> int:
    """Run the job until it is ready (-d) or has ended; returns the exit status. EngineError when the engine
    cannot run it at all (no engine, no Compose, no GPU runtime)."""
    plan = opened.plan
    engine.preflight([] if no_gpu else [op.id for op in plan.ops if op.gpu])
    if not no_gpu and any(op.gpu for op in plan.ops):
        for line in _gpu_requirements(opened.meta):
            warn(line)
    lacking = engine.lacks([TUN])
    for device in lacking:
        warn(f"warning: this machine has no {device}, which a Nosana node gives every op: the ops run without it")
    record.begin(plan.project, plan, opened.job_definition)
    if start_api is not None:
        start_api()
    supervisor = Supervisor(
        plan,
        engine,
        say,
        logins=opened.logins,
        secrets=opened.secrets,
        note=lambda op_id, state, reason, exit_code=None, error=None: record.note(
            plan.project, op_id, state, reason, exit_code=exit_code, error=error
        ),
        notes=lambda: (record.read(plan.project) or {}).get("ops") or {},
        progress=True,
        warn=warn,
    )
    handle_signals()
    overrides = _overrides(plan, Path(options.workdir), no_gpu, lacking) if options.workdir else {}
    try:
        try:
            status = supervisor.up(options, overrides)
        except (PortInUse, ImageProblem) as busy:
            warn(f"error: {busy}")
            return 1
        for line in supervisor.table():
            say(line)
        if not options.detach:
            status = supervisor.follow()
        return status
    except Interrupted as stop:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        word = "Ctrl-C" if stop.status == 130 else "SIGTERM"
        stop_running(engine, plan, f"stopped on request ({word})", say=warn)
        supervisor.report(supervisor.statuses())
        return stop.status


def _overrides(plan, directory: Path, no_gpu: bool, lacking: list[str]) -> dict[str, list[Path]]:
    """Per group, the Compose overrides `up` adds to its file (which stays untouched): no GPU requests with
    --no-gpu, and no device the machine lacks."""
    from ..compose.overrides import no_gpu_override, without_devices_override

    out: dict[str, list[Path]] = {}
    for group in plan.groups:
        gpu_ops = [op.service for op in group.ops if op.gpu] if no_gpu else []
        texts = {"no-gpu": no_gpu_override(gpu_ops) if gpu_ops else None}
        texts["no-devices"] = without_devices_override(group.services, lacking) if lacking else None
        for kind, text in texts.items():
            if text is not None:
                path = directory / f"{kind}-{group.order:03d}.yaml"
                path.write_text(text, encoding="utf-8")
                out.setdefault(group.name, []).append(path)
    return out


def _gpu_requirements(meta: dict) -> list[str]:
    """What of meta.system_requirements this machine cannot meet, asking nvidia-smi only for what the job wants."""
    from ..engine.host import cuda_version, gpu_memory_mib

    wants = meta.get("system_requirements") if isinstance(meta, dict) else None
    if not isinstance(wants, dict):
        return []
    memory = gpu_memory_mib() if vram_wanted(wants) else None
    return gpu_requirements(wants, memory, cuda_version() if cuda_wanted(wants) else None)
