"""A small YAML writer for Compose documents: the same bytes everywhere, and fast.

PyYAML's output depends on whether libyaml is installed and its pure-Python
dumper is slow on big jobs, so Compose files are written here instead. Only
what Compose documents hold is supported: mappings, lists, strings, integers,
booleans, and one mapping declared once and merged into others (`Anchor`, merged
under the key MERGE: `x-block: &name` ... `<<: *name`, which Compose and every
YAML 1.1 reader apply). Strings are plain only when that is unambiguous in YAML
1.1 and 1.2; everything else is double-quoted with JSON escapes (valid YAML).

Compose (compose-go's loader) refuses a merge of an anchor at a path whose dotted
name extends that of another merge of it ("cycle detected"): it joins keys with
dots, so services `1` and `1._1` look nested. Such a merge is written out in
full instead (_Anchors), and an alias inside its own anchor is refused.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ..load.limits import OutputBudget, TooLarge
from ..source.printable import printable

# plain when no YAML version reads it as anything but this text: words, paths, image names, `--option=value`
_PLAIN = re.compile(r"^(?:--?)?[A-Za-z_/][A-Za-z0-9_./@+=-]*(?::[A-Za-z0-9_./@+=-]+)*$|^(?:\d+(?:ms|s|m|h))+$")
_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff]")
_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"}
_ANCHOR_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
MERGE = "<<"  # the key under which a mapping merges an Anchor (written plain: a quoted "<<" is just text)


@dataclass(frozen=True)
class Anchor:
    """A mapping written once, where it first stands, as `key: &name`, and merged wherever it is the value
    of MERGE (`<<: *name`): a block every service shares is declared once per file."""

    name: str
    value: dict

    def __post_init__(self):
        if not _ANCHOR_NAME.match(self.name) or not self.value:
            raise ValueError(f"an anchor needs a plain name and a non-empty mapping, not {self.name!r}")


def resolved(value: Any) -> Any:
    """A document part as a YAML reader gives it back: anchors are their mappings, and a mapping that merges
    one holds the anchor's keys under its own (its own win), as PyYAML and Compose merge `<<`."""
    if isinstance(value, Anchor):
        return resolved(value.value)
    if isinstance(value, dict):
        merged = value.get(MERGE)
        out = resolved(merged.value) if isinstance(merged, Anchor) else {}
        for key, item in value.items():
            if not (key == MERGE and isinstance(item, Anchor)):
                out[key] = resolved(item)
        return out
    if isinstance(value, list):
        return [resolved(v) for v in value]
    return value


# Strings repeat (labels, conditions, image names): each short one is quoted once. Bounded, so a long-lived
# process (`serve`, library use) or a job of huge distinct strings does not keep every string it ever wrote.
_memo: dict[str, str] = {}
_MEMO_ENTRIES, _MEMO_LENGTH = 1 << 16, 256


def scalar(value: Any) -> str:
    if isinstance(value, str):
        found = _memo.get(value)
        if found is None:
            found = _string(value)
            if len(value) <= _MEMO_LENGTH:
                if len(_memo) >= _MEMO_ENTRIES:
                    _memo.clear()
                _memo[value] = found
        return found
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to YAML")


def _string(value: str) -> str:
    # "-_5" would read as the number -5 (a sign, then digits with YAML 1.1's underscores)
    if _PLAIN.fullmatch(value) and value.lower() not in _RESERVED and not value.startswith(("//", "-_")):
        return value
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(value, ensure_ascii=False))


def _block(value: str, indent: int) -> str | None:
    """A multi-line string as a literal block (`|`), when that keeps its exact bytes."""
    if "\n" not in value.rstrip("\n") or value.endswith("\n\n") or _UNSAFE.search(value):
        return None
    lines = value.rstrip("\n").split("\n")
    if lines[0][:1] in ("", " ", "\t"):
        return None
    if any(line != line.rstrip() or "\r" in line or line[:1] == "\t" for line in lines):
        return None
    if any(ord(c) < 32 and c != "\t" for c in value.replace("\n", "")):
        return None
    pad = " " * indent
    head = "|" if value.endswith("\n") else "|-"
    return head + "\n" + "".join(f"{pad}{line}\n" if line else "\n" for line in lines)


def comment_text(text: str) -> str:
    """Text (an op id, a group name, a file name) as it may stand in a `#` comment: one line, each character
    a comment cannot hold written as \\xNN or \\uNNNN, as diagnostics show them (source/printable.py). Values
    stay exact where they matter, in the document itself (labels, x-nos2compose); comments are for people."""
    return printable(text)


def dump(data: dict, header: str = "", budget: OutputBudget | None = None) -> str:
    """Block-style YAML for a mapping; `header` lines (split at \\n only) become # comments on top. Its bytes
    are spent from `budget` (by default the output limit) as each line is made: TooLarge stops it there."""
    out = _Lines(OutputBudget() if budget is None else budget)
    if header:
        out.extend(f"# {comment_text(line)}".rstrip() + "\n" for line in header.split("\n"))
    _mapping(data, 0, out, _Anchors(), ())
    return out.text()


class _Lines(list):
    """The lines of a file, counted against the output limit as they are added, so however a job expands its
    file stops growing at the limit; joined every few thousand lines, so they cost their text, not an object
    each (about 70 bytes a line)."""

    __slots__ = ("budget", "done")

    def __init__(self, budget: OutputBudget):
        super().__init__()
        self.budget, self.done = budget, []

    def append(self, line: str) -> None:
        budget = self.budget  # (the writer's hot path: OutputBudget.spend inlined)
        budget.spent += len(line) if line.isascii() else len(line.encode("utf-8", "surrogatepass"))
        if budget.spent > budget.limit:
            budget.spend(0)  # raises TooLarge
        list.append(self, line)
        if len(self) >= 4096:
            self.done.append("".join(self))
            self.clear()

    def text(self) -> str:
        return "".join(self.done) + "".join(self)

    def extend(self, lines) -> None:
        for line in lines:
            self.append(line)


