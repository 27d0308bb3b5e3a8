"""`serve`: the node API's job routes and a status page for a job started with `up` (Starlette, imported here only)."""

from __future__ import annotations

import os

import click

TOKEN_ENV = "NOS2COMPOSE_API_TOKEN"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def start_api(
    plan,
    engine,
    job_definition: dict | None,
    port: int,
    host: str = "127.0.0.1",
    token: str | None = None,
    foreground: bool = False,
) -> None:
    from ..supervisor.preflight import port_taken
    from .common import ENGINE_PROBLEM, Failure

    if port_taken(port, host if host != "localhost" else "127.0.0.1"):
        raise Failure(
            f"port {port} on {host} is already in use; free it, or serve on another with --port", ENGINE_PROBLEM
        )
    from ..api.app import create_app
    from ..api.node import LocalNode
    from ..api.server import serve, serve_in_background

    token = token or os.environ.get(TOKEN_ENV) or None
    if host not in LOCAL_HOSTS and token is None:
        click.echo(
            f"warning: serving on {host} without --token: anyone who can reach it can stop and restart the job",
            err=True,
        )
    app = create_app(LocalNode(plan, engine, job_definition), token, host)
    where = f"http://{host}:{port}/"
    click.echo(
        f"node API and status page: {where}" + ("?token=…" if token else "") + f"  (job id: {plan.project})", err=True
    )
    if foreground:
        serve(app, host, port)
    else:
        serve_in_background(app, host, port)


@click.command(
    epilog="""\b
Examples:
  nos2compose up job.json -d && nos2compose serve job.json
  curl http://127.0.0.1:8642/job/job/ops
  curl -X POST http://127.0.0.1:8642/job/job/group/serve/operation/web/restart
"""
)
@click.argument("job")
@click.option("--name", default=None, metavar="NAME", help="Compose project name, if not the default.")
@click.option("--port", type=click.IntRange(1, 65535), default=8642, show_default=True, help="Port to listen on.")
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to bind (keep it local unless you set --token)."
)
@click.option(
    "--token",
    default=None,
    metavar="TOKEN",
    help=f"Require `Authorization: Bearer TOKEN` on every route (or set {TOKEN_ENV}).",
)
def serve(job, name, port, host, token):
    """Serve a Nosana node's job routes and a status page for JOB, started with `up`.

    \b
    Routes (the node's shapes and status codes; <job> is the project name `ps` shows):
      GET  /job/<job>/ops, /ops/<op>, /group/current, /group/<group>, /results, /info, /job-definition
      GET  /job/<job>/stats?interval&start&end, /stats/stream, /ssh/keys
      POST /job/<job>/group/<group>/operation/<op>/stop|restart, /group/<group>/stop|restart, /stop
      POST /job/<job>/ssh/authorize; DELETE /job/<job>/ssh/keys
      WebSocket / : /log, /flog, /status, /terminal (docs/websocket.md)
    An unknown job answers 400 `invalid job id`; restarts outside the active group are refused.
    The status page at / lists every op with live CPU, memory and logs, stop/restart buttons and a
    terminal. /openapi.json describes it all. No SSH server runs: `nos2compose shell` is the way in.
    Exit status: 0 after Ctrl-C; 1 when the port is taken, the engine cannot be reached or no such job runs.
    """
    from .jobs import attached

    found, engine = attached(job, name)
    start_api(found.plan, engine, found.record.get("job_definition"), port, host, token, foreground=True)
