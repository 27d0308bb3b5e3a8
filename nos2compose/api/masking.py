"""Credentials in a job definition, masked: the form in which a job is ever kept or shown after it is read."""

from __future__ import annotations

from ..diagnostics import CREDENTIAL_KEYS as SECRET_KEYS


def masked(value):
    """The value with every credential replaced by ***."""
    if isinstance(value, dict):
        return {k: "***" if k in SECRET_KEYS and isinstance(v, str) else masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value
