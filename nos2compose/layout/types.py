"""What the planner decided, for the emitter to render: names, ports, helpers, variables, file names."""

from __future__ import annotations

from typing import NamedTuple

from ..compose.contract import Placeholder
from ..model import Resource, RunOp


class HealthTiming(NamedTuple):
    """How Docker runs the probe. Docker 20.10 refuses start_interval, so the interval itself
    is short: a service that becomes healthy is noticed within about 2 s on every engine."""

    interval: str = "1s"
    timeout: str = "10s"
    retries: int = 3
    # The node probes until the checks pass, with no limit; here failures during the
    # first hour do not count, and the first success ends the start period.
    start_period: str = "1h"


class Fetcher(NamedTuple):
    """An init service that fetches one resource of an op into its cache volume."""

    service: str
    n: int  # the resource's position in the op's resources, 1-based
    resource: Resource
    cache: str  # the shared cache volume


class Layout(NamedTuple):
    services: dict[str, str]  # op id -> service name
    ports: dict[tuple[str, int], int]  # (op id, container port) -> host port
    members: dict[str, list[RunOp]]  # groups that run something, in order, with their ops
    files: dict[str, str]  # group -> its file's name (NN-GROUP.yaml), sorting in group order
    probes: dict[str, str]  # op id -> its probe sidecar's service (--health-probe sidecar)
    fetchers: dict[str, tuple[Fetcher, ...]]  # op id -> the init services fetching its resources
    mounted: dict[str, str]  # resource target -> a host directory that already holds it (--resource-dir)
    variables: dict[Placeholder, str]  # result placeholder -> the Compose variable `up` fills in
    secret_variables: dict[tuple[str, int, str], str]  # (op id, resource n, fetcher env) -> Compose variable
    volume_ops: dict[str, tuple]  # run group -> the create-volume ops (VolumeOp) its file stands for
    timing: HealthTiming = HealthTiming()
    probe_image: str = ""
    fetch_image: str = "python:3.12-alpine"
    ollama_image: str | None = None  # None: the op's own image

    def gate(self, op: RunOp) -> str:
        """The service whose health says the op is ready: its probe sidecar if it has one."""
        return self.probes.get(op.id, self.services[op.id])

    @property
    def run_groups(self) -> tuple[str, ...]:
        return tuple(self.members)

    def cache_of(self, op: RunOp, n: int) -> str | None:
        """The cache volume mounted for the op's n-th resource; None when a host directory stands in for it."""
        return next((f.cache for f in self.fetchers.get(op.id, ()) if f.n == n), None)
