"""The engine boundary: every call to Docker goes through here, by python-on-whales.

Kept small so the supervisor's logic can be read, and tested, without an
engine (tests/test_supervisor.py drives it with a fake of this class).
Transient failures (an engine still starting, a pull that times out) are
retried with bounded backoff by tenacity.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

from .. import contract
from .states import Container

TRANSIENT = re.compile(r"timeout|timed out|TLS handshake|connection reset|temporary failure|i/o timeout|EOF", re.I)


class EngineError(Exception):
    """A one-line problem with the engine, and what to do about it."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message, self.hint = message, hint

    def __str__(self) -> str:
        return f"{self.message}; {self.hint}" if self.hint else self.message


def _first_line(exc: Exception) -> str:
    text = (getattr(exc, "stderr", None) or getattr(exc, "stdout", None) or str(exc)).strip()
    lines = [l for l in text.splitlines() if l.strip()]
    return lines[-1].strip() if lines else str(exc)


class Engine:
    """One job's Compose project on the local Docker engine."""

    def __init__(self, project: str):
        self.project = project
        if shutil.which("docker") is None:
            raise EngineError("the docker command is not installed (nos2compose runs jobs through it)",
                              "install Docker Engine and its Compose v2 plugin, then try again")
        from python_on_whales import DockerClient

        self._client_class = DockerClient
        self.docker = DockerClient(compose_project_name=project)

    def _files(self, files: list[Path]):
        return self._client_class(compose_project_name=self.project, compose_files=[str(f) for f in files])

    # -- pre-flight ----------------------------------------------------------------------

    def preflight(self, need_gpu_for: list[str]) -> None:
        """Engine reachable, Compose v2 there, and an NVIDIA runtime when an op asks for a GPU."""
        from python_on_whales.exceptions import DockerException
        from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

        @retry(retry=retry_if_exception_type(DockerException), stop=stop_after_attempt(3),
               wait=wait_exponential(multiplier=0.3, max=2), reraise=True)
        def info():
            return self.docker.info()

        try:
            details = info()
        except DockerException as exc:
            raise EngineError(f"cannot reach the Docker engine ({_first_line(exc)})",
                              "start it (`sudo systemctl start docker`, or `dockerd &` as root) or point DOCKER_HOST at it")
        try:
            self.docker.compose.version()
        except DockerException:
            raise EngineError("Docker Compose v2 is missing (`docker compose version` failed)",
                              "install the Compose v2 plugin (Debian/Ubuntu: docker-compose-plugin)")
        if need_gpu_for and "nvidia" not in (details.runtimes or {}):
            ops = ", ".join(need_gpu_for)
            raise EngineError(f"op {ops} asks for a GPU, but this Docker engine has no NVIDIA runtime",
                              "install the NVIDIA Container Toolkit, or add --no-gpu to run the job without GPU requests")

    # -- the job's containers ------------------------------------------------------------

    def up(self, files: list[Path], pull: str, services: list[str] | None = None) -> None:
        """`docker compose up -d --no-deps SERVICES` for (part of) one group; raises EngineError with Compose's own words.

        The supervisor orders the services itself (see Supervisor._start), hence --no-deps.
        """
        from python_on_whales.exceptions import DockerException
        from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

        transient = lambda exc: isinstance(exc, DockerException) and bool(TRANSIENT.search(_first_line(exc)))  # noqa: E731

        @retry(retry=retry_if_exception(transient), stop=stop_after_attempt(3),
               wait=wait_exponential(multiplier=1, max=8), reraise=True)
        def up():
            self._files(files).compose.up(services, detach=True, quiet=True, pull=pull, dependencies=services is None)

        try:
            up()
        except DockerException as exc:
            raise EngineError(_first_line(exc))

    def caches(self) -> list[str]:
        return sorted(v.name for v in self.docker.volume.list(filters={"label": f"{contract.CACHE_LABEL}=1"}))

    def remove_volumes(self, names: list[str]) -> None:
        if names:
            self.docker.volume.remove(names)

    def login(self, server: str | None, username: str, password: str) -> None:
        """`docker login` for a pull; the password goes on standard input, never on a command line or screen."""
        from python_on_whales.exceptions import DockerException

        try:
            self.docker.login(server=server, username=username, password=password)
        except DockerException:
            raise EngineError(f"docker login to {server or 'Docker Hub'} as {username} failed")

    def containers(self) -> list[Container]:
        """Every container of the project, in one engine call (python-on-whales would inspect one by one)."""
        from python_on_whales.utils import run

        out = run(self.docker.client_config.docker_compose_cmd + ["ps", "--all", "--format", "json"])
        rows = []
        for line in out.splitlines():
            line = line.strip()
            if not line:
                continue
            items = json.loads(line)
            for row in items if isinstance(items, list) else [items]:
                rows.append(Container(row.get("Service", ""), row.get("State", ""), row.get("Health", ""),
                                      int(row.get("ExitCode") or 0), row.get("Status", ""),
                                      _label(row.get("Labels") or "", contract.PROBE_FOR_LABEL), row.get("ID", ""),
                                      tuple(sorted({p["PublishedPort"] for p in row.get("Publishers") or []
                                                    if p.get("PublishedPort") and p.get("URL") in ("127.0.0.1", "0.0.0.0", "")}))))
        return rows

    def inspect_all(self) -> list[dict]:
        """Id and start/finish times (ms since the epoch) of every container of the job, in two engine calls."""
        from python_on_whales.utils import run

        ids = run(self.docker.client_config.docker_compose_cmd + ["ps", "--all", "--quiet"]).split()
        if not ids:
            return []
        out = []
        for c in json.loads(run(self.docker.client_config.docker_cmd + ["container", "inspect", *ids])):
            state = c.get("State") or {}
            out.append({"service": ((c.get("Config") or {}).get("Labels") or {}).get("com.docker.compose.service"),
                        "id": c.get("Id"), "started": _epoch_ms(state.get("StartedAt")),
                        "finished": _epoch_ms(state.get("FinishedAt"))})
        return out

    def stop(self, services: list[str] | None = None, timeout: int = 10) -> None:
        self.docker.compose.stop(services=services or None, timeout=timeout)

    def restart(self, services: list[str] | None = None, timeout: int = 10) -> None:
        self.docker.compose.restart(services=services or None, timeout=timeout)

    def down(self, volumes: bool) -> None:
        """Remove the job's containers and network; with `volumes`, its own volumes too, but never the
        shared resource caches (Compose's own `down -v` would remove those it created)."""
        self.docker.compose.down(remove_orphans=True, timeout=5, quiet=True)
        if volumes:
            own = self.docker.volume.list(filters={"label": f"com.docker.compose.project={self.project}"})
            self.remove_volumes([v.name for v in own if contract.CACHE_LABEL not in (v.labels or {})])

    def follow_logs(self, service: str) -> Iterator[str]:
        """The service's log lines from the start, following until its container stops."""
        for _, chunk in self.docker.compose.logs(services=[service], follow=True, stream=True, no_log_prefix=True):
            yield from chunk.decode("utf-8", "replace").splitlines()

    def stream_lines(self, container_id: str) -> list[tuple[str, str]]:
        """The container's whole log as (stream, line) pairs, stdout and stderr kept apart."""
        from python_on_whales.exceptions import DockerException

        buffers = {"stdout": "", "stderr": ""}
        out: list[tuple[str, str]] = []
        try:
            for stream, chunk in self.docker.container.logs(container_id, stream=True):
                text = buffers.get(stream, "") + chunk.decode("utf-8", "replace")
                *complete, rest = text.split("\n")
                out.extend((stream, line) for line in complete)
                buffers[stream] = rest
        except DockerException:
            return out
        out.extend((stream, rest) for stream, rest in buffers.items() if rest)
        return out

    def log_tail(self, service: str, lines: int | None) -> list[str]:
        """The last `lines` lines of the service's log (all with None); [] when there is none."""
        from python_on_whales.exceptions import DockerException

        try:
            text = self.docker.compose.logs(services=[service], tail=None if lines is None else str(lines), no_log_prefix=True)
        except DockerException:
            return []
        out = text.splitlines()
        return out if lines is None else out[-lines:]


def _epoch_ms(stamp: str | None) -> int | None:
    """Docker's RFC 3339 time (nanoseconds, Z) as ms since the epoch; None for its zero time."""
    from datetime import datetime, timezone

    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$", stamp or "")
    if not m or m.group(1).startswith("0001-"):
        return None
    base = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    return int(base.timestamp() * 1000) + int((m.group(2) or "0")[:3].ljust(3, "0"))


def _label(labels: str, key: str) -> str:
    """One label's value from Compose's "k=v,k=v" rendering (a value may itself hold commas)."""
    found, parts = None, []
    for piece in labels.split(","):
        name, eq, value = piece.partition("=")
        if eq and "." in name and " " not in name:  # the start of the next label
            if found is not None:
                break
            if name == key:
                found, parts = name, [value]
        elif found is not None:
            parts.append(piece)
    return ",".join(parts) if found else ""


def gpu_memory_mib() -> list[int] | None:
    """Total memory of each GPU as nvidia-smi reports it, or None when it cannot tell."""
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=memory.total", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=10, check=True).stdout
        return [int(float(v)) for v in out.split()]
    except (subprocess.SubprocessError, ValueError, OSError):
        return None
