"""`resources`: what the node fetches before the op starts (S3 prefixes and buckets, Hugging Face repos,
Ollama models), checked against the variant of Nosana's schema each one picks."""

from __future__ import annotations

import json
from typing import Any

from ..diagnostics import Path
from ..model import Resource, Template
from .expose import check_spread_marker
from .literals import REMOVE_IF_EMPTY, SPREAD
from .shape import Shape

_S3 = {
    "type": ("string", True),
    "target": ("string", True),
    "url": ("string", False),
    "allowWrite": ("bool", False),
    "IAM": ("iam", False),
}
RESOURCE_FIELDS = {  # the five shapes of Nosana's Resources schema: key -> (kind, required)
    "S3": {**_S3, "files": ("strings", False)},
    "S3-bucket": {**_S3, "bucket": ("string", True)},
    "S3-buckets": {**_S3, "buckets": ("buckets", True)},
    "HF": {
        "type": ("string", True),
        "target": ("string", True),
        "repo": ("string", True),
        "revision": ("string", False),
        "files": ("strings", False),
        "accessToken": ("string", False),
    },
    "Ollama": {"type": ("string", True), "model": ("string", True), "target": ("string", False)},
}
IAM_KEYS = ("REGION", "ACCESS_KEY_ID", "SECRET_ACCESS_KEY")
OLLAMA_STORE = "/root/.ollama"  # where the ollama image keeps its models
PRIVATE_FIELDS = ("IAM", "accessToken")  # credentials: fetchers get them as environment variables only
CACHE_NEUTRAL = ("target", "allowWrite")  # where it is mounted changes nothing about what is fetched


def check_raw_resources(sh: Shape, raw: Any, path: Path, op_id: str) -> None:
    """What only the job's own text can show, as Nosana's validators see it before any literal is resolved: a
    `{__spread__: …}` item must hold a literal, and an item is never an array (the node would flatten it)."""
    for i, item in enumerate(raw if isinstance(raw, list) else ()):
        if isinstance(item, dict) and SPREAD in item:
            check_spread_marker(sh, item, (*path, i), op_id)
        elif isinstance(item, list):
            sh.wrong((*path, i), "an object (a resource)", item, op_id)


def read_resources(sh: Shape, raw: Any, path: Path, op_id: str) -> tuple[Resource, ...]:
    if not isinstance(raw, list):
        sh.wrong(path, "an array of resources", raw, op_id)
        return ()
    out = []
    for i, item in enumerate(raw):
        here = (*path, i)
        if item == REMOVE_IF_EMPTY:
            continue
        if isinstance(item, Template) and item.placeholders:
            sh.diags.warning(
                here,
                f"resources spliced from {item.placeholders[0].literal} are known only when the op "
                "starts: the node fetches them then; nos2compose cannot, so the op starts without them",
                op_id,
                "NOS908",
            )
            continue
        obj = sh.obj(item, here, op_id)
        if obj is None:
            continue
        if SPREAD in obj:
            check_spread_marker(sh, obj, here, op_id)
            continue
        kind = _resource(sh, obj, here, op_id)
        if kind is not None:
            out.append(resource(kind, obj))
    return tuple(out)


def _resource(sh: Shape, obj: dict, path: Path, op_id: str) -> str | None:
    """One resource, checked against the variant Nosana's schema picks for it."""
    if obj.get("type") in ("HF", "Ollama"):
        kind, variant = obj["type"], obj["type"]
    else:
        kind = "S3"
        variant = "S3-bucket" if "bucket" in obj else "S3-buckets" if "buckets" in obj else "S3"
        if (
            sh.required(obj, "type", path, '"S3", "HF" or "Ollama"', op_id)
            and sh.one_of(obj["type"], (*path, "type"), ["S3", "HF", "Ollama"], op_id) is None
        ):
            return None
    fields = RESOURCE_FIELDS[variant]
    sh.known_keys(obj, path, fields, op_id)
    ok = True
    for key, (check, required) in fields.items():
        if key == "type":
            continue
        if key not in obj:
            if required:
                ok = sh.required(obj, key, path, f"{key} of the {kind} resource", op_id) and ok
            continue
        ok = _field(sh, check, obj[key], (*path, key), op_id) and ok
    return kind if ok else None


def _field(sh: Shape, check: str, value: Any, here: Path, op_id: str) -> bool:
    if check == "string":
        return sh.string(value, here, op_id) is not None
    if check == "bool":
        return sh.boolean(value, here, op_id) is not None
    if check == "strings":
        return sh.strings(value, here, op_id) is not None
    if check == "iam":
        iam = sh.obj(value, here, op_id)
        if iam is None:
            return True  # reported; the resource is still read
        sh.known_keys(iam, here, IAM_KEYS, op_id)
        ok = True
        for k in IAM_KEYS:
            if sh.required(iam, k, here, "an S3 credential", op_id):
                ok = sh.string(iam[k], (*here, k), op_id) is not None and ok
            else:
                ok = False
        return ok
    # buckets
    if not isinstance(value, list):
        sh.wrong(here, "an array of {url, files?}", value, op_id)
        return False
    ok = True
    for j, bucket in enumerate(value):
        b = sh.obj(bucket, (*here, j), op_id)
        if b is None:
            ok = False
            continue
        sh.known_keys(b, (*here, j), ["url", "files"], op_id)
        if sh.required(b, "url", (*here, j), "the bucket's URL", op_id):
            ok = sh.string(b["url"], (*here, j, "url"), op_id) is not None and ok
        if "files" in b:
            ok = sh.strings(b["files"], (*here, j, "files"), op_id) is not None and ok
    return ok


def resource(kind: str, obj: dict) -> Resource:
    """A checked resource, split into what may be written out and the credentials that may not."""
    spec = {k: v for k, v in obj.items() if k not in PRIVATE_FIELDS}
    keyed = {k: v for k, v in spec.items() if k not in CACHE_NEUTRAL}
    secrets: list[tuple[str, str]] = []
    iam = obj.get("IAM")
    if isinstance(iam, dict) and (iam.get("ACCESS_KEY_ID") or iam.get("SECRET_ACCESS_KEY")):  # empty: anonymous
        secrets += [
            ("N2C_S3_ACCESS_KEY_ID", iam.get("ACCESS_KEY_ID", "")),
            ("N2C_S3_SECRET_ACCESS_KEY", iam.get("SECRET_ACCESS_KEY", "")),
            ("N2C_S3_REGION", iam.get("REGION", "")),
        ]
    if isinstance(obj.get("accessToken"), str) and obj["accessToken"]:
        secrets.append(("N2C_HF_TOKEN", obj["accessToken"]))
    target = obj.get("target") or OLLAMA_STORE
    return Resource(kind, target, json.dumps(spec, sort_keys=True), json.dumps(keyed, sort_keys=True), tuple(secrets))
