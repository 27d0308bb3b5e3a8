"""The `nos2compose` command: thin over the compiler (convert, validate, schema), the runtime's use cases
(up, ps, logs, stop, restart, down, serve, cache) and the importer (import).

Each command module imports only what it needs at the top; heavy libraries load inside the
commands that use them, so `convert` never pays for the engine or the web server.
"""

from __future__ import annotations

import sys

import click

from ..importer.command import import_command
from .cache import cache
from .convert import convert, schema, validate
from .run import down, logs, ps, restart, stop, up
from .serve import serve


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="nos2compose")
def main() -> None:
    """Turn Nosana job definitions into Docker Compose files, and run them locally.

    A job is the JSON (or YAML) file you post to Nosana. Its ops become Compose
    services named after the op ids; its execution groups run in order. Ports are
    published on 127.0.0.1 only. Run `nos2compose COMMAND --help` for details.
    """
    _utf8_output()


def _utf8_output() -> None:
    """Files and messages are UTF-8 whatever the locale (LC_ALL=C, PYTHONIOENCODING=ascii): a job's
    non-ASCII text never fails to print."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and (stream.encoding or "").lower().replace("-", "") != "utf8":
            try:
                reconfigure(encoding="utf-8", errors="backslashreplace")
            except (ValueError, OSError):
                pass


for command in (convert, validate, schema, up, ps, logs, stop, restart, down, serve, cache, import_command):
    main.add_command(command)
