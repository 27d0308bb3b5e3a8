"""Compose mounts -> named volumes of the job; everything else a node cannot mount is warned.

A node has named volumes (a `container/create-volume` op, mounted by name) and
nothing else: no host files, no tmpfs, no anonymous volumes.
"""

from __future__ import annotations

from ..diagnostics import Diagnostics
from .generated import is_cache
from .model import DraftOp

RESOURCE_HINT = (
    "bake the files into the image, or fetch them into {target} with a resource "
    "(S3, Hugging Face or Ollama; for model folders)"
)


def apply_mounts(service: str, mounts: list, op: DraftOp, diags: Diagnostics) -> None:
    """Named volumes become `args.volumes`; the rest is left out with a warning each."""
    for i, m in enumerate(mounts):
        path = ("services", service, "volumes", i)
        kind, source, target = m.get("type"), m.get("source"), m.get("target", "")
        if kind == "volume" and is_cache(source):
            continue  # a resource nos2compose fetches (generated.resource): not a volume of the job
        if kind == "volume" and source:
            op.volumes.append({"name": source, "dest": target})
            if m.get("read_only"):
                diags.warning(path + ("read_only",), f"volume {source} at {target}: a node mounts it read-write")
            for key in sorted(m.get("volume") or {}):
                diags.warning(
                    path + ("volume", key),
                    f"volume {source} at {target}: {key} is not kept; a node mounts the whole volume",
                )
        elif kind == "volume":
            diags.warning(
                path,
                f"anonymous volume at {target}: left out; on a node {target} is part of the "
                "container's file system (name the volume to share or keep it)",
            )
        elif kind == "bind" and source in ("/var/run/docker.sock", "/run/docker.sock"):
            diags.warning(
                path, f"bind mount of the Docker socket at {target}: left out; a node gives containers no Docker socket"
            )
        elif kind == "bind":
            diags.warning(
                path,
                f"bind mount of host path {source} at {target}: left out; a node has none of your "
                "files: " + RESOURCE_HINT.format(target=target),
            )
        elif kind == "tmpfs":
            diags.warning(
                path,
                f"tmpfs at {target}: left out; a node mounts no tmpfs: {target} is part of the container's file system",
            )
        else:
            diags.warning(path, f"{kind} mount at {target}: left out; a node mounts named volumes only")


def check_project_volume(name: str, spec: dict, used: bool, diags: Diagnostics) -> None:
    """Warns about what a create-volume op cannot keep of a top-level volume."""
    path = ("volumes", name)
    if is_cache(name) or is_cache(spec.get("name")):
        return  # nos2compose's shared resource cache (label io.nosana.cache): resources, not job volumes
    if not used:
        diags.warning(path, f"volume {name} is mounted by no op of the job: left out")
        return
    if spec.get("external"):
        diags.warning(
            path + ("external",),
            f"external volume {spec.get('name', name)}: a node creates a new, empty volume {name} for the job",
        )
    for key in ("driver", "driver_opts", "labels"):
        if spec.get(key):
            diags.warning(path + (key,), f"volume {name}: {key} is not kept; a node creates a plain local volume")


def volume_op_ids(names: list[str], taken: set[str]) -> dict[str, str]:
    """volume name -> op id `volume-NAME`, made unique against the ids already taken."""
    out = {}
    for name in names:
        base = candidate = f"volume-{name}"
        n = 2
        while candidate in taken:
            candidate, n = f"{base}-{n}", n + 1
        taken.add(candidate)
        out[name] = candidate
    return out
