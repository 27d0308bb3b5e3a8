"""`nos2compose import`: a Docker Compose project -> a Nosana job definition (JSON).

Thin over importer/project_files.py (Compose loads the project, the pure mapping
turns it into a job): this prints the warnings and writes the job.
Exit status: 0 success (warnings allowed); 1 Docker Compose is missing; 2 bad
input, or any warning with --error-on-warning.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .failure import BAD_INPUT, Failure

# one line: --strict means Nosana's validators everywhere else, and what import writes always passes them
DEPRECATED = (
    "note: import --strict is now --error-on-warning (--strict means Nosana's strict validator elsewhere, "
    "and the job import writes always passes it); --strict will go away"
)
EPILOG = """\b
Examples:
  nos2compose import > job.json                  # compose.yaml (and .env) in this directory
  nos2compose import compose.yaml compose.gpu.yaml -o job.json
  nos2compose import -f stack.yaml --profile gpu --env-file prod.env
  nos2compose import --error-on-warning -o job.json  # in CI: fail on anything the job cannot keep
  nos2compose import --group-by single           # every service in one group
  nos2compose import compose/ -o job.json        # the group files `nos2compose convert -o compose/` wrote

\b
Each service with an image becomes a container/run op named after it; published
and exposed ports become `expose`, curl/wget healthchecks against localhost become
http health checks, GPU requests become `gpu: true`, named volumes become
create-volume ops. What a node cannot do (bind mounts, host ports, build:,
capabilities, limits, ...) is a warning naming the service and key. The job
always passes `nos2compose validate --strict` (Nosana's strict validator).
The files `nos2compose convert` wrote come back as the very job they came from,
with your edits. docs/import.md lists every key.
"""


@click.command(
    "import", epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.argument("file_args", metavar="[FILE]...", nargs=-1, type=str)
@click.option(
    "-f",
    "--file",
    "file_opts",
    multiple=True,
    metavar="FILE",
    help="A Compose file (repeatable; later files override earlier ones, as with docker compose -f). "
    "FILE arguments come first, then -f files. A directory stands for the group files "
    "`nos2compose convert -o` wrote in it. None: Compose finds compose.yaml or "
    "docker-compose.yml itself, with the .env beside it.",
)
@click.option(
    "--project-directory",
    metavar="DIR",
    default=None,
    help="The project's working directory, as for docker compose (relative paths and .env are found there).",
)
@click.option(
    "--env-file",
    "env_files",
    multiple=True,
    metavar="FILE",
    help="Variables for interpolation, instead of the project's .env (repeatable).",
)
@click.option(
    "--profile", "profiles", multiple=True, metavar="PROFILE", help="Include the services of this profile (repeatable)."
)
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the job here instead of standard output.",
)
@click.option(
    "--group-by",
    type=click.Choice(["dependencies", "single"]),
    default="dependencies",
    show_default=True,
    help="dependencies: services tied by service_started/service_healthy share an execution group, "
    "other services get groups of their own. single: one group, except where "
    "service_completed_successfully needs an earlier one.",
)
@click.option(
    "--error-on-warning",
    is_flag=True,
    help="Treat every warning as an error (exit 2): the job keeps everything or is not written.",
)
@click.option("--strict", "old_strict", is_flag=True, hidden=True, help="The old name of --error-on-warning.")
def import_command(
    file_args: tuple[str, ...],
    file_opts: tuple[str, ...],
    project_directory: str | None,
    env_files: tuple[str, ...],
    profiles: tuple[str, ...],
    output: Path | None,
    group_by: str,
    error_on_warning: bool,
    old_strict: bool,
) -> None:
    """Turn a Docker Compose project into a Nosana job definition.

    Docker Compose itself reads the files (`docker compose config`): interpolation,
    .env, extends, include, anchors and profiles work exactly as with docker compose.
    The job is written as JSON; every key the job cannot keep is a warning on
    standard error, naming the service and the key.
    """
    from ..compose.project import ImportProblem
    from ..engine.compose_config import ComposeConfig
    from ..importer.project_files import expand_directories, import_files, project_dir, shorten

    if old_strict:
        click.echo(DEPRECATED, err=True)
    fatal = error_on_warning or old_strict
    try:
        files = expand_directories([*file_args, *file_opts])
    except ImportProblem as problem:
        raise Failure(problem.message, problem.status) from None
    base = project_dir(files, project_directory)
    try:
        found = import_files(
            files, project_directory, list(env_files), list(profiles), ComposeConfig(), group_by, fatal
        )
    except ImportProblem as problem:
        raise Failure(shorten(problem.message, base), problem.status) from None
    severity = "error" if fatal else "warning"
    for message in found.compose_warnings:
        click.echo(f"{severity}: docker compose: {shorten(message, base)}", err=True)
    for d in found.diagnostics.items:
        click.echo(f"{d.severity}: project {found.project_name}: {shorten(d.describe(), base)}", err=True)
    job = found.job
    if job is None or (fatal and found.compose_warnings):
        sys.exit(BAD_INPUT)

    text = json.dumps(job, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8", newline="\n")
    except OSError as exc:
        raise Failure(f"{output}: cannot write the job ({exc.strerror})") from None
