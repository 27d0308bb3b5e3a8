"""The engine boundary: every call to Docker goes through here, by python-on-whales.

`Engine` is the protocol the supervisor, the API and the commands are written
against; `DockerEngine` is the real one, and the tests' fake engine satisfies
the same protocol, so the runner's logic is tested without an engine. Transient
failures (an engine still starting, a pull that times out) are retried with
bounded backoff by tenacity.

python-on-whales is imported on first use only: `containers()` (all `ps`
needs) runs `docker compose ps` itself, because importing python-on-whales
alone costs about as much as the whole `ps` may take.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from ..compose import contract
from ..supervisor.states import Container
from . import logs as docker_logs

TRANSIENT = re.compile(r"timeout|timed out|TLS handshake|connection reset|temporary failure|i/o timeout|EOF", re.I)


class EngineError(Exception):
    """A one-line problem with the engine, and what to do about it."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message, self.hint = message, hint

    def __str__(self) -> str:
        return f"{self.message}; {self.hint}" if self.hint else self.message


def _first_line(exc: Exception) -> str:
    text = getattr(exc, "stderr", None) or getattr(exc, "stdout", None) or str(exc)
    return _last_line(text) or str(exc)


def _last_line(text: str) -> str:
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


class Engine(Protocol):
    """What the runner asks of an engine, for one job's Compose project."""

    project: str

    def preflight(self, need_gpu_for: list[str]) -> None: ...
    def up(self, files: list[Path], pull: str, services: list[str] | None = None) -> None: ...
    def containers(self) -> list[Container]: ...
    def missing_images(self, images: list[str]) -> set[str]: ...
    def pull(self, files: list[Path], services: list[str]) -> None: ...
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


