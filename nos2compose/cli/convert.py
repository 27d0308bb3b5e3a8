"""`convert`, `validate`, `schema`: the compiler's commands (no engine, nothing heavy imported)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .common import Failure, compile_file, display
from .options import health_options, job_options, probe_options

EPILOG_CONVERT = """\b
Examples:
  nos2compose convert job.json > compose.yaml
  docker compose -f compose.yaml up
  nos2compose convert job.json -o compose/          # one file per group
  nos2compose convert job.json -o compose/ --check  # in CI: exit 1 if compose/ is stale
"""


@click.command(epilog=EPILOG_CONVERT)
@job_options
@health_options
@click.option(
    "-o",
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write one Compose file per execution group into this directory (NN-GROUP.yaml, in group order).",
)
@click.option(
    "--check",
    is_flag=True,
    help="With -o: write nothing; exit 0 if the directory already matches the job, else 1 with a unified diff.",
)
def convert(
    job: str,
    fmt: str | None,
    name: str | None,
    strict: bool,
    error_on_warning: bool,
    out_dir: Path | None,
    check: bool,
    **health,
) -> None:
    """Convert JOB (a file, or - for standard input) to Docker Compose.

    Without -o, the whole job is written to standard output as one Compose file,
    in which later groups wait for earlier ones through depends_on. With -o, each
    group that runs something gets its own file, for `nos2compose up` or for
    `docker compose -f FILE up` in file-name order.
    """
    if check and out_dir is None:
        raise click.UsageError("--check compares a directory of group files: give it with -o DIR.")
    result, _ = compile_file(job, fmt, name, strict, error_on_warning, to_run=True, extra=probe_options(health))
    if not result.job.run_ops:
        raise Failure(
            f"{display(job)}: the job has no container/run ops, so there is nothing to convert"
            " (a confidential job gets its ops from its logistics endpoint when it runs on Nosana)"
        )
    from ..output import check_dir, write_dir

    if out_dir is None:
        sys.stdout.write(result.single_file())
    elif check:
        status = check_dir(out_dir, result.group_files(), click.echo)
        sys.exit(status)
    else:
        from ..output import OutputError

        try:
            for line in write_dir(out_dir, result.group_files()):
                click.echo(line, err=True)
        except OutputError as exc:
            raise Failure(str(exc)) from None


@click.command()
@job_options
def validate(job: str, fmt: str | None, name: str | None, strict: bool, error_on_warning: bool) -> None:
    """Check JOB without converting it: every error and warning, with its line and JSON path.

    Exit 0 when the job is valid (warnings say where a local run differs from a
    Nosana node), 2 when it is not.
    """
    result, _ = compile_file(job, fmt, name, strict, error_on_warning, to_run=False)
    run_ops = len(result.job.run_ops)
    if run_ops == 0:
        click.echo(
            f"{display(job)}: valid; it has no container/run ops, so there is nothing to run locally"
            " (a confidential job gets its ops from its logistics endpoint on Nosana)",
            err=True,
        )
    else:
        groups = len({op.group for op in result.job.run_ops})
        click.echo(
            f"{display(job)}: valid ({run_ops} op{'s' * (run_ops != 1)} in {groups} group{'s' * (groups != 1)})",
            err=True,
        )


@click.command()
def schema() -> None:
    """Print the JSON Schema of Nosana job definitions (for editors and other tools).

    It describes what Nosana's strict validator accepts. Point your editor at it,
    e.g. in VS Code: "json.schemas": [{"fileMatch": ["*job*.json"], "url": "./job.schema.json"}].
    """
    sys.stdout.write((Path(__file__).parent.parent / "schema" / "job.schema.json").read_text(encoding="utf-8"))
