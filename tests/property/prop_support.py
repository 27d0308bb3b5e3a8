"""What the property tests share: sizes per profile, the real CLI under limits, Compose read back, regressions.

Compose's own output is the reference for what a generated file means, with the
normalizations Compose applies undone (see `read_back`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from helpers import CLI, ROOT

HERE = Path(__file__).resolve().parent
REGRESSIONS = HERE / "regressions"
PROFILE_ENV = "NOS2COMPOSE_HYPOTHESIS_PROFILE"
PROFILE = os.environ.get(PROFILE_ENV, "ci")
LONG = PROFILE == "long"
SCALE = 25 if LONG else 1  # the long run: 25 times the examples of every property


def examples(n: int) -> int:
    """The example count of a property: n in CI, 25 n in the long run."""
    return n * SCALE


# -- the CLI as a process, under limits -------------------------------------------------------

MEMORY_LIMIT = 1 << 30  # RLIMIT_AS for every CLI run: 1 GiB
TIME_LIMIT = 20.0  # seconds of wall time for every CLI run


# The CLI runs as the grandchild of a tiny launcher, not as pytest's own child: Linux keeps the highest
# RSS a process had before exec in its ru_maxrss, and a child forked from pytest starts as big as pytest
# (hundreds of MB after a few big jobs). The launcher (python -I, no imports but os and resource) sets the
# limits, forks, execs the CLI, and writes the CLI's own exit status and peak RSS (wait4) to a file.
_LAUNCHER = """
import os, resource, sys
memory, report, argv = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
pid = os.fork()
if pid == 0:
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.execv(argv[0], argv)
_, status, usage = os.wait4(pid, 0)
with open(report, "w") as f:
    f.write(f"{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss * 1024}")
