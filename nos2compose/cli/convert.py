"""`convert`, `validate`, `schema`: the compiler's commands (no engine, nothing heavy imported)."""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

import click

from .common import Failure, compile_file, display, written
from .findings import DOCUMENTS
from .options import health_options, job_options, jobs_options, lint_options, probe_options, reporter_from

EPILOG_CONVERT = """\b
Examples:
  nos2compose convert job.json > compose.yaml
  docker compose -f compose.yaml up
  nos2compose convert job.json -o compose/          # one file per group
  nos2compose convert job.json -o compose/ --check  # in CI: exit 1 if compose/ is stale
  nos2compose convert job.json -o compose/ --output-format sarif > lints.sarif
"""


@click.command(epilog=EPILOG_CONVERT)
@job_options
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
    help="With -o: write nothing; exit 0 if the directory already matches the job, else 1 with a unified diff "
    "(NN-GROUP.override.yaml files are yours: never compared).",
)
@click.option(
    "--force",
    is_flag=True,
    help="With -o: replace group files edited by hand too (without it they are left as they are, exit 1).",
)
@lint_options
@health_options
def convert(
    job: str,
    fmt: str | None,
    name: str | None,
    strict: bool,
    error_on_warning: bool,
    out_dir: Path | None,
    check: bool,
    force: bool,
    **health,
) -> None:
    """Convert JOB (a file, or - for standard input) to Docker Compose.

    Without -o, the whole job is written to standard output as one Compose file,
    in which later groups wait for earlier ones through depends_on. With -o, each
    group that runs something gets its own file, for `nos2compose up` or for
    `docker compose -f FILE up` in file-name order.

    Warnings include the lints (docs/lints.md); --output-format json and sarif need -o.
    """
    if check and out_dir is None:
        raise click.UsageError("--check compares a directory of group files: give it with -o DIR.")
    reporter = _reporter(health, out_dir)
    extra = probe_options(health)
    result, doc = compile_file(job, fmt, name, strict, error_on_warning, to_run=True, extra=extra, reporter=reporter)
    if not result.job.run_ops:
        raise Failure(
            f"{display(job)}: the job has no container/run ops, so there is nothing to convert"
            " (a confidential job gets its ops from its logistics endpoint when it runs on Nosana)"
        )
    if out_dir is None:  # the text of the files: where a job that expands (literals) takes the most memory
        sys.stdout.write(written(doc, job, result.single_file))
        return
    files = written(doc, job, result.directory_files)
    command = " ".join(["nos2compose", "convert", job, "-o", str(out_dir), *(["--name", name] if name else [])])
    if check:  # the diff goes to stderr when stdout carries a document
        from ..compose.output import check_dir  # -o only

        status = check_dir(out_dir, files, partial(click.echo, err=reporter.format in DOCUMENTS), command)
        if status == 0:  # say so: silence after --check reads as "did it look at all?"
            click.echo(f"{out_dir}: up to date with {job} ({len(files)} files)", err=True)
        sys.exit(status)
    _write(out_dir, files, force, command)


def _write(out_dir: Path, files: list[tuple[str, str]], force: bool, command: str) -> None:
    """Write the group files and their scripts; a file edited by hand is left as it is, its diff printed, exit 1."""
    from ..compose.output import EditedFiles, OutputError, diff, keep_edit, write_dir  # -o only

    try:
        for line in write_dir(out_dir, files, force=force):
            click.echo(line, err=True)
    except OutputError as exc:
        raise Failure(str(exc)) from None
    except EditedFiles as edits:
        for path, now, wanted in edits.files:
            click.echo(
                f"{path}: edited by hand since nos2compose wrote it, so it is left as it is; "
                f"what the job gives instead:",
                err=True,
            )
            for line in diff(path, now, wanted):
                click.echo(line, err=True)
            click.echo(f"  {keep_edit(path)}; drop it: `{command} --force`", err=True)
        sys.exit(1)


def _reporter(health: dict, out_dir: Path | None):
    """The lint options' Reporter; json and sarif need -o, since without it stdout carries the Compose file
    (github annotations then go to stderr). Its document is written when the command ends, failed or not."""
    reporter = reporter_from(health, stderr=out_dir is None)
    if out_dir is None and reporter.format in DOCUMENTS:
        raise click.UsageError(
            f"--output-format {reporter.format} writes a document to standard output, which carries the Compose file "
            f"without -o: give -o DIR, or check the job first with `nos2compose validate --output-format "
            f"{reporter.format}`."
        )
    click.get_current_context().call_on_close(reporter.finish)
    return reporter


@click.command(
    epilog="""\b
Examples:
  nos2compose validate job.json
  nos2compose validate --strict jobs/*.json      # as Nosana's own validator, one line per problem
  nos2compose validate --select NOS2 job.json    # only the credentials in it
  nos2compose validate --output-format github jobs/*.json   # annotations in a GitHub Actions workflow
"""
)
@jobs_options
@lint_options
def validate(
    jobs: tuple[str, ...], fmt: str | None, name: str | None, strict: bool, error_on_warning: bool, **lint
) -> None:
    """Check each JOB without converting it: every error and warning, with its line and JSON path.

    Warnings include the lints: mistakes that cost GPU time on a node, credentials
    in the job (docs/lints.md). Exit 0 when every job is valid (warnings do not
    change that, unless --error-on-warning), 2 when one is not (the others are still
    checked). With --output-format json or sarif, standard output holds only that
    document, for every job; the `valid (...)` lines stay on standard error.
    """
    reporter = reporter_from(lint)
    click.get_current_context().call_on_close(reporter.finish)  # the document, also when a job is not valid
    bad = 0
    for job in jobs:
        try:
            result, doc = compile_file(job, fmt, name, strict, error_on_warning, to_run=False, reporter=reporter)
            if result.job.run_ops:  # the output limit, counted as convert's file is written
                written(doc, job, result.single_file)
        except Failure as failure:
            if len(jobs) == 1:
                raise
            failure.show()
            bad += 1
            continue
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
    if bad:
        raise Failure(f"{bad} of {len(jobs)} jobs are not valid")


@click.command(
    epilog="""\b
Examples:
  nos2compose schema > job.schema.json
  nos2compose schema | python3 -c 'import json,sys; print(sorted(json.load(sys.stdin)["properties"]))'
"""
)
def schema() -> None:
    """Print the JSON Schema of Nosana job definitions (for editors and other tools).

    It describes what Nosana's strict validator accepts. Point your editor at it,
    e.g. in VS Code: "json.schemas": [{"fileMatch": ["*job*.json"], "url": "./job.schema.json"}].
    """
    sys.stdout.write((Path(__file__).parent.parent / "schema" / "job.schema.json").read_text(encoding="utf-8"))
