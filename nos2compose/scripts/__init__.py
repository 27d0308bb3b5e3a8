"""The scripts generated files run in containers, shipped as package data beside this module.

- probe.sh: the health probe (with probe_http.py, probe_ws.py, probe_http.bash and probe_ws.bash
  for images without curl); `probe()` assembles only the parts a job needs.
- fetch.py: fetches S3 and Hugging Face resources (an importable module with `main(argv)`).
- ollama_pull.sh: pulls an Ollama model.
Group files mount them from files of their own beside them (the whole probe: PROBE_PARTS); the single file
carries each inline, once, as a top-level `configs:` entry (the probe with only the parts the job needs).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

_SECTION = re.compile(r"^# @(section|end) ([a-z]+)$")
_EMBED = re.compile(r"^# @embed ([a-z_.]+)$")
PROBE_PARTS = frozenset({"http", "websocket", "self"})  # every section of probe.sh but the fallbacks


@cache
def text(name: str) -> str:
    # read beside the module (importlib.resources would add about 7 ms to every convert's start)
    return Path(__file__).with_name(name).read_text(encoding="utf-8")


def probe(kinds: frozenset[str], fallbacks: bool = True) -> str:
    """probe.sh with the sections given: the kinds of check ("http", "websocket"), "self" for a probe in the
    op's own container (compose.healthcheck.probe_parts); without the wget/python3/bash fallbacks when the
    image is known to have curl."""
    keep = set(kinds) | ({"fallback"} if fallbacks else set())
    out: list[str] = []
    dropping: list[str] = []
    for line in text("probe.sh").splitlines(keepends=True):
        marker = _SECTION.match(line.rstrip("\n"))
        if marker:
            kind, name = marker.groups()
            if kind == "section" and name not in keep:
                dropping.append(name)
            elif kind == "end" and dropping and dropping[-1] == name:
                dropping.pop()
            continue
        if dropping:
            continue
        embed = _EMBED.match(line.rstrip("\n"))
        out.append(text(embed.group(1)) if embed else line)
    return "".join(out)
