"""`cache ls` and `cache clear`: the shared cache of fetched resources."""

from __future__ import annotations

import click

from .common import ENGINE_PROBLEM, Failure


@click.group(
    epilog="""\b
Examples:
  nos2compose cache ls
  nos2compose cache clear   # after `nos2compose down`: a volume in use stays
"""
)
def cache() -> None:
    """The shared cache of fetched resources (S3, Hugging Face, Ollama), kept across runs and jobs.

    `nos2compose down -v` keeps it, so a second run fetches nothing; `cache clear` empties it.
    (Plain `docker compose down -v` removes the caches its project created.)
    """


@cache.command("ls")
def cache_ls() -> None:
    """List the cache volumes."""
    from .jobs import engine_for

    names = engine_for("nos2compose").caches()
    for name in names:
        click.echo(name)
    if not names:
        click.echo(
            "no cache volumes: nothing fetched yet (jobs with resources fill them on `nos2compose up`)", err=True
        )


@cache.command("clear")
def cache_clear() -> None:
    """Remove every cache volume (those in use by a container stay; run `down` first)."""
    from .jobs import engine_for

    engine = engine_for("nos2compose")
    names = engine.caches()
    try:
        engine.remove_volumes(names)
    except Exception as exc:  # a volume in use: one line
        raise Failure(f"cannot remove every cache volume: {exc}", ENGINE_PROBLEM) from None
    click.echo(f"removed {len(names)} cache volume{'s' * (len(names) != 1)}")
