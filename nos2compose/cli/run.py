"""`up`, `ps`, `logs`, `stop`, `restart`, `down`: thin commands over the runtime's use cases.

`up` compiles the job (or reads a directory of group files) and runs it; the
others find the job by its project name alone (--name, else the job file's
name) and read everything else from the engine and the job's state record, so
they work after the job file was edited, broken or deleted. python-on-whales
and tenacity are imported only when an engine call needs them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .common import ENGINE_PROBLEM, Failure, compile_file, project_of, say, written
from .jobs import attached, chosen_ops, engine_for
from .options import health_options, probe_options


def open_job(job: str, name: str | None, fmt: str | None, extra: dict):
    """The job `up` runs: compiled (diagnostics printed; its files written to the job's files directory, kept
    until `down`) or read from a directory of group files."""
    from ..supervisor.record import files_dir
    from ..supervisor.session import PlanError, open_compiled, open_directory

    try:
        if job != "-" and Path(job).is_dir():
            warn = lambda line: click.echo(line, err=True)  # noqa: E731
            return open_directory(Path(job), project_of(job, name) if name else None, warn)
        result, doc = compile_file(job, fmt, name, False, error_on_warning=False, to_run=True, extra=extra)
        if not result.job.run_ops:
            raise Failure(f"{job}: the job has no container/run ops, so there is nothing to run")
        where = files_dir(result.job.name)
        return written(doc, job, lambda: open_compiled(result, where, _masked_definition(doc)))
    except PlanError as exc:
        raise Failure(f"{job}: {exc}") from None


def _masked_definition(doc) -> dict | None:
    from ..api.masking import masked

    data, problem = doc.parse()
    return masked(data) if problem is None and isinstance(data, dict) else None


@click.command(
    epilog="""\b
Examples:
  nos2compose up job.json              # run in the foreground, following the logs
  nos2compose up job.json -d           # return once the job is ready
  nos2compose up compose/ -d           # run hand-edited group files from `convert -o`
  nos2compose up job.json --barrier exit   # wait for each group to exit, as a Nosana node does
"""
)
@click.argument("job")
@click.option(
    "--name",
    default=None,
    metavar="NAME",
    help="Compose project name (default: from the job file's name, or the group files' `name:`).",
)
@click.option(
    "-d", "--detach", is_flag=True, help="Return as soon as the last group is ready, leaving the job running."
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=3600,
    show_default=True,
    metavar="S",
    help="Seconds a group may take to get ready; ops not ready by then are marked failed.",
)
@click.option("--no-gpu", is_flag=True, help="Run without GPU requests (on a machine without an NVIDIA GPU).")
@click.option(
    "--barrier",
    type=click.Choice(["ready", "exit"]),
    default="ready",
    show_default=True,
    help="When the next group starts: once this one is ready (healthy services, running services, "
    "finished tasks), or once every op of it has exited (what a Nosana node does).",
)
@click.option(
    "--abort-on-failure", is_flag=True, help="Stop the whole job when an op fails (a node lets the others go on)."
)
@click.option(
    "--pull",
    type=click.Choice(["missing", "always", "never"]),
    default="missing",
    show_default=True,
    help="When to pull images.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "yaml"]),
    default=None,
    help="Job file format (default: by file name).",
)
@click.option(
    "--api",
    "api_port",
    type=click.IntRange(1, 65535),
    default=None,
    metavar="PORT",
    help="While up runs in the foreground, also serve the node API and status page on 127.0.0.1:PORT (as `serve`).",
)
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
    import tempfile

    from ..engine.docker import EngineError
    from ..supervisor.loop import UpOptions
    from ..supervisor.up import run_up

    if api_port is not None and detach:
        raise click.UsageError(
            "--api serves while `up` runs in the foreground; with -d, run `nos2compose serve` instead"
        )
    with tempfile.TemporaryDirectory(prefix="nos2compose-") as workdir:
        opened = open_job(job, name, fmt, probe_options(health))
        engine = engine_for(opened.plan.project)
        options = UpOptions(
            detach=detach,
            timeout=timeout,
            barrier=barrier,
            abort_on_failure=abort_on_failure,
            pull=pull,
            workdir=workdir,
        )
        start_api = None
        if api_port is not None:
            from .serve import start_api as serve_api

            def start_api():
                serve_api(opened.plan, engine, opened.job_definition, api_port)

        try:
            status = run_up(opened, engine, options, say, lambda line: click.echo(line, err=True), no_gpu, start_api)
        except EngineError as exc:
            raise Failure(str(exc), ENGINE_PROBLEM) from None
    sys.exit(status)


@click.command(
    epilog="""\b
