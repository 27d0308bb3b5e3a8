"""Files `nos2compose convert` wrote: what their machinery means for the job they came from.

Besides plain Compose, such a file carries only what contract.py defines: labels
saying which op, group and group order a service is, and which services are
nos2compose's own helpers (probe sidecars, resource fetchers); `x-nos2compose`
blocks (the groups in order, and per service: results, stop_if_dependent_stops,
objects merged into the environment); and `${N2C_…}` references where a result
of an earlier op stands, named in the file's runtime record. Each goes back here
to what the job said. Every other key of a service is read as in any Compose
project, so what a person changed in the file is what the job gets.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass, field

from ..compose import codec
from ..compose import contract as c
from ..compose.codec import FileMeta
from ..diagnostics import Diagnostics
from .model import DraftOp, Spread

FETCH_SCRIPT = c.SCRIPT_PATHS[c.FETCH_CONFIG]
OLLAMA_SCRIPT = c.SCRIPT_PATHS[c.OLLAMA_CONFIG]
OLLAMA_STORE = "/root/.ollama"  # where convert mounts an Ollama resource that names no target
# the fetcher's environment names (load/resources.py) -> the credential the job held
CREDENTIALS = {"N2C_S3_": "IAM", "N2C_HF_TOKEN": "accessToken"}


def read(project: dict) -> FileMeta | None:
    """The project's nos2compose record, or None when convert did not write it (no top-level
    x-nos2compose, no service labelled with an op)."""
    services = project.get("services") or {}
    labelled = any(codec.read_labels(codec.labels_of(svc)).op for svc in services.values())
    return codec.read_file_meta(project) if codec.has_meta(project) or labelled else None


# -- run-time literals -------------------------------------------------------------------------


def restore(project: dict, gen: FileMeta) -> dict:
    """The project with each recorded `${N2C_…}` reference back as the literal it stands for.

    Runs before Compose's `$$` escapes are undone (a job's `$${…}` is text, never a reference).
    A reference that is a whole value and splices items in pieces becomes a Spread; ports
    from results (`127.0.0.1:${V}:${V}`) become one Spread each; environment_from becomes
    the env's `__spread__` / `__pairs__` entries.
    """
    if not gen.runtime:
        return project
    services = {}
    for name, svc in (project.get("services") or {}).items():
        if not isinstance(svc, dict):
            services[name] = svc
            continue
        out = {k: _restored(v, gen) for k, v in svc.items() if k not in ("ports", c.EXTENSION)}
        if "ports" in svc:
            out["ports"] = [_port(p, gen) for p in svc["ports"] or []]
        if codec.extension_of(svc):
            out[c.EXTENSION] = _extension(codec.extension_of(svc), gen)
        services[name] = out
    return {**project, "services": services}


def _whole(text: str, gen: FileMeta):
    """The placeholder a value stands for when it is nothing but one recorded reference."""
    var = codec.whole_reference(text)
    return gen.runtime.get(var) if var else None


def _restored(value, gen: FileMeta):
    if isinstance(value, str):
        whole = _whole(value, gen) if "${" in value else None
        if whole is not None and whole.splice.endswith("_chunked"):
            return Spread(whole.literal, chunked=True)
        return _text(value, gen)
    if isinstance(value, list):
        return [_restored(v, gen) for v in value]
    if isinstance(value, dict):  # keys too (an env name may hold a result): Compose never interpolates keys
        return {_text(k, gen): _restored(v, gen) for k, v in value.items()}
    return value


def _text(text, gen: FileMeta):
    """Text with each recorded reference as its literal (a `$${…}` of the job is text, never one)."""
    if not isinstance(text, str) or "${" not in text:
        return text
    return codec.substitute(text, lambda var: gen.runtime[var].literal if var in gen.runtime else None)


def _port(entry, gen: FileMeta):
    """A published port that comes from a result: the result's items become exposed ports."""
    text = entry if isinstance(entry, str) else json.dumps(entry) if isinstance(entry, dict) else ""
    found = [gen.runtime[v] for v in codec.references(text) if v in gen.runtime]
    if not found:
        return entry
    return Spread(found[0].literal, chunked=found[0].splice.endswith("_chunked"))


def _extension(ext: dict, gen: FileMeta) -> dict:
    """environment_from as the env entries it stands for: {__spread__ or __pairs__: literal}."""
    merged = []
    for item in codec.environment_from(ext):
        p = _whole(item, gen) if isinstance(item, str) else None
        if p is None:
            merged.append({"unknown": item})
        else:
            merged.append({"__pairs__" if p.splice.startswith("pairs") else "__spread__": p.literal})
    return codec.with_environment_from(ext, merged)


# -- helpers: probe sidecars and fetchers -------------------------------------------------------


@dataclass
class Helpers:
    """nos2compose's own services, by the op service they belong to."""

    probes: dict[str, str] = field(default_factory=dict)  # probe sidecar -> op service
    fetchers: dict[str, list[str]] = field(default_factory=dict)  # op service -> its fetchers, in order
    orphans: dict[str, str] = field(default_factory=dict)  # helper -> the op id it names, which no service is

    @property
    def names(self) -> set[str]:
        return set(self.probes) | {f for fs in self.fetchers.values() for f in fs} | set(self.orphans)


