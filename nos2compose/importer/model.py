"""The importer's internal model: what each Compose service becomes, before the job is written."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..diagnostics import Diagnostics

Port = int | str  # a port, or a range "8000-8010" (only @nosana/sdk accepts ranges)


@dataclass(frozen=True)
class Spread:
    """Items known only at run time, spliced into an array: a result of an earlier op
    (`{"__spread__": literal}`, `"chunked"` when its value comes in pieces)."""

    literal: str
    chunked: bool = False

    def to_json(self) -> dict:
        return {"__spread__": self.literal, **({"chunked": True} if self.chunked else {})}


def _json(value):
    return value.to_json() if isinstance(value, Spread) else value


@dataclass
class Exposed:
    port: Port
    health_checks: list[dict] = field(default_factory=list)

    def to_json(self) -> Port | dict:
        if not self.health_checks:
            return self.port
        return {"port": self.port, "health_checks": self.health_checks}


@dataclass
class DraftOp:
    """A container/run op in the making; `id` is the Compose service name, `op_id` the job's id for it."""

    id: str
    image: str
    entrypoint: list[str | Spread] | None = None
    cmd: list[str | Spread] | None = None
    env: dict[str, str] = field(default_factory=dict)
    env_from: list[tuple[str, str]] = field(default_factory=list)  # ("__spread__" | "__pairs__", literal), merged last
    work_dir: str | None = None
    gpu: bool = False
    expose: list[Exposed] = field(default_factory=list)
    volumes: list[dict] = field(default_factory=list)  # [{name, dest}]
    aliases: list[str] = field(default_factory=list)
    restart_policy: str | dict | None = None
    has_compose_healthcheck: bool = False  # a test that did not become an http check still says "a server"
    expose_key: str = "ports"  # the Compose key the first exposed port came from
    expose_from: list[Spread] = field(default_factory=list)  # ports that come from results of earlier ops
    resources: list[dict] = field(default_factory=list)  # rebuilt from nos2compose's fetchers
    results: dict = field(default_factory=dict)  # {key: regex | {regex, logType}}
    stop_if_dependent_stops: bool = False
    op_id: str | None = None  # label io.nosana.op: the job's id when it differs from the service name

    @property
    def job_id(self) -> str:
        return self.op_id or self.id

    def exposed(self, port: int) -> Exposed | None:
        return next((e for e in self.expose if e.port == port), None)

    @property
    def has_health_checks(self) -> bool:
        return any(e.health_checks for e in self.expose)

    @property
    def server_sign(self) -> tuple[str, str] | None:
        """(Compose key, why) when the op looks like a server rather than a task that exits."""
        if self.expose or self.expose_from:
            return (self.expose_key, "exposes ports")
        if self.restart_policy in ("always", "unless-stopped"):
            return ("restart", f"restarts ({self.restart_policy})")
        if self.has_compose_healthcheck:
            return ("healthcheck", "has a healthcheck")
        return None

    @property
    def probably_long_running(self) -> bool:
        return self.server_sign is not None

    def args(self) -> dict:
        out: dict = {"image": self.image}
        if self.entrypoint is not None:
            out["entrypoint"] = [_json(w) for w in self.entrypoint]
        if self.cmd is not None:
            out["cmd"] = [_json(w) for w in self.cmd]
        if self.env or self.env_from:
            out["env"] = {**self.env, **dict(self.env_from)}
        if self.work_dir is not None:
            out["work_dir"] = self.work_dir
        if self.gpu:
            out["gpu"] = True
        if self.expose or self.expose_from:
            out["expose"] = [e.to_json() for e in self.expose] + [s.to_json() for s in self.expose_from]
        if self.volumes:
            out["volumes"] = self.volumes
        if self.aliases:
            out["aliases"] = self.aliases
        if self.restart_policy is not None:
            out["restart_policy"] = self.restart_policy
        if self.resources:
            out["resources"] = self.resources
        return out


@dataclass(frozen=True)
class Edge:
    """`dependent` depends_on `dependency` with a Compose condition."""

    dependent: str
    dependency: str
    condition: str  # service_started, service_healthy, service_completed_successfully


@dataclass
class Group:
    name: str
    ops: list[str]  # op ids in start order (dependencies first)


@dataclass
class ServiceContext:
    """What a key handler needs: the service, the op it fills in, and where warnings go."""

    name: str
    service: dict
    op: DraftOp
    diags: Diagnostics
    links: list[tuple[str, str, str]]  # (service, linked service, alias), applied once every op exists
    ours: bool = False  # nos2compose convert wrote this service (label io.nosana.op)

    def warn(self, path: tuple, message: str) -> None:
        """A warning about this service; `path` continues after ("services", name)."""
        self.diags.warning(("services", self.name) + tuple(path), message)
