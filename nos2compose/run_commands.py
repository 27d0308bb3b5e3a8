"""`up`, `ps`, `logs`, `stop`, `restart`, `down`: the thin CLI over the supervisor and the engine.

python-on-whales and tenacity are imported only when one of these runs, never
on the `convert` path.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NamedTuple

import click

from .cli import Failure, _compile, _project, health_options, main, probe_options

ENGINE_PROBLEM = 1



class Loaded(NamedTuple):
    plan: Any
    meta: dict
    logins: list  # RegistryLogin, from the job's `authentication`
    secrets: dict = {}  # resource credentials by Compose variable


def _plan(job: str, name: str | None, fmt: str | None = None, quiet: bool = True, write_to: Path | None = None,
          extra: dict | None = None):
    """(plan, raw meta) for a job file or a directory of group files.

    For a job file the group files are generated; `write_to` puts them on disk there (for `up`).
    """
    from .runtime.plan import PlanError, read_plan

    path = Path(job)
    try:
        if job != "-" and path.is_dir():
            files = [(p, p.read_text(encoding="utf-8")) for p in sorted(path.glob("*.y*ml"))]
            # group files carry x-nos2compose (hand edits keep it); other Compose files there are not ours to run
            plan = read_plan([(p, t) for p, t in files if "services:" in t and "x-nos2compose:" in t])
            return Loaded(plan._replace(project=_project(job, name)) if name else plan, {}, [])
        result = _compile(job, fmt, name, False, error_on_warning=False, to_run=True, quiet=quiet, extra=extra)
        if not result.job.run_ops:
            raise Failure(f"{job}: the job has no container/run ops, so there is nothing to run")
        files = [((write_to or Path()) / n, t) for n, t in result.group_files()]
        if write_to is not None:
            for path, text in files:
                path.write_text(text, encoding="utf-8")
        # registry credentials stay in memory, for `up` only
        return Loaded(read_plan(files), result.meta or {}, result.logins, result.secrets)
    except PlanError as exc:
        raise Failure(f"{job}: {exc}")


def _engine(project: str):
    from .runtime.engine import Engine, EngineError

    try:
        return Engine(project)
    except EngineError as exc:
        raise Failure(str(exc), ENGINE_PROBLEM)


def _services(plan, ops: tuple[str, ...], group: str | None) -> list[str]:
    if group is not None:
        found = [g for g in plan.groups if g.name == group]
        if not found:
            raise Failure(f"no group '{group}' in this job (groups: {', '.join(g.name for g in plan.groups)})")
        return [op.service for op in found[0].ops]
    services = []
    for op_id in ops:
        op = plan.op(op_id)
        if op is None:
            raise Failure(f"no op '{op_id}' in this job (ops: {', '.join(o.id for o in plan.ops)})")
        services.append(op.service)
    return services


def _say(line: str) -> None:
    click.echo(line)


def _vram_warning(meta: dict) -> None:
    from .runtime.engine import gpu_memory_mib

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
        click.echo(f"warning: the job asks for {need_mib} MiB of GPU memory (meta.system_requirements); "
                   f"the largest GPU here has {max(have)} MiB, so the model may not fit", err=True)


def _no_gpu_overrides(plan, directory: Path) -> dict[str, list[Path]]:
    """Per group, a Compose override that drops GPU requests (`!reset`), leaving the group file untouched."""
    out: dict[str, list[Path]] = {}
    for group in plan.groups:
        gpu_ops = [op for op in group.ops if op.gpu]
        if not gpu_ops:
            continue
        lines = ["services:"]
        for op in gpu_ops:
            lines += [f"  {json.dumps(op.service)}:", "    deploy:", "      resources:", "        reservations:",
                      "          devices: !reset []"]
        path = directory / f"no-gpu-{group.order:03d}.yaml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        out[group.name] = [path]
    return out


@main.command(epilog="""\b
Examples:
  nos2compose up job.json              # run in the foreground, following the logs
  nos2compose up job.json -d           # return once the job is ready
  nos2compose up compose/ -d           # run hand-edited group files from `convert -o`
  nos2compose up job.json --barrier exit   # wait for each group to exit, as a Nosana node does
