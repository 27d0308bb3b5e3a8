"""The x-nos2compose blocks: a file's (job, groups, where run-time values go) and a service's (results,
stop_if_dependent_stops, objects merged into the environment, what fails an op before it starts)."""

from __future__ import annotations

from typing import Any, NamedTuple

from ...model import SPLICES, Placeholder, RunOp, Template, Words, Written
from ...results import ResultSpec
from .. import contract as c

# -- x-nos2compose: the file ------------------------------------------------------------------------


class FileMeta(NamedTuple):
    """What a file's top-level x-nos2compose says."""

    job: str | None = None
    source: str | None = None
    groups: tuple[str, ...] = ()  # the single file: every group, in run order; a group file: its own group
    group: str | None = None  # a group file's group
    order: int | None = None  # a group file's position in the run order
    runtime: dict[str, Placeholder] = {}  # noqa: RUF012 (never mutated)  variable -> the result it stands for
    secrets: tuple[str, ...] = ()  # variables `up` fills with credentials
    volume_ops: dict[str, tuple[str, str]] = {}  # noqa: RUF012  create-volume op id -> (group, volume name)
    words: Words | None = None  # the job's own words for its top level; None: the file records none (older files)
    volume_words: dict[str, Words] = {}  # noqa: RUF012  create-volume op id -> its own words

    @property
    def variables(self) -> set[str]:
        return set(self.runtime) | set(self.secrets)


def file_meta(
    job: str,
    source: str,
    groups: list[str] | None = None,
    group: str | None = None,
    order: int | None = None,
    volume_ops=(),
    written: Written | None = None,
) -> dict:
    """The top-level x-nos2compose of a file: the single file names its groups; a group file its group and order.
    `volume_ops`: the create-volume ops (model.VolumeOp) the file stands for; `written`: the job's own words
    (its top level's here, each create-volume op's in its entry)."""
    meta: dict = {c.JOB_KEY: job}
    if groups is not None:
        meta.update({c.SOURCE_KEY: source, c.GROUPS_KEY: list(groups)})
    else:
        meta.update({c.GROUP_KEY: group, c.ORDER_KEY: order, c.SOURCE_KEY: source})
    if volume_ops:
        meta[c.CREATE_VOLUMES_KEY] = {
            op.id: {"group": op.group, "name": op.name, **words_block(written.ops.get(op.id) if written else None)}
            for op in volume_ops
        }
    if written is not None:  # always, {} too: it says that the file records the job's words
        meta.update(written_values(written.top.as_written))
        if written.top.not_written:
            meta[c.NOT_WRITTEN_KEY] = list(written.top.not_written)
    return meta


def words_block(words: Words | None) -> dict:
    """An op's own words as its x-nos2compose keys ({} when it has none)."""
    if words is None:
        return {}
    out = {k: v for k, v in written_values(words.as_written).items() if v}
    if words.not_written:
        out[c.NOT_WRITTEN_KEY] = list(words.not_written)
    if words.index is not None:
        out[c.INDEX_KEY] = words.index
    return out


def written_values(as_written: dict) -> dict:
    """{as_written: values as YAML, as_written_json: JSON text of the values Compose would change}: Compose reads
    `[]` in an x- block as null and 1.0 as 1, and sorts an object's keys (which the node sends a body in)."""
    import json

    plain = {k: v for k, v in as_written.items() if not _changed_by_compose(v)}
    texts = {k: json.dumps(v, ensure_ascii=False) for k, v in as_written.items() if _changed_by_compose(v)}
    texts = {
        k: json.dumps(as_written[k], ensure_ascii=False, indent=2) if len(t) > 100 else t for k, t in texts.items()
    }
    out: dict = {c.AS_WRITTEN_KEY: plain} if plain or not texts else {}  # {} alone: "records words, none differ"
    if texts:
        out[c.AS_JSON_KEY] = texts
    return out


def _records_words(meta: dict) -> bool:
    """Whether a file records the job's words at all (files of older versions do not)."""
    return isinstance(meta.get(c.AS_WRITTEN_KEY), dict) or isinstance(meta.get(c.AS_JSON_KEY), dict)


def _changed_by_compose(value: Any) -> bool:
    """Whether a value would not come back the same from YAML in an x- block (null, too, has no YAML here)."""
    if value is None or isinstance(value, float) or value == []:
        return True
    if isinstance(value, list):
        return any(map(_changed_by_compose, value))
    if isinstance(value, dict):
        return list(value) != sorted(value) or any(map(_changed_by_compose, value.values()))
    return False


