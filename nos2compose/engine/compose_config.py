"""`docker compose … config`, for the Compose adapter: Compose reads the files itself and needs no engine.

compose/project.py decides what to ask and reads the answer; this runs the command (through process.py) and
splits Compose's standard error into its warnings and its errors.
"""

from __future__ import annotations

import json
import re
import shutil

from . import process


class ComposeConfig:
    """`docker compose … config` for the Compose adapter (compose/project.py, and merging an override in
    `up DIR`): Compose reads the files itself and needs no engine. `env` is the whole environment Compose
    sees (interpolation, COMPOSE_* settings); None: this process's."""

    def __init__(self, env: dict | None = None):
        self.env = env
        self.docker = shutil.which("docker", path=env.get("PATH") if env is not None else None)

    def __call__(self, args: list[str], stdin: str | None = None, timeout: float = 120):
        """Compose's answer to `docker ARGS`: (status, stdout, warnings, errors); status -1 when the command
        could not run and -2 when it did not finish within `timeout` (errors[0] says why)."""
        from ..compose.project import ConfigAnswer

        try:
            proc = process.run([self.docker or "docker", *args], timeout=timeout, env=self.env, stdin=stdin)
        except process.TimedOut:
            return ConfigAnswer(-2, "", [], [f"docker compose config did not finish within {timeout:g} s"])
        except OSError as exc:
            return ConfigAnswer(-1, "", [], [f"cannot run {self.docker}: {exc.strerror}"])
        warnings, errors = split_stderr(proc.stderr)
        return ConfigAnswer(proc.returncode, proc.stdout, warnings, errors)

    def missing(self) -> str | None:
        """Why `docker compose` is unavailable, or None when it answers."""
        try:
            proc = process.run([self.docker or "docker", "compose", "version"], timeout=30, env=self.env)
        except (OSError, process.TimedOut) as exc:
            return f"`docker compose version` failed ({exc})"
        if proc.returncode == 0:
            return None
        said = (proc.stderr or proc.stdout).strip().splitlines()
        return f"`docker compose version` says: {said[0]}" if said else "`docker compose version` failed"


# logrus lines on Compose's stderr: time="..." level=warning msg="..."
_LOGRUS = re.compile(r'^time="[^"]*" level=(\w+) msg="((?:[^"\\]|\\.)*)"')


def split_stderr(stderr: str) -> tuple[list[str], list[str]]:
    """(warning messages, other lines) from Compose's standard error."""
    warnings, errors = [], []
    for line in stderr.splitlines():
        line = line.strip()
        if not line:
            continue
        m = _LOGRUS.match(line)
        if m is None:
            errors.append(line)
            continue
        message = json.loads(f'"{m.group(2)}"')  # logrus quotes the message as a Go string
        (warnings if m.group(1) in ("warning", "info") else errors).append(message)
    return warnings, errors
