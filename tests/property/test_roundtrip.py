"""Random valid jobs of hostile text: convert takes them, Compose reads back every value exactly, and no
value from the environment of `docker compose config` ever reaches its output."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from prop_checks import check_roundtrip
from prop_strategies import valid_jobs
from prop_support import examples, recorded

pytestmark = [pytest.mark.property, pytest.mark.compose]


@settings(max_examples=examples(40))
@given(draw=valid_jobs())
def test_valid_jobs_come_back_exactly_from_compose(draw):
    with recorded("roundtrip", draw):
        check_roundtrip(draw)


@settings(max_examples=examples(12))
@given(draw=valid_jobs(max_ops=12))
def test_bigger_jobs_come_back_exactly_from_compose(draw):
    """More ops per job: more groups, dependencies, clashing names and host ports."""
    with recorded("roundtrip", draw):
        check_roundtrip(draw)