""")
@click.argument("job")
@click.option("--name", default=None, metavar="NAME", help="Compose project name (default: from the job file's name, or the group files' `name:`).")
@click.option("-d", "--detach", is_flag=True, help="Return as soon as the last group is ready, leaving the job running.")
@click.option("--timeout", type=click.FloatRange(min=1), default=3600, show_default=True, metavar="S",
              help="Seconds a group may take to get ready; ops not ready by then are marked failed.")
@click.option("--no-gpu", is_flag=True, help="Run without GPU requests (on a machine without an NVIDIA GPU).")
@click.option("--barrier", type=click.Choice(["ready", "exit"]), default="ready", show_default=True,
              help="When the next group starts: once this one is ready (healthy services, running services, "
                   "finished tasks), or once every op of it has exited (what a Nosana node does).")
@click.option("--abort-on-failure", is_flag=True, help="Stop the whole job when an op fails (a node lets the others go on).")
@click.option("--pull", type=click.Choice(["missing", "always", "never"]), default="missing", show_default=True,
              help="When to pull images.")
@click.option("--format", "fmt", type=click.Choice(["json", "yaml"]), default=None, help="Job file format (default: by file name).")
@click.option("--api", "api_port", type=click.IntRange(1, 65535), default=None, metavar="PORT",
              help="While up runs in the foreground, also serve the node API and status page on 127.0.0.1:PORT (as `serve`).")
@health_options
def up(job, name, detach, timeout, no_gpu, barrier, abort_on_failure, pull, fmt, api_port, **health):
    """Run JOB's groups in order on the local Docker engine and report each op's state.

    \b
    JOB is a job file (JSON or YAML), or a directory written by `convert -o`
    (hand edits are respected). Each group starts once the previous one is ready;
    state changes are printed as they happen, then a table with local URLs.
    In the foreground, the ops' logs follow (prefixed by op id) until every op
    has exited; Ctrl-C stops the job's containers (exit 130; SIGTERM: 143).
    In the last group, a task still running after 3 s counts as started for -d.
    Exit status: 0 when every op completed or is running (healthy where it has
    health checks), 1 otherwise or when the engine is missing, 2 for a bad job.
    """
    from .runtime.engine import EngineError
    from .runtime.supervisor import Interrupted, Supervisor, UpOptions, handle_signals

    import tempfile

    tmp = tempfile.TemporaryDirectory(prefix="nos2compose-")
    loaded = _plan(job, name, fmt, quiet=False, write_to=Path(tmp.name), extra=probe_options(health))
    plan, meta = loaded.plan, loaded.meta
    engine = _engine(plan.project)
    try:
        engine.preflight([] if no_gpu else [op.id for op in plan.ops if op.gpu])
    except EngineError as exc:
        raise Failure(str(exc), ENGINE_PROBLEM)
    if not no_gpu and any(op.gpu for op in plan.ops):
        _vram_warning(meta)
    if api_port is not None:
        if detach:
            raise click.UsageError("--api serves while `up` runs in the foreground; with -d, run `nos2compose serve` instead")
        _start_api(plan, engine, job, api_port)
    supervisor = Supervisor(plan, engine, _say, logins=loaded.logins, secrets=loaded.secrets)
    options = UpOptions(detach=detach, timeout=timeout, barrier=barrier, abort_on_failure=abort_on_failure, pull=pull,
                        workdir=tmp.name)
    handle_signals()
    with tmp:
        overrides = _no_gpu_overrides(plan, Path(tmp.name)) if no_gpu else {}
        try:
            status = supervisor.up(options, overrides)
            for line in supervisor.table():
                click.echo(line)
            if not detach:
                status = supervisor.follow()
        except Interrupted as stop:
            click.echo("stopping the job's containers ...", err=True)
            import signal

            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            engine.stop(timeout=5)
            sys.exit(stop.status)
    sys.exit(status)


@main.command()
@click.argument("job")
@click.option("--name", default=None, metavar="NAME", help="Compose project name, if not the default.")
@click.option("--json", "as_json", is_flag=True, help='One JSON object keyed by op id, like the node API\'s GET /job/<id>/ops.')
def ps(job, name, as_json):
    """Show every op of JOB with its group, state, health, exit code and URLs.

    The state comes from the engine (Compose labels), so it is right even after
    the supervisor was killed. States: pending, starting, running, healthy,
    unhealthy, completed, failed (docs/supervisor.md maps them to the node API).
    """
    from .runtime.states import statuses_of
    from .runtime.supervisor import results_of, status_table

    plan = _plan(job, name).plan
    engine = _engine(plan.project)
    try:
        statuses = statuses_of(plan.ops, engine.containers())
        results = results_of(engine, statuses)
    except Exception as exc:
        raise Failure(f"cannot read the job's containers: {exc}", ENGINE_PROBLEM)
    if as_json:
        click.echo(json.dumps({s.op.id: {"status": s.state, "group": s.op.group, "health": s.health or None,
                                         "exit_code": s.exit_code, "urls": s.urls(),
                                         "results": results.get(s.op.id, {})} for s in statuses}, indent=2))
        return
    for line in status_table(statuses, results):
        click.echo(line)


@main.command()
@click.argument("job")
@click.argument("ops", nargs=-1)
@click.option("--name", default=None, metavar="NAME", help="Compose project name, if not the default.")
@click.option("-f", "--follow", is_flag=True, help="Keep following until the ops' containers stop (Ctrl-C to leave).")
@click.option("--tail", type=int, default=None, metavar="N", help="Only the last N lines of each op.")
def logs(job, ops, name, follow, tail):
    """Print the logs of JOB's ops (all, or the OPS named), each line prefixed by its op id."""
    import threading

    from .runtime.supervisor import follow_logs

    plan = _plan(job, name).plan
    engine = _engine(plan.project)
    chosen = [plan.op(o) for o in ops] if ops else plan.ops
    if None in chosen:
        _services(plan, ops, None)  # raises naming the unknown op
    if follow:
        try:
            for t in follow_logs(engine, chosen, _say, threading.Lock()):
                t.join()
        except KeyboardInterrupt:
            sys.exit(130)
        return
    for op in chosen:
        for line in engine.log_tail(op.service, tail):
            click.echo(f"{op.id} | {line}")


