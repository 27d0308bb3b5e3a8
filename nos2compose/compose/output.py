"""Writing group files and the scripts they mount to a directory, and `--check`ing a directory against the job.

Only files nos2compose wrote (they start with its header; a script, after its #! line) are ever replaced
or removed; anything else in the directory, the user's NN-GROUP.override.yaml files among them, is left
alone and never compared. Each file ends with a line holding the checksum of what was written, so a file
edited by hand since is recognized: it is left as it is (unless --force), and the diff says what the edit
changed against what the job gives now.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from pathlib import Path

from .contract import HEADER, OVERRIDE_SUFFIX, SCRIPT_FILES

_STAMP = re.compile(r"^# [^\n]*\(sha256 (?P<digest>[0-9a-f]{16})\)\n\Z", re.M)
_SCRIPT_CONFIGS = {file: config for config, file in SCRIPT_FILES.items()}  # script file name -> its config


def override_name(name: str) -> str:
    return name[: -len(".yaml")] + OVERRIDE_SUFFIX if name.endswith(".yaml") else name + OVERRIDE_SUFFIX


def _digest(text: str) -> str:
    import hashlib  # here, not on the path of a convert to standard output

    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def is_script(name: str) -> bool:
    """Whether a file `convert -o` writes is one of the scripts the group files mount (else a group file)."""
    return name in _SCRIPT_CONFIGS


def stamp(name: str, text: str) -> str:
    """The file as written: the text, then the line that says where edits go, with its checksum."""
    digest = _digest(text)
    if is_script(name):
        where = "# `nos2compose convert -o` replaces this file unless it was edited by hand"
    else:
        where = f"# Edit {override_name(name)}, not this file: `nos2compose convert -o` replaces it"
    return f"{text}{where} (sha256 {digest})\n"


def keep_edit(path: Path) -> str:
    """How to keep a hand edit of a file `convert -o` wrote, so that the file itself can be regenerated."""
    if is_script(path.name):
        return (
            f"to keep the edit, copy it under another name and set `configs: {_SCRIPT_CONFIGS[path.name]}: file:` "
            "to that name in the group files' override files (up and docker compose -f FILE -f OVERRIDE apply them)"
        )
    override = path.with_name(override_name(path.name))
    return f"move the edit into {override} (up and docker compose -f FILE -f OVERRIDE apply it)"


def edited(text: str) -> bool:
    """Whether a file was changed since nos2compose wrote it (one without the stamp line: no)."""
    found = _STAMP.search(text)
    if found is None:
        return False
    body = text[: found.start()]
    return _digest(body) != found["digest"]


def _ours(text: str) -> bool:
    return text.startswith(HEADER) or (text.startswith("#!") and text.partition("\n")[2].startswith(HEADER))


def _generated(directory: Path) -> dict[str, str]:
    """name -> text of the files in `directory` that nos2compose wrote: group files and their scripts."""
    found = {}
    if directory.is_dir():
        for path in sorted(directory.iterdir()):
            if not (is_script(path.name) or (path.suffix == ".yaml" and not path.name.endswith(OVERRIDE_SUFFIX))):
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if _ours(text):
                found[path.name] = text
    return found


class OutputError(Exception):
    """The directory cannot take the group files; the message says why and what to do."""


class EditedFiles(Exception):
    """Group files edited by hand: left as they are. `files` holds (path, text now, what the job gives)."""

    def __init__(self, files: list[tuple[Path, str, str]]):
        super().__init__(", ".join(str(p) for p, _, _ in files))
        self.files = files


def write_dir(directory: Path, files: list[tuple[str, str]], force: bool = False) -> list[str]:
    """Write the group files and their scripts, remove stale ones from an earlier convert; returns what it did,
    line by line.

    A file nos2compose did not write is never replaced: OutputError names it. A file edited by hand is
    left as it is, unless `force`: EditedFiles names it, after every other file is written.
    """
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{directory}: cannot create the directory ({exc.strerror})") from None
    old = _generated(directory)
    for name, _ in files:
        if (directory / name).exists() and name not in old:
            raise OutputError(
                f"{directory / name} exists and was not written by nos2compose; move it away, or choose another -o"
            )
    report, kept = [], []
    wanted = {name: stamp(name, text) for name, text in files}
    for name in old:
        if name not in wanted:
            if edited(old[name]) and not force:
                kept.append((directory / name, old[name], ""))
                continue
            (directory / name).unlink()
            why = "no group file mounts it any more" if is_script(name) else "no such group any more"
            report.append(f"removed {directory / name} ({why})")
    for name, text in wanted.items():
        target = directory / name
        if old.get(name) == text:
            report.append(f"unchanged {target}")
            continue
        if name in old and edited(old[name]) and not force:
            kept.append((target, old[name], text))
            continue
        try:
            target.write_text(text, encoding="utf-8", newline="\n")
        except OSError as exc:
            raise OutputError(f"{target}: cannot write it ({exc.strerror})") from None
        report.append(f"wrote {target}")
    if kept:
        raise EditedFiles(kept)
    return report


def diff(path: Path, now: str, wanted: str) -> list[str]:
    """The unified diff from a file as it is to what the job gives (removed when there is nothing)."""
    lines = difflib.unified_diff(
        now.splitlines(keepends=True),
        wanted.splitlines(keepends=True),
        fromfile=str(path) if now else "/dev/null",
        tofile=f"{path} (from the job)" if wanted else "/dev/null",
    )
    return [line.rstrip("\n") for line in lines]


def check_dir(directory: Path, files: list[tuple[str, str]], echo: Callable[[str], None], regenerate: str = "") -> int:
    """0 when `directory` holds exactly these generated files, byte for byte; else 1 and a unified diff.

    `regenerate` is the command that writes them. A difference is told apart as a hand edit (the file's
    checksum stamp no longer matches: keep it in the override file, or drop it with --force) or a change
    in the job (regenerate); each hint is a command that works as printed. Override files are not compared."""
    regenerate = regenerate or f"nos2compose convert JOB -o {directory}"
    if not directory.is_dir():
        echo(f"{directory}: no such directory; run `{regenerate}` to create it")
        return 1
    have = _generated(directory)
    want = {name: stamp(name, text) for name, text in files}
    stale, by_hand = [], []
    for name in sorted(set(have) | set(want)):
        old, new = have.get(name, ""), want.get(name, "")
        if old != new:
            (by_hand if old and edited(old) else stale).append(name)
            for line in diff(directory / name, old, new):
                echo(line)
    for name in by_hand:
        echo(
            f"{directory / name} was edited by hand: {keep_edit(directory / name)}, "
            f"then replace the file with `{regenerate} --force`"
        )
    if stale:
        again = f"{regenerate} --force" if by_hand else regenerate
        echo(f"{directory} is out of date with the job; regenerate with `{again}`")
    return 1 if stale or by_hand else 0
