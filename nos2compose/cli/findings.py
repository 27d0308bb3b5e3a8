"""Where a command's diagnostics go: the lints run, the selection applied (command line and configuration file),
credentials masked, and each written in the format asked for.

text: one line each on stderr, as they come (print_diagnostics). github: one workflow command each, on stdout
(stderr when stdout carries the Compose file: GitHub reads commands from both). json, sarif: one document for
every job of the command, on stdout, written by finish() once the last job is done, so stdout holds only it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..source.printable import printable
from .failure import Failure

if TYPE_CHECKING:
    from ..compiler import Result
    from ..diagnostics import Diagnostic
    from ..lint.config import Config
    from ..lint.formats import Located
    from ..lint.selection import Selection
    from ..source.document import Document

FORMATS = ("text", "json", "sarif", "github")
DOCUMENTS = ("json", "sarif")  # formats that are one document on stdout


class Reporter:
    """One per command run; `lint` also runs the lints and reads configuration files (validate, convert)."""

    def __init__(
        self, output_format: str = "text", lint: bool = False, selection: Selection | None = None, stderr: bool = False
    ):
        self.format = output_format
        self.lint = lint
        self.selection = selection  # the command line's (None: it said nothing)
        self.annotations_to_stderr = stderr
        self.found: list[Located] = []
        self._configs: dict[Path, tuple[Path, Config] | None] = {}

    def findings(self, job: str, doc: Document, data: Any, result: Result) -> tuple[list, list]:
        """(errors, warnings) of one job: the file's own warnings, the compiler's, the lints'; warnings narrowed
        to the selection; every message masked where it would show a credential of the job."""
        from ..lint import lint_job
        from ..lint.secrets import find_secrets

        secrets = find_secrets(data) if isinstance(data, dict) else []
        warnings = [*doc.warnings, *result.diagnostics.warnings]
        if self.lint and result.job is not None:  # a job whose top level could not be read gets its errors alone
            warnings.extend(lint_job(data, result.job, secrets))
        values = [s.value for s in secrets]
        return masked(result.diagnostics.errors, values), masked(self.selected(job, warnings), values)

    def selected(self, job: str, warnings: list[Diagnostic]) -> list[Diagnostic]:
        if not warnings:
            return warnings
        selection = self.selection_for(job)
        return [d for d in warnings if selection.enabled(d.code)]

    def selection_for(self, job: str) -> Selection:
        """The configuration file's selection for this job, then the command line's."""
        from ..lint.selection import Selection

        given = self.selection or Selection()
        found = self._config_for(Path.cwd() if job == "-" else Path(job).resolve().parent) if self.lint else None
        if found is None:
            return given
        where, config = found
        relative = "-" if job == "-" else _relative(Path(job).resolve(), where)
        return config.for_file(relative, given)

    def show(self, doc: Document, diags: list[Diagnostic], total: int | None = None) -> None:
        """Write (text, github) or keep (json, sarif) one job's diagnostics, in file order."""
        if self.format == "text":
            print_diagnostics(doc, diags, total)
            return
        from ..lint.formats import Located, as_github

        placed = sorted(((d.position or doc.position(d.path), n, d) for n, d in enumerate(diags)), key=lambda t: t[:2])
        located = [Located(doc.name, line, col, d) for (line, col), _, d in placed]
        if self.format == "github":
            for command in as_github(located):
                click.echo(command, err=self.annotations_to_stderr)
        else:
            self.found.extend(located)

    def finish(self) -> None:
        """The json or sarif document of everything shown, on stdout (nothing for text and github)."""
        if self.format not in DOCUMENTS:
            return
        from ..lint.formats import as_json, as_sarif

        if self.format == "json":
            sys.stdout.write(as_json(self.found))
        else:
            sys.stdout.write(as_sarif(self.found, _version()))
        sys.stdout.flush()

    def _config_for(self, start: Path) -> tuple[Path, Config] | None:
        """The nearest configuration file at or above `start` that has lint settings (cached per directory)."""
        from ..lint.config import FILE_NAMES, lint_table

        for directory in (start, *start.parents):
            if directory in self._configs:
                return self._configs[directory]
            for name in FILE_NAMES:
                text = _text(directory / name)
                if text is None or (name == "pyproject.toml" and "[tool.nos2compose" not in text):
                    continue  # a pyproject.toml without settings of ours is not parsed at all
                table = lint_table(_parse_toml(directory / name, text), name)
                if table is not None:
                    self._configs[directory] = found = (directory, _config(directory / name, table))
                    return found
        self._configs[start] = None
        return None


def masked(diags: list[Diagnostic], values: list[str]) -> list[Diagnostic]:
    """Diagnostics whose messages show no credential of the job (at most a short masked prefix)."""
    if not values:
        return diags
    from ..lint.secrets import mask

    return [d._replace(message=mask(d.message, values)) for d in diags]


def _text(path: Path) -> str | None:
    if not path.is_file():
        return None
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise Failure(f"{path}: cannot be read: {exc}") from None


def _parse_toml(path: Path, text: str) -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: tomli is what became tomllib
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise Failure(f"{path}: not valid TOML: {exc}") from None


def _config(path: Path, table: dict) -> Config:
    from ..lint.config import ConfigError, read_config

    try:
        return read_config(table)
    except ConfigError as exc:
        raise Failure(f"{path}: {exc}") from None


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nos2compose")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "0+unknown"


def _relative(job: Path, directory: Path) -> str:
    try:
        return job.relative_to(directory).as_posix()
    except ValueError:
        return job.as_posix()


MAX_LINES = 100  # diagnostics printed one by one; the rest are counted


def print_diagnostics(doc: Document, diags: list[Diagnostic], total: int | None = None) -> None:
    """One line per diagnostic, in the order they stand in the file: errors first when there are too many.
    `total` counts those found, some of which the compiler may only have counted (see diagnostics.KEEP)."""
    shown = sorted(diags, key=lambda d: not d.is_error)[:MAX_LINES] if len(diags) > MAX_LINES else diags
    placed = sorted(
        ((d.position or doc.position(d.path), n, d) for n, d in enumerate(shown)), key=lambda t: (t[0], t[1])
    )
    for (line, col), _, d in placed:
        click.echo(f"{d.severity}: {doc.name}:{line}:{col}: {printable(d.describe())}", err=True)
    total = len(diags) if total is None else max(total, len(diags))
    if total > len(shown):
        more = total - len(shown)
        click.echo(
            f"{doc.name}: {more} more error{'s' * (more != 1)} and warning{'s' * (more != 1)} not shown "
            f"(the first {len(shown)} are above)",
            err=True,
        )
