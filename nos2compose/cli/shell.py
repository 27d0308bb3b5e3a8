"""`shell`: a shell in an op's container, the local stand-in for `nosana job ssh` (and the node API's /terminal)."""

from __future__ import annotations

import sys

import click

from .common import ENGINE_PROBLEM, Failure


@click.command(
    context_settings={"ignore_unknown_options": True},
    epilog="""\b
Examples:
  nos2compose shell job.json web              # bash (else sh) in op web's container
  nos2compose shell job.json web -- ls /data  # one command, no terminal; exits with its status
""",
)
@click.argument("job")
@click.argument("op")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.option("--name", default=None, metavar="NAME", help="Compose project name, if not the default.")
def shell(job, op, command, name):
    """Open an interactive shell (bash, else sh) in OP's running container, or run COMMAND there after `--`.

    \b
    A node gives an op's shell through SSH (`nosana job ssh`) or its API's /terminal; locally no SSH server
    runs, and this is the way in. Exit status: the shell's or COMMAND's; 1 when OP is not running.
    """
    from ..supervisor.session import statuses
    from .jobs import attached, chosen_ops

    found, engine = attached(job, name)
    (chosen,) = chosen_ops(found.plan, (op,), None)
    current = next(s for s in statuses(found, engine) if s.op.id == chosen.id)
    if current.container_state != "running" or not current.container_id:
        raise Failure(f"op {op} is not running (it is {current.state}); start it with `nos2compose up`", ENGINE_PROBLEM)
    try:
        status = engine.exec_attached(
            current.container_id, list(command) or None, tty=not command and sys.stdin.isatty()
        )
    except OSError as exc:
        raise Failure(f"cannot run docker exec: {exc}", ENGINE_PROBLEM) from None
    sys.exit(status)
