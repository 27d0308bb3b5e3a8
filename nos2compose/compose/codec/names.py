"""Names a generated file gives: helper services, cache volumes, the ${N2C_…} variables and references to them."""

from __future__ import annotations

import json
import re
from typing import Any

from ...model import Placeholder
from .. import contract as c

# -- helper and variable names --------------------------------------------------------------------


def probe_service(service: str) -> str:
    """The name of an op's probe sidecar (the planner makes it unique)."""
    return f"{service}-probe"


def fetch_service(service: str, n: int) -> str:
    """The init service that fetches the op's n-th resource (1-based)."""
    return f"{service}-fetch-{n}"


_FETCHER_NUMBER = re.compile(r"-fetch-(\d+)$")


def fetcher_number(name: str) -> int | None:
    """n of a fetcher named by fetch_service; None for another name (one the planner made unique, or a hand edit)."""
    m = _FETCHER_NUMBER.search(name)
    return int(m.group(1)) if m else None


def cache_volume(kind: str, keyed: str) -> str:
    """The shared cache volume of a resource (`keyed`: JSON of what decides what is fetched): the same
    resource, wherever it is mounted, shares one cache."""
    import hashlib  # here: only jobs with resources need it, and it costs convert's start about 4 ms

    digest = hashlib.sha256(json.dumps([kind, json.loads(keyed)], sort_keys=True).encode()).hexdigest()[:16]
    return c.CACHE_PREFIX + digest


def is_cache(volume: Any) -> bool:
    """A shared resource cache (nos2compose-cache-…): where a fetcher puts a resource, not a job volume."""
    return isinstance(volume, str) and volume.startswith(c.CACHE_PREFIX)


def _upper_word(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").upper()


def secret_variable(op_id: str, n: int, env: str) -> str:
    """The variable `up` fills with a resource credential (the fetcher's env name without its N2C_)."""
    return c.SECRET_PREFIX + _upper_word(f"{op_id}_{n}_{env.removeprefix(c.VARIABLE_PREFIX)}")


_SPLICE_SUFFIX = {
    "text": "",
    "embedded": "_TEXT",
    "items": "_ITEMS",
    "object": "_OBJECT",
    "pairs": "_PAIRS",
    "items_chunked": "_CHUNKS",
    "object_chunked": "_OBJECT_CHUNKS",
    "pairs_chunked": "_PAIRS_CHUNKS",
}


def variable_base(p: Placeholder) -> str:
    """The Compose variable's name for a placeholder, before the planner makes it unique."""
    return c.VARIABLE_PREFIX + _upper_word(f"{p.op}_{p.key}") + _SPLICE_SUFFIX[p.splice]


# -- references to generated variables ------------------------------------------------------------

REFERENCE = re.compile(r"\$\{(" + c.VARIABLE_PREFIX + r"[A-Za-z0-9_]*)(?::?\?[^}]*)?\}")


def reference(variable: str) -> str:
    """A generated variable as it stands in a file: plain `docker compose` stops with Compose's own
    message naming it when it is not set; set and empty is a value (a result that matched nothing)."""
    return "${" + variable + "?" + c.UP_FILLS + "}"


def references(text: str) -> list[str]:
    """The generated variables a piece of file text uses (a `$$` of the job is never one)."""
    return [m.group(1) for m in REFERENCE.finditer(text) if not _escaped(text, m.start())]


def whole_reference(text: str) -> str | None:
    """The variable when the text is nothing but one reference to it."""
    m = REFERENCE.fullmatch(text)
    return m.group(1) if m else None


def substitute(text: str, value_of) -> str:
    """`text` with each generated variable's reference replaced by `value_of(name)` (kept where that is None)."""

    def one(m: re.Match) -> str:
        found = None if _escaped(text, m.start()) else value_of(m.group(1))
        return m.group(0) if found is None else found

    return REFERENCE.sub(one, text)


def used_variables(value: Any) -> set[str]:
    """The generated variables a document part uses, in its text and its mapping keys (plain strings are
    skipped without a set each: a list may hold millions)."""
    if isinstance(value, str):
        return set(references(value)) if "${" in value else set()
    if isinstance(value, list):
        return set().union(*(used_variables(v) for v in value if not isinstance(v, str) or "${" in v))
    if isinstance(value, dict):
        return set().union(
            *(
                used_variables(k) | used_variables(v)
                for k, v in value.items()
                if not isinstance(v, str) or "${" in v or "${" in str(k)
            )
        )
    return set()


def _escaped(text: str, at: int) -> bool:
    """Whether the `$` at `at` is the second half of `$$`: count the dollars before it."""
    n = 0
    while at - n - 1 >= 0 and text[at - n - 1] == "$":
        n += 1
    return n % 2 == 1