"""


@dataclass
class Run:
    """A finished CLI run: exit status (negative: a signal; None: over the time limit), output, peak memory."""

    args: tuple
    status: int | None
    stdout: bytes
    stderr: bytes
    seconds: float
    peak: int  # bytes of resident memory at the most

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", "replace")

    def __repr__(self) -> str:
        return (
            f"Run({' '.join(map(str, self.args))}: status {self.status}, {self.seconds:.1f} s, "
            f"{self.peak >> 20} MiB, stderr {self.err[-600:]!r})"
        )


def run_cli(
    *args: str,
    cwd: Path | None = None,
    env: dict | None = None,
    stdin: bytes | None = None,
    memory: int = MEMORY_LIMIT,
    timeout: float = TIME_LIMIT,
) -> Run:
    """`nos2compose ARGS` as a separate process under RLIMIT_AS and a wall-clock limit, with its own exit
    status (negative: the signal that ended it; None: killed at the time limit) and its own peak RSS."""
    fd, report = tempfile.mkstemp(prefix="n2c-run-")
    os.close(fd)
    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-I", "-c", _LAUNCHER, str(memory), report, *CLI, *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # the launcher and the CLI: one process group, killed together
    )
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        timed_out = True
    seconds = time.monotonic() - start
    try:
        status, peak = (int(x) for x in Path(report).read_text().split())
    except ValueError:  # the launcher was killed before it could say
        status, peak = proc.returncode, 0
    finally:
        os.unlink(report)
    return Run(args, None if timed_out else status, out, err, seconds, peak)


def answered_cleanly(run: Run, file_name: str) -> str | None:
    """None when a run ended as every run must (0, or 2 with a located error naming the file, never a
    traceback, a signal, exit 1 or the time limit); else what went wrong."""
    if run.status is None:
        return f"not answered within {TIME_LIMIT:.0f} s: {run!r}"
    if "Traceback" in run.err:
        return f"a traceback: {run!r}"
    if run.status not in (0, 2):
        return f"exit {run.status} (expected 0 or 2): {run!r}"
    if run.status == 2 and not any(line.startswith(f"error: {file_name}") for line in run.err.splitlines()):
        return f"exit 2 without an `error: {file_name}…` line: {run!r}"
    return None


def within_bounds(run: Run) -> str | None:
    """None when a run kept the documented bounds on time and memory (docs/limits.md: 20 s, about 1 GiB; the run
    is under RLIMIT_AS, so memory past it shows as the CLI's "ran out of memory"); else which it passed."""
    if run.status is None or run.seconds > TIME_LIMIT:
        return f"not answered within {TIME_LIMIT:.0f} s: {run!r}"
    if run.peak > MEMORY_LIMIT or "ran out of memory" in run.err:
        return f"past {MEMORY_LIMIT >> 20} MiB: {run!r}"
    return None


# -- Docker Compose ------------------------------------------------------------------------------

# Set in the environment (and a .env file) of every `docker compose config`: none may appear in its output,
# whatever the job's text. N2C_A_B is named like a generated variable; HOME and X like what a job might name.
CANARIES = {
    "N2C_CANARY": "leaked-canary-value",
    "N2C_A_B": "leaked-generated-name",
    "N2C_SECRET_A": "leaked-secret-value",
    "HOME": "/leaked-home-dir",
    "X": "leaked-x-value",
}
CANARY_MARK = "leaked-"


@functools.cache
def compose_works() -> bool:
    return bool(shutil.which("docker")) and (
        subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0
    )


def compose_config(path: Path, fmt: str | None = None, filled: dict | None = None) -> subprocess.CompletedProcess:
    """`docker compose -f PATH config [--format json]` in the file's directory, with the canaries set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "DOCKER_"))}
    env.update(CANARIES)
    env.update(filled or {})
    (path.parent / ".env").write_text("".join(f"{k}={v}\n" for k, v in CANARIES.items()))
    cmd = ["docker", "compose", "-f", path.name, "config"] + (["--format", fmt] if fmt else [])
    return subprocess.run(cmd, cwd=path.parent, capture_output=True, text=True, env=env, timeout=120)


def compose_both(path: Path, filled: dict | None = None) -> tuple[subprocess.CompletedProcess, ...]:
    """The YAML and the JSON rendering of one file by Compose, side by side."""
    with ThreadPoolExecutor(2) as pool:
        return tuple(pool.map(lambda f: compose_config(path, f, filled), (None, "json")))


def in_parallel(fn, items, workers: int = 2) -> list:
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(fn, items))


def unescape(value: Any) -> Any:
    """Compose writes every `$` of a value or key as `$$` in its output (so the output reads back the same)."""
    if isinstance(value, str):
        return value.replace("$$", "$")
    if isinstance(value, list):
        return [unescape(v) for v in value]
    if isinstance(value, dict):
        return {unescape(k): unescape(v) for k, v in value.items()}
    return value


def read_back(compose_yaml: str) -> dict:
    """Compose's YAML output as the values it means, Compose's normalizations undone:

    - read as YAML, not `--format json`: the JSON output drops U+007F-U+009F from values;
    - every scalar read as a string (yaml.BaseLoader): Compose writes YAML 1.2 (go-yaml v3), so a plain
      `=`, `1:20` or `0o17` that PyYAML would read as YAML 1.1 non-strings are strings there;
    - `$$` -> `$` in the text, before it is read: Compose doubles every `$` of its marshalled output
      (docker/compose cmd/compose/config.go, escapeDollarSign), not of the values, so a `$` go-yaml writes
      as an escape is not doubled. go-yaml escapes every character of a string that starts with a BOM
      (its is_bom looks at the string's start), `$` as `\x24`: undoing `$$` in the values read would
      halve the job's own `$$` there.

    What stays Compose's: mappings are sorted by key, and an empty `working_dir` is dropped (the same
    as none: the image's own working directory).
    """
    return yaml.load(compose_yaml.replace("$$", "$"), Loader=yaml.BaseLoader)


def runtime_fill(text: str) -> dict:
    """Values for the generated variables a file declares (results, credentials), so Compose can load it."""
    meta = (yaml.safe_load(text) or {}).get("x-nos2compose") or {}
    return dict.fromkeys([*(meta.get("runtime") or {}), *(meta.get("secrets") or [])], "filled-by-test")


# -- regressions ----------------------------------------------------------------------------------

_last: dict[str, Any] = {}
timings: dict[str, tuple[int, float, Any]] = {}  # property -> (examples run, the slowest's seconds, the slowest)


def forget() -> None:
    _last.clear()


@contextmanager
def recorded(prop: str, example: Any):
    """Run one example of property `prop`; when it fails, remember it (the last one hypothesis runs is the
    minimal one), so conftest's report hook writes it to regressions/ when the test fails. Each is timed: the
    session's summary names the slowest input of each property (conftest.py)."""
    start = time.monotonic()
    try:
        yield
    except Exception as exc:
        _last.update(prop=prop, example=example, error=f"{type(exc).__name__}: {exc}"[:2000])
        raise
    finally:
        count, slowest, slow = timings.get(prop, (0, -1.0, None))
        took = time.monotonic() - start
        timings[prop] = (count + 1, took, example) if took > slowest else (count + 1, slowest, slow)


def take_recorded() -> dict | None:
    found = dict(_last) if _last else None
    _last.clear()
    return found


def save_regression(prop: str, example: Any, error: str = "", found_by: str = "") -> Path:
    """Write a failing example to regressions/PROP-HASH.json (the same example: the same file)."""
    text = json.dumps(example, sort_keys=True, ensure_ascii=True)
    path = REGRESSIONS / f"{prop}-{hashlib.sha256(text.encode()).hexdigest()[:12]}.json"
    REGRESSIONS.mkdir(exist_ok=True)
    if not path.exists():
        record = {"property": prop, "example": example, "error": error.splitlines()[:20], "found_by": found_by}
        path.write_text(json.dumps(record, indent=1, ensure_ascii=True) + "\n")
    return path


def temp_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="n2c-property-"))


__all__ = [
    "CANARIES",
    "CANARY_MARK",
    "LONG",
    "REGRESSIONS",
    "answered_cleanly",
    "compose_both",
    "compose_config",
    "compose_works",
    "examples",
    "in_parallel",
    "read_back",
    "recorded",
    "run_cli",
    "runtime_fill",
    "save_regression",
    "take_recorded",
    "temp_dir",
    "within_bounds",
]