TOKEN_ENV = "NOS2COMPOSE_API_TOKEN"


def _job_definition(job: str):
    """The job as given, for GET /job/<id>/job-definition (None for a directory of group files)."""
    path = Path(job)
    if job == "-" or path.is_dir():
        return None
    from .source.document import Document

    fmt = "yaml" if path.suffix.lower() in (".yaml", ".yml") else "json"
    data, problem = Document(job, path.read_text(encoding="utf-8"), fmt).parse()
    return data if problem is None and isinstance(data, dict) else None


def _start_api(plan, engine, job: str, port: int, host: str = "127.0.0.1", token: str | None = None, foreground=False):
    import os

    from .api.app import create_app, serve, serve_in_background
    from .api.node import LocalNode

    token = token or os.environ.get(TOKEN_ENV) or None
    if host not in ("127.0.0.1", "localhost", "::1") and token is None:
        click.echo(f"warning: serving on {host} without --token: anyone who can reach it can stop and restart the job", err=True)
    app = create_app(LocalNode(plan, engine, _job_definition(job)), token, host)
    where = f"http://{host}:{port}/"
    click.echo(f"node API and status page: {where}" + ("?token=…" if token else "") + f"  (job id: {plan.project})", err=True)
    if foreground:
        serve(app, host, port)
    else:
        serve_in_background(app, host, port)


