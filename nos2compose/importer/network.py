"""Ports, expose, and the names an op answers to: what a Compose service's networking becomes.

On a node an op's host name is `<flow id>-<op index>`, not its id; other ops find
it through `aliases`. So every op's aliases start with its service name, then its
container_name, its network aliases and the aliases others link to it by.
Published ports and Compose's `expose:` both become `expose`: a node publishes
each through its tunnel; host ports and addresses have no meaning there.
"""

from __future__ import annotations

import re

from .keys import is_default
from .model import DraftOp, Exposed, ServiceContext, Spread

LOCAL_ADDRESS = "127.0.0.1"
MAX_RANGE = 100  # a longer expose range is left out: Nosana's strict validator refuses ranges ("8000-9000")
_EXPOSE = re.compile(r"^(\d+)(?:-(\d+))?(?:/(\w+))?$")
_PUBLISH = "a node publishes each exposed container port through its own tunnel, at a URL of its own"


def self_names(name: str, service: dict) -> set[str]:
    """The names a container answers to on its own network: the service, container_name, aliases."""
    names = {name.lower()}
    if service.get("container_name"):
        names.add(str(service["container_name"]).lower())
    for spec in (service.get("networks") or {}).values():
        names.update(a.lower() for a in (spec or {}).get("aliases") or [])
    return names


def add_port(op: DraftOp, port: int | str) -> bool:
    if any(e.port == port for e in op.expose):
        return False
    op.expose.append(Exposed(port))
    return True


def add_alias(op: DraftOp, alias: str) -> None:
    if alias not in op.aliases:
        op.aliases.append(alias)


def _host(ip: str | None) -> str:
    """The host address part of a short-syntax port ("127.0.0.1:", "[::1]:")."""
    if not ip:
        return ""
    return f"[{ip}]:" if ":" in ip else f"{ip}:"


def ports(ctx: ServiceContext, value: list) -> None:
    """Compose's long syntax (one entry per port, ranges already expanded) -> the container ports."""
    fixed = []
    for i, p in enumerate(value or []):
        if isinstance(p, Spread):  # ports from a result of an earlier op (a file convert wrote)
            if p not in ctx.op.expose_from:
                ctx.op.expose_from.append(p)
            continue
        if not isinstance(p, dict):
            ctx.warn(("ports", i), f"port {p}: not a port Compose can publish: left out")
            continue
        target, protocol = p["target"], p.get("protocol", "tcp")
        shown = f"{_host(p.get('host_ip'))}{p.get('published', '')}:{target}"
        if protocol != "tcp":
            ctx.warn(("ports", i), f"{shown}/{protocol}: left out; a node exposes TCP (HTTP) ports only")
            continue
        add_port(ctx.op, target)
        if ctx.ours and p.get("host_ip") == LOCAL_ADDRESS:
            continue  # convert publishes every exposed port on 127.0.0.1 (a free host port), for local use only
        if p.get("published") or p.get("host_ip"):
            fixed.append(shown)
    if fixed:
        ctx.warn(("ports",), f"host ports and addresses are not kept ({', '.join(fixed)}): {_PUBLISH}")


def expose(ctx: ServiceContext, value: list) -> None:
    """Compose's `expose:` ("7000", "7100-7102", "7000/udp") -> more exposed ports."""
    added = []
    for i, item in enumerate(value or []):
        m = _EXPOSE.match(str(item))
        if m is None:
            ctx.warn(("expose", i), f"expose {item}: not a port or range: left out")
            continue
        start, end, protocol = int(m.group(1)), int(m.group(2) or m.group(1)), m.group(3) or "tcp"
        if protocol != "tcp":
            ctx.warn(("expose", i), f"expose {item}: left out; a node exposes TCP (HTTP) ports only")
            continue
        if end - start + 1 > MAX_RANGE:
            ctx.warn(
                ("expose", i),
                f"expose {item}: left out; Nosana's strict validator (@nosana/types) rejects a range (only "
                f"@nosana/sdk accepts it), and {end - start + 1} single ports are more than {MAX_RANGE}, each "
                "published through a tunnel of its own: expose the ports the job needs one by one",
            )
            continue
        ports_here = list(range(start, end + 1))
        if end > start:
            ctx.warn(
                ("expose", i),
                f"expose {item}: becomes {len(ports_here)} ports, since Nosana's strict "
                f"validator (@nosana/types) rejects ranges (@nosana/sdk would accept "
                f'"{start}-{end}")',
            )
        if not ctx.op.expose:
            ctx.op.expose_key = "expose"
        added += [str(p) for p in ports_here if add_port(ctx.op, p)]
    if added:
        ctx.warn(
            ("expose",),
            f"expose {', '.join(added)}: Compose keeps these ports inside the project; {_PUBLISH} "
            "(ops reach each other's ports without expose)",
        )


def container_name(ctx: ServiceContext, value: str) -> None:
    if value:
        add_alias(ctx.op, str(value))


def networks(ctx: ServiceContext, value: dict) -> None:
    for network, spec in (value or {}).items():
        for key, setting in (spec or {}).items():
            if key == "aliases":
                for alias in setting or []:
                    add_alias(ctx.op, alias)
            elif not is_default(setting):
                ctx.warn(
                    ("networks", network, key),
                    f"networks.{network}.{key}: not kept; a node attaches the op to the job's one network",
                )


def network_mode(ctx: ServiceContext, value: str) -> None:
    if value.startswith(("service:", "container:")):
        other = value.split(":", 1)[1]
        ctx.warn(
            ("network_mode",),
            f"network_mode {value}: not kept; on a node the op has a network of its own: "
            f"it reaches {other} at {other}'s alias, not at localhost",
        )
    elif value not in ("", "bridge", "default"):
        ctx.warn(
            ("network_mode",),
            f"network_mode {value}: not kept; a node attaches the op to the job's network, "
            "where other ops reach it by its aliases",
        )


def links(ctx: ServiceContext, value: list) -> None:
    """`db:database`: the alias goes to op db, once every op exists (mapping.apply_links)."""
    for link in value or []:
        target, _, alias = str(link).partition(":")
        if alias and alias != target:
            ctx.links.append((ctx.name, target, alias))