class DockerEngine:
    """One job's Compose project on the local Docker engine."""

    def __init__(self, project: str):
        self.project = project
        if shutil.which("docker") is None:
            raise EngineError(
                "the docker command is not installed (nos2compose runs jobs through it)",
                "install Docker Engine and its Compose v2 plugin, then try again",
            )
        self._docker = None
        self._followers = docker_logs.Followers(project)

    @property
    def docker(self):
        if self._docker is None:
            from python_on_whales import DockerClient

            self._docker = DockerClient(compose_project_name=self.project)
        return self._docker

    def _files(self, files: list[Path]):
        from python_on_whales import DockerClient

        return DockerClient(compose_project_name=self.project, compose_files=[str(f) for f in files])

    # -- pre-flight ----------------------------------------------------------------------

    def preflight(self, need_gpu_for: list[str]) -> None:
        """Engine reachable, Compose v2 there, and an NVIDIA runtime when an op asks for a GPU."""
        from python_on_whales.exceptions import DockerException
        from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

        @retry(
            retry=retry_if_exception_type(DockerException),
            stop=stop_after_attempt(3),
            wait=wait_exponential(multiplier=0.3, max=2),
            reraise=True,
        )
        def info():
            return self.docker.info()

        quiet = subprocess.DEVNULL  # `compose version` runs while `info` does: each is a process start, ~0.1 s
        compose = subprocess.Popen(["docker", "compose", "version"], stdout=quiet, stderr=quiet, stdin=quiet)
        try:
            details = info()
        except DockerException as exc:
            raise EngineError(
                f"cannot reach the Docker engine ({_first_line(exc)})",
                "start it (`sudo systemctl start docker`, or `dockerd &` as root) or point DOCKER_HOST at it",
            ) from None
        if compose.wait(timeout=60) != 0:
            raise EngineError(
                "Docker Compose v2 is missing (`docker compose version` failed)",
                "install the Compose v2 plugin (Debian/Ubuntu: docker-compose-plugin)",
            )
        if need_gpu_for and "nvidia" not in (details.runtimes or {}):
            ops = ", ".join(need_gpu_for)
            raise EngineError(
                f"op {ops} asks for a GPU, but this Docker engine has no NVIDIA runtime",
                "install the NVIDIA Container Toolkit, or add --no-gpu to run the job without GPU requests",
            )

    # -- the job's containers ------------------------------------------------------------

    def up(self, files: list[Path], pull: str, services: list[str] | None = None) -> None:
        """`docker compose up -d --no-deps SERVICES` for (part of) one group; EngineError in Compose's own words.

        The supervisor orders the services itself (see Supervisor._start), hence --no-deps.
        """
        from python_on_whales.exceptions import DockerException
        from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

        transient = lambda exc: isinstance(exc, DockerException) and bool(TRANSIENT.search(_first_line(exc)))  # noqa: E731

        @retry(
            retry=retry_if_exception(transient),
            stop=stop_after_attempt(3),
            wait=wait_exponential(multiplier=1, max=8),
            reraise=True,
        )
        def up():
            self._files(files).compose.up(services, detach=True, quiet=True, pull=pull, dependencies=services is None)

        try:
            up()
        except DockerException as exc:
            raise EngineError(_first_line(exc)) from None

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
            raise EngineError(f"docker login to {server or 'Docker Hub'} as {username} failed") from None

    def containers(self) -> list[Container]:
        """Every container of the project, in one engine call (python-on-whales would inspect one by one)."""
        proc = _run([*_compose(self.project), "ps", "--all", "--format", PS_FORMAT])
        if proc.returncode != 0:
            raise EngineError(
                f"cannot list the job's containers ({_last_line(proc.stderr) or 'docker compose ps failed'})"
            )
        return parse_ps(proc.stdout)

    def missing_images(self, images: list[str]) -> set[str]:
        """The images of `images` the engine does not have (one call)."""
        wanted = sorted(set(images))
        if not wanted:
            return set()
        proc = _run(["docker", "image", "inspect", "--format", "{{.Id}}", *wanted])
        if proc.returncode == 0:
            return set()
        return {image for image in wanted if f"No such image: {image}" in proc.stderr}

    def pull(self, files: list[Path], services: list[str]) -> None:
        """`docker compose pull SERVICES`; EngineError with the engine's own last line (python-on-whales would
        let Compose print to our terminal, and keep nothing of it)."""
        proc = _run([*_compose(self.project, files), "pull", "--quiet", *services], timeout=3600)
        if proc.returncode != 0:
            raise EngineError(_last_line(proc.stderr) or f"docker compose pull failed (exit status {proc.returncode})")

    def health_log(self, container_id: str) -> str:
        """The last health-probe output Docker kept for the container ('' when there is none)."""
        proc = _run(["docker", "inspect", "--format", "{{json .State.Health}}", container_id], timeout=30)
        try:
            health = json.loads(proc.stdout or "null") or {}
        except ValueError:
            return ""
        log = health.get("Log") or []
        return _last_line(str(log[-1].get("Output") or "")) if log else ""

    def inspect_all(self) -> list[dict]:
        """Id, start/finish times (ms since the epoch) and exit code of every container of the job, in two engine
        calls."""
        from python_on_whales.utils import run

        ids = run(self.docker.client_config.docker_compose_cmd + ["ps", "--all", "--quiet"]).split()
        if not ids:
            return []
        out = []
        for c in json.loads(run(self.docker.client_config.docker_cmd + ["container", "inspect", *ids])):
            state = c.get("State") or {}
            out.append(
                {
                    "service": ((c.get("Config") or {}).get("Labels") or {}).get("com.docker.compose.service"),
                    "id": c.get("Id"),
                    "started": _epoch_ms(state.get("StartedAt")),
                    "finished": _epoch_ms(state.get("FinishedAt")),
                    "exit_code": state.get("ExitCode"),  # ps says 0 for a container the runtime could not start
                }
            )
        return out

    def stop(self, services: list[str] | None = None, timeout: int | None = None) -> None:
        """As `docker compose stop`: each container's stop signal, then its grace period (10 s unless the file
        sets stop_grace_period) before a kill; `timeout` overrides the grace period. The node stops the same way."""
        self.docker.compose.stop(services=services or None, timeout=timeout)

    def restart(self, services: list[str] | None = None, timeout: int | None = None) -> None:
        self.docker.compose.restart(services=services or None, timeout=timeout)

    def down(self, volumes: bool, timeout: int | None = None) -> None:
        """Remove the job's containers and network; with `volumes`, its own volumes too, but never the
        shared resource caches (Compose's own `down -v` would remove those it created)."""
        self.docker.compose.down(remove_orphans=True, timeout=timeout, quiet=True)
        if volumes:
            own = self.docker.volume.list(filters={"label": f"com.docker.compose.project={self.project}"})
            self.remove_volumes([v.name for v in own if contract.CACHE_LABEL not in (v.labels or {})])

    def follow_logs(self, service: str) -> Iterator[str]:
        """The service's log lines from the start, following until its container stops (or stop_following)."""
        return self._followers.follow(service)

    def stop_following(self) -> None:
        self._followers.stop()

    def stream_lines(self, container_id: str) -> list[tuple[str, str]]:
        """The container's whole log as (stream, entry) in log order, each entry with its newline (the node's)."""
        return docker_logs.stream_lines(container_id)

    def log_tail(self, service: str, lines: int | None) -> list[str]:
        """The last `lines` lines of the service's log (all with None); [] when there is none."""
        from python_on_whales.exceptions import DockerException

        try:
            text = self.docker.compose.logs(
                services=[service], tail=None if lines is None else str(lines), no_log_prefix=True
            )
        except DockerException:
            return []
        out = text.splitlines()
        return out if lines is None else out[-lines:]


