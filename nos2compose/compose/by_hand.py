"""What a person needs to run one generated file with plain `docker compose`, for its header comment.

The recipe does what `nos2compose up` does for a group, in Compose's own commands, chosen for how
Compose 2.40 behaves: `up -d --wait` fails once a one-shot task it waits for has exited (even with
exit 0), and `compose wait` sees only containers still running (it fails with "no containers" when
the tasks are already done, and returns the exit code of whichever ended last). So services come up
with `up -d --wait SERVICES`, and tasks run in the foreground with `up TASKS`, which returns once
they have exited and leaves the services running.
"""

from __future__ import annotations

from ..model import RunOp
from . import contract as c
from .codec import FileMeta
from .layout import Layout

WIDTH = 100  # lists wrap here: a header line stays far below 200 characters
INDENT = "  "


def is_service(op: RunOp) -> bool:
    """Whether the op keeps running (a server: health checks or ports) rather than ending (a task)."""
    return op.has_health_checks or bool(op.expose) or bool(op.expose_from)


def group_recipe(file: str, order: int, ops: list[RunOp], layout: Layout) -> list[str]:
    """The commands that bring up one group file, services first, each with what it waits for."""
    services = [name for op in ops if is_service(op) for name in _with_probe(op, layout)]
    waited = _tasks_waited_for(ops)  # started by the first command: a second `up` would run them again
    tasks = [layout.services[op.id] for op in ops if not is_service(op) and op.id not in waited]
    after = ", after the files before it" if order else ""
    lines = [f"By hand, in this directory{after} (`nos2compose up DIR` does all of this for you):"]
    if services:
        note = "returns once healthy (running, without checks)"
        lines += _command(["docker", "compose", "-f", file, "up", "-d", "--wait"], services, note)
        if waited:  # Compose waits for what they depend on too, and counts a task that has exited as failed
            names = [layout.services[op.id] for op in ops if op.id in waited]
            lines += _wrapped(
                f"{INDENT}# it also runs the tasks they depend on, then exits 1 saying they exited:", names
            )
    if tasks:
        note = "in the foreground: returns once these tasks have exited"
        lines += _command(["docker", "compose", "-f", file, "up"], tasks, note)
    override = file.removesuffix(".yaml") + c.OVERRIDE_SUFFIX
    lines.append(f"With your edits: -f {file} -f {override} in each command.")
    return lines


def _tasks_waited_for(ops: list[RunOp]) -> set[str]:
    """Ids of the group's tasks that its services depend on, directly or through other ops of the group."""
    by_id = {op.id: op for op in ops}
    seen: set[str] = set()
    todo = [op.id for op in ops if is_service(op)]
    while todo:
        for dep in by_id[todo.pop()].depends_on:
            if dep in by_id and dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return {op_id for op_id in seen if not is_service(by_id[op_id])}


def single_file_recipe() -> list[str]:
    """The single file: Compose's own defaults pick it up, with the user's override, by their names."""
    return [
        "By hand: save it as compose.yaml and run `docker compose up -d` beside it (groups start in order);",
        "Compose merges your edits from a compose.override.yaml there by itself (not when given -f).",
    ]


def variable_lines(meta: FileMeta) -> list[str]:
    """The generated variables the file references (names only): results of earlier ops, credentials."""
    results, secrets = list(meta.runtime), list(meta.secrets)
    if not results and not secrets:
        return []
    lines = ["Set these variables first (`nos2compose up` sets them; plain Compose stops and names a missing one):"]
    if results:
        lines += _wrapped(f"{INDENT}results of earlier ops ({c.EXTENSION}.{c.RUNTIME_KEY}):", results)
    if secrets:
        lines += _wrapped(f"{INDENT}credentials ({c.EXTENSION}.{c.SECRETS_KEY}):", secrets)
    return lines


def _with_probe(op: RunOp, layout: Layout) -> list[str]:
    service = layout.services[op.id]
    return [service, layout.probes[op.id]] if op.id in layout.probes else [service]


def _command(words: list[str], names: list[str], note: str) -> list[str]:
    """A shell command, wrapped with `\\` continuations, its note as a trailing comment."""
    if any(n.startswith("-") for n in names):  # a name Compose would read as an option
        names = ["--", *names]
    lines = _wrapped(INDENT + " ".join(words), names, continuation=" \\")
    lines[-1] += f"  # {note}"
    return lines


def _wrapped(head: str, words: list[str], continuation: str = "") -> list[str]:
    lines, line = [], head
    for word in words:
        if len(line) + 1 + len(word) > WIDTH and line.strip() != head.strip():
            lines.append(line + continuation)
            line = INDENT * 2 + word
        else:
            line += " " + word
    return [*lines, line]
