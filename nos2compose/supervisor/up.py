"""The `up` use case: pre-flight, the state record, signals, the supervisor, and what is left on exit.

The CLI parses options and prints; everything `up` does between compiling the job
and returning its exit status is here, so `up` reads as one short function.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

from ..engine.host import gpu_memory_mib
from ..engine.protocol import Engine
from . import record
from .images import ImageProblem
from .loop import Interrupted, Supervisor, UpOptions, handle_signals
from .preflight import PortInUse
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
        _vram_warning(opened.meta, warn)
    record.begin(plan.project, plan, opened.job_definition)
    if start_api is not None:
        start_api()
    supervisor = Supervisor(
        plan,
        engine,
        say,
        logins=opened.logins,
        secrets=opened.secrets,
        note=lambda op_id, state, reason, exit_code=None: record.note(
            plan.project, op_id, state, reason, exit_code=exit_code
        ),
        notes=lambda: (record.read(plan.project) or {}).get("ops") or {},
        progress=True,
        warn=warn,
    )
    handle_signals()

    overrides = no_gpu_overrides(plan, Path(options.workdir)) if no_gpu and options.workdir else {}
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


def no_gpu_overrides(plan, directory: Path) -> dict[str, list[Path]]:
    """Per group, a Compose override that drops GPU requests (`!reset`), leaving the group file untouched."""
    from ..compose.overrides import no_gpu_override

    out: dict[str, list[Path]] = {}
    for group in plan.groups:
        gpu_ops = [op.service for op in group.ops if op.gpu]
        if gpu_ops:
            path = directory / f"no-gpu-{group.order:03d}.yaml"
            path.write_text(no_gpu_override(gpu_ops), encoding="utf-8")
            out[group.name] = [path]
    return out


def _vram_warning(meta: dict, warn: Callable[[str], None]) -> None:
    wants = (meta.get("system_requirements") or {}) if isinstance(meta, dict) else {}
    need_mib = None
    if isinstance(wants.get("vram_total_mb"), (int, float)):
        need_mib = int(wants["vram_total_mb"])
    elif isinstance(wants.get("required_vram"), (int, float)):
        need_mib = int(wants["required_vram"] * 1024)
    if not need_mib:
        return
    have = gpu_memory_mib()
    if have and max(have) < need_mib:
        warn(
            f"warning: the job asks for {need_mib} MiB of GPU memory (meta.system_requirements); "
            f"the largest GPU here has {max(have)} MiB, so the model may not fit"
        )
