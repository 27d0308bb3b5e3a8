"""The one place nos2compose starts a process (docker, docker compose, nvidia-smi).

Values a process needs beyond this process's own environment (results of earlier ops, credentials)
are passed as that process's environment, explicitly; nothing here or anywhere writes os.environ.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping


def environment(values: Mapping[str, str] | None) -> dict[str, str] | None:
    """This process's environment with `values` over it (None: inherit it unchanged)."""
    return None if not values else {**os.environ, **values}


def run(
    command: list[str], timeout: float = 60, env: Mapping[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess:
    """A command run to its end, its output kept as text (the caller reads returncode, stdout and stderr).
    `env` is the whole environment it gets (None: this process's; see environment()). OSError when it cannot
    start; TimedOut past `timeout`."""
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=None if env is None else dict(env),
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
    )


def start(command: list[str], stderr: bool = False, quiet: bool = False) -> subprocess.Popen:
    """A command left running: its standard output (and error, with `stderr`) as byte pipes to read
    (`quiet`: both discarded, for a process only waited for)."""
    out = subprocess.DEVNULL if quiet else subprocess.PIPE
    err = subprocess.PIPE if stderr and not quiet else subprocess.DEVNULL
    return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=err)


def end(proc: subprocess.Popen, grace: float = 5) -> None:
    """Terminate a started process, then kill it after `grace` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def finished(proc: subprocess.Popen, timeout: float) -> int | None:
    """The exit status of a started process, waiting up to `timeout`; None if it is still running."""
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


TimedOut = subprocess.TimeoutExpired
