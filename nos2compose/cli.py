"""The `nos2compose` command: reads files, calls the compiler, prints what it says.

Exit status: 0 success; 1 `convert --check` found a difference; 2 bad input
(every problem printed on stderr, one per line, with file, line and column).
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from .compiler import Options, Result, compile_job
from .diagnostics import Diagnostic
from .plan.naming import project_name
from .source.document import Document

BAD_INPUT = 2

EPILOG_CONVERT = """\b
Examples:
  nos2compose convert job.json > compose.yaml
  docker compose -f compose.yaml up
  nos2compose convert job.json -o compose/          # one file per group
  nos2compose convert job.json -o compose/ --check  # in CI: exit 1 if compose/ is stale
"""


class Failure(click.ClickException):
    """Stops a command with a message and an exit status; no traceback."""

    def __init__(self, message: str, status: int = BAD_INPUT):
        super().__init__(message)
        self.exit_code = status

    def show(self, file=None) -> None:
        if self.message:
            click.echo(f"error: {self.message}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="nos2compose")
def main() -> None:
    """Turn Nosana job definitions into Docker Compose files, and run them locally.

    A job is the JSON (or YAML) file you post to Nosana. Its ops become Compose
    services named after the op ids; its execution groups run in order. Ports are
    published on 127.0.0.1 only. Run `nos2compose COMMAND --help` for details.
    """


def job_options(func):
    """The options every command that reads a job shares."""
    options = [
        click.argument("job", type=str),
        click.option("--format", "fmt", type=click.Choice(["json", "yaml"]), default=None,
                     help="Input format. Default: by file name (.yaml/.yml is YAML, else JSON); JSON for standard input."),
        click.option("--name", default=None, metavar="NAME",
                     help="Compose project name (the local job id). Default: the job file's name, normalized; 'job' for standard input."),
        click.option("--strict", is_flag=True,
                     help="Reject what Nosana's own validator rejects (unknown keys, ops without their own image, "
                          "health checks without 'continuous', old fields, a version other than \"0.1\")."),
        click.option("--error-on-warning", is_flag=True, help="Treat every warning as an error (exit 2)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


DURATION = r"^(\d+(\.\d+)?(ms|s|m|h))+$"


def _duration(_ctx, param, value):
    import re

    if value is not None and not re.match(DURATION, value):
        raise click.BadParameter(f"'{value}' is not a duration such as 1s, 500ms, 2m or 1h30m", param=param)
    return value


def _resource_dirs(_ctx, param, values):
    out = []
    for value in values:
        target, eq, directory = value.partition("=")
        if not eq or not target.startswith("/") or not directory:
            raise click.BadParameter(f"'{value}' is not TARGET=DIR (TARGET: the resource's absolute target in the container)", param=param)
        out.append((target, directory))
    return tuple(out)


def health_options(func):
    """How health checks are probed and timed (convert and up share them)."""
    options = [
        click.option("--health-probe", type=click.Choice(["container", "sidecar"]), default="container", show_default=True,
                     help="Run each op's health checks inside its own container (needs sh plus curl, wget, python3 or bash "
                          "in the image), or from a small sidecar service that probes it over the job's network, as a "
                          "Nosana node does (for images with no shell, e.g. distroless)."),
        click.option("--probe-image", default="curlimages/curl:8.11.1", show_default=True, metavar="IMAGE",
                     help="The sidecar's image (--health-probe sidecar): any image with sh and curl."),
        click.option("--health-interval", default="1s", show_default=True, callback=_duration, metavar="DURATION",
                     help="How often Docker probes (short, so a service that turns healthy is noticed within about 2 s)."),
        click.option("--health-timeout", default="10s", show_default=True, callback=_duration, metavar="DURATION",
                     help="How long one probe may take."),
        click.option("--health-retries", type=click.IntRange(min=1), default=3, show_default=True, metavar="N",
                     help="Failures in a row, after start-up, that make a service unhealthy."),
        click.option("--health-start-period", default="1h", show_default=True, callback=_duration, metavar="DURATION",
                     help="Start-up time during which failures do not count (the node keeps probing without limit)."),
        click.option("--fetch-image", default="python:3.12-alpine", show_default=True, metavar="IMAGE",
                     help="Image that fetches S3 and Hugging Face resources (any image with python3)."),
        click.option("--ollama-image", default=None, metavar="IMAGE",
                     help="Image that pulls Ollama models (default: the op's own image, which runs Ollama)."),
        click.option("--resource-dir", "resource_dirs", multiple=True, callback=_resource_dirs, metavar="TARGET=DIR",
                     help="Mount DIR, which already holds a resource, at TARGET instead of fetching it (repeatable)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def probe_options(kw: dict) -> dict:
    """The compiler options the health flags stand for (pops them from a command's keyword arguments)."""
    from .plan import HealthTiming

    return {
        "fetch_image": kw.pop("fetch_image"),
        "ollama_image": kw.pop("ollama_image"),
        "resource_dirs": kw.pop("resource_dirs"),
        "health_probe": kw.pop("health_probe"),
        "probe_image": kw.pop("probe_image"),
        "timing": HealthTiming(kw.pop("health_interval"), kw.pop("health_timeout"), kw.pop("health_retries"),
                               kw.pop("health_start_period")),
    }


@main.command(epilog=EPILOG_CONVERT)
@job_options
@health_options
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write one Compose file per execution group into this directory (NN-GROUP.yaml, in group order).")
@click.option("--check", is_flag=True,
              help="With -o: write nothing; exit 0 if the directory already matches the job, else 1 with a unified diff.")
def convert(job: str, fmt: str | None, name: str | None, strict: bool, error_on_warning: bool,
            out_dir: Path | None, check: bool, **health) -> None:
    """Convert JOB (a file, or - for standard input) to Docker Compose.

    Without -o, the whole job is written to standard output as one Compose file,
    in which later groups wait for earlier ones through depends_on. With -o, each
    group that runs something gets its own file, for `nos2compose up` or for
    `docker compose -f FILE up` in file-name order.
    """
    if check and out_dir is None:
        raise click.UsageError("--check compares a directory of group files: give it with -o DIR.")
    result = _compile(job, fmt, name, strict, error_on_warning, to_run=True, extra=probe_options(health))
    if not result.job.run_ops:
        raise Failure(f"{_display(job)}: the job has no container/run ops, so there is nothing to convert"
                      " (a confidential job gets its ops from its logistics endpoint when it runs on Nosana)")
    from .output import check_dir, write_dir

    if out_dir is None:
        sys.stdout.write(result.single_file())
    elif check:
        status = check_dir(out_dir, result.group_files(), click.echo)
        sys.exit(status)
    else:
        from .output import OutputError

        try:
            for line in write_dir(out_dir, result.group_files()):
                click.echo(line, err=True)
        except OutputError as exc:
            raise Failure(str(exc))


@main.command()
@job_options
def validate(job: str, fmt: str | None, name: str | None, strict: bool, error_on_warning: bool) -> None:
    """Check JOB without converting it: every error and warning, with its line and JSON path.

    Exit 0 when the job is valid (warnings say where a local run differs from a
    Nosana node), 2 when it is not.
    """
    result = _compile(job, fmt, name, strict, error_on_warning, to_run=False)
    run_ops = len(result.job.run_ops)
    if run_ops == 0:
        click.echo(f"{_display(job)}: valid; it has no container/run ops, so there is nothing to run locally"
                   " (a confidential job gets its ops from its logistics endpoint on Nosana)", err=True)
    else:
        groups = len({op.group for op in result.job.run_ops})
        click.echo(f"{_display(job)}: valid ({run_ops} op{'s' * (run_ops != 1)} in {groups} group{'s' * (groups != 1)})", err=True)


@main.command()
def schema() -> None:
    """Print the JSON Schema of Nosana job definitions (for editors and other tools).

    It describes what Nosana's strict validator accepts. Point your editor at it,
    e.g. in VS Code: "json.schemas": [{"fileMatch": ["*job*.json"], "url": "./job.schema.json"}].
    """
    sys.stdout.write((Path(__file__).parent / "schema" / "job.schema.json").read_text(encoding="utf-8"))


def _display(job: str) -> str:
    return "<stdin>" if job == "-" else job


def _read(job: str, fmt: str | None) -> Document:
    if job == "-":
        text = sys.stdin.read()
        return Document("<stdin>", text, fmt or "json")
    path = Path(job)
    if path.is_dir():
        raise Failure(f"{job}: is a directory; give a job file (JSON or YAML)")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise Failure(f"{job}: no such file")
    except UnicodeDecodeError as exc:
        raise Failure(f"{job}: not UTF-8 text (byte {exc.start}); a job file is JSON or YAML")
    except OSError as exc:
        raise Failure(f"{job}: cannot read it ({exc.strerror})")
    guessed = "yaml" if path.suffix.lower() in (".yaml", ".yml") else "json"
    return Document(job, text, fmt or guessed)


def _project(job: str, name: str | None) -> str:
    if name is not None:
        normalized = project_name(name)
        if normalized != name:
            raise click.BadParameter(f"'{name}' is not a valid Compose project name (lowercase letters, digits, '-' and '_'); "
                                     f"try --name {normalized}", param_hint="--name")
        return name
    if job == "-":
        return "job"
    stem = Path(job).name
    for suffix in (".json", ".yaml", ".yml"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
    return project_name(stem)


def _compile(job: str, fmt: str | None, name: str | None, strict: bool, error_on_warning: bool, to_run: bool,
             quiet: bool = False, extra: dict | None = None) -> Result:
    """Read and compile JOB, printing its diagnostics (only errors when quiet); Failure on errors."""
    project = _project(job, name)
    doc = _read(job, fmt)
    data, syntax_error = doc.parse()
    if syntax_error is not None:
        _print(doc, [syntax_error])
        raise Failure("", BAD_INPUT)
    source = "stdin" if job == "-" else Path(job).name
    result = compile_job(data, Options(name=project, source=source, strict=strict, to_run=to_run, **(extra or {})))
    result.meta = data.get("meta") if isinstance(data, dict) else None
    _print(doc, result.diagnostics.errors if quiet else result.diagnostics.items)
    if result.diagnostics.has_errors() or result.job is None:
        count = len(result.diagnostics.errors)
        raise Failure(f"{doc.name}: {count} error{'s' * (count != 1)}; nothing was written" if count else "")
    if error_on_warning and result.diagnostics.warnings:
        count = len(result.diagnostics.warnings)
        raise Failure(f"{doc.name}: {count} warning{'s' * (count != 1)}, and --error-on-warning makes them fatal")
    return result


def _print(doc: Document, diags: list[Diagnostic]) -> None:
    """One line per diagnostic, in the order they stand in the file."""
    placed = sorted(((d.position or doc.position(d.path), n, d) for n, d in enumerate(diags)), key=lambda t: (t[0], t[1]))
    for (line, col), _, d in placed:
        click.echo(f"{d.severity}: {doc.name}:{line}:{col}: {d.describe()}", err=True)


from . import run_commands  # noqa: E402,F401  (registers up, ps, logs, stop, restart, down)
