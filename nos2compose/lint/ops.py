"""What an op says about itself: its id (NOS102) and the command it runs (NOS101)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ..diagnostics import Diagnostic
from .walk import LITERAL_MARK, RawOp, finding, quoted, run_ops, section

SHELL_FLAGS = ("-c", "-lc", "-ec", "-ic", "/c")  # an entrypoint ending so takes cmd's first item as a script


def op_ids(data: Any) -> Iterator[Diagnostic]:
    """NOS102 for dots: literals cannot reach such an op, and newer validators refuse it. Spaces are the compiler's
    own NOS102 (a strict rule since 2.1.6 refuses them already), so they are not repeated here."""
    for op in run_ops(data):
        if op.id is None or "." not in op.id:
            continue
        head = op.id.split(".")[0]
        yield finding(
            "NOS102",
            (*op.path, "id"),
            f"op id '{op.id}' has a dot: newer @nosana/types validators (Nosana's kit, the template repository's "
            f"checks) refuse it, and no literal can name this op (%%ops.{op.id}.host%% reads op '{head}'); the "
            f"2.1.6 validator accepts it. Rename it without dots, e.g. '{op.id.replace('.', '-')}'",
            op.id,
        )


def packed_commands(data: Any) -> Iterator[Diagnostic]:
    """NOS101: a whole command line in the first item of an array cmd or entrypoint, or in a string entrypoint
    (which Docker takes as one program name too)."""
    global_entrypoint = section(data, "global").get("entrypoint")
    for op in run_ops(data):
        entrypoint = op.args.get("entrypoint", global_entrypoint)
        yield from _packed_entrypoint(op, op.args.get("entrypoint"))
        cmd = op.args.get("cmd")
        if isinstance(cmd, list) and cmd and _packed(cmd[0]) and not _shell_script_follows(entrypoint):
            yield finding(
                "NOS101",
                op.at("cmd", 0),
                f"cmd[0] {quoted(cmd[0])} is a whole command line in one item: the node passes the array as it "
                "is, so Docker runs a program of that whole name (or the image's entrypoint gets it as one "
                "argument), and the op fails at its start; split it into items "
                f"({_split(cmd[0])}), or give cmd as a string, which runs through /bin/sh -c",
                op.id,
            )
    if "entrypoint" in section(data, "global"):
        yield from _packed_entrypoint(None, global_entrypoint)


def _packed_entrypoint(op: RawOp | None, entrypoint: Any) -> Iterator[Diagnostic]:
    path = op.at("entrypoint") if op is not None else ("global", "entrypoint")
    op_id = op.id if op is not None else None
    if isinstance(entrypoint, str) and _packed(entrypoint):
        yield finding(
            "NOS101",
            path,
            f"entrypoint {quoted(entrypoint)} is a string, which Docker takes as one program name (it is not "
            f"split at spaces), so the op fails at its start; give it as an array ({_split(entrypoint)})",
            op_id,
        )
    elif isinstance(entrypoint, list) and entrypoint and _packed(entrypoint[0]):
        yield finding(
            "NOS101",
            (*path, 0),
            f"entrypoint[0] {quoted(entrypoint[0])} is a whole command line in one item: Docker runs a program of "
            f"that whole name, so the op fails at its start; split it into items ({_split(entrypoint[0])})",
            op_id,
        )


def _packed(item: Any) -> bool:
    """A program name (or a flag) followed by more words, in one string; `--flag=a value with spaces` is one
    argument as meant, and a literal's value is the node's business alone."""
    if not isinstance(item, str) or LITERAL_MARK in item:
        return False
    words = item.split()
    return len(words) > 1 and not (words[0].startswith("-") and "=" in words[0])


def _shell_script_follows(entrypoint: Any) -> bool:
    """An entrypoint such as ["/bin/sh", "-c"] runs cmd's first item as a script: a command line is right there."""
    if isinstance(entrypoint, str):
        entrypoint = entrypoint.split()
    return isinstance(entrypoint, list) and bool(entrypoint) and entrypoint[-1] in SHELL_FLAGS


def _split(line: str) -> str:
    words = line.split()
    shown = json.dumps(words[:6], ensure_ascii=False)
    return shown if len(words) <= 6 else shown[:-1] + ", …]"
