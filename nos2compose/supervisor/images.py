"""Images, checked before the first group starts: every check before anything runs.

nos2compose's own helper images (the probe sidecar's, the resource fetchers') must be there, or be pulled
now: when one cannot be had, nothing runs, and the line names the image and the option that replaces it.
An op's own image that is missing is pulled now too; one that cannot be had is named in one pre-flight
line, and then, as on a node, only that op fails (exit code 2) and the rest of the job goes on, unless
--abort-on-failure, which refuses the job up front.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from ..engine.protocol import Engine
from ..run_plan import RunPlan
from .preflight import pull_problem


class ImageProblem(Exception):
    """A helper image cannot be had (or an op's, with --abort-on-failure): nothing runs. The message is the line."""


class Needed(NamedTuple):
    image: str
    ops: tuple[str, ...]  # the ops that need it
    option: str  # the option that replaces it ("" for an op's own image)


def needed(plan: RunPlan, logged_in: set[str]) -> list[Needed]:
    """The images the job needs, helpers first; an op whose image needs a registry login (pulled after its
    login, when its group starts) is left out."""
    helpers: dict[tuple[str, str], list[str]] = {}
    own: dict[str, list[str]] = {}
    for group in plan.groups:
        for op in group.ops:
            if op.probe and op.probe_image:
                helpers.setdefault((op.probe_image, "--probe-image"), []).append(op.id)
            for fetcher in op.fetch:
                service = group.services.get(fetcher) or {}
                image = str(service.get("image") or "")
                entrypoint = " ".join(str(w) for w in service.get("entrypoint") or [])
                if image:  # Ollama models are pulled by Ollama's image, other resources by the fetch image
                    option = "--ollama-image" if "ollama" in entrypoint else "--fetch-image"
                    helpers.setdefault((image, option), []).append(op.id)
            if op.image and op.id not in logged_in:
                own.setdefault(op.image, []).append(op.id)
    out = [Needed(image, tuple(dict.fromkeys(ops)), option) for (image, option), ops in helpers.items()]
    return out + [Needed(image, tuple(ops), "") for image, ops in own.items()]


def check_images(
    engine: Engine, plan: RunPlan, pull: str, abort_on_failure: bool, warn: Callable[[str], None], logged_in=()
) -> dict[str, str]:
    """Pull what is missing (unless --pull never); {image: why} for op images that cannot be had (their ops
    fail when their group starts). ImageProblem when a helper image cannot be had, or an op's with
    --abort-on-failure."""
    wanted = needed(plan, set(logged_in))
    images = sorted({n.image for n in wanted})
    missing = engine.missing_images(images) if pull != "always" else set(images)
    unavailable: dict[str, str] = {}
    for need in wanted:
        if need.image not in missing:
            continue
        why = _fetch(engine, need.image, pull)
        if why is None:
            continue
        ops = ", ".join(need.ops)
        if need.option:
            raise ImageProblem(
                f"{pull_problem(need.image, why)}; it is nos2compose's own helper image for {ops}: "
                f"load it (`docker load`), or name one you have with {need.option}"
            )
        line = f"image {need.image} of op {ops} cannot be had ({why})"
        if abort_on_failure:
            raise ImageProblem(f"{line}; --abort-on-failure refuses the job: load it (`docker load`) or build it")
        warn(f"warning: {line}: as on a node, that op fails (exit code 2) and the rest of the job goes on")
        unavailable[need.image] = why
    return unavailable


def _fetch(engine: Engine, image: str, pull: str) -> str | None:
    """None once the engine has the image; else why it cannot have it."""
    if pull == "never":
        return "it is not on this engine, and --pull never"
    try:
        engine.pull_image(image)
    except Exception as exc:  # EngineError: the engine's own words
        return str(exc)
    return None
