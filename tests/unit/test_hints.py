"""Every hint the tool prints as a command works as printed: each fault here prints one, and the test runs it."""

from __future__ import annotations

import re
import shlex

from helpers import FIXTURES, run_cli

SEED = FIXTURES / "seed-multi-stage-pipeline" / "seed-multi-stage-pipeline.json"
HINT = re.compile(r"`(nos2compose [^`]+)`")


def _run_hints(said: str) -> list[str]:
    """Run each `nos2compose …` command the output names (in-process); the commands, in order."""
    commands = HINT.findall(said)
    assert commands, said
    for command in commands:
        words = shlex.split(command)
        result = run_cli(*words[1:])
        assert result.exit_code == 0, (command, result.stdout, result.stderr)
    return commands


def test_a_missing_directory_names_the_command_that_creates_it(tmp_path):
    out = tmp_path / "compose"
    check = run_cli("convert", str(SEED), "-o", str(out), "--check")
    assert check.exit_code == 1
    assert _run_hints(check.stdout) == [f"nos2compose convert {SEED} -o {out}"]
    assert run_cli("convert", str(SEED), "-o", str(out), "--check").exit_code == 0


def test_a_hand_edit_names_the_command_that_drops_it(tmp_path):
    out = tmp_path / "compose"
    assert run_cli("convert", str(SEED), "-o", str(out)).exit_code == 0
    group = out / "00-infrastructure.yaml"
    group.write_text(group.read_text().replace("postgres", "postgresql", 1))
    kept = run_cli("convert", str(SEED), "-o", str(out))
    assert kept.exit_code == 1 and "postgresql" in group.read_text()
    assert _run_hints(kept.stderr) == [f"nos2compose convert {SEED} -o {out} --force"]
    assert "postgresql" not in group.read_text()
    assert run_cli("convert", str(SEED), "-o", str(out), "--check").exit_code == 0