def _from_json(text: Any) -> tuple[bool, Any]:
    import json

    try:
        return isinstance(text, str), json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return False, None


def read_words(block: Any) -> Words:
    """The job's own words in an x-nos2compose block (a hand edit may have broken any part of them: JSON text
    that does not parse is left out)."""
    if not isinstance(block, dict):
        return Words()
    as_written = block.get(c.AS_WRITTEN_KEY)
    missing = block.get(c.NOT_WRITTEN_KEY)
    index = block.get(c.INDEX_KEY)
    texts = block.get(c.AS_JSON_KEY)
    values = {str(k): v for k, v in as_written.items()} if isinstance(as_written, dict) else {}
    parsed = {str(k): _from_json(v) for k, v in texts.items()} if isinstance(texts, dict) else {}
    values.update({k: value for k, (ok, value) in parsed.items() if ok})
    return Words(
        values,
        tuple(dict.fromkeys(str(k) for k in missing)) if isinstance(missing, list) else (),
        index if isinstance(index, int) and not isinstance(index, bool) else None,
    )


def with_variables(meta: dict, runtime: dict[str, Placeholder], secrets: list[str]) -> dict:
    """The file's meta with the generated variables it uses: results (`runtime`) and credentials (names only)."""
    if runtime:
        meta = {**meta, c.RUNTIME_KEY: {var: placeholder_record(p) for var, p in runtime.items()}}
    if secrets:
        meta = {**meta, c.SECRETS_KEY: sorted(secrets)}
    return meta


def has_meta(doc: Any) -> bool:
    return isinstance(doc, dict) and isinstance(doc.get(c.EXTENSION), dict)


def read_file_meta(doc: Any) -> FileMeta:
    """The top-level x-nos2compose of a Compose document (a hand edit may have broken any part of it)."""
    meta = doc.get(c.EXTENSION) if isinstance(doc, dict) else None
    if not isinstance(meta, dict):
        return FileMeta()
    groups = meta.get(c.GROUPS_KEY)
    groups = tuple(str(g) for g in groups) if isinstance(groups, list) else ()
    group = meta.get(c.GROUP_KEY)
    runtime = meta.get(c.RUNTIME_KEY) if isinstance(meta.get(c.RUNTIME_KEY), dict) else {}
    secrets = meta.get(c.SECRETS_KEY) if isinstance(meta.get(c.SECRETS_KEY), list) else []
    volumes = meta.get(c.CREATE_VOLUMES_KEY) if isinstance(meta.get(c.CREATE_VOLUMES_KEY), dict) else {}
    return FileMeta(
        words=read_words(meta) if _records_words(meta) else None,
        volume_words={str(op): read_words(v) for op, v in volumes.items() if isinstance(v, dict)},
        job=meta.get(c.JOB_KEY) if isinstance(meta.get(c.JOB_KEY), str) else None,
        source=meta.get(c.SOURCE_KEY) if isinstance(meta.get(c.SOURCE_KEY), str) else None,
        groups=groups or ((str(group),) if isinstance(group, str) else ()),
        group=None if group is None else str(group),
        order=_whole_number(meta.get(c.ORDER_KEY)),
        runtime={str(v): p for v, p in ((v, read_placeholder(r)) for v, r in runtime.items()) if p},
        secrets=tuple(str(s) for s in secrets),
        volume_ops={
            str(op): (str(v.get("group", op)), str(v["name"]))
            for op, v in volumes.items()
            if isinstance(v, dict) and isinstance(v.get("name"), str)
        },
    )


