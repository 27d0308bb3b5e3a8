"""What the runner asks of an engine, for one job's Compose project: the protocol, its rows and its error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple, Protocol


class EngineError(Exception):
    """A one-line problem with the engine, and what to do about it."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message, self.hint = message, hint

    def __str__(self) -> str:
        return f"{self.message}; {self.hint}" if self.hint else self.message


class Container(NamedTuple):
    """One container of the job's project, reduced to what the supervisor reads."""

    service: str
    state: str  # created, running, restarting, exited, paused, dead, removing
    health: str  # "", starting, healthy, unhealthy
    exit_code: int
    status: str  # Docker's own words, e.g. "Up 3 seconds (healthy)"
    probe_for: str = ""  # the op id a probe sidecar checks (compose.codec: its labels)
    id: str = ""  # the container id
    published: tuple[int, ...] = ()  # host ports the engine publishes for it
    op: str = ""  # the op, its group and group order, the op a fetcher fetches for: the plan, from the engine alone
    group: str = ""
    group_order: str = ""
    fetch_for: str = ""


class Engine(Protocol):
    """One job's Compose project on an engine. `env` carries the values a group's start needs (results of
    earlier ops, credentials) to the Compose process that reads the files, and nowhere else."""

    project: str

    def preflight(self, need_gpu_for: list[str]) -> None: ...
    def lacks(self, devices: list[str]) -> list[str]: ...
    def up(self, files: list[Path], pull: str, services: list[str] | None = None, env: dict | None = None) -> None: ...
    def containers(self) -> list[Container]: ...
    def missing_images(self, images: list[str]) -> set[str]: ...
    def pull(self, files: list[Path], services: list[str], env: dict | None = None) -> None: ...
    def health_log(self, container_id: str) -> str: ...
    def inspect_all(self) -> list[dict]: ...
    def stop(self, services: list[str] | None = None, timeout: int | None = None) -> None: ...
    def restart(self, services: list[str] | None = None, timeout: int | None = None) -> None: ...
    def down(self, volumes: bool, timeout: int | None = None) -> None: ...
    def login(self, server: str | None, username: str, password: str) -> None: ...
    def follow_logs(self, service: str) -> Iterator[str]: ...
    def stop_following(self) -> None: ...
    def stream_lines(self, container_id: str) -> list[tuple[str, str]]: ...
    def log_tail(self, service: str, lines: int | None) -> list[str]: ...
    def caches(self) -> list[str]: ...
    def remove_volumes(self, names: list[str]) -> None: ...
