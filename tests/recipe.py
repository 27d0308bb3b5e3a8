"""Reading the by-hand recipe back out of a generated file's header, as a person would follow it."""

from __future__ import annotations

import re
import shlex

VARIABLE = re.compile(r"\bN2C_[A-Za-z0-9_]+\b")


def header_lines(text: str) -> list[str]:
    """The header comment of a generated file (everything before `name:`), without the `# `."""
    return [line[2:] for line in text.split("\nname:")[0].splitlines()]


def commands(lines: list[str]) -> list[list[str]]:
    """Each indented `docker compose …` line, joined with its `\\` continuations, as argv (comments dropped)."""
    out, current = [], None
    for line in lines:
        if current is not None:
            current += " " + line.strip()
        elif line.startswith("  docker compose "):
            current = line.strip()
        else:
            continue
        if current.endswith(" \\"):
            current = current[:-2]
            continue
        out.append(shlex.split(current, comments=True))
        current = None
    return out


def variables(lines: list[str]) -> list[str]:
    """The variable names the header asks to set: the indented lines under 'Set these variables first'."""
    names, inside = [], False
    for line in lines:
        if line.startswith("Set these variables first"):
            inside = True
        elif inside and line.startswith("  "):
            names += VARIABLE.findall(line)
        else:
            inside = False
    return names


def quoted_commands(lines: list[str]) -> list[list[str]]:
    """The `docker compose …` commands quoted in backticks in the text (the single file's recipe)."""
    return [shlex.split(m) for line in lines for m in re.findall(r"`(docker compose [^`]*)`", line)]
