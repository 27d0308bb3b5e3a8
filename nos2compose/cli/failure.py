"""The Failure that ends a command: a message and an exit status, never a traceback.

Its own module so that findings.py (where diagnostics go) can raise it without importing common.py, which
imports findings.py.
"""

from __future__ import annotations

import click

BAD_INPUT = 2


class Failure(click.ClickException):
    """Stops a command with a message and an exit status; no traceback."""

    def __init__(self, message: str, status: int = BAD_INPUT):
        super().__init__(message)
        self.exit_code = status

    def show(self, file=None) -> None:
        if self.message:
            click.echo(f"error: {self.message}", err=True)
