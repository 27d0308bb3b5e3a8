"""YAML: values built from the parser's events, so nesting is bounded and duplicate keys seen.

libyaml (when PyYAML has it) scans the text; the values are built here straight from
its events, without recursion that deep input could exhaust and without a node tree
(about 150 bytes per input byte). Nodes are made only for the odd tagged collection
(!!set, !!omap, ...), which PyYAML's SafeConstructor then builds as yaml.safe_load
does; tags, merge keys (<<) and anchors behave as they do there. Aliases are refused:
JSON has none, and they let a few lines expand without bound ("billion laughs").
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError, SafeConstructor

from ..diagnostics import Diagnostic, Path
from .messages import MAX_DEPTH, duplicate_key, huge_number, too_deep

Loader = yaml.CSafeLoader if getattr(yaml, "__with_libyaml__", False) else yaml.SafeLoader
_TAG = "tag:yaml.org,2002:"
MAP, SEQ, STR, MERGE, VALUE = (_TAG + t for t in ("map", "seq", "str", "merge", "value"))
_SCALARS = {
    _TAG + "int": SafeConstructor.construct_yaml_int,
    _TAG + "float": SafeConstructor.construct_yaml_float,
    _TAG + "bool": SafeConstructor.construct_yaml_bool,
    _TAG + "null": SafeConstructor.construct_yaml_null,
}
_NO_KEY, _MERGE = object(), object()
ALIASES = "YAML aliases (*name) are not supported in job definitions; write the value out"


class _TooDeep(Exception):
    def __init__(self, mark):
        super().__init__()
        self.mark = mark


def parse_yaml(text: str) -> tuple[Any, Diagnostic | None, list[Diagnostic]]:
    """The data, or a syntax error with its line and column; plus warnings (duplicate keys)."""
    warnings: list[Diagnostic] = []
    loader = None
    try:
        loader = Loader(text)
        return _Builder(loader, warnings).document(), None, warnings
    except _TooDeep as exc:
        return None, too_deep(_at(exc.mark)), []
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or str(exc)
        if "maximum nesting depth" in problem:  # newer libyaml stops deep nesting itself (at 1000)
            return None, too_deep(_at(mark) if mark else (1, 1)), []
        if problem == "found character that cannot start any token" and mark and mark.index < len(text):
            problem = f"found character {text[mark.index]!r} that cannot start any token"  # as PyYAML says (a tab?)
        return None, Diagnostic("error", (), f"malformed YAML: {problem}", position=_at(mark) if mark else (1, 1)), []
    except yaml.reader.ReaderError as exc:  # its str() spans two lines
        at = min(exc.position, len(text))
        position = (text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at))
        problem = f"unacceptable character #x{exc.character:04x}: {exc.reason}"
        return None, Diagnostic("error", (), f"malformed YAML: {problem}", position=position), []
    except yaml.YAMLError as exc:
        return None, Diagnostic("error", (), f"malformed YAML: {exc}", position=(1, 1)), []
    except ValueError as exc:  # not expected: scalar() locates those it meets
        return None, Diagnostic("error", (), f"malformed YAML: {exc}", position=(1, 1)), []
    finally:
        if loader is not None:
            loader.dispose()


def _at(mark) -> tuple[int, int]:
    return mark.line + 1, mark.column + 1


class _Frame:
    """A mapping or sequence being filled."""

    __slots__ = ("at", "items", "key", "key_mark", "lines", "mark", "merges")

    def __init__(self, event, mapping: bool, at):
        self.items: dict | list = {} if mapping else []
        self.mark, self.at = event.start_mark, at  # `at`: its key or index in its parent
        self.key, self.key_mark = _NO_KEY, None  # a mapping's key waiting for its value
        self.lines: dict = {}  # key -> line of its latest occurrence
        self.merges: list[dict] = []  # what `<<` keys bring in, in the order SafeConstructor applies it

    def merge(self, value, mark) -> None:
        if isinstance(value, dict):
            self.merges.append(value)
        elif isinstance(value, list) and all(isinstance(m, dict) for m in value):
            self.merges.extend(reversed(value))  # the first mapping listed wins
        else:
            found = next(m for m in value if not isinstance(m, dict)) if isinstance(value, list) else value
            what = "a mapping" if isinstance(value, list) else "a mapping or list of mappings"
            raise ConstructorError(
                "while constructing a mapping",
                self.mark,
                f"expected {what} for merging, but found {_kind(found)}",
                mark,
            )

    def finish(self) -> dict | list:
        if not self.merges:
            return self.items
        out: dict = {}
        for merged in self.merges:
            out.update(merged)
        out.update(self.items)  # keys given here override merged ones
        return out


class _Builder:
    def __init__(self, loader, warnings: list[Diagnostic]):
        self.loader, self.warnings = loader, warnings
        self.frames: list[_Frame] = []
        self.anchors: dict = {}
        self.memo: dict = {}

    def document(self) -> Any:
        loader = self.loader
        loader.get_event()  # stream start
        if loader.check_event(yaml.StreamEndEvent):
            return None
        start = loader.get_event()
        value = self._value()
        loader.get_event()  # document end
        if not loader.check_event(yaml.StreamEndEvent):
            raise ComposerError(
                "expected a single document in the stream",
                start.start_mark,
                "but found another document",
                loader.get_event().start_mark,
            )
        return value

    def _value(self) -> Any:
        """The document's root value, built event by event."""
        loader, frames = self.loader, self.frames
        while True:
            event = loader.get_event()
            if isinstance(event, yaml.CollectionEndEvent):
                frame = frames.pop()
                value, mark = frame.finish(), frame.mark
            else:
                _check(event, len(frames), self.anchors)
                top = frames[-1] if frames else None
                if isinstance(event, yaml.ScalarEvent):
                    as_key = top is not None and top.key is _NO_KEY and isinstance(top.items, dict)
                    value = scalar(loader, event, as_key, self.memo)
                else:
                    tag = _collection_tag(loader, event)
                    mapping = isinstance(event, yaml.MappingStartEvent)
                    if tag == (MAP if mapping else SEQ):
                        at = None if top is None else top.key if isinstance(top.items, dict) else len(top.items)
                        frames.append(_Frame(event, mapping, at))
                        continue
                    value = loader.construct_document(_compose(loader, event, tag, len(frames), self.anchors))
                mark = event.start_mark
            if not frames:
                return value
            self._add(frames[-1], value, mark)

    def _add(self, frame: _Frame, value: Any, mark) -> None:
        items = frame.items
        if isinstance(items, list):
            items.append(value)
        elif frame.key is _NO_KEY:
            if value is not _MERGE:
                try:
                    hash(value)
                except TypeError:
                    raise ConstructorError(
                        "while constructing a mapping", frame.mark, "found unhashable key", mark
                    ) from None
            frame.key, frame.key_mark = value, mark
        else:
            key, frame.key = frame.key, _NO_KEY
            if key is _MERGE:
                frame.merge(value, mark)
                return
            if key in items:
                path: Path = tuple(f.at for f in self.frames[1:]) + (key,)
                self.warnings.append(duplicate_key(path, key, frame.lines[key], _at(frame.key_mark)))
            frame.lines[key] = frame.key_mark.line + 1
            items[key] = value


