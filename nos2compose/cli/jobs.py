"""Finding a job that `up` started, from its project name alone: for ps, logs, stop, restart, down, serve, cache."""

from __future__ import annotations

import click

from .common import ENGINE_PROBLEM, Failure, project_of


def engine_for(project: str):
    from ..engine.docker import DockerEngine, EngineError

    try:
        return DockerEngine(project)
    except EngineError as exc:
        raise Failure(str(exc), ENGINE_PROBLEM) from None


def attached(job: str, name: str | None, required: bool = True):
    """(attached job, engine) for a command on a job `up` started; a job the engine and the state record do not
    know is a Failure naming the project, or (not required) None, after a one-line note."""
    from ..engine.docker import EngineError
    from ..supervisor.session import attach

    project = project_of(job, name)
    engine = engine_for(project)
    try:
        found = attach(project, engine)
    except EngineError as exc:
        raise Failure(str(exc), ENGINE_PROBLEM) from None
    if found is None and not required:
        click.echo(f"note: no job {project} on this engine (no containers, no state record)", err=True)
        return None, engine
    if found is None:
        raise Failure(
            f"no job '{project}' on this engine (no containers, no state record); "
            "start it with `nos2compose up`, or give its project name with --name",
            ENGINE_PROBLEM,
        )
    return found, engine


def chosen_ops(plan, ops: tuple[str, ...], group: str | None) -> list:
    if group is not None:
        found = [g for g in plan.groups if g.name == group]
        if not found:
            raise Failure(
                f"no group '{group}' in job {plan.project} (groups: {', '.join(g.name for g in plan.groups)})"
            )
        return list(found[0].ops)
    out = []
    for op_id in ops:
        op = plan.op(op_id)
        if op is None:
            raise Failure(f"no op '{op_id}' in job {plan.project} (ops: {', '.join(o.id for o in plan.ops)})")
        out.append(op)
    return out