Examples:
  nos2compose ps job.json
  nos2compose ps job.json --json   # one JSON object keyed by op id
"""
)
@click.argument("job")
@click.option("--name", default=None, metavar="NAME", help="Compose project name, if not the default.")
@click.option(
    "--json", "as_json", is_flag=True, help="One JSON object keyed by op id, like the node API's GET /job/<id>/ops."
)
def ps(job, name, as_json):
    """Show every op of JOB with its group, state, health, exit code and URLs.

    JOB is the job file (or directory) `up` ran; only its name is used, to find the
    project, so `ps` works after the file was edited or deleted (or give --name).
    The state comes from the engine (and the job's state record), so it is right even
    after the supervisor was killed. States: pending, starting, running, healthy,
    unhealthy, completed, failed, stopped (docs/supervisor.md maps them to the node API).
    """
    from ..supervisor.report import results_of, status_table
    from ..supervisor.session import statuses

    found, engine = attached(job, name, required=False)
    if found is None:
        if as_json:
            click.echo("{}")
        return
    try:
        current = statuses(found, engine)
        results = results_of(engine, current)
        # diagnostics.state: the inspect State of containers that have ended (no engine call while none has)
        ended = as_json and any(s.container_id and s.exited for s in current)
        details = {d["service"]: d for d in engine.inspect_all()} if ended else {}
    except Exception as exc:  # the engine failed mid-way: one line, never a traceback
        raise Failure(f"cannot read the job's containers: {exc}", ENGINE_PROBLEM) from None
    if as_json:
        click.echo(json.dumps(_ps_json(current, results, details, found.record.get("ops") or {}), indent=2))
        return
    for line in status_table(current, results):
        click.echo(line)


def _ps_json(current, results: dict, details: dict, notes: dict) -> dict:
    """`ps --json`: each op's state, with what the node's flow state keeps of it (errors[], diagnostics.state)."""
    from ..supervisor.states import ended_state, errors_of

    return {
        s.op.id: {
            "status": s.state,
            "group": s.op.group,
            "health": s.health or None,
            "exit_code": s.exit_code,
            "urls": s.urls(),
            "reason": s.reason or None,
            "results": results.get(s.op.id, {}),
            "errors": errors_of(s, notes.get(s.op.id)),
            "diagnostics": {"state": ended_state(s, details.get(s.op.service))},
        }
        for s in current
    }


@click.command(
    epilog="""\b
Examples:
  nos2compose logs job.json web            # everything web printed
  nos2compose logs job.json -f --tail 20   # the last 20 lines of each op, then follow
"""
)
@click.argument("job")
@click.argument("ops", nargs=-1)
@click.option("--name", default=None, metavar="NAME", help="Compose project name, if not the default.")
@click.option("-f", "--follow", is_flag=True, help="Keep following until the ops' containers stop (Ctrl-C to leave).")
@click.option("--tail", type=int, default=None, metavar="N", help="Only the last N lines of each op.")
def logs(job, ops, name, follow, tail):
    """Print the logs of JOB's ops (all, or the OPS named), each line prefixed by its op id."""
    import threading

    from ..supervisor.report import follow_logs
    from ..supervisor.session import statuses

    found, engine = attached(job, name, required=False)
    if found is None:
        return
    chosen = [op for op in (chosen_ops(found.plan, ops, None) if ops else found.plan.ops) if not op.volume]
    if follow:
        ids = {op.id for op in chosen}
        current = [s for s in statuses(found, engine) if s.op.id in ids]
        current.sort(key=lambda s: [op.id for op in chosen].index(s.op.id))
        try:
            for t in follow_logs(engine, current, say, threading.Lock(), tail):
                t.join()
        except KeyboardInterrupt:
            engine.stop_following()
            sys.exit(130)
        return
    for op in chosen:
        for line in engine.log_tail(op.service, tail):
            click.echo(f"{op.id} | {line}")


GRACE = click.option(
    "-t",
    "--timeout",
    type=click.IntRange(min=0),
    default=None,
    metavar="S",
    help="Seconds to wait for a container to stop before it is killed (default: its stop_grace_period, else 10, "
    "as `docker compose stop` and a Nosana node).",
)


def _op_or_group(command):
    command = GRACE(command)
    command = click.option("--group", "group", default=None, metavar="G", help="Every op of execution group G.")(
        command
    )
    command = click.option("--op", "ops", multiple=True, metavar="OP", help="The op with this id (repeatable).")(
        command
    )
    command = click.option("--name", default=None, metavar="NAME", help="Compose project name, if not the default.")(
        command
    )
    return click.argument("job")(command)


@click.command(
    epilog="""\b
Examples:
  nos2compose stop job.json --op web
  nos2compose stop job.json --group serve -t 2   # kill after 2 s
"""
)
@_op_or_group
def stop(job, name, ops, group, timeout):
    """Stop ops of JOB (--op OP or --group G), as the node API's operation and group stop; they read `stopped`.

    Each container gets its stop signal (SIGTERM unless the image says otherwise) and, after its grace
    period, SIGKILL: a shell as the first process ignores SIGTERM, so such an op takes the whole 10 s.
    """
    _act(job, name, ops, group, "stop", timeout)


@click.command(
    epilog="""\b
Examples:
  nos2compose restart job.json --op web
  nos2compose restart job.json --group serve
"""
)
@_op_or_group
def restart(job, name, ops, group, timeout):
    """Restart ops of JOB (--op OP or --group G), as the node API's operation and group restart."""
    _act(job, name, ops, group, "restart", timeout)


def _act(job, name, ops, group, action, timeout):
    from ..supervisor.session import act

    if bool(ops) == (group is not None):
        raise click.UsageError("give either --op OP (one or more) or --group G")
    found, engine = attached(job, name)
    chosen = chosen_ops(found.plan, ops, group)
    try:
        act(engine, found.plan, chosen, action, timeout, say=lambda line: click.echo(line, err=True))
    except Exception as exc:  # the engine refused: one line
        raise Failure(f"{action} failed: {exc}", ENGINE_PROBLEM) from None
    what = f"group {group}" if group else ", ".join(ops)
    click.echo(f"{action}: {what}")


@click.command(
    epilog="""\b
Examples:
  nos2compose down job.json
  nos2compose down job.json -v   # its volumes too (the resource caches stay)
"""
)
@click.argument("job")
@click.option("--name", default=None, metavar="NAME", help="Compose project name, if not the default.")
@click.option("-v", "--volumes", is_flag=True, help="Also remove the job's volumes (the shared resource cache stays).")
@GRACE
def down(job, name, volumes, timeout):
    """Remove every container and the network of JOB (and its volumes with -v), and its state record.

    Only JOB's name is used, so `down` still works after the job file was edited or deleted.
    """
    from ..supervisor.session import down as remove

    project = project_of(job, name)
    engine = engine_for(project)
    try:
        had = remove(engine, project, volumes, timeout, say=lambda line: click.echo(line, err=True))
    except Exception as exc:  # the engine refused: one line
        raise Failure(f"down failed: {exc}", ENGINE_PROBLEM) from None
    if not had:
        click.echo(f"note: no job {project} on this engine: nothing to remove")
        return
    click.echo(f"removed job {project}" + (" and its volumes" if volumes else ""))