@main.command(epilog="""\b
Examples:
  nos2compose up job.json -d && nos2compose serve job.json
  curl http://127.0.0.1:8642/job/job/ops
  curl -X POST http://127.0.0.1:8642/job/job/group/serve/operation/web/restart
""")
@click.argument("job")
@click.option("--name", default=None, metavar="NAME", help="Compose project name, if not the default.")
@click.option("--port", type=click.IntRange(1, 65535), default=8642, show_default=True, help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (keep it local unless you set --token).")
@click.option("--token", default=None, metavar="TOKEN", help=f"Require `Authorization: Bearer TOKEN` on every route (or set {TOKEN_ENV}).")
def serve(job, name, port, host, token):
    """Serve a Nosana node's job routes and a status page for JOB, started with `up`.

    \b
    Routes (the node's shapes and status codes; <job> is the project name `ps` shows):
      GET  /job/<job>/ops, /ops/<op>, /group/current, /group/<group>, /results, /job-definition
      POST /job/<job>/group/<group>/operation/<op>/stop|restart, /group/<group>/stop|restart, /stop
    An unknown job answers 400 `invalid job id`; restarts outside the active group are refused.
    The status page at / lists every op and has stop/restart buttons. /openapi.json describes it all.
    """
    plan = _plan(job, name).plan
    engine = _engine(plan.project)
    _start_api(plan, engine, job, port, host, token, foreground=True)


def _op_or_group(command):
    command = click.option("--group", "group", default=None, metavar="G", help="Every op of execution group G.")(command)
    command = click.option("--op", "ops", multiple=True, metavar="OP", help="The op with this id (repeatable).")(command)
    command = click.option("--name", default=None, metavar="NAME", help="Compose project name, if not the default.")(command)
    return click.argument("job")(command)


@main.command()
@_op_or_group
def stop(job, name, ops, group):
    """Stop ops of JOB (--op OP or --group G), as the node API's operation and group stop."""
    _act(job, name, ops, group, "stop")


@main.command()
@_op_or_group
def restart(job, name, ops, group):
    """Restart ops of JOB (--op OP or --group G), as the node API's operation and group restart."""
    _act(job, name, ops, group, "restart")


def _act(job, name, ops, group, action):
    if bool(ops) == (group is not None):
        raise click.UsageError("give either --op OP (one or more) or --group G")
    plan = _plan(job, name).plan
    services = _services(plan, ops, group)
    engine = _engine(plan.project)
    chosen = {op.id for op in plan.ops if op.service in services}
    try:
        # probe sidecars (--health-probe sidecar) go with their op, so start-up checks run again
        services += [c.service for c in engine.containers() if c.probe_for in chosen]
        getattr(engine, action)(services)
    except Exception as exc:
        raise Failure(f"{action} failed: {exc}", ENGINE_PROBLEM)
    what = f"group {group}" if group else ", ".join(ops)
    click.echo(f"{action}: {what}")


@main.command()
@click.argument("job")
@click.option("--name", default=None, metavar="NAME", help="Compose project name, if not the default.")
@click.option("-v", "--volumes", is_flag=True, help="Also remove the job's volumes.")
def down(job, name, volumes):
    """Remove every container and the network of JOB (and its volumes with -v)."""
    plan = _plan(job, name).plan
    engine = _engine(plan.project)
    try:
        engine.down(volumes)
    except Exception as exc:
        raise Failure(f"down failed: {exc}", ENGINE_PROBLEM)
    click.echo(f"removed job {plan.project}" + (" and its volumes" if volumes else ""))


@main.group()
def cache() -> None:
    """The shared cache of fetched resources (S3, Hugging Face, Ollama), kept across runs and jobs.

    `down -v` keeps it, so a second run fetches nothing; `cache clear` empties it.
    """


@cache.command("ls")
def cache_ls() -> None:
    """List the cache volumes."""
    for name in _engine("nos2compose").caches():
        click.echo(name)


@cache.command("clear")
def cache_clear() -> None:
    """Remove every cache volume (those in use by a container stay; run `down` first)."""
    engine = _engine("nos2compose")
    names = engine.caches()
    try:
        engine.remove_volumes(names)
    except Exception as exc:
        raise Failure(f"cannot remove every cache volume: {exc}", ENGINE_PROBLEM)
    click.echo(f"removed {len(names)} cache volume{'s' * (len(names) != 1)}")
