"""Issue 21: JSON-looking values wherever the node parses them, and splices that multiply the output, through
the real CLI (a process under RLIMIT_AS 1 GiB and a 20 s wall clock) and `up`'s override file in-process.

Each property checks: no traceback; the node's value (or the file), or one located error line with exit 2;
`validate` and `convert` alike; the documented bounds on time and memory (docs/limits.md)."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from prop_splices import check_fill, check_splices, fill_splices, splices
from prop_support import examples, recorded
from prop_values import check_json_value, json_values

pytestmark = pytest.mark.property

DEEP = "[" * 100_000 + "]" * 100_000


@settings(max_examples=examples(24))
@given(draw=json_values)
@example({"text": DEEP, "place": "cmd literal"})  # the issue's RecursionError
@example({"text": DEEP, "place": "chunked"})
@example({"text": "[" * 100 + "1" + "]" * 100, "place": "env literal"})  # the bound itself: read
def test_json_looking_values_give_the_nodes_value_or_one_located_error(draw):
    with recorded("json_value", draw):
        check_json_value(draw)


_ISSUE = {"n": 100_000, "m": 150, "ops": 1, "item": "int", "cmd": "items", "entrypoint": False, "env": None}


@settings(max_examples=examples(8))
@given(draw=splices)
@example({**_ISSUE, "expose": False})  # 200 KB of job for 180 MB of Compose, 50 s and 4.7 GB before
@example({**_ISSUE, "m": 40, "expose": False})  # past the limit only as it is written (quoted numbers)
@example({**_ISSUE, "cmd": None, "m": 150, "env": "values", "item": "a", "expose": False})  # 30 MB of env text
def test_splices_stay_within_the_output_limit_time_and_memory(draw):
    with recorded("splices", draw):
        check_splices(draw)


@settings(max_examples=examples(10))
@given(draw=fill_splices)
@example({"n": 100_000, "length": 8, "m": 300, "services": 4, "env": 5000})
def test_ups_override_file_stays_within_the_output_limit(draw):
    with recorded("fill", draw):
        check_fill(draw)
