"""Hypothesis profiles for the property suite, and failing examples kept as regression fixtures.

Profiles (NOS2COMPOSE_HYPOTHESIS_PROFILE, default `ci`):
- `ci`: derandomized (a fixed seed: every run tries the same examples), no example database, each
  property's own bounded example count (prop_support.examples); the whole folder in ~3 minutes.
- `long`: random seeds, 25 times the examples, an example database kept outside the repository
  (NOS2COMPOSE_HYPOTHESIS_DB, default ~/.cache/nos2compose-hypothesis), for a nightly or pre-release
  run: NOS2COMPOSE_HYPOTHESIS_PROFILE=long pytest tests/property.

When a property fails, its minimal example is written to regressions/PROPERTY-HASH.json (see
prop_support.save_regression); test_regressions.py replays every file there.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

sys.path.insert(0, str(Path(__file__).resolve().parent))  # prop_support, prop_strategies, prop_checks

import prop_support

_SLOW_IS_FINE = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    report_multiple_bugs=False,  # one minimal example per failing property: shrinking stays short
    suppress_health_check=_SLOW_IS_FINE,
)
# the long run keeps its example database outside the repository (nothing to ignore, nothing to commit)
_DATABASE = Path(os.environ.get("NOS2COMPOSE_HYPOTHESIS_DB") or Path.home() / ".cache" / "nos2compose-hypothesis")
settings.register_profile(
    "long",
    derandomize=False,
    database=DirectoryBasedExampleDatabase(str(_DATABASE)),
    deadline=None,
    print_blob=True,
    suppress_health_check=_SLOW_IS_FINE,
)
_profile = os.environ.get(prop_support.PROFILE_ENV, "ci")
if _profile not in ("ci", "long"):
    raise pytest.UsageError(f"{prop_support.PROFILE_ENV}={_profile!r}: use ci (the default) or long")
settings.load_profile(_profile)


def pytest_terminal_summary(terminalreporter):
    """Examples run and the slowest input of each property (hypothesis's own statistics give no inputs)."""
    if not prop_support.timings:
        return
    terminalreporter.section("property examples: count, and the slowest input")
    for prop, (count, seconds, slowest) in sorted(prop_support.timings.items()):
        shown = json.dumps(slowest, ensure_ascii=True, default=str)
        shown = shown if len(shown) <= 300 else f"{shown[:240]}… ({len(shown):,} characters)"
        terminalreporter.write_line(f"{prop}: {count} examples; slowest {seconds:.1f} s: {shown}")


def pytest_report_header(config):
    return f"nos2compose property suite: hypothesis profile {_profile!r} ({prop_support.PROFILE_ENV})"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    prop_support.forget()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call":
        return
    found = prop_support.take_recorded()
    if found is None or not report.failed or hasattr(report, "wasxfail"):
        return
    path = prop_support.save_regression(found["prop"], found["example"], found["error"], item.nodeid)
    report.sections.append(("regression fixture", f"the minimal failing example is saved as {path}"))
