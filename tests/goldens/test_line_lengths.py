"""No line nos2compose writes into a Compose file is over 200 characters: every golden, walked."""

from __future__ import annotations

from helpers import FIXTURES

LIMIT = 200


def test_no_golden_line_is_longer_than_200_characters():
    files = sorted(FIXTURES.glob("*/compose.yaml")) + sorted(FIXTURES.glob("*/groups/*.yaml"))
    assert len(files) >= 2 * len([p for p in FIXTURES.iterdir() if p.is_dir()])
    long = [
        f"{path.relative_to(FIXTURES)}:{n}: {len(line)} characters"
        for path in files
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if len(line) > LIMIT
    ]
    assert long == []
