"""`authentication.docker`: a registry login for the op's image, kept in memory only."""

from __future__ import annotations

from typing import Any, NamedTuple

from ..diagnostics import Path
from .shape import Shape

DOCKER_KEYS = ("username", "password", "email", "server")


class RegistryLogin(NamedTuple):
    op: str
    server: str | None  # None: Docker Hub
    username: str
    password: str

    def __repr__(self) -> str:  # never show the password, even in a traceback
        return f"RegistryLogin(op={self.op!r}, server={self.server!r}, username={self.username!r}, password=***)"


def read_authentication(sh: Shape, raw: Any, path: Path, op_id: str, image: Any) -> tuple[RegistryLogin, ...]:
    auth = sh.obj(raw, path, op_id)
    if auth is None:
        return ()
    logins: list[RegistryLogin] = []
    sh.known_keys(auth, path, ["docker"], op_id)
    if "docker" in auth:
        docker = sh.obj(auth["docker"], (*path, "docker"), op_id)
        if docker is not None:
            sh.known_keys(docker, (*path, "docker"), DOCKER_KEYS, op_id)
            fields = {
                key: sh.string(docker[key], (*path, "docker", key), op_id) for key in DOCKER_KEYS if key in docker
            }
            if fields.get("username") and fields.get("password"):
                logins.append(
                    RegistryLogin(
                        op_id, fields.get("server") or registry_of(image), fields["username"], fields["password"]
                    )
                )
    sh.diags.warning(
        path,
        "`nos2compose up` logs in to the registry before the pull (the password goes to `docker login` "
        "on its standard input, never into a Compose file or the terminal); with plain "
        "`docker compose`, run `docker login` yourself",
        op_id,
        "NOS905",
    )
    return tuple(logins)


def registry_of(image: Any) -> str | None:
    """The registry host of an image reference (None for Docker Hub), as Docker reads it."""
    if not isinstance(image, str) or "/" not in image:
        return None
    first = image.split("/", 1)[0]
    return first if ("." in first or ":" in first or first == "localhost") else None
