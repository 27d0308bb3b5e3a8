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
import re
from dataclasses import dataclass, field

from ..compose import contract as c
from ..diagnostics import Diagnostics
from .model import RunOp, Spread

FETCH_SCRIPT = c.SCRIPT_PATHS[c.FETCH_CONFIG]
OLLAMA_SCRIPT = c.SCRIPT_PATHS[c.OLLAMA_CONFIG]
PROBE_SCRIPT = c.SCRIPT_PATHS[c.PROBE_CONFIG]
OLLAMA_STORE = "/root/.ollama"  # where convert mounts an Ollama resource that names no target
OWN_LABELS = (c.OP_LABEL, c.GROUP_LABEL, c.GROUP_ORDER_LABEL, *c.HELPER_LABELS)
_FETCHER_NUMBER = re.compile(r"-fetch-(\d+)$")
# the fetcher's environment names (load/resources.py) -> the credential the job held
CREDENTIALS = {"N2C_S3_": "IAM", "N2C_HF_TOKEN": "accessToken"}


@dataclass
class Generated:
    """What the file's top-level x-nos2compose says: groups in order, and where run-time values stand."""

    job: str | None = None
    groups: list[str] = field(default_factory=list)  # in run order (the single file; one per group file)
    records: dict[str, c.Placeholder] = field(default_factory=dict)  # variable -> the result it stands for
    secrets: set[str] = field(default_factory=set)  # variables `up` fills with credentials
    volume_ops: dict[str, tuple[str, str]] = field(default_factory=dict)  # create-volume op id -> (group, name)

    @property
    def variables(self) -> set[str]:
        return set(self.records) | self.secrets


def read(project: dict) -> Generated | None:
    """The project's nos2compose record, or None when convert did not write it (no top-level
    x-nos2compose, no service labelled with an op)."""
    meta = project.get(c.EXTENSION)
    services = project.get("services") or {}
    labelled = any(c.OP_LABEL in labels(svc) for svc in services.values())
    if not isinstance(meta, dict):
        return Generated() if labelled else None
    groups = meta.get(c.GROUPS_KEY)
    groups = [str(g) for g in groups] if isinstance(groups, list) else []
    if not groups and isinstance(meta.get(c.GROUP_KEY), str):
        groups = [meta[c.GROUP_KEY]]
    runtime = meta.get(c.RUNTIME_KEY) if isinstance(meta.get(c.RUNTIME_KEY), dict) else {}
    records = {str(v): p for v, p in ((v, c.Placeholder.from_record(r)) for v, r in runtime.items()) if p}
    secrets = meta.get(c.SECRETS_KEY) if isinstance(meta.get(c.SECRETS_KEY), list) else []
    job = meta.get(c.JOB_KEY) if isinstance(meta.get(c.JOB_KEY), str) else None
    volumes = meta.get(c.CREATE_VOLUMES_KEY) if isinstance(meta.get(c.CREATE_VOLUMES_KEY), dict) else {}
    volume_ops = {
        str(op): (str(v.get("group", op)), str(v["name"]))
        for op, v in volumes.items()
        if isinstance(v, dict) and isinstance(v.get("name"), str)
    }
    return Generated(job, groups, records, {str(s) for s in secrets}, volume_ops)


def labels(service) -> dict:
    found = (service or {}).get("labels") if isinstance(service, dict) else None
    return found if isinstance(found, dict) else {}


# -- run-time literals -------------------------------------------------------------------------


def restore(project: dict, gen: Generated) -> dict:
    """The project with each recorded `${N2C_…}` reference back as the literal it stands for.

    Runs before Compose's `$$` escapes are undone (a job's `$${…}` is text, never a reference).
    A reference that is a whole value and splices items in pieces becomes a Spread; ports
    from results (`127.0.0.1:${V}:${V}`) become one Spread each; environment_from becomes
    the env's `__spread__` / `__pairs__` entries.
    """
    if not gen.records:
        return project
    services = {}
    for name, svc in (project.get("services") or {}).items():
        if not isinstance(svc, dict):
            services[name] = svc
            continue
        out = {k: _restored(v, gen) for k, v in svc.items() if k not in ("ports", c.EXTENSION)}
        if "ports" in svc:
            out["ports"] = [_port(p, gen) for p in svc["ports"] or []]
        if isinstance(svc.get(c.EXTENSION), dict):
            out[c.EXTENSION] = _extension(svc[c.EXTENSION], gen)
        services[name] = out
    return {**project, "services": services}


