"""The job laid out as a Compose project: everything decided before a file is written (service names, host
ports, helper services, cache volumes, variables, file names).

`plan_job` owns every name a generated file uses; the emitter only renders what it decided.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from ..model import Job, Placeholder, Resource, RunOp, VolumeOp
from . import codec
from .naming import service_names, unique
from .ports import PortProblem, host_ports

__all__ = ["HealthTiming", "Layout", "PlanOptions", "PortProblem", "plan_job", "service_names"]


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


class PlanOptions(NamedTuple):
    health_probe: str = "container"  # or "sidecar": probe from a service of its own, as the node does
    probe_image: str = "curlimages/curl:8.11.1"
    timing: HealthTiming = HealthTiming()
    fetch_image: str = "python:3.12-alpine"  # fetches S3 and Hugging Face resources
    ollama_image: str | None = None  # pulls Ollama models (None: the op's own image)
    resource_dirs: tuple[tuple[str, str], ...] = ()  # (target, host directory): mounted instead of fetched
    publish: tuple[tuple[str, int, int], ...] = ()  # (op id, container port, host port): --publish


def plan_job(
    job: Job, names: dict[str, str], placeholders: list[Placeholder], options: PlanOptions = PlanOptions()
) -> Layout:
    """The layout of a checked job; raises PortProblem when its ports cannot all be published as asked."""
    members = job.run_ops_by_group()
    mounted = dict(options.resource_dirs)
    taken = set(names.values())  # helpers never take an op's service name: the op keeps it, the helper moves
    fetchers = fetcher_names(job, names, mounted, taken)
    return Layout(
        services=names,
        ports=host_ports(job, options.publish),
        members=members,
        files=file_names(list(members)),
        probes=probe_names(job, names, taken) if options.health_probe == "sidecar" else {},
        fetchers=fetchers,
        mounted=mounted,
        variables=variable_names([*placeholders, *(p for op in job.run_ops for p in op.expose_from)]),
        secret_variables={
            (op.id, n, env): codec.secret_variable(op.id, n, env)
            for op in job.run_ops
            for n, r in enumerate(op.resources, 1)
            for env, _ in r.secrets
        },
        volume_ops=volume_hosts(job, list(members)),
        timing=options.timing,
        probe_image=options.probe_image,
        fetch_image=options.fetch_image,
        ollama_image=options.ollama_image,
    )


def variable_names(placeholders: list[Placeholder]) -> dict[Placeholder, str]:
    """One Compose variable per placeholder (per result and way of use), unique, in order of first use."""
    out: dict[Placeholder, str] = {}
    taken: set[str] = set()
    for p in placeholders:
        if p in out:
            continue
        out[p] = unique(codec.variable_base(p), taken, "_")
    return out


def fetcher_names(
    job: Job, names: dict[str, str], mounted: dict[str, str], taken: set[str]
) -> dict[str, tuple[Fetcher, ...]]:
    """op id -> the init services fetching its resources (those no host directory stands in for), each named
    `<service>-fetch-N`, or `<service>-fetch-N-2`, … when an op's service (or another helper) has that name:
    an op may be called `a-fetch-1`, and it must never replace op `a`'s fetcher."""
    return {
        op.id: tuple(
            Fetcher(
                unique(codec.fetch_service(names[op.id], n), taken, "-"),
                n,
                r,
                codec.cache_volume(r.kind, r.keyed),
            )
            for n, r in enumerate(op.resources, 1)
            if r.target not in mounted
        )
        for op in job.run_ops
        if op.resources
    }


def probe_names(job: Job, names: dict[str, str], taken: set[str]) -> dict[str, str]:
    """op id -> a service name for its probe sidecar, made unique against `taken` (every name in use)."""
    out = {}
    for op in job.run_ops:
        if op.has_health_checks:
            out[op.id] = unique(codec.probe_service(names[op.id]), taken, "-")
    return out


def volume_hosts(job: Job, run_groups: list[str]) -> dict[str, tuple[VolumeOp, ...]]:
    """Which group file stands for each create-volume op: the first group that runs something at or after the
    op's own group (a create-volume op has no container, so only a file that runs something can report it)."""
    out: dict[str, list[VolumeOp]] = {group: [] for group in run_groups}
    position = {group: n for n, group in enumerate(job.groups)}
    for op in job.ops:
        if isinstance(op, VolumeOp) and run_groups:
            later = [g for g in run_groups if position[g] >= position[op.group]]
            out[later[0] if later else run_groups[-1]].append(op)
    return {group: tuple(ops) for group, ops in out.items()}


def file_names(groups: list[str]) -> dict[str, str]:
    """group -> NN-GROUP.yaml, numbered so the names sort in group order."""
    width = max(2, len(str(len(groups) - 1)))
    return {group: f"{order:0{width}d}-{_slug(group)}.yaml" for order, group in enumerate(groups)}


def _slug(group: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", group).strip("-.") or "group"