# Compose's "k=v,k=v" rendering of labels cannot be split safely, so each label nos2compose reads is asked for
# by name, JSON-quoted, after the row: one line per container, fields apart by tabs (JSON never holds a raw tab).
_PS_LABELS = (
    contract.OP_LABEL,
    contract.GROUP_LABEL,
    contract.GROUP_ORDER_LABEL,
    contract.PROBE_FOR_LABEL,
    contract.FETCH_FOR_LABEL,
)
PS_FORMAT = "{{json .}}" + "".join(f'\t{{{{json (.Label "{label}")}}}}' for label in _PS_LABELS)


def _compose(project: str | None, files: list[Path] | tuple = ()) -> list[str]:
    """`docker compose` for the project (None: none named) and its files, ready for a subcommand."""
    command = ["docker", "compose", *(["--project-name", project] if project else [])]
    for f in files:
        command += ["--file", str(f)]
    return command


def _run(command: list[str], timeout: float = 60) -> subprocess.CompletedProcess:
    """A docker command run to its end, its output kept (the caller reads returncode and stderr)."""
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)


def compose_config(files: list[Path]) -> dict:
    """The project as Compose merges `files` (`docker compose config --no-interpolate --format json`); needs
    no engine. EngineError with Compose's own words when it refuses them."""
    proc = _run([*_compose(None, files), "config", "--no-interpolate", "--format", "json"])
    if proc.returncode != 0:
        raise EngineError(_last_line(proc.stderr) or "docker compose config failed")
    return json.loads(proc.stdout)


def parse_ps(text: str) -> list[Container]:
    """`docker compose ps --all --format PS_FORMAT` output as Container rows."""
    rows = []
    for line in text.splitlines():
        if not line.strip():
            continue
        row, *labels = (json.loads(field) for field in line.split("\t"))
        op, group, order, probe_for, fetch_for = (labels + [""] * len(_PS_LABELS))[: len(_PS_LABELS)]
        published = {
            p["PublishedPort"]
            for p in row.get("Publishers") or []
            if p.get("PublishedPort") and p.get("URL") in ("127.0.0.1", "0.0.0.0", "")
        }
        rows.append(
            Container(
                row.get("Service", ""),
                row.get("State", ""),
                row.get("Health", ""),
                int(row.get("ExitCode") or 0),
                row.get("Status", ""),
                probe_for,
                row.get("ID", ""),
                tuple(sorted(published)),
                op=op,
                group=group,
                group_order=order,
                fetch_for=fetch_for,
            )
        )
    return rows


def _epoch_ms(stamp: str | None) -> int | None:
    """Docker's RFC 3339 time (nanoseconds, Z) as ms since the epoch; None for its zero time."""
    from datetime import datetime, timezone

    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$", stamp or "")
    if not m or m.group(1).startswith("0001-"):
        return None
    base = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    return int(base.timestamp() * 1000) + int((m.group(2) or "0")[:3].ljust(3, "0"))


def gpu_memory_mib() -> list[int] | None:
    """Total memory of each GPU as nvidia-smi reports it, or None when it cannot tell."""
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=memory.total", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
        return [int(float(v)) for v in out.split()]
    except (subprocess.SubprocessError, ValueError, OSError):
        return None
