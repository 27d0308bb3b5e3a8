"""What is checked before a group starts, so that a start that cannot work fails at once, naming the cause.

Host ports: Docker refuses a port someone else holds, and the container is then
left created, never running; checked here first, one line naming the port and
the op. Images: a pull that fails is told apart as not found, not reachable or
not authorized, naming the image, from the engine's own words.
"""

from __future__ import annotations

import errno
import re
import socket


class PortInUse(Exception):
    """A host port the job publishes is taken on 127.0.0.1; the message says which, by which op, and what to do."""


def port_taken(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something already listens on host:port (bound as Docker's proxy would bind it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc.errno in (errno.EADDRINUSE, errno.EACCES)
    return False


def check_ports(ops, ours: set[int]) -> None:
    """Raise PortInUse for the first published host port of `ops` that is taken by anything but this job."""
    for op in ops:
        for host, container in op.ports:
            if host not in ours and port_taken(host):
                raise PortInUse(
                    f"port {host} on 127.0.0.1 is already in use, so op {op.id} cannot publish its port {container} "
                    f"there; free it, or publish it elsewhere with --publish {op.id}:{container}=HOSTPORT"
                )


_NOT_FOUND = re.compile(r"not found|manifest unknown|repository does not exist|No such image|does not exist", re.I)
NO_IMAGE = re.compile(r"No such image|pull access denied|manifest unknown|not found: manifest", re.I)
_NOT_AUTHORIZED = re.compile(r"unauthorized|authentication required|access denied|denied:|forbidden|login", re.I)
_NOT_REACHABLE = re.compile(
    r"no such host|dial tcp|i/o timeout|timeout|connection refused|network is unreachable|TLS handshake|"
    r"server misbehaving|temporary failure|lookup ",
    re.I,
)


def pull_problem(image: str, said: str) -> str:
    """One line on a failed pull: which image, which kind of failure, and what to do, with the engine's words."""
    if _NOT_AUTHORIZED.search(said) and not _NOT_REACHABLE.search(said):
        kind, hint = "not authorized", "log in to its registry (`docker login`), or check the name and tag"
    elif _NOT_FOUND.search(said) and not _NOT_REACHABLE.search(said):
        kind, hint = "not found", "check the name and tag, or build it here (`docker images` lists the local ones)"
    elif _NOT_REACHABLE.search(said):
        kind, hint = "registry not reachable", "check the network, or build or load the image here (`docker images`)"
    else:
        kind, hint = "could not be pulled", "see the engine's words"
    return f"image {image}: {kind} ({said.strip()}); {hint}"
