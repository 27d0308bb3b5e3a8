"""The job's own text (op ids, group names, file names) where it must stay one plain line: `#` comments in
the generated files and diagnostics on a terminal. One rule for both, so they show a name the same way."""

from __future__ import annotations

import re

# What cannot stand raw: characters YAML readers refuse (Compose: "control characters are not allowed"),
# line breaks that would end a comment or a message early (CR, NEL, LS, PS: Python's splitlines, JavaScript
# and editors break lines there), the byte order mark, bidirectional controls that make a line read
# differently from what it says, and lone surrogates (no UTF-8 text holds one).
UNPRINTABLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ufffe\uffff\ud800-\udfff]"
)


def printable(text: str) -> str:
    """`text` with each character UNPRINTABLE matches written as \\xNN or \\uNNNN (the way Python and JSON
    escape them), everything else as it is."""
    return UNPRINTABLE.sub(_escaped, text) if UNPRINTABLE.search(text) else text


def _escaped(m: re.Match) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
