"""The real engine: one job's Compose project on the local Docker engine.

python-on-whales drives what it serves well (info, login, volumes, stop, restart, down, logs); the calls
that must be fast or must carry an environment run the docker CLI through process.py: `containers()`
(all `ps` needs) is one `docker ps`, since importing python-on-whales alone costs about as much as the
whole `ps` may take, and `up`/`pull` hand Compose the values a group's start needs as its environment.
Transient failures (an engine still starting, a pull that times out) are retried with bounded backoff
by tenacity. Neither library is imported until a call needs it.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

from ..compose import codec
from . import logs, process, rows
from .protocol import Container, EngineError

# bash where the image has it, else sh (the node's terminal and `nosana job ssh` open a login shell alike)
SHELL = ["sh", "-c", "if command -v bash >/dev/null 2>&1; then exec bash; else exec sh; fi"]
TRANSIENT = re.compile(r"timeout|timed out|TLS handshake|connection reset|temporary failure|i/o timeout|EOF", re.I)


def _first_line(exc: Exception) -> str:
    text = getattr(exc, "stderr", None) or getattr(exc, "stdout", None) or str(exc)
    return _last_line(text) or str(exc)


def _last_line(text: str) -> str:
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


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
        self._host_name: str | None = None  # the engine's machine, as `docker info` names it
        self._followers = logs.Followers(project)
        import atexit

        atexit.register(self._followers.stop)  # a `logs --follow` left alone outlives this process
        self._stats = None  # a StatsFeed, once stats are asked for

    @property
    def docker(self):
        if self._docker is None:
            from python_on_whales import DockerClient

            self._docker = DockerClient(compose_project_name=self.project)
        return self._docker

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

        # `compose version` runs while `info` does: each is a process start, ~0.1 s
        compose = process.start(["docker", "compose", "version"], quiet=True)
        try:
            details = info()
        except DockerException as exc:
            process.end(compose)
            raise EngineError(
                f"cannot reach the Docker engine ({_first_line(exc)})",
                "start it (`sudo systemctl start docker`, or `dockerd &` as root) or point DOCKER_HOST at it",
            ) from None
        self._host_name = str(details.name or "")
        if process.finished(compose, 60) != 0:
            process.end(compose)
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

    def lacks(self, devices: list[str]) -> list[str]:
        """The device files of `devices` the engine's machine does not have (told only when it is this one)."""
        from .host import missing_devices

        if self._host_name is None:
            self._host_name = str(self.docker.info().name or "")
        return missing_devices(devices, self._host_name)

    # -- the job's containers ------------------------------------------------------------

    def up(self, files: list[Path], pull: str, services: list[str] | None = None, env: dict | None = None) -> None:
        """`docker compose up -d --no-deps SERVICES` for (part of) one group; EngineError in Compose's own words.
        The supervisor orders the services itself (see Supervisor._start), hence --no-deps."""
        from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

        if services == []:
            return
        command = [*_compose(self.project, files), "up", "--detach", "--pull", pull]
        command += ["--no-deps", *services] if services is not None else []

        @retry(
            retry=retry_if_exception(lambda exc: isinstance(exc, EngineError) and bool(TRANSIENT.search(str(exc)))),
            stop=stop_after_attempt(3),
            wait=wait_exponential(multiplier=1, max=8),
            reraise=True,
        )
        def up():
            proc = process.run(command, timeout=3600, env=process.environment(env))
            if proc.returncode != 0:
                raise EngineError(
                    _last_line(proc.stderr) or f"docker compose up failed (exit status {proc.returncode})"
                )

        up()

    def caches(self) -> list[str]:
        return sorted(v.name for v in self.docker.volume.list(filters=[("label", codec.CACHE_FILTER)]))

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
        """Every container of the project, in one `docker ps` (the docker CLI alone starts faster than Compose's
        plugin, and python-on-whales would inspect them one by one)."""
        proc = process.run(rows.ps_command(self.project))
        if proc.returncode != 0:
            raise EngineError(f"cannot list the job's containers ({_last_line(proc.stderr) or 'docker ps failed'})")
        return rows.parse_ps(proc.stdout)

    def missing_images(self, images: list[str]) -> set[str]:
        """The images of `images` the engine does not have (one call)."""
        wanted = sorted(set(images))
        if not wanted:
            return set()
        proc = process.run(["docker", "image", "inspect", "--format", "{{.Id}}", *wanted])
        if proc.returncode == 0:
            return set()
        return {image for image in wanted if f"No such image: {image}" in proc.stderr}

    def pull(self, files: list[Path], services: list[str], env: dict | None = None) -> None:
        """`docker compose pull SERVICES`; EngineError with the engine's own last line."""
        command = [*_compose(self.project, files), "pull", "--quiet", *services]
        proc = process.run(command, timeout=3600, env=process.environment(env))
        if proc.returncode != 0:
            raise EngineError(_last_line(proc.stderr) or f"docker compose pull failed (exit status {proc.returncode})")

    def pull_image(self, image: str) -> None:
        """`docker pull IMAGE` (an image no group file can be pulled for yet); EngineError in the engine's words."""
        proc = process.run(["docker", "pull", "--quiet", image], timeout=3600)
        if proc.returncode != 0:
            raise EngineError(_last_line(proc.stderr) or f"docker pull failed (exit status {proc.returncode})")

    def health_log(self, container_id: str) -> str:
        """The last health-probe output Docker kept for the container ('' when there is none)."""
        proc = process.run(["docker", "inspect", "--format", "{{json .State.Health}}", container_id], timeout=30)
        try:
            health = json.loads(proc.stdout or "null") or {}
        except ValueError:
            return ""
        log = health.get("Log") or []
        return _last_line(str(log[-1].get("Output") or "")) if log else ""

    def inspect_all(self) -> list[dict]:
        """Id, creation and start/finish times (ms since the epoch), exit code and inspect State (with RestartCount)
        of every container of the job, in two engine calls."""
        ids = [c.id for c in self.containers()]
        if not ids:
            return []
        proc = process.run(["docker", "container", "inspect", *ids])
        out = []
        for c in json.loads(proc.stdout or "[]"):
            state = c.get("State") or {}
            out.append(
                {
                    "service": ((c.get("Config") or {}).get("Labels") or {}).get(codec.SERVICE_LABEL),
                    "id": c.get("Id"),
                    "created": rows.epoch_ms(c.get("Created")),  # a restarted container's StartedAt is its last run's
                    "started": rows.epoch_ms(state.get("StartedAt")),
                    "finished": rows.epoch_ms(state.get("FinishedAt")),
                    "exit_code": state.get("ExitCode"),  # ps says 0 for a container the runtime could not start
                    "stop_signal": (c.get("Config") or {}).get("StopSignal") or "SIGTERM",
                    "state": {**state, "RestartCount": c.get("RestartCount", 0)},  # the node's diagnostics.state
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
            own = self.docker.volume.list(filters=[("label", f"{codec.PROJECT_LABEL}={self.project}")])
            self.remove_volumes([v.name for v in own if not codec.is_cache_volume(v.labels)])

    def follow_logs(self, service: str) -> Iterator[str]:
        """The service's log lines from the start, following until its container stops (or stop_following)."""
        return self._followers.follow(service)

    def follow_stamped(self, container_id: str, since: str | None = None) -> Iterator[tuple[str, str, str]]:
        """The container's log entries (stream, entry, Docker's stamp) after `since` (a stamp), following until
        it stops (or stop_following)."""
        return self._followers.follow_stamped(container_id, since)

    def stop_following(self) -> None:
        self._followers.stop()

    def stream_lines(self, container_id: str) -> list[tuple[str, str]]:
        """The container's whole log as (stream, entry) in log order, each entry with its newline (the node's)."""
        return logs.stream_lines(container_id)

    def stamped_lines(self, container_id: str) -> list[tuple[str, str, str]]:
        """As stream_lines, each entry with the RFC 3339 time Docker stamped on it."""
        return logs.stamped_lines(container_id)

    def shell_tty(self, container_id: str, cols: int = 80, rows: int = 24, command: list[str] | None = None):
        """An interactive shell (bash, else sh), or `command`, in the container, on a terminal of its own
        (`docker exec -it` on a pseudo-terminal): a process.Tty to read, write and resize."""
        return process.Tty(["docker", "exec", "-it", container_id, *(command or SHELL)], cols, rows)

    def exec_attached(self, container_id: str, command: list[str] | None, tty: bool) -> int:
        """`docker exec` on this process's own terminal: a shell (bash, else sh) with `command` None, else the
        command; with a tty only when asked. The command's exit status."""
        flags = ["-it"] if tty else ["-i"]
        return process.attached(["docker", "exec", *flags, container_id, *(command or SHELL)])

    def stats(self, container_ids: list[str]):
        """The latest resource usage (engine.stats.Usage) of each running container of `container_ids`, from the
        engine's own per-second statistics; streams of containers no longer asked for end."""
        from .stats import StatsFeed

        if self._stats is None:
            import atexit

            self._stats = StatsFeed()
            atexit.register(self._stats.close)  # its dial-stdio processes would outlive this one
        return self._stats.sample(list(container_ids))

    def stop_stats(self) -> None:
        if self._stats is not None:
            self._stats.close()

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


def _compose(project: str | None, files: list[Path] | tuple = ()) -> list[str]:
    """`docker compose` for the project (None: none named) and its files, ready for a subcommand."""
    command = ["docker", "compose", *(["--project-name", project] if project else [])]
    for f in files:
        command += ["--file", str(f)]
    return command