def _whole_number(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def placeholder_record(p: Placeholder) -> dict:
    """How a placeholder is written under x-nos2compose.runtime."""
    return {"op": p.op, "key": p.key, "splice": p.splice}


def read_placeholder(value: Any) -> Placeholder | None:
    """The placeholder a runtime record stands for; None when the record is not one (a hand edit)."""
    if not isinstance(value, dict):
        return None
    op, key, splice = value.get("op"), value.get("key"), value.get("splice", "text")
    if not (isinstance(op, str) and isinstance(key, str) and splice in SPLICES):
        return None
    return Placeholder(op, key, splice)


# -- x-nos2compose: a service -------------------------------------------------------------------------


class ServiceExtras(NamedTuple):
    """What a service's x-nos2compose says: what the supervisor needs that Compose has no key for."""

    results: tuple[ResultSpec, ...] = ()
    stop_if_dependent_stops: bool = False
    environment_from: tuple[str, ...] = ()  # "${VAR}" references of objects merged into the environment
    unresolved: tuple[str, ...] = ()  # the node's messages for literals it cannot resolve: fails at its start
    engine_refuses: tuple[str, ...] = ()  # Docker refuses the node's container for it: fails, exit code 2
    words: Words = Words()  # the op's own words, where the file says them another way


def service_extension(op: RunOp) -> dict:
    """The op's x-nos2compose block ({} when it needs none)."""
    out: dict = {}
    if op.results:
        out[c.RESULTS_KEY] = {
            r.key: {"regex": r.regex, **({"logType": list(r.streams)} if r.streams is not None else {})}
            for r in op.results
        }
    if op.stop_if_dependent_stops:
        out[c.STOP_IF_DEPENDENT_STOPS_KEY] = True
    if op.env_from:
        out[c.ENVIRONMENT_FROM_KEY] = [Template([p]) for p in op.env_from]
    if op.unresolved:
        out[c.UNRESOLVED_KEY] = list(op.unresolved)
    if op.engine_refuses:
        out[c.ENGINE_REFUSES_KEY] = list(op.engine_refuses)
    return out


def extension_of(service: Any) -> dict:
    found = service.get(c.EXTENSION) if isinstance(service, dict) else None
    return found if isinstance(found, dict) else {}


def keep_extension(merged: Any, written: Any) -> dict:
    """A service as Compose merged it with an override (which drops x- keys), with its x-nos2compose back."""
    return {**(merged or {}), c.EXTENSION: extension_of(written)}


def read_service_extension(service: Any) -> ServiceExtras:
    ext = extension_of(service)
    return ServiceExtras(
        results=read_result_specs(ext.get(c.RESULTS_KEY)),
        stop_if_dependent_stops=ext.get(c.STOP_IF_DEPENDENT_STOPS_KEY) is True,
        environment_from=_texts(ext.get(c.ENVIRONMENT_FROM_KEY)),
        unresolved=_texts(ext.get(c.UNRESOLVED_KEY)),
        engine_refuses=_texts(ext.get(c.ENGINE_REFUSES_KEY)),
        words=read_words(ext),
    )


def environment_from(ext: dict) -> list:
    """A service extension's environment_from entries, as they stand."""
    found = ext.get(c.ENVIRONMENT_FROM_KEY) if isinstance(ext, dict) else None
    return list(found) if isinstance(found, list) else []


def with_environment_from(ext: dict, entries: list) -> dict:
    """The extension with its environment_from replaced (kept as it is when `entries` is empty)."""
    return {**ext, c.ENVIRONMENT_FROM_KEY: entries} if entries else dict(ext)


def read_result_specs(raw: Any) -> tuple[ResultSpec, ...]:
    """x-nos2compose.results ({key: {regex, logType?}}, or {key: regex}) as ResultSpecs."""
    if not isinstance(raw, dict):
        return ()
    out = []
    for key, spec in raw.items():
        if isinstance(spec, str):
            out.append(ResultSpec(str(key), spec))
        elif isinstance(spec, dict) and isinstance(spec.get("regex"), str):
            streams = spec.get("logType")
            streams = tuple(str(s) for s in streams) if isinstance(streams, list) else None
            out.append(ResultSpec(str(key), spec["regex"], streams))
    return tuple(out)


def result_problems(ext: dict) -> list[tuple[tuple, str]]:
    """(path under the extension, message) for each result read_result_specs leaves out or reads as a plain
    regex: not a regex or {regex, logType}, or a logType of no stream."""
    raw = ext.get(c.RESULTS_KEY) if isinstance(ext, dict) else None
    out = []
    for key, spec in raw.items() if isinstance(raw, dict) else ():
        if isinstance(spec, dict) and isinstance(spec.get("regex"), str):
            if spec.get("logType") == []:
                out.append(
                    (
                        (c.RESULTS_KEY, key, "logType"),
                        f"result {key} reads no stream nos2compose knows (convert keeps stdout and stderr only): "
                        "written as a plain regex, which reads every stream",
                    )
                )
        elif not isinstance(spec, str):
            out.append(((c.RESULTS_KEY, key), f"result {key} is not a regex or {{regex, logType}}: left out"))
    return out


def _texts(found: Any) -> tuple[str, ...]:
    return tuple(str(m) for m in found) if isinstance(found, list) else ()
