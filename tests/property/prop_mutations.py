"""Hostile mutations of real jobs: at one path of a corpus job, put what no job should hold, and write the
file by hand where the damage is in the text itself (duplicate keys, non-UTF-8 bytes, 1e400, YAML tags).

A case is JSON-describable, {"corpus": FILE, "path": [...], "mutation": KIND}, so a failing one is kept
as a regression fixture and rebuilt byte for byte (`build`).
"""

from __future__ import annotations

import json
import random
from functools import cache
from typing import Any

import yaml
from helpers import CORPUS

SENTINEL = "__N2C_MUTATION_SENTINEL__"
_QUOTED = json.dumps(SENTINEL)

# -- what to put at the path --------------------------------------------------------------------
# value: a Python value put at the path (the JSON is written by json.dumps)
VALUES: dict[str, Any] = {
    "null": None,
    "true": True,
    "zero": 0,
    "negative": -1,
    "fraction": 1.5,
    "empty-string": "",
    "string": "x",
    "empty-array": [],
    "empty-object": {},
    "array-of-null": [None],
    "object-with-empty-key": {"": None, "k": "v"},
    "huge-int": 10**40,
    "int64-overflow": 2**64,
    "max-float": 1.7976931348623157e308,
    "nul": "a\x00b",
    "control-text": "\x1b[31m\x07\x00\x7f\x85\u2028\u202e",
    "lone-surrogate": "\ud800",
    "noncharacter": "\ufffe",
    "canary-text": "${N2C_CANARY}$N2C_CANARY\x00n2c:N2C_CANARY\x00$${N2C_A_B}${HOME}",
    "long-string-1mb": "A" * (1 << 20),
    "long-dollars-1mb": "$" * (1 << 20),
    "long-key-1mb": {"K" * (1 << 20): "v"},
    "wide-array-100k": list(range(100_000)),
    "many-keys-50k": {f"k{i}": i for i in range(50_000)},
}
# raw JSON text put at the path, verbatim
RAW_JSON: dict[str, str] = {
    "1e400": "1e400",
    "-1e400": "-1e400",
    "-0": "-0",
    "-0.0": "-0.0",
    "digits-5000": "1" * 5000,
    "NaN": "NaN",
    "Infinity": "-Infinity",
    "deep-array-1000": "[" * 1000 + "]" * 1000,
    "deep-object-1000": '{"a":' * 1000 + "1" + "}" * 1000,
    "deep-array-100k": "[" * 100_000 + "]" * 100_000,
    "escaped-nul-1mb": '"' + "\\u0000" * 170_000 + '"',
    "escaped-surrogate-pair": '"\\ud83d\\ude00"',
    "raw-control-in-string": '"a\x01\x1fb"',
    "truncated-string": '"abc',
}
# raw bytes put at the path (the rest of the file is UTF-8)
RAW_BYTES: dict[str, bytes] = {
    "non-utf8-ff": b'"\xff\xfe"',
    "non-utf8-truncated": b'"\xc3"',
    "non-utf8-overlong": b'"\xc0\xaf"',
    "non-utf8-surrogate": b'"\xed\xa0\x80"',
    "latin1-text": '"caf\xe9"'.encode("latin-1"),
    "raw-nul-byte": b'"a\x00b"',
}
# whole-file damage combined with a value at the path
FILE_LEVEL = ("bom", "bom-twice", "utf16-le", "duplicate-keys", "trailing-garbage", "cut-in-half")
# YAML: the job written as YAML, with this node at the path
YAML_NODES: dict[str, str] = {
    "yaml-python-object": '!!python/object/apply:os.system ["echo pwned > /tmp/n2c-pwned"]',
    "yaml-python-name": "!!python/name:os.system",
    "yaml-binary": "!!binary aGVsbG8gd29ybGQ=",
    "yaml-timestamp": "!!timestamp 2001-12-14t21:59:43.10-05:00",
    "yaml-bare-date": "2001-12-14",
    "yaml-set": "!!set {a: null, b: null}",
    "yaml-omap": "!!omap [a: 1, b: 2]",
    "yaml-float-nan": "!!float .nan",
    "yaml-int-hex": "!!int 0x1F",
    "yaml-bad-int": "!!int x",
    "yaml-custom-tag": "!custom value",
    "yaml-verbatim-tag": "!<tag:example.com,2000:x> value",
    "yaml-anchor-alias": "&anchor [1, *anchor]",
    "yaml-billion-laughs": "{a: &a [x, x, x, x, x, x, x, x, x], b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a], "
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b], d: [*c, *c, *c, *c, *c, *c, *c, *c, *c]}",
    "yaml-merge-key": "{<<: {image: merged}, x: 1}",
    "yaml-merge-list": "{<<: [{a: 1}, {b: 2}], c: 3}",
    "yaml-complex-key": "{? [a, b] : c}",
    "yaml-null-key": "{~: x}",
    "yaml-int-key": "{1: x}",
    "yaml-deep-flow-1000": "[" * 1000 + "]" * 1000,
    "yaml-long-plain-1mb": "a" * (1 << 20),
    "yaml-second-document": "x\n---\nsecond: document",
    "yaml-tab-indent": "\n\t- x",
    "yaml-duplicate-anchor": "[&a 1, &a 2]",
}
# the key of the value at the path renamed (a value in an array: the array's own key)
KEYS: dict[str, str] = {
    "key-empty": "",
    "key-nul": "\x00",
    "key-dollar": "${N2C_CANARY}",
    "key-space": " id ",
    "key-1mb": "K" * (1 << 20),
    "key-operator": "__spread__",
}
KINDS = [*VALUES, *RAW_JSON, *RAW_BYTES, *KEYS, *FILE_LEVEL, *YAML_NODES]


