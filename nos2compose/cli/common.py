"""What every command shares: the Failure that ends one (failure.py), reading and compiling a job.

Exit status: 0 success; 1 a difference (`convert --check`) or a problem with the
engine; 2 bad input (every problem printed on stderr, one per line, with file,
line and column). No command ever ends in a traceback.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..compose.naming import project_name
from ..source.printable import printable
from .failure import BAD_INPUT, Failure

if TYPE_CHECKING:
    from ..compiler import Result
    from ..source.document import Document
    from .findings import Reporter

ENGINE_PROBLEM = 1  # exit status for a problem with the engine (BAD_INPUT, 2: failure.py)


def say(line: str) -> None:
    click.echo(line)


def display(job: str) -> str:
    """The job file's name as messages show it: one line, whatever bytes the name holds."""
    return "<stdin>" if job == "-" else printable(file_name_text(job))


def file_name_text(name: str) -> str:
    """A file name as text any file can hold: os.fsdecode leaves each byte of a name that is not UTF-8 as a
    lone surrogate, which no YAML (and no UTF-8) can hold, so those bytes are written as \\xNN instead."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        pass
    try:
        return os.fsencode(name).decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate no file system decoding makes (library use)
        return name.encode("utf-8", "backslashreplace").decode("utf-8")


def out_of_memory(job: str, doing: str = "converting") -> Failure:
    """What ends a command that ran out of memory (a job whose literals expand far beyond its size): bad
    input, exit 2. Raise it after the `except MemoryError:` block, so the traceback and what it holds are freed
    first."""
    from ..load.limits import DEFAULT_OUTPUT_LIMIT, OUTPUT_LIMIT_ENV

    return Failure(
        f"{display(job)}: ran out of memory while {doing} it (the job expands to far more than its own size); "
        f"set {OUTPUT_LIMIT_ENV} below its default {DEFAULT_OUTPUT_LIMIT >> 20} MiB so such a job stops early, "
        "or give it more memory"
    )


def written(doc: Document, job: str, write):
    """write()'s text (the Compose files): the writer stops at the output limit as the text grows, which is one
    located error, exit 2, as a job that runs out of memory on the way is; nothing is written then."""
    from ..diagnostics import Diagnostic
    from ..load.limits import TooLarge
    from .findings import print_diagnostics

    try:
        return write()
    except TooLarge as big:
        print_diagnostics(doc, [Diagnostic("error", big.path or (), big.message)])
        raise Failure(f"{doc.name}: 1 error; nothing was written") from None
    except MemoryError:
        pass
    raise out_of_memory(job)


def read_document(job: str, fmt: str | None) -> Document:
    """The job's text, read within the input limit and decoded as UTF-8 whatever the locale."""
    from ..source.reader import SourceError, read_source

    try:
        return read_source("<stdin>", sys.stdin, fmt) if job == "-" else read_source(display(job), job, fmt)
    except SourceError as exc:
        raise Failure(str(exc)) from None


def project_of(job: str, name: str | None) -> str:
    """The Compose project name (the local job id): --name, else the job file's name; never reads the file."""
    if name is not None:
        normalized = project_name(name)
        if normalized != name:
            raise Failure(
                f"--name: '{name}' is not a valid Compose project name (lowercase letters, digits, '-' and "
                f"'_', starting with a letter or digit); try --name {normalized}"
            )
        return name
    if job == "-":
        return "job"
    path = Path(job)
    if path.is_dir():
        from ..supervisor.session import directory_project

        found = directory_project(path)
        if found:
            return found
    stem = path.name
    for suffix in (".json", ".yaml", ".yml"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
    return project_name(stem)


def compile_file(
    job: str,
    fmt: str | None,
    name: str | None,
    strict: bool,
    error_on_warning: bool,
    to_run: bool,
    quiet: bool = False,
    extra: dict | None = None,
    reporter: Reporter | None = None,
) -> tuple[Result, Document]:
    """Read and compile JOB, reporting its diagnostics (only errors when quiet; lints, selection and format as
    `reporter` says, by default text lines without lints); Failure on errors."""
    from ..compiler import Options, compile_job
    from .findings import Reporter

    reporter = reporter or Reporter()
    project = project_of(job, name)
    doc = read_document(job, fmt)
    data, syntax_error = doc.parse()
    if syntax_error is not None:
        reporter.show(doc, [syntax_error, *reporter.selected(job, doc.warnings)])
        raise Failure("", BAD_INPUT)
    source = "stdin" if job == "-" else file_name_text(Path(job).name)  # recorded in the files: never a surrogate
    options = Options(name=project, source=source, strict=strict, to_run=to_run, **(extra or {}))
    try:
        result: Result | None = compile_job(data, options)
    except MemoryError:
        result = None
    if result is None:
        raise out_of_memory(job, "converting" if to_run else "checking")
    result.meta = data.get("meta") if isinstance(data, dict) else None
    errors, warnings = reporter.findings(job, doc, data, result)  # the file's own (BOM, ...), the job's, the lints'
    counts = result.diagnostics.counts
    not_kept = counts["warning"] - len(result.diagnostics.warnings)  # counted only (diagnostics.KEEP)
    reporter.show(
        doc, errors + ([] if quiet else warnings), counts["error"] + (0 if quiet else len(warnings) + not_kept)
    )
    if result.diagnostics.has_errors() or result.job is None:
        count = counts["error"]
        written = "; nothing was written" if to_run else ""  # validate never writes
        raise Failure(f"{doc.name}: {count} error{'s' * (count != 1)}{written}" if count else "")
    if error_on_warning and warnings:
        count = len(warnings) + not_kept
        raise Failure(f"{doc.name}: {count} warning{'s' * (count != 1)}, and --error-on-warning makes them fatal")
    return result, doc
