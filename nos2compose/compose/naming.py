"""Names Compose accepts: the project (the local job id) and one service per op.

Ops keep their id as service name whenever Compose allows it, so
`http://<op-id>:<port>` works as on the node; other ids get a stable,
readable replacement.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# compose-spec's pattern for service keys; always fullmatch it (`^...$` also matches "a\n", which Compose refuses)
SERVICE_NAME = re.compile(r"[a-zA-Z0-9._-]+")
_PROJECT_BAD = re.compile(r"[^a-z0-9_-]+")


def project_name(raw: str) -> str:
    """Compose's rule: lowercase letters, digits, '_' and '-', starting with a letter or digit."""
    name = _PROJECT_BAD.sub("-", raw.lower()).lstrip("-_")
    return name or "job"


def service_names(op_ids: Iterable[str]) -> dict[str, str]:
    """op id -> service name; invalid ids become '-'-joined runs of valid characters, made unique."""
    ids = list(dict.fromkeys(op_ids))
    taken = {i for i in ids if SERVICE_NAME.fullmatch(i)}
    out: dict[str, str] = {}
    for op_id in ids:
        if SERVICE_NAME.fullmatch(op_id):
            out[op_id] = op_id
            continue
        out[op_id] = unique(re.sub(r"[^a-zA-Z0-9._-]+", "-", op_id).strip("-") or "op", taken, "-")
    return out


def unique(base: str, taken: set[str], sep: str) -> str:
    """`base`, or `base<sep>2`, `base<sep>3`, … : the first not taken yet (then taken)."""
    name, n = base, 2
    while name in taken:
        name, n = f"{base}{sep}{n}", n + 1
    taken.add(name)
    return name