# YAML reads `key: value` only when the key is at most 1024 characters (YAML 1.2 §7.4.2; go-yaml and PyYAML
# both enforce it); a longer key is written in the explicit form, `? key` on a line and `: value` under it.
_MAX_IMPLICIT_KEY = 1024


class _Anchors:
    """The anchors written so far, and where each is merged, as Compose names a merge's place: its mapping's
    keys joined by dots (compose-go's tree.Path, `.<<` dropped). `sites` holds those names, `nested` every
    dotted prefix of them, so a clash is found in the length of one name, not the number of merges."""

    __slots__ = ("nested", "open", "sites")

    def __init__(self):
        self.sites: dict[str, set[str]] = {}  # anchor -> the dotted paths where it is merged
        self.nested: dict[str, set[str]] = {}  # anchor -> every dotted prefix of those paths
        self.open: set[str] = set()  # anchors whose mapping is being written

    def merge(self, name: str, path: tuple) -> bool:
        """Record a merge of `name` in the mapping at `path`; False, recording nothing, where Compose would
        take it for one nested in another merge of `name` (one dotted path a prefix of the other)."""
        if name not in self.sites:
            raise ValueError(f"<<: *{name} before &{name} is declared")
        if name in self.open:
            raise ValueError(f"<<: *{name} inside &{name}: an alias in the very mapping it names")
        site, sites, nested = ".".join(map(str, path)), self.sites[name], self.nested[name]
        if site in nested:
            return False
        above, dot = [], site.find(".")
        while dot >= 0:
            above.append(site[:dot])
            dot = site.find(".", dot + 1)
        if not sites.isdisjoint(above):
            return False
        sites.add(site)
        nested.update(above)
        return True


def _anchor(key: Any, anchor: Anchor, indent: int, out: list[str], anchors: _Anchors, at: str, path: tuple):
    """`key: &name` and the mapping, where the anchor first stands; `<<: *name` (the merge key plain: a quoted
    "<<" is a string key) once it has been declared above, as YAML reads aliases only after their anchor.
    `at`: how the line starts (the indent, or `- ` for a list's item). Returns the anchor's mapping, resolved,
    where Compose would refuse the merge (_Anchors.merge): the caller writes its keys in place of `<<`."""
    if key == MERGE:
        if not anchors.merge(anchor.name, path):
            return resolved(anchor.value)
        out.append(f"{at}<<: *{anchor.name}\n")
        return None
    if anchor.name in anchors.sites:
        raise ValueError(f"&{anchor.name} is declared twice")
    anchors.sites[anchor.name], anchors.nested[anchor.name] = set(), set()
    out.append(f"{at}{scalar(key)}: &{anchor.name}\n")
    anchors.open.add(anchor.name)
    _mapping(anchor.value, indent + 2, out, anchors, path + (key,))
    anchors.open.discard(anchor.name)
    return None


def _mapping(data: dict, indent: int, out: list[str], anchors: _Anchors, path: tuple, first: str | None = None):
    """`first`: how the first line starts instead of the indent (`- ` when the mapping is a list's item);
    `anchors`: the anchors written so far; `path`: the keys (and list indexes) from the top to `data`."""
    pad = " " * indent
    for key, value in data.items():
        at = first or pad
        if isinstance(value, Anchor):
            merged = _anchor(key, value, indent, out, anchors, at, path)
            if merged is not None:  # the merge written out: the anchor's keys this mapping does not set itself
                merged = {k: v for k, v in merged.items() if k not in data}
                if not merged:
                    continue  # nothing written: `first` still starts the next line
                _mapping(merged, indent, out, anchors, path, at)
            first = None
            continue
        first = None
        k = scalar(key)
        if len(k) > _MAX_IMPLICIT_KEY:
            out.append(f"{at}? {k}\n")
            lead = f"{pad}:"
        else:
            lead = f"{at}{k}:"
        if isinstance(value, (dict, list)):
            if value:
                out.append(f"{lead}\n")
                try:
                    (_mapping if isinstance(value, dict) else _sequence)(value, indent + 2, out, anchors, path + (key,))
                except TooLarge as big:  # where it stopped, as a path of keys (the compiler names the job's)
                    big.where = (key, *big.where)
                    raise
            else:
                out.append(f"{lead} {'{}' if isinstance(value, dict) else '[]'}\n")
        else:
            block = _block(value, indent + 2) if isinstance(value, str) and "\n" in value else None
            out.append(f"{lead} {block}" if block else f"{lead} {scalar(value)}\n")


def _sequence(items: list, indent: int, out: list[str], anchors: _Anchors, path: tuple) -> None:
    pad = " " * indent
    for i, item in enumerate(items):
        if isinstance(item, dict) and item:
            _mapping(item, indent + 2, out, anchors, path + (i,), f"{pad}- ")
        elif isinstance(item, list) and item:
            out.append(f"{pad}-\n")
            _sequence(item, indent + 2, out, anchors, path + (i,))
        elif isinstance(item, (dict, list)):
            out.append(f"{pad}- {'{}' if isinstance(item, dict) else '[]'}\n")
        else:
            block = _block(item, indent + 2) if isinstance(item, str) and "\n" in item else None
            out.append(f"{pad}- {block}" if block else f"{pad}- {scalar(item)}\n")