def helpers(services: dict) -> Helpers:
    """Which services are probe sidecars and fetchers, and for which op service (labels name op ids)."""
    out = Helpers()
    marks = {name: codec.read_labels(codec.labels_of(svc)) for name, svc in services.items()}
    service_of = {}
    for name, m in marks.items():
        if not m.helper:
            service_of.setdefault(m.op or name, name)
    for name, m in marks.items():
        if not m.helper:
            continue
        target = service_of.get(m.probe_for or m.fetch_for)
        if target is None:
            out.orphans[name] = m.probe_for or m.fetch_for
        elif m.probe_for:
            out.probes[name] = target
        else:
            out.fetchers.setdefault(target, []).append(name)
    for fetchers in out.fetchers.values():
        fetchers.sort(key=lambda name: (n if (n := codec.fetcher_number(name)) is not None else 1 << 30, name))
    return out


is_cache = codec.is_cache


def _mount_target(service: dict, volume: str) -> str | None:
    for m in service.get("volumes") or []:
        if isinstance(m, dict) and m.get("source") == volume:
            return m.get("target")
    return None


def resource(name: str, fetcher: dict, op_service: dict, op_id: str, diags: Diagnostics) -> dict | None:
    """The resource a fetcher fetches for its op, from its command (the spec convert gave it);
    credentials never reach a file, so they come back as nothing, with a warning."""
    path = ("services", name)
    cache = next((m.get("source") for m in fetcher.get("volumes") or [] if isinstance(m, dict)), None)
    target = _mount_target(op_service, cache) if cache else None
    command = [str(w) for w in fetcher.get("command") or []]
    entrypoint = [str(w) for w in fetcher.get("entrypoint") or []]
    if OLLAMA_SCRIPT in entrypoint and command:
        found: dict = {"type": "Ollama", "model": command[0]}
        if target and target != OLLAMA_STORE:
            found["target"] = target
        return found
    if FETCH_SCRIPT in command and len(command) >= command.index(FETCH_SCRIPT) + 4:
        try:
            spec = json.loads(command[command.index(FETCH_SCRIPT) + 3])
        except ValueError:
            spec = None
        if isinstance(spec, dict) and isinstance(spec.get("type"), str):
            if target and target != posixpath.normpath(str(spec.get("target", ""))):
                spec["target"] = target  # moved by hand (Compose writes mount targets without a trailing /)
            _warn_credentials(name, fetcher, spec, op_id, diags)
            return {"type": spec.pop("type"), **spec}
    diags.warning(
        path,
        f"{name} fetches a resource for op {op_id} (label {c.FETCH_FOR_LABEL}), but its command is not "
        f"{FETCH_SCRIPT}'s or {OLLAMA_SCRIPT}'s: the resource cannot be rebuilt: left out",
    )
    return None


def _warn_credentials(name: str, fetcher: dict, spec: dict, op_id: str, diags: Diagnostics) -> None:
    env = fetcher.get("environment") or {}
    needed = sorted({field for prefix, field in CREDENTIALS.items() if any(str(k).startswith(prefix) for k in env)})
    for key in needed:
        what = spec.get("url") or spec.get("repo") or spec.get("bucket") or spec["type"]
        diags.warning(
            ("services", name, "environment"),
            f"the {spec['type']} resource {what} of op {op_id} needs credentials ({key}), and a Compose file "
            f"never holds them: add {key} to that resource in the job",
        )


# -- the op's own x-nos2compose ------------------------------------------------------------------


def apply_extension(op: DraftOp, name: str, ext, diags: Diagnostics) -> None:
    """results, stop_if_dependent_stops and environment_from of a service convert wrote."""
    if not isinstance(ext, dict):
        return
    path = ("services", name, c.EXTENSION)
    extras = codec.read_service_extension({c.EXTENSION: ext})
    for spec in extras.results:
        op.results[spec.key] = {"regex": spec.regex, "logType": list(spec.streams)} if spec.streams else spec.regex
    for where, problem in codec.result_problems(ext):
        diags.warning(path + where, problem)
    if extras.stop_if_dependent_stops:
        op.stop_if_dependent_stops = True
    for i, item in enumerate(codec.environment_from(ext)):
        (marker, literal), *_ = item.items() if isinstance(item, dict) and item else [("unknown", item)]
        if marker == "unknown":
            diags.warning(
                path + (c.ENVIRONMENT_FROM_KEY, i),
                f"{literal} is not a result the file's runtime record names: left out",
            )
        elif any(m == marker for m, _ in op.env_from):
            diags.warning(
                path + (c.ENVIRONMENT_FROM_KEY, i),
                f"a second {marker} ({literal}): a job's env holds one of each: left out",
            )
        else:
            op.env_from.append((marker, literal))