@cache
def corpus_files() -> tuple[str, ...]:
    return tuple(sorted(p.name for p in CORPUS.glob("*.json")))


@cache
def corpus_job(name: str) -> Any:
    return json.loads((CORPUS / name).read_text(encoding="utf-8"))


def paths(value: Any) -> list[list]:
    """Every path in a job, the root included, depth first (iterative)."""
    out: list[list] = []
    stack: list[tuple[list, Any]] = [([], value)]
    while stack:
        path, v = stack.pop()
        out.append(path)
        if isinstance(v, dict):
            stack.extend((path + [k], c) for k, c in reversed(list(v.items())))
        elif isinstance(v, list):
            stack.extend((path + [i], c) for i, c in reversed(list(enumerate(v))))
    return out


def object_paths(value: Any) -> list[list]:
    return [p for p in paths(value) if isinstance(_get(value, p), dict) and _get(value, p)]


def _get(value: Any, path: list) -> Any:
    for part in path:
        value = value[part]
    return value


def _put(value: Any, path: list, new: Any) -> Any:
    if not path:
        return new
    copy = json.loads(json.dumps(value))
    parent = _get(copy, path[:-1])
    parent[path[-1]] = new
    return copy


def _rename(value: Any, path: list, key: str) -> Any:
    """The job with the key nearest the end of `path` renamed (the root, an object of no keys: unchanged)."""
    keyed = [i for i, part in enumerate(path) if isinstance(part, str)]
    if not keyed:
        return value
    at = keyed[-1]
    copy = json.loads(json.dumps(value))
    parent = _get(copy, path[:at])
    old = path[at]
    renamed = {(key if k == old else k): v for k, v in parent.items()}
    parent.clear()
    parent.update(renamed)
    return copy


def cases(seed: int, per_kind: int) -> list[dict]:
    """`per_kind` cases of every mutation kind, on paths drawn from the whole corpus with a fixed seed."""
    rng = random.Random(seed)
    files = corpus_files()
    out = []
    for kind in KINDS:
        for _ in range(per_kind):
            name = rng.choice(files)
            job = corpus_job(name)
            pool = object_paths(job) if kind == "duplicate-keys" else paths(job)
            path = rng.choice(pool)
            case = {"corpus": name, "path": path, "mutation": kind}
            if kind in FILE_LEVEL and kind != "duplicate-keys":
                case["value"] = rng.choice([k for k in VALUES if not k.startswith(("long", "wide", "many"))])
            out.append(case)
    return out


def build(case: dict) -> tuple[str, bytes]:
    """(file name, file bytes) of a case."""
    job = corpus_job(case["corpus"])
    kind, path = case["mutation"], case["path"]
    if kind in YAML_NODES:
        text = yaml.safe_dump(_put(job, path, SENTINEL), allow_unicode=True, sort_keys=False, width=10**9)
        node = YAML_NODES[kind]
        if "\n" in node:  # a node spanning lines only works as a document's last word; put it at the end
            text = text.replace(SENTINEL, "x") + "zz: " + node + "\n"
        else:
            text = text.replace(SENTINEL, node)
        return "job.yaml", text.encode("utf-8")
    if kind in KEYS:
        return "job.json", json.dumps(_rename(job, path, KEYS[kind]), ensure_ascii=False, indent=1).encode("utf-8")
    if kind in VALUES:
        return "job.json", json.dumps(_put(job, path, VALUES[kind]), ensure_ascii=False, indent=1).encode(
            "utf-8", "surrogatepass"
        )
    text = json.dumps(_put(job, path, SENTINEL), ensure_ascii=False, indent=1)
    if kind in RAW_JSON:
        return "job.json", text.replace(_QUOTED, RAW_JSON[kind]).encode("utf-8")
    if kind in RAW_BYTES:
        before, after = text.split(_QUOTED, 1)
        return "job.json", before.encode() + RAW_BYTES[kind] + after.encode()
    if kind == "duplicate-keys":  # the object at the path with its first key given twice, first as null
        obj = _get(job, path)
        first = next(iter(obj))
        members = ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in obj.items())
        return "job.json", text.replace(_QUOTED, "{" + f"{json.dumps(first)}: null, {members}" + "}").encode()
    text = json.dumps(_put(job, path, VALUES[case["value"]]), ensure_ascii=False, indent=1)
    if kind == "bom":
        return "job.json", b"\xef\xbb\xbf" + text.encode("utf-8", "surrogatepass")
    if kind == "bom-twice":
        return "job.json", b"\xef\xbb\xbf\xef\xbb\xbf" + text.encode("utf-8", "surrogatepass")
    if kind == "utf16-le":
        return "job.json", text.encode("utf-16", "surrogatepass")
    if kind == "trailing-garbage":
        return "job.json", text.encode("utf-8", "surrogatepass") + b"\n}{ garbage"
    if kind == "cut-in-half":
        data = text.encode("utf-8", "surrogatepass")
        return "job.json", data[: len(data) // 2]
    raise ValueError(f"unknown mutation {kind}")