def _whole(text: str, gen: Generated) -> c.Placeholder | None:
    """The placeholder a value stands for when it is nothing but one recorded reference."""
    m = c.REFERENCE.fullmatch(text)
    return gen.records.get(m.group(1)) if m else None


def _restored(value, gen: Generated):
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


def _text(text, gen: Generated):
    """Text with each recorded reference as its literal (a `$${…}` of the job is text, never one)."""
    if not isinstance(text, str) or "${" not in text:
        return text
    return c.substitute(text, lambda var: gen.records[var].literal if var in gen.records else None)


def _port(entry, gen: Generated):
    """A published port that comes from a result: the result's items become exposed ports."""
    text = entry if isinstance(entry, str) else json.dumps(entry) if isinstance(entry, dict) else ""
    found = [gen.records[v] for v in c.references(text) if v in gen.records]
    if not found:
        return entry
    return Spread(found[0].literal, chunked=found[0].splice.endswith("_chunked"))


def _extension(ext: dict, gen: Generated) -> dict:
    out = dict(ext)
    merged = []
    for item in ext.get(c.ENVIRONMENT_FROM_KEY) or []:
        p = _whole(item, gen) if isinstance(item, str) else None
        if p is None:
            merged.append({"unknown": item})
        else:
            merged.append({"__pairs__" if p.splice.startswith("pairs") else "__spread__": p.literal})
    if merged:
        out[c.ENVIRONMENT_FROM_KEY] = merged
    return out


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
    service_of = {}
    for name, svc in services.items():
        own = labels(svc)
        if not any(k in own for k in c.HELPER_LABELS):
            service_of.setdefault(str(own.get(c.OP_LABEL, name)), name)
    for name, svc in services.items():
        own = labels(svc)
        for label in c.HELPER_LABELS:
            if label not in own:
                continue
            target = service_of.get(str(own[label]))
            if target is None:
                out.orphans[name] = str(own[label])
            elif label == c.PROBE_FOR_LABEL:
                out.probes[name] = target
            else:
                out.fetchers.setdefault(target, []).append(name)
            break
    for fetchers in out.fetchers.values():
        fetchers.sort(key=_fetcher_number)
    return out


def _fetcher_number(name: str) -> tuple[int, str]:
    m = _FETCHER_NUMBER.search(name)
    return (int(m.group(1)) if m else 1 << 30, name)


def is_cache(volume: str | None) -> bool:
    """A shared resource cache (nos2compose-cache-…): where a fetcher puts a resource, not a job volume."""
    return isinstance(volume, str) and volume.startswith(c.CACHE_PREFIX)


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


def apply_extension(op: RunOp, name: str, ext, diags: Diagnostics) -> None:
    """results, stop_if_dependent_stops and environment_from of a service convert wrote."""
    if not isinstance(ext, dict):
        return
    path = ("services", name, c.EXTENSION)
    for key, spec in (ext.get(c.RESULTS_KEY) or {}).items() if isinstance(ext.get(c.RESULTS_KEY), dict) else ():
        if isinstance(spec, str):
            op.results[str(key)] = spec
        elif isinstance(spec, dict) and isinstance(spec.get("regex"), str):
            streams = spec.get("logType")
            if isinstance(streams, list) and streams:
                op.results[str(key)] = {"regex": spec["regex"], "logType": [str(s) for s in streams]}
            else:
                if isinstance(streams, list):
                    diags.warning(
                        path + (c.RESULTS_KEY, key, "logType"),
                        f"result {key} reads no stream nos2compose knows (convert keeps stdout and stderr only): "
                        "written as a plain regex, which reads every stream",
                    )
                op.results[str(key)] = spec["regex"]
        else:
            diags.warning(path + (c.RESULTS_KEY, key), f"result {key} is not a regex or {{regex, logType}}: left out")
    if ext.get(c.STOP_IF_DEPENDENT_STOPS_KEY) is True:
        op.stop_if_dependent_stops = True
    for i, item in enumerate(ext.get(c.ENVIRONMENT_FROM_KEY) or []):
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
