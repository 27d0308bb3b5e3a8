"""The typed job model that sits between the JSON and the Compose output.

Everything here is already validated and has convert-time literals resolved;
global fallbacks (image, entrypoint, work_dir, env, gpu) are applied. The
emitter reads only this, never the raw mapping. Records are NamedTuples:
immutable, typed, and much cheaper to define than dataclasses, which keeps
`convert`'s start-up short.
"""

from __future__ import annotations

from typing import NamedTuple

from .diagnostics import Path

SPLICES = ("text", "embedded", "items", "object", "pairs", "items_chunked", "object_chunked", "pairs_chunked")


class Placeholder(NamedTuple):
    """A result of an earlier op (`%%ops.OP.results.KEY%%`), known only when the group using it starts.

    `splice` says how the value is used: `text` (the whole value of a string), `embedded` (inside a
    longer string), `items` (list items), `object`/`pairs` (merged into the environment), each of the
    last three optionally `_chunked`.
    """

    op: str
    key: str
    splice: str = "text"

    @property
    def literal(self) -> str:
        return f"%%ops.{self.op}.results.{self.key}%%"


class Variable(NamedTuple):
    """A generated Compose variable, by name, where the emitter writes a reference to it (a credential)."""

    name: str


class Template(str):
    """Text holding values only `up` knows (results of earlier ops): job text and placeholders, in order.

    As a str it reads as the job wrote it (each placeholder as its literal), so checks and
    messages see the job's own words; the emitter writes the parts, escaping only the job's text.
    """

    parts: tuple[str | Placeholder | Variable, ...]

    def __new__(cls, parts):
        merged: list = []
        for part in parts:
            if isinstance(part, str) and merged and isinstance(merged[-1], str):
                merged[-1] += str(part)
            elif not (isinstance(part, str) and part == ""):
                merged.append(str(part) if isinstance(part, str) else part)
        text = "".join(p if isinstance(p, str) else getattr(p, "literal", "") for p in merged)
        self = super().__new__(cls, text)
        self.parts = tuple(merged)
        return self

    @property
    def placeholders(self) -> tuple[Placeholder, ...]:
        return tuple(p for p in self.parts if isinstance(p, Placeholder))

    @property
    def whole(self) -> Placeholder | None:
        """The placeholder when it is the whole value (an item to splice, an object to merge)."""
        return self.parts[0] if len(self.parts) == 1 and isinstance(self.parts[0], Placeholder) else None


class HttpCheck(NamedTuple):
    path: str
    method: str
    expected_status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None  # already encoded as the node sends it
    continuous: bool = False


class WebSocketCheck(NamedTuple):
    expected_response: str
    continuous: bool = False


HealthCheck = HttpCheck | WebSocketCheck


class Expose(NamedTuple):
    port: int  # the container port (the first of a range)
    kind: str | None = None  # web, api, webapi, websocket, none: changes nothing at run time
    health_checks: tuple[HealthCheck, ...] = ()
    last: int | None = None  # a range "8000-8010" (only @nosana/sdk and the node accept it): its last port

    @property
    def count(self) -> int:
        return 1 if self.last is None else self.last - self.port + 1


class Resource(NamedTuple):
    """Something the node fetches before the op starts (S3 prefix, HF repo, Ollama model), mounted at target."""

    kind: str  # S3, HF or Ollama
    target: str
    spec: str  # the resource as JSON, without credentials: what the fetcher gets
    keyed: str  # the part of the spec that decides what is fetched (JSON): the cache key
    secrets: tuple[tuple[str, str], ...] = ()  # (fetcher's env name, value): kept in memory only


class Mount(NamedTuple):
    volume: str
    dest: str


class RunOp(NamedTuple):
    """A container/run operation."""

    id: str
    index: int  # position in `ops`, for paths in messages
    group: str
    image: str
    depends_on: tuple[str, ...] = ()
    cmd: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    work_dir: str | None = None
    env: tuple[tuple[str, str], ...] = ()
    gpu: bool = False
    expose: tuple[Expose, ...] = ()
    mounts: tuple[Mount, ...] = ()
    aliases: tuple[str, ...] = ()
    restart: str | None = None
    results: tuple = ()  # ResultSpec: what to extract from the op's log once it exits
    stop_if_dependent_stops: bool = False  # stopped when an op it depends on ends
    expose_from: tuple[Placeholder, ...] = ()  # exposed ports that come from earlier ops' results
    env_from: tuple[Placeholder, ...] = ()  # env objects spread from earlier ops' results
    resources: tuple[Resource, ...] = ()
    unresolved: tuple[str, ...] = ()  # the node's messages for literals it cannot resolve: the op fails at its start
    engine_refuses: tuple[str, ...] = ()  # Docker's words refusing the container the node makes: fails, exit code 2
    grouped: bool = True  # execution.group given (else the op's group is its own id)

    @property
    def path(self) -> Path:
        return ("ops", self.index)

    @property
    def has_health_checks(self) -> bool:
        return any(e.health_checks for e in self.expose)


class VolumeOp(NamedTuple):
    """A container/create-volume operation: a named volume other ops mount."""

    id: str
    index: int
    group: str
    name: str


Op = RunOp | VolumeOp


class Words(NamedTuple):
    """The job's own words where the files say the same thing another way (written.py), so that `import`
    gives the very job back: a string cmd, a global block, a literal, a bare port number."""

    as_written: dict = {}  # noqa: RUF012 (never mutated)  key ("args.cmd", "meta") -> its value as the job wrote it
    not_written: tuple[str, ...] = ()  # keys the job left out that the files spell ("args.image" from global.image)
    index: int | None = None  # the op's place in the job's ops, when import would order them otherwise


class Written(NamedTuple):
    """What `convert` records of the job's own words: for its top level, and for each op by id."""

    top: Words = Words()
    ops: dict[str, Words] = {}  # noqa: RUF012 (never mutated)


class Job(NamedTuple):
    name: str  # the Compose project name, also the local job id
    ops: tuple[Op, ...]
    groups: tuple[str, ...] = ()  # in order of first appearance
    written: Written | None = None  # the job's own words, for the files convert writes (None: not recorded)

    @property
    def run_ops(self) -> tuple[RunOp, ...]:
        return tuple(op for op in self.ops if isinstance(op, RunOp))

    def run_ops_by_group(self) -> dict[str, list[RunOp]]:
        """Groups that run something, in order, each with its container/run ops."""
        out: dict[str, list[RunOp]] = {}
        for op in self.run_ops:
            out.setdefault(op.group, []).append(op)
        return out
