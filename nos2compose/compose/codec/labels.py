"""Labels on services and cache volumes: which op a container is or helps, in which group."""

from __future__ import annotations

from typing import Any, NamedTuple

from .. import contract as c

# -- labels -----------------------------------------------------------------------------------------

LABELS = (c.OP_LABEL, c.GROUP_LABEL, c.GROUP_ORDER_LABEL, c.PROBE_FOR_LABEL, c.FETCH_FOR_LABEL)
SERVICE_LABEL = "com.docker.compose.service"  # Compose's own, on every container it makes
PROJECT_LABEL = "com.docker.compose.project"
ONEOFF_LABEL = "com.docker.compose.oneoff"


class Marks(NamedTuple):
    """What a service's (or its container's) labels say: which op it is or helps, in which group."""

    op: str = ""
    group: str = ""
    group_order: str = ""
    probe_for: str = ""  # a probe sidecar: the op id whose checks it runs
    fetch_for: str = ""  # a fetcher: the op id whose resource it fetches

    @property
    def helper(self) -> bool:
        return bool(self.probe_for or self.fetch_for)


def op_labels(op_id: str, group: str, order: int) -> dict[str, str]:
    return {c.OP_LABEL: op_id, c.GROUP_LABEL: group, c.GROUP_ORDER_LABEL: str(order)}


def probe_labels(op_id: str, group: str, order: int) -> dict[str, str]:
    return {c.PROBE_FOR_LABEL: op_id, c.GROUP_LABEL: group, c.GROUP_ORDER_LABEL: str(order)}


def fetch_labels(op_id: str, group: str, order: int) -> dict[str, str]:
    return {c.FETCH_FOR_LABEL: op_id, c.GROUP_LABEL: group, c.GROUP_ORDER_LABEL: str(order)}


CACHE_LABELS = {c.CACHE_LABEL: "1"}  # on the shared resource cache volumes
CACHE_FILTER = f"{c.CACHE_LABEL}=1"


def is_cache_volume(labels: dict | None) -> bool:
    return c.CACHE_LABEL in (labels or {})


def labels_of(service: Any) -> dict:
    """A service's labels as a mapping, from either of Compose's forms (a mapping, or ["key=value", ...])."""
    labels = (service or {}).get("labels") if isinstance(service, dict) else None
    if isinstance(labels, list):
        return dict(str(item).split("=", 1) for item in labels if "=" in str(item))
    return labels if isinstance(labels, dict) else {}


def read_labels(labels: dict) -> Marks:
    return Marks(*(str(labels.get(name, "")) for name in LABELS))


def marks(values: list[str]) -> Marks:
    """The Marks of label values given in LABELS order (as the engine answers for a container)."""
    return Marks(*(list(values) + [""] * len(LABELS))[: len(LABELS)])


# -- group files -------------------------------------------------------------------------------


def is_group_file(path, text: str) -> bool:
    """Whether a file in a directory `convert -o` wrote is one of its group files: Compose services and an
    x-nos2compose block (which hand edits keep), and not a person's override file."""
    return "services:" in text and f"{c.EXTENSION}:" in text and not str(path).endswith(c.OVERRIDE_SUFFIX)


def override_of(path):
    """The override file of a group file (NN-GROUP.override.yaml beside NN-GROUP.yaml)."""
    return path.with_name(path.stem + c.OVERRIDE_SUFFIX)


# -- scripts ------------------------------------------------------------------------------------


def script_mount(config: str) -> dict:
    """A service's mount of a script the file carries as a config."""
    return {"source": config, "target": c.SCRIPT_PATHS[config]}


def is_script_mount(mount: Any) -> bool:
    return isinstance(mount, dict) and mount.get("source") in c.SCRIPT_PATHS
