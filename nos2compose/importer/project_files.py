"""`import` as a library function: Compose project files in, a job definition and its diagnostics out.

Compose reads the files (compose/project.py, through the runner the engine boundary gives); the pure
mapping (mapping.py) turns Compose's model into a job. The CLI (cli/importing.py) only prints.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from ..compose import codec
from ..compose.project import ConfigRunner, ImportProblem, load_project
from ..diagnostics import Diagnostics


class Imported(NamedTuple):
    job: dict | None  # None when the project gives no job (every problem is in diagnostics)
    diagnostics: Diagnostics
    compose_warnings: list[str]  # Compose's own warnings, one message each
    project_name: str


def import_files(
    files: list[str],
    project_directory: str | None,
    env_files: list[str],
    profiles: list[str],
    run: ConfigRunner,
    group_by: str = "dependencies",
    error_on_warning: bool = False,
) -> Imported:
    """The job a Compose project stands for (`files` as expand_directories gives them). Raises ImportProblem
    when Compose cannot give a project."""
    from .mapping import job_from_project  # loaded when `import` runs, not on every command's start

    compose_warnings: list[str] = []
    project = load_project(files, project_directory, env_files, profiles, run, on_warning=compose_warnings.append)
    job, diags = job_from_project(project, group_by=group_by, error_on_warning=error_on_warning)
    return Imported(job, diags, compose_warnings, str(project.get("name", "?")))


def expand_directories(files: list[str]) -> list[str]:
    """A directory `convert -o` wrote stands for its group files in name order (which is group order),
    each followed by its NN-GROUP.override.yaml where there is one, as `nos2compose up DIR` runs them."""
    out = []
    for f in files:
        path = Path(f)
        if f == "-" or not path.is_dir():
            out.append(f)
            continue
        found = []
        for candidate in sorted(path.glob("*.y*ml")):
            try:
                text = candidate.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if not codec.is_group_file(candidate, text):
                continue
            found.append(str(candidate))
            if codec.override_of(candidate).is_file():
                found.append(str(codec.override_of(candidate)))
        if not found:
            raise ImportProblem(
                f"{f}: a directory without the group files `nos2compose convert -o` writes "
                "(NN-GROUP.yaml with an x-nos2compose block); name the Compose files instead"
            )
        out.extend(found)
    return out


def project_dir(files: list[str], project_directory: str | None) -> Path:
    """Where Compose resolves relative paths: --project-directory, else the first file's directory, else here."""
    if project_directory:
        return Path(project_directory).resolve()
    if files and files[0] != "-":
        return Path(files[0]).resolve().parent
    return Path.cwd()


def shorten(text: str, base: Path) -> str:
    """Host paths under the project's directory, written relative to it (./models)."""
    if base == Path(base.anchor):
        return text
    return text.replace(str(base) + os.sep, "./")