def _check(event, depth: int, anchors: dict) -> None:
    """What every node must pass: no alias, bounded depth, each anchor defined once."""
    if isinstance(event, yaml.AliasEvent):
        raise yaml.MarkedYAMLError(problem=ALIASES, problem_mark=event.start_mark)
    if depth > MAX_DEPTH:
        raise _TooDeep(event.start_mark)
    if event.anchor is not None:
        if event.anchor in anchors:
            raise ComposerError(
                f"found duplicate anchor {event.anchor!r}; first occurrence",
                anchors[event.anchor],
                "second occurrence",
                event.start_mark,
            )
        anchors[event.anchor] = event.start_mark


def _scalar_tag(loader, event) -> str:
    tag = event.tag
    return loader.resolve(yaml.ScalarNode, event.value, event.implicit) if tag is None or tag == "!" else tag


def _collection_tag(loader, event) -> str:
    tag = event.tag
    if tag is None or tag == "!":
        kind = yaml.MappingNode if isinstance(event, yaml.MappingStartEvent) else yaml.SequenceNode
        tag = loader.resolve(kind, None, event.implicit)
    return tag


def scalar(loader, event, as_key: bool, memo: dict) -> Any:
    """A scalar's value. `memo` holds plain scalars already seen (values repeat), each resolved and built once."""
    value = event.value
    plain = event.tag is None and event.implicit[0] and len(value) <= 64
    tag, data = memo.get(value, (None, _NO_KEY)) if plain else (None, _NO_KEY)
    if tag is None:
        tag = _scalar_tag(loader, event)
    if as_key and tag == MERGE:
        return _MERGE
    if data is _NO_KEY:
        if tag == STR or (as_key and tag == VALUE):  # SafeConstructor reads a `=` key as text
            data = value
        else:
            build = _SCALARS.get(tag)
            node = yaml.ScalarNode(tag, value, event.start_mark, event.end_mark, event.style)
            try:
                data = build(loader, node) if build else loader.construct_document(node)
            except ValueError as exc:  # e.g. !!int x, or an integer of thousands of digits
                raise ConstructorError(None, None, huge_number(exc), event.start_mark) from None
        if plain and (tag == STR or tag in _SCALARS) and len(memo) < 4096:  # immutable values only
            memo[value] = (tag, data)
    return data


def _compose(loader, start, tag: str, depth: int, anchors: dict) -> yaml.Node:
    """The node tree of one oddly tagged collection, for SafeConstructor (iterative, checked)."""
    root = _collection_node(start, tag)
    stack: list[list] = [[root, None]]  # [node, a mapping's key node waiting for its value]
    while stack:
        event = loader.get_event()
        if isinstance(event, yaml.CollectionEndEvent):
            stack.pop()[0].end_mark = event.end_mark
            continue
        _check(event, depth + len(stack), anchors)
        if isinstance(event, yaml.ScalarEvent):
            tag = _scalar_tag(loader, event)
            node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        else:
            node = _collection_node(event, _collection_tag(loader, event))
        top = stack[-1]
        if not isinstance(top[0], yaml.MappingNode):
            top[0].value.append(node)
        elif top[1] is None:
            top[1] = node
        else:
            top[0].value.append((top[1], node))
            top[1] = None
        if not isinstance(node, yaml.ScalarNode):
            stack.append([node, None])
    return root


def _collection_node(event, tag: str) -> yaml.Node:
    kind = yaml.MappingNode if isinstance(event, yaml.MappingStartEvent) else yaml.SequenceNode
    return kind(tag, [], event.start_mark, None, event.flow_style)


def _kind(value: Any) -> str:
    return "mapping" if isinstance(value, dict) else "sequence" if isinstance(value, list) else "scalar"
