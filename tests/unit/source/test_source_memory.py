"""Parsing and locating stay linear in the input: measured in a fresh process, per phase.

Each case runs in a subprocess, so what earlier tests allocated does not count. The
peak resident size is reset (Linux: /proc/self/clear_refs) before each phase, and the
phase's cost is its peak minus the resident size it started from.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
MiB = 1 << 20

MEASURE = r"""
import gc, json, sys, time
from nos2compose.source.document import Document

def status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024

def reset_peak():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")

def phase(work):
    gc.collect()
    reset_peak()
    start, began = status("VmRSS"), time.perf_counter()
    result = work()
    return result, status("VmHWM") - start, time.perf_counter() - began

kind, fmt, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
if kind == "string":  # one huge value, the error just after it
    filler = "x" * size
    if fmt == "json":
        text = '{\n  "version": "0.1",\n  "ops": [\n    {"id": "a", "args": {"image": "' + filler + '",\n      "gpu": "yes"}}\n  ]\n}\n'
        path, expected = ("ops", 0, "args", "gpu"), [5, 14]
    else:
        text = "version: '0.1'\nops:\n  - id: a\n    args:\n      image: " + filler + "\n      gpu: 'yes'\n"
        path, expected = ("ops", 0, "args", "gpu"), [6, 12]
    del filler
else:  # many tiny values, the error at the last
    count = size // 4
    text = "[" + ",".join(["10"] * count) + "]" if fmt == "json" else "- 1\n" * count
    path = (count - 1,)
    expected = [1, 3 * count - 1] if fmt == "json" else [count, 3]
doc = Document("job", text, fmt)
(data, error), parse_bytes, parse_seconds = phase(doc.parse)
position, locate_bytes, locate_seconds = phase(lambda: doc.position(path))
print(json.dumps({"size": len(text.encode()), "error": error and error.message, "position": list(position), "expected": expected,
                  "parse_bytes": parse_bytes, "parse_seconds": parse_seconds,
                  "locate_bytes": locate_bytes, "locate_seconds": locate_seconds}))
"""


def measure(kind: str, fmt: str, size: int) -> dict:
    if not Path("/proc/self/clear_refs").exists():
        pytest.skip("needs Linux's /proc/self/clear_refs to measure peak memory per phase")
    proc = subprocess.run(
        [sys.executable, "-c", MEASURE, kind, fmt, str(size)],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["error"] is None and out["position"] == out["expected"], out
    return out


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_locating_an_error_after_a_10_mb_string_takes_under_10x_its_size(fmt):
    out = measure("string", fmt, 10 * MiB)
    assert out["locate_bytes"] < 10 * out["size"], out  # was about 125x for JSON (1.2 GB)
    assert out["parse_bytes"] < 10 * out["size"], out
    assert out["parse_seconds"] + out["locate_seconds"] < 5, out  # YAML took 9 s


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_a_32_mb_input_stays_under_1_gib_and_a_few_seconds(fmt):
    out = measure("string", fmt, 32 * MiB)
    assert out["parse_bytes"] + out["locate_bytes"] < 1 << 30, out  # JSON took 3.8 GB
    assert out["parse_seconds"] + out["locate_seconds"] < 10, out  # YAML took 31 s


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_many_small_values_stay_linear(fmt):
    out = measure("dense", fmt, 2 * MiB)
    assert out["locate_bytes"] < 10 * out["size"], out
    assert out["parse_bytes"] < 10 * out["size"], out  # a YAML node tree took about 160x
    assert out["parse_seconds"] + out["locate_seconds"] < 20, out  # YAML took about 45 s
