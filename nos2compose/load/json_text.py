"""Text the node runs through JSON.parse, parsed here as JSON.parse would, within bounds on depth and size.

The node parses a value that starts with `[` or `{` (after JavaScript's trim) wherever it normalizes args,
and every `__spread__` / `__pairs__` string and chunked join. JavaScript's JSON.parse takes any depth; Python's
parser recurses (a RecursionError near 1,000 levels), and so do the passes after it. So such text is measured
first, without recursion: brackets that cannot match make it invalid JSON (the node's answer then: the text
stays text, or the op fails), and valid-looking text deeper than MAX_DEPTH or longer than the input limit is
refused with JsonBeyond, which the caller places at the value's JSON path (docs/limits.md). Text past the depth
bound is refused whether or not it is valid JSON (telling would take a parser that does not recurse; the node
keeps invalid text as text): one located error either way.
"""

from __future__ import annotations

import json
import re
from json.decoder import scanstring
from typing import Any

from ..source.messages import MAX_DEPTH
from ..source.reader import DEFAULT_LIMIT, SourceError, input_limit
from .limits import BeyondLimit

# what String.prototype.trim() removes: WhiteSpace (Zs, TAB, VT, FF, ZWNBSP) and LineTerminator
JS_SPACE = "\t\n\v\f\r \xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
JS_SPACE += "\u2028\u2029\u202f\u205f\u3000\ufeff"
_BRACKET_OR_QUOTE = re.compile(r'["\[\]{}]')
_CLOSES = {"]": ord("["), "}": ord("{")}


class JsonBeyond(BeyondLimit):
    """JSON-looking text nos2compose does not parse (too deep or too long); the caller says where it is."""


def looks_like_json(value: Any) -> bool:
    """parseJsonIfLooksLike's test: a string whose first character after trim() is [ or {."""
    return isinstance(value, str) and value.lstrip(JS_SPACE)[:1] in ("[", "{")


def parse(text: str) -> Any:
    """JSON.parse(text): the value; ValueError (json.JSONDecodeError) where JSON.parse throws; JsonBeyond past
    the bounds. NaN and Infinity are not JSON to JavaScript either."""
    limit = _size_limit()
    if len(text) > limit:
        raise JsonBeyond(
            f"text that looks like JSON ({_preview(text)}) of {len(text):,} characters, more than the "
            f"{limit:,} nos2compose parses (the input limit, NOS2COMPOSE_MAX_INPUT_BYTES; the node has none)"
        )
    if text.count("[") + text.count("{") > MAX_DEPTH:  # only then can it be deeper: measure it
        depth = _depth(text)
        if depth > MAX_DEPTH:
            raise JsonBeyond(
                f"text that looks like JSON ({_preview(text)}) nested {depth:,} levels deep: nos2compose reads at "
                f"most {MAX_DEPTH} levels, as in the job itself (the node's JSON.parse has no such bound)"
            )
    return json.loads(text, parse_constant=_not_json)


def parse_if_it_looks_like(value: Any) -> Any:
    """parseJsonIfLooksLike: trimmed text starting with [ or { parsed, kept as it is when JSON.parse throws."""
    if not looks_like_json(value):
        return value
    try:
        return parse(value.strip(JS_SPACE))
    except ValueError:
        return value


def _depth(text: str) -> int:
    """How deep the brackets outside strings nest; ValueError when they cannot be JSON (unmatched, or a string
    that never ends). Iterative, with a byte per open bracket."""
    open_ = bytearray()
    deepest, at = 0, 0
    while found := _BRACKET_OR_QUOTE.search(text, at):
        char, at = found.group(), found.end()
        if char == '"':
            at = scanstring(text, at, True)[1]  # raises ValueError (JSONDecodeError) for an unterminated string
        elif char in "[{":
            open_.append(ord(char))
            deepest = max(deepest, len(open_))
        elif not open_ or open_.pop() != _CLOSES[char]:
            raise json.JSONDecodeError(f"unexpected '{char}'", text, found.start())
    if open_:
        raise json.JSONDecodeError("brackets left open", text, len(text))
    return deepest


def _not_json(token: str) -> Any:
    raise json.JSONDecodeError(f"{token} is not valid JSON", token, 0)


def _preview(text: str) -> str:
    return json.dumps(text[:24] + ("…" if len(text) > 24 else ""), ensure_ascii=False)


def _size_limit() -> int:
    try:
        return input_limit()
    except SourceError:  # a malformed NOS2COMPOSE_MAX_INPUT_BYTES (reading a job file says so)
        return DEFAULT_LIMIT
