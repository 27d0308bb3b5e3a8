"""An op's `results`, extracted from its log as a Nosana node does (extractResultsFromLogs.ts).

The node matches each log line of the selected streams against a JavaScript
regular expression, without the global flag (`line.match(new RegExp(regex))`),
and appends the whole match then each capture group to that key's list; a group
that took no part is JavaScript's undefined, stored as null. A regex that does
not compile makes the key's value the error text. The node runs JavaScript's
engine; here the `regex` package stands in for it, because it has what
JavaScript has and Python's `re` lacks: variable-width lookbehind, and named
groups spelled `(?<name>…)`. ASCII classes (`\\d`, `\\w`, `\\b`) as in
JavaScript without the u flag. What the two still spell differently is
translated first (`js_to_python`). Each log entry keeps its newline, as the
node's do, so `$` (the very end, in JavaScript) does not match before it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import NamedTuple


class ResultSpec(NamedTuple):
    key: str
    regex: str
    streams: tuple[str, ...] | None = None  # logType; None: every stream


_JS_WORDS = (  # the reason JavaScript gives, for the reasons `regex` gives (the common ones)
    ("missing )", "Unterminated group"),
    ("unbalanced parenthesis", "Unmatched ')'"),
    ("nothing to repeat", "Nothing to repeat"),
    ("multiple repeat", "Nothing to repeat"),
    ("unterminated character set", "Unterminated character class"),
    ("bad escape (end of pattern)", "\\ at end of pattern"),
    ("unknown group", "Invalid named capture referenced"),
    ("missing group name", "Invalid capture group name"),
    ("bad character range", "Range out of order in character class"),
)


@functools.lru_cache(maxsize=256)
def _compiled(js: str):
    """The compiled pattern, or the error text the node would give (SyntaxError: Invalid regular expression …)."""
    import regex

    source = "/*" if js == "*" else js  # the node's own special case
    try:
        return regex.compile(js_to_python(source), regex.ASCII | regex.VERSION0)
    except (regex.error, RecursionError, OverflowError, MemoryError) as exc:
        reason = str(getattr(exc, "msg", None) or exc).split(" at position")[0]
        reason = next((js_words for ours, js_words in _JS_WORDS if reason.startswith(ours)), reason)
        return f"SyntaxError: Invalid regular expression: /{source}/: {reason}"


_JS_LETTER_ESCAPES = set("bBdDwWsSfnrtvcxuk")  # \\ and another letter is that letter in JavaScript (no u flag)


def js_to_python(js: str) -> str:
    """A JavaScript pattern (no flags) in the `regex` package's spelling: `$` the very end (`\\Z`), `\\k<n>` a
    named back-reference (`(?P=n)`; plain `k` without named groups), other letter escapes JavaScript does not
    know as the letter itself (`\\A`, `\\Z`, `\\p`, ... mean more in `regex`), `[^]` anything, `[]` nothing."""
    named = "(?<" in js.replace("(?<=", "").replace("(?<!", "")
    out: list[str] = []
    i, in_class = 0, False
    while i < len(js):
        c = js[i]
        if c == "\\" and i + 1 < len(js):
            nxt = js[i + 1]
            if nxt == "k" and not in_class and named:
                m = re.match(r"<([A-Za-z_$][\w$]*)>", js[i + 2 :])
                if m:
                    out.append(f"(?P={m.group(1)})")
                    i += 2 + m.end()
                    continue
            if nxt.isascii() and nxt.isalpha() and (nxt not in _JS_LETTER_ESCAPES or nxt == "k"):
                out.append(nxt)
            else:
                out.append(c + nxt)
            i += 2
            continue
        if not in_class and js.startswith("[^]", i):
            out.append("[\\s\\S]")
            i += 3
            continue
        if not in_class and js.startswith("[]", i):
            out.append("(?!)")
            i += 2
            continue
        if c == "[" and not in_class:
            in_class = True
            out.append(c)
        elif c == "]" and in_class:
            in_class = False
            out.append(c)
        elif c == "$" and not in_class:
            out.append("\\Z")
        else:
            out.append(c)
        i += 1
    return "".join(out)


def compile_error(js: str) -> str | None:
    found = _compiled(js)
    return found if isinstance(found, str) else None


def extract(specs: Iterable[ResultSpec], lines: list[tuple[str, str]]) -> dict[str, list | str]:
    """{key: [whole match, group 1, …, whole match, …]} over the lines (stream, text), in log order."""
    out: dict[str, list | str] = {}
    for spec in specs:
        pattern = _compiled(spec.regex)
        if isinstance(pattern, str):
            out[spec.key] = pattern
            continue
        found: list = []
        for stream, text in lines:
            if (spec.streams is not None and stream not in spec.streams) or not text:
                continue
            m = pattern.search(text)
            if m:
                found.append(m.group(0))
                found.extend(m.groups())  # a group that took no part: None, as the node stores undefined
        out[spec.key] = found
    return out
