"""The least a literal's value adds to the Compose file each time it is spliced: the output limit's early stop.

The YAML writer counts the output exactly as it is written (load/limits.OutputBudget), but by then the job is
expanded in memory, and a job of a few hundred KB can stand for gigabytes. So the literals count as well, as
they resolve, what each use must at least add to the file: spliced into an array, a line per item; into text,
its text; into an object, its entries. A job past the limit stops at the use that crosses it, before the
expansion is built. Counting the least keeps the verdict the writer's: the early stop refuses only what the
file would not hold (a value spliced into a field that drops repeats, such as aliases, excepted).
"""

from __future__ import annotations

import json
from typing import Any

from .json_text import parse
from .node_values import as_text, env_string, flatten, string_field

ITEM_BYTES = 9  # an item of a service's list (`      - ` and a line break), besides its own text


def splice_cost(value: Any, splice: str) -> int:
    """Bytes of Compose one use of `value` adds at the least, by how it is spliced (literals.py's `splice`)."""
    if splice.startswith("items"):
        if splice.endswith("chunked") and isinstance(value, list) and all(isinstance(v, str) for v in value):
            try:
                value = parse("".join(value))  # the items the join makes
            except ValueError:
                return 0  # the op fails there (transformCollections' error): nothing is spliced
        items = flatten(value) if isinstance(value, list) else [value]
        return sum(len(env_string(item)) + ITEM_BYTES for item in items if item is not None)
    if splice == "text":  # a string field's whole value: one item as it is (not parsed again), else its text
        made = string_field(value)
        return len(made) if isinstance(made, str) else len(env_string(made))
    if splice == "embedded":
        return len(as_text(value))
    if splice == "object-field":  # __spread__ / __pairs__ as a key of args' objects: made a string field first
        value = string_field(value)
        if isinstance(value, str):
            try:
                value = parse(value)
            except ValueError:
                return 0  # the op fails there: nothing is merged
    return len(json.dumps(value, ensure_ascii=False, default=str))  # an object's entries (or pairs) as JSON
