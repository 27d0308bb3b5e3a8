"""Images by a floating tag (NOS401, opt-in): `latest`, or no tag at all, which means latest."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..diagnostics import Diagnostic, Path
from .walk import LITERAL_MARK, finding, run_ops, section


def floating_tag(image: str) -> str | None:
    """'latest' or 'no tag' when the reference floats; None for a pinned tag or a digest."""
    if "@" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return "no tag"
    return "latest" if last.rsplit(":", 1)[1] == "latest" else None


def floating_images(data: Any) -> Iterator[Diagnostic]:
    """NOS401 where each image is written: every op's own, and global.image once."""
    places: list[tuple[Path, Any, str | None]] = [(op.at("image"), op.args.get("image"), op.id) for op in run_ops(data)]
    places.append((("global", "image"), section(data, "global").get("image"), None))
    for path, image, op_id in places:
        if not isinstance(image, str) or not image.strip() or LITERAL_MARK in image:
            continue
        floats = floating_tag(image.strip())
        if floats is None:
            continue
        how = "has no tag, which means latest" if floats == "no tag" else "is pinned to latest"
        yield finding(
            "NOS401",
            path,
            f"image '{image}' {how}: the job runs whatever was pushed last, so it can change between runs, and a "
            "node that cached an older latest runs that one; pin a version tag or a digest (IMAGE@sha256:…)",
            op_id,
        )
