"""The grace line: one line in a log, a live line on a terminal, never silence while a stop waits."""

from __future__ import annotations

import io
import time

from nos2compose.supervisor.grace import grace_line, said


def test_the_line_names_the_ops_the_signal_and_the_grace():
    assert grace_line(["web", "api"], {"SIGTERM"}, None) == (
        "stopping web, api: SIGTERM, then SIGKILL after 10 s if still running (-t S to change it)"
    )
    assert "SIGINT, SIGTERM" in grace_line(["a"], {"SIGTERM", "SIGINT"}, 3, "restarting")
    assert grace_line(["a"], set(), 3, "restarting").startswith("restarting a: SIGTERM, then SIGKILL after 3 s")


def test_without_a_terminal_it_is_said_once():
    lines: list[str] = []
    with said("stopping web: ...", lines.append, stream=io.StringIO(), tty=False):
        pass
    assert lines == ["stopping web: ..."]


def test_on_a_terminal_it_counts_and_ends_with_a_newline():
    stream, lines = io.StringIO(), []
    with said("stopping web", lines.append, stream=stream, tty=True):
        time.sleep(1.2)
    out = stream.getvalue()
    assert lines == [] and out.startswith("stopping web")
    assert "\r\x1b[Kstopping web ... 1 s" in out and out.endswith("done in 1 s\n")
