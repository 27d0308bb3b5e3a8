"""Fixtures for the real tools the suite needs, and one line up front saying what is not set up.

Tests that need Docker Compose, an engine, Node.js packages, a browser or the node
oracle carry a marker (see pyproject.toml). In CI (CI=true) a missing tool fails
them; elsewhere they skip, and the session starts with one line naming what is
missing and that `make test` sets it up.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from functools import cache

import pytest
from helpers import IN_CI, ROOT, need

# every test run gets state records of its own, never the user's
os.environ.setdefault("NOS2COMPOSE_STATE_DIR", tempfile.mkdtemp(prefix="nos2compose-test-state-"))


@cache
def _compose_works() -> bool:
    return (
        bool(shutil.which("docker"))
        and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0
    )


@cache
def _engine_works() -> bool:
    if not _compose_works() or subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        return False
    return (
        subprocess.run(["docker", "image", "inspect", "nos2compose-test/busybox:1"], capture_output=True).returncode
        == 0
    )


@cache
def _node_packages() -> bool:
    return (
        bool(shutil.which("node")) and (ROOT / "tests" / "validators" / "nosana" / "node_modules" / "@nosana").is_dir()
    )


@cache
def _browser() -> bool:
    return bool(shutil.which("chromium") and shutil.which("chromedriver"))


@cache
def _oracle() -> bool:
    return (ROOT / "tests" / "fidelity" / "oracle" / "build" / ".stamp").is_file()


PREREQUISITES = {  # marker -> (what, check)
    "compose": ("Docker Compose v2", _compose_works),
    "e2e": ("a running Docker engine with the test images", _engine_works),
    "node": ("Nosana's validators under Node.js (tests/validators/nosana)", _node_packages),
    "browser": ("Chromium and ChromeDriver", _browser),
    "oracle": ("Nosana's node, built from the snapshot (tests/fidelity/oracle/setup.sh)", _oracle),
}


def pytest_report_header(config):
    missing = [what for what, check in PREREQUISITES.values() if not check()]
    if not missing:
        return "nos2compose: every tool the suite needs is set up"
    verdict = "these tests fail in CI" if IN_CI else "tests that need them are skipped"
    return (
        f"nos2compose: NOT SET UP: {'; '.join(missing)}. {verdict}; `make test` sets everything up and runs the suite"
    )


def pytest_runtest_setup(item):
    for marker, (what, check) in PREREQUISITES.items():
        if item.get_closest_marker(marker):
            need(what, check())


@pytest.fixture(scope="session")
def compose() -> list[str]:
    """The real Compose v2 CLI (needs no engine for `config`)."""
    need(*PREREQUISITES["compose"][:1], _compose_works())
    return ["docker", "compose"]


@pytest.fixture(scope="session")
def engine(compose) -> list[str]:
    """A running Docker engine, with the locally built test images."""
    need(PREREQUISITES["e2e"][0], _engine_works())
    return compose
