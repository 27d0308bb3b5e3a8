"""An op's `results`, extracted from its log as a Nosana node does.

The node matches each log line of the selected streams against a JavaScript
regular expression, without the global flag, and appends the whole match then
each capture group to that key's list. A regex that does not compile makes the
key's value the error text. Python runs the regex here: JavaScript's named
groups `(?<name>…)` are translated; a JavaScript regex Python cannot compile
(variable-width lookbehind, for one) gives its error text, as on the node.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple


class ResultSpec(NamedTuple):
    key: str
    regex: str
    streams: tuple[str, ...] | None = None  # logType; None: every stream


def python_regex(js: str) -> str:
    """JavaScript's `(?<name>` named groups in Python's spelling; lookbehinds stay as they are."""
    return re.sub(r"\(\?<(?![=!])", "(?P<", js)


def compile_error(js: str) -> str | None:
    try:
        re.compile(python_regex(js))
        return None
    except re.error as exc:
        return f"Invalid regular expression: /{js}/: {exc}"


def extract(specs: Iterable[ResultSpec], lines: list[tuple[str, str]]) -> dict[str, list[str] | str]:
    """{key: [whole match, group 1, …, whole match, …]} over the lines (stream, text), in log order."""
    out: dict[str, list[str] | str] = {}
    for spec in specs:
        problem = compile_error(spec.regex)
        if problem is not None:
            out[spec.key] = problem
            continue
        pattern = re.compile(python_regex(spec.regex))
        found: list[str] = []
        for stream, text in lines:
            if spec.streams is not None and stream not in spec.streams:
                continue
            m = pattern.search(text)
            if m:
                found.append(m.group(0))
                found.extend(g if g is not None else "" for g in m.groups())
        out[spec.key] = found
    return out
