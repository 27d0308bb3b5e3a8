"""A fake engine for fast unit tests of the runner: containers follow scripts of states over fake time.

It satisfies the runtime's Engine protocol (tests/unit/test_engine_protocol.py checks that), so the
supervisor, the session use cases and the API can be driven without Docker. It adds to the
end-to-end tests on a real engine, never replaces them.
"""

from __future__ import annotations

from pathlib import Path

from nos2compose.engine.protocol import Container


class FakeEngine:
    """Containers appear when their group is `up`; each then follows a script of states over fake time."""

    def __init__(
        self, scripts, fail_up=(), project="p", missing=(), unpullable=(), health="", no_image=(), no_devices=()
    ):
        self.project = project
        self.no_devices = list(no_devices)  # device files the engine's machine lacks
        self.missing = set(missing)  # images the engine does not have
        self.unpullable = dict(unpullable)  # image -> what the engine says when a pull of it fails
        self.health = health  # what the last health probe said
        self.scripts = scripts  # service -> [(after seconds, state, health, exit code)]
        self.fail_up = set(fail_up)
        self.no_image = set(no_image)  # services whose image the engine lacks: an `up` naming them fails
        self.groups: dict[str, str] = {}  # service -> the group file's stem it starts with
        self.images: dict[str, str] = {}  # service -> its image
        self.started: dict[str, float] = {}
        self.restarts: dict[str, int] = {}  # service -> the engine's RestartCount (its runs began a second apart)
        self.ups: list[str] = []
        self.stopped_services: set[str] = set()
        self.stopped = False
        self.calls: list[tuple] = []
        self.envs: list[dict] = []  # the environment each `up` gave Compose
        self.files: list[list[str]] = []  # the files each `up` gave Compose (group file, then overrides)
        self.now = 0.0

    def preflight(self, need_gpu_for):
        self.calls.append(("preflight", tuple(need_gpu_for)))

    def lacks(self, devices):
        return [d for d in devices if d in self.no_devices]

    def up(self, files, pull, services=None, env=None):
        self.envs.append(dict(env or {}))
        self.files.append([str(f) for f in files])
        name = Path(files[0]).stem
        self.ups.append(name)
        if name in self.fail_up:
            raise RuntimeError("pull access denied for nosuch/image")
        lacking = sorted(self.no_image & set(services or self.scripts))
        if lacking:
            raise RuntimeError(f"Error response from daemon: No such image: {lacking[0]}-image")
        for service in self.scripts:
            if self.groups.get(service) == name and (services is None or service in services):
                self.started.setdefault(service, self.now)

    def containers(self):
        return [row for row, _ in self._rows()]

    def _rows(self):
        """(row, when its state began, in fake seconds) for each container now."""
        out = []
        for service, t0 in self.started.items():
            row, since = None, t0
            for after, state, health, code in self.scripts[service]:
                if self.now - t0 >= after:
                    row, since = Container(service, state, health, code, "", id=f"id-{service}"), t0 + after
            if (self.stopped or service in self.stopped_services) and row and row.state == "running":
                row, since = Container(service, "exited", "", 137, "", id=f"id-{service}"), self.now
            if row:
                out.append((row, since))
        return out

    def missing_images(self, images):
        return {image for image in images if image in self.missing}

    def pull(self, files, services, env=None):
        self.calls.append(("pull", tuple(services)))
        for image, said in self.unpullable.items():
            if any(self.images.get(service) == image for service in services):
                raise RuntimeError(said)
        self.missing -= {self.images.get(service) for service in services}

    def pull_image(self, image):
        self.calls.append(("pull_image", image))
        if image in self.unpullable:
            raise RuntimeError(self.unpullable[image])
        self.missing.discard(image)

    def health_log(self, container_id):
        return self.health

    def inspect_all(self):
        """Start and finish times in ms, as the engine's: the script's fake seconds (finished once it exited), and the inspect State."""
        return [
            {
                "service": c.service,
                "id": c.id,
                "created": round(self.started[c.service] * 1000) - self.restarts.get(c.service, 0) * 1000,
                "started": round(self.started[c.service] * 1000),
                "finished": round(since * 1000) if c.state in ("exited", "dead") else None,
                "state": {
                    "Status": c.state,
                    "ExitCode": c.exit_code,
                    "OOMKilled": False,
                    "RestartCount": self.restarts.get(c.service, 0),
                },
            }
            for c, since in self._rows()
        ]

    def stop(self, services=None, timeout=None):
        self.calls.append(("stop", tuple(services or ()), timeout))
        if services:
            self.stopped_services.update(services)
        else:
            self.stopped = True

    def restart(self, services=None, timeout=None):
        self.calls.append(("restart", tuple(services or ()), timeout))
        self.stopped_services.difference_update(services or self.scripts)
        for service in services or self.scripts:
            self.started[service] = self.now

    def down(self, volumes, timeout=None):
        self.calls.append(("down", volumes))
        self.started.clear()

    def login(self, server, username, password):
        self.calls.append(("login", server, username))

    def follow_logs(self, service):
        yield from self.log_tail(service, None)

    def stop_following(self):
        self.calls.append(("stop_following",))

    def stream_lines(self, container_id):
        return [(stream, text) for stream, text, _ in self.stamped_lines(container_id)]

    def stamped_lines(self, container_id):
        """Entries keep their newline, and the time Docker stamped on them."""
        return [("stdout", f"last words of {container_id.removeprefix('id-')}\n", "2026-01-02T03:04:05.123456789Z")]

    def stats(self, container_ids):
        """Each running container's usage: CPU and memory grow with fake time, so samples tell apart."""
        from nos2compose.engine.stats import Usage

        running = {c.id for c in self.containers() if c.state == "running"}
        self.calls.append(("stats", tuple(container_ids)))
        return {
            i: Usage(10.0 + self.now, 1000 + int(self.now), 4000, 25.0, 1, 2, 3, 4)
            for i in container_ids
            if i in running
        }

    def shell_tty(self, container_id, cols=80, rows=24, command=None):
        """A real terminal, with a local sh standing in for the container's shell."""
        from nos2compose.engine.process import Tty

        self.calls.append(("shell_tty", container_id, cols, rows))
        return Tty(command or ["sh"], cols, rows)

    def exec_attached(self, container_id, command, tty):
        self.calls.append(("exec_attached", container_id, tuple(command or ()), tty))
        return 0

    def follow_stamped(self, container_id, since=None):
        """Whatever is logged after `since`; a fake container's log does not grow."""
        return iter([line for line in self.stamped_lines(container_id) if since is None or line[2] > since])

    def stop_stats(self):
        self.calls.append(("stop_stats",))

    def log_tail(self, service, lines):
        return [f"last words of {service}"]

    def caches(self):
        return []

    def remove_volumes(self, names):
        self.calls.append(("remove_volumes", tuple(names)))
