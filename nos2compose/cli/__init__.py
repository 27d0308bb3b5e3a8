"""The `nos2compose` command: thin over the compiler (convert, validate, schema), the runtime's use cases
(up, ps, logs, stop, restart, down, shell, serve, cache) and the importer (import).

Commands are loaded when they are run (or listed by --help), and each loads heavy libraries inside
itself, so `ps` never pays for the compiler and `convert` never for the engine or the web server.
"""

from __future__ import annotations

import importlib
import sys

import click

COMMANDS = {  # name -> module:attribute, in the order --help lists them
    "convert": "nos2compose.cli.convert:convert",
    "validate": "nos2compose.cli.convert:validate",
    "schema": "nos2compose.cli.convert:schema",
    "import": "nos2compose.cli.importing:import_command",
    "up": "nos2compose.cli.run:up",
    "ps": "nos2compose.cli.run:ps",
    "logs": "nos2compose.cli.run:logs",
    "stop": "nos2compose.cli.run:stop",
    "restart": "nos2compose.cli.run:restart",
    "down": "nos2compose.cli.run:down",
    "shell": "nos2compose.cli.shell:shell",
    "serve": "nos2compose.cli.serve:serve",
    "cache": "nos2compose.cli.cache:cache",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx, name: str):
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name].split(":")
        return getattr(importlib.import_module(module), attr)

    def format_commands(self, ctx, formatter) -> None:
        """Each command with its whole one-line summary (click cuts them at the terminal's width with "...")."""
        rows = [(name, self.get_command(ctx, name).get_short_help_str(limit=200)) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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
