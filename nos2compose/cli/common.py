"""What every command shares: the Failure that ends one, reading and compiling a job, printing diagnostics.

Exit status: 0 success; 1 a difference (`convert --check`) or a problem with the
engine; 2 bad input (every problem printed on stderr, one per line, with file,
line and column). No command ever ends in a traceback.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from ..compiler import Options, Result, compile_job
from ..diagnostics import Diagnostic
from ..plan.naming import project_name
from ..source.document import Document

BAD_INPUT = 2
ENGINE_PROBLEM = 1


class Failure(click.ClickException):
    """Stops a command with a message and an exit status; no traceback."""

    def __init__(self, message: str, status: int = BAD_INPUT):
        super().__init__(message)
        self.exit_code = status

    def show(self, file=None) -> None:
        if self.message:
            click.echo(f"error: {self.message}", err=True)


def say(line: str) -> None:
    click.echo(line)


def display(job: str) -> str:
    return "<stdin>" if job == "-" else job


def read_document(job: str, fmt: str | None) -> Document:
    if job == "-":
        return Document("<stdin>", sys.stdin.read(), fmt or "json")
    path = Path(job)
    if path.is_dir():
        raise Failure(f"{job}: is a directory; give a job file (JSON or YAML)")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise Failure(f"{job}: no such file") from None
    except UnicodeDecodeError as exc:
        raise Failure(f"{job}: not UTF-8 text (byte {exc.start}); a job file is JSON or YAML") from None
    except OSError as exc:
        raise Failure(f"{job}: cannot read it ({exc.strerror})") from None
    guessed = "yaml" if path.suffix.lower() in (".yaml", ".yml") else "json"
    return Document(job, text, fmt or guessed)


def project_of(job: str, name: str | None) -> str:
    """The Compose project name (the local job id): --name, else the job file's name; never reads the file."""
    if name is not None:
        normalized = project_name(name)
        if normalized != name:
            raise Failure(f"--name: '{name}' is not a valid Compose project name (lowercase letters, digits, '-' and "
                          f"'_', starting with a letter or digit); try --name {normalized}")
        return name
    if job == "-":
        return "job"
    path = Path(job)
    if path.is_dir():
        from ..runtime.session import directory_project

        found = directory_project(path)
        if found:
            return found
    stem = path.name
    for suffix in (".json", ".yaml", ".yml"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
    return project_name(stem)


def compile_file(job: str, fmt: str | None, name: str | None, strict: bool, error_on_warning: bool, to_run: bool,
                 quiet: bool = False, extra: dict | None = None) -> tuple[Result, Document]:
    """Read and compile JOB, printing its diagnostics (only errors when quiet); Failure on errors."""
    project = project_of(job, name)
    doc = read_document(job, fmt)
    data, syntax_error = doc.parse()
    if syntax_error is not None:
        print_diagnostics(doc, [syntax_error])
        raise Failure("", BAD_INPUT)
    source = "stdin" if job == "-" else Path(job).name
    result = compile_job(data, Options(name=project, source=source, strict=strict, to_run=to_run, **(extra or {})))
    result.meta = data.get("meta") if isinstance(data, dict) else None
    print_diagnostics(doc, result.diagnostics.errors if quiet else result.diagnostics.items)
    if result.diagnostics.has_errors() or result.job is None:
        count = len(result.diagnostics.errors)
        raise Failure(f"{doc.name}: {count} error{'s' * (count != 1)}; nothing was written" if count else "")
    if error_on_warning and result.diagnostics.warnings:
        count = len(result.diagnostics.warnings)
        raise Failure(f"{doc.name}: {count} warning{'s' * (count != 1)}, and --error-on-warning makes them fatal")
    return result, doc


def print_diagnostics(doc: Document, diags: list[Diagnostic]) -> None:
    """One line per diagnostic, in the order they stand in the file."""
    placed = sorted(((d.position or doc.position(d.path), n, d) for n, d in enumerate(diags)), key=lambda t: (t[0], t[1]))
    for (line, col), _, d in placed:
        click.echo(f"{d.severity}: {doc.name}:{line}:{col}: {d.describe()}", err=True)
