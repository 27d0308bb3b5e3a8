"""Lints: mistakes in a job definition that cost GPU time on a node, and credentials in it.

Pure functions over the job, like the compiler: `lint_job` takes the job as written (the raw mapping, so paths
point at what the user wrote) and the typed Job the compiler made of it (gpu and image after global
fallbacks), and returns its findings as warning Diagnostics with a code. Which codes exist, with their help, is
catalogue.py; which are shown, selection.py and config.py; how they are written out, formats.py. The CLI reads
the files and prints, at the edge.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the rules load when a job is linted: `convert` pays for them only then
    from ..diagnostics import Diagnostic
    from .secrets import Secret


def lint_job(data: Any, job: Any = None, secrets: list[Secret] | None = None) -> list[Diagnostic]:
    """Every lint finding for the job, in no particular order (the CLI sorts by position). `job`: the typed Job,
    when the compiler could make one (the GPU rules need it); `secrets`: find_secrets(data), when already known."""
    from .gpu import gpu_mismatches, vram_keys
    from .health import generating_checks, websocket_checks
    from .images import floating_images
    from .ops import op_ids, packed_commands
    from .secrets import find_secrets, secret_findings
    from .walk import reading

    with reading(data):  # the job's ops read once for all the rules
        found: list[Diagnostic] = [
            *op_ids(data),
            *packed_commands(data),
            *vram_keys(data),
            *generating_checks(data),
            *websocket_checks(data),
            *floating_images(data),
            *secret_findings(data, find_secrets(data) if secrets is None else secrets),
        ]
        if job is not None:
            found.extend(gpu_mismatches(data, job))
    return found
