"""Every example kept in regressions/ replayed through its property (prop_checks.CHECKS).

A file is {"property": NAME, "example": …, "error": [what it failed with], "found_by": …}; one with
"xfail": "reason" documents a bug not fixed yet (replayed as xfail(strict=True)).
"""

from __future__ import annotations

import json

import pytest
from prop_checks import CHECKS
from prop_support import REGRESSIONS

pytestmark = pytest.mark.property


def _params():
    for path in sorted(REGRESSIONS.glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        _, markers = CHECKS[record["property"]]
        marks = [getattr(pytest.mark, m) for m in markers]
        if record.get("xfail"):
            marks.append(pytest.mark.xfail(strict=True, reason=record["xfail"]))
        yield pytest.param(path.name, record, marks=marks, id=path.stem)


@pytest.mark.parametrize(("name", "record"), list(_params()))
def test_regression(name, record):
    check, _ = CHECKS[record["property"]]
    check(record["example"])
