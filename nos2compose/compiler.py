"""The compiler: a job mapping in, Compose documents and diagnostics out. No I/O, no engine.

`compile_job` reads as the list of passes it runs; each pass lives in its own
module (load/, plan/, emit/). Library users call it directly; the CLI only
reads files, calls it, and prints what it returns.
"""
from __future__ import annotations

from typing import Any, NamedTuple

from .diagnostics import Diagnostics
from .emit.compose import Layout, group_documents, job_document, secret_var
from .emit.healthcheck import HealthTiming
from .emit.yaml_text import dump
from .load import checks
from .load.literals import SENTINEL
from .load.loader import Loader
from .model import Job
from .plan.naming import service_names
from .plan.ports import NoFreePort, host_ports


class Options(NamedTuple):
    name: str = "job"  # the Compose project name, already normalized
    source: str = "job.json"  # shown in headers; a file name, never a host path
    strict: bool = False
    # convert and up need every literal's value now; validate only notes run-time ones
    to_run: bool = True
    health_probe: str = "container"  # or "sidecar": probe from a service of its own, as the node does
    probe_image: str = "curlimages/curl:8.11.1"
    timing: HealthTiming = HealthTiming()
    fetch_image: str = "python:3.12-alpine"  # fetches S3 and Hugging Face resources
    ollama_image: str | None = None  # pulls Ollama models (None: the op's own image)
    resource_dirs: tuple[tuple[str, str], ...] = ()  # (target, host directory): mounted instead of fetched


class Result:
    """What the compiler found: diagnostics always; the job and its layout when it could read them."""

    def __init__(self, diagnostics: Diagnostics, source: str = "job.json"):
        self.diagnostics = diagnostics
        self.source = source
        self.job: Job | None = None
        self.layout: Layout | None = None
        self.meta: dict | None = None  # the job's meta, as given (GPU memory wishes)
        self.logins: list = []  # registry logins from `authentication` (in memory only)
        self.secrets: dict[str, str] = {}  # resource credentials by Compose variable (in memory only)

    @property
    def ok(self) -> bool:
        return self.job is not None and not self.diagnostics.has_errors()

    def single_file(self) -> str:
        """The whole job as one Compose file."""
        assert self.job is not None and self.layout is not None
        doc = escape_dollars(job_document(self.job, self.layout, self.source))
        return dump(doc, _header(self, None))

    def group_files(self) -> list[tuple[str, str]]:
        """(file name, text) for each group that runs something, names sorting in group order."""
        assert self.job is not None and self.layout is not None
        docs = group_documents(self.job, self.layout, self.source)
        width = max(2, len(str(len(docs) - 1)))
        out = []
        for order, (group, doc) in enumerate(docs):
            name = f"{order:0{width}d}-{_file_slug(group)}.yaml"
            out.append((name, dump(escape_dollars(doc), _header(self, (order, group, len(docs))))))
        return out


def compile_job(data: Any, options: Options = Options()) -> Result:
    """Validate a job definition and plan its Compose output; never raises for bad input."""
    diags = Diagnostics(strict=options.strict)
    if not checks.check_text(data, diags):                  # string keys, storable text, bounded depth
        return Result(diags, source=options.source)
    raw_ops = data.get("ops") if isinstance(data, dict) else None
    op_ids = [op["id"] for op in raw_ops if isinstance(op, dict) and isinstance(op.get("id"), str)] if isinstance(raw_ops, list) else []
    names = service_names(op_ids)

    loader = Loader(diags, options.name, names)
    job = loader.job(data)                                   # shape, literals, model
    if isinstance(raw_ops, list):
        checks.check_ids(raw_ops, diags)                    # unique ids without spaces
    result = Result(diags, source=options.source)
    if job is None:
        return result
    result.logins = list(loader.logins)
    _report_run_time_literals(loader.literals.run_time if loader.literals else [], job, options, diags)
    checks.check_dependencies(job, diags)                   # same group, known, acyclic
    checks.check_volumes(job, diags)
    checks.check_images(job, diags)
    checks.warn_local_differences(job, diags)
    _note_renamed_services(job, names, diags)
    result.job = job
    probes = probe_names(job, names) if options.health_probe == "sidecar" else {}
    runtime = loader.literals.placeholders if loader.literals else {}
    _note_runtime_values(loader.literals, diags)
    try:
        ports = host_ports(job)
    except NoFreePort as exc:
        diags.error(("ops",), str(exc))
        return result
    result.layout = Layout(names, ports, job.run_ops_by_group(),  # service names, host ports, group order
                           options.timing, probes, options.probe_image, runtime,
                           options.fetch_image, options.ollama_image, dict(options.resource_dirs))
    result.secrets = {secret_var(op, n, env): value for op in job.run_ops
                      for n, r in enumerate(op.resources, 1) for env, value in r.secrets}
    return result


def probe_names(job: Job, names: dict[str, str]) -> dict[str, str]:
    """op id -> a service name for its probe sidecar (`<service>-probe`, made unique)."""
    taken = set(names.values())
    out = {}
    for op in job.run_ops:
        if op.has_health_checks:
            base = name = f"{names[op.id]}-probe"
            n = 2
            while name in taken:
                name, n = f"{base}-{n}", n + 1
            taken.add(name)
            out[op.id] = name
    return out


def _note_runtime_values(ctx, diags: Diagnostics) -> None:
    """Say which values only `up` can fill in (results of earlier ops), once per literal."""
    if ctx is None:
        return
    seen = set()
    for var, spec in ctx.placeholders.items():
        literal = f"%%ops.{spec['op']}.results.{spec['key']}%%"
        if literal in seen or var not in ctx.first_use:
            continue
        seen.add(literal)
        path, op_id = ctx.first_use[var]
        diags.warning(path, f"{literal} is a result of an earlier op: the Compose files hold ${{{var}}}, which "
                            "`nos2compose up` fills in when this op's group starts (plain `docker compose` leaves it empty)", op_id)


def _report_run_time_literals(found: list, job: Job, options: Options, diags: Diagnostics) -> None:
    for path, literal in found:
        op_id = next((op.id for op in job.ops if op.index == path[1]), None)
        message = f"literal %%{literal}%% is only known at run time on the node; nos2compose cannot fill it in yet"
        if options.to_run:
            diags.error(path, message + ", so this job cannot be converted or run locally", op_id)
        else:
            diags.warning(path, message + "; `convert` and `up` will refuse this job", op_id)


def _note_renamed_services(job: Job, names: dict[str, str], diags: Diagnostics) -> None:
    for op in job.run_ops:
        if names[op.id] != op.id:
            diags.warning(op.path + ("id",),
                          f"'{op.id}' is not a valid Compose service name; the service is named '{names[op.id]}' "
                          f"(label io.nosana.op keeps the id, and %%ops.{op.id.split('.')[0]}.host%% resolves to it)", op.id)


def _placeholder(m) -> str:
    """A result `up` supplies; run by hand without it, Compose stops with this message."""
    return "${" + m.group(1) + ":?set by nos2compose up}"


def escape_dollars(value: Any) -> Any:
    """Every `$` from the job reaches the container as `$`: Compose must not interpolate it.

    The one exception is ours: a result of an earlier op becomes `${VAR}`, which `up` supplies."""
    if isinstance(value, str):
        value = value.replace("$", "$$")
        return SENTINEL.sub(_placeholder, value) if "\x00" in value else value
    if isinstance(value, list):
        return [escape_dollars(v) for v in value]
    if isinstance(value, dict):
        return {SENTINEL.sub(_placeholder, k) if "\x00" in k else k: escape_dollars(v) for k, v in value.items()}
    return value


def _file_slug(group: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9._-]+", "-", group).strip("-.") or "group"


def _header(result: Result, part: tuple[int, str, int] | None) -> str:
    job, layout = result.job, result.layout
    assert job is not None and layout is not None
    lines = [f"Generated by nos2compose from {result.source}: job '{job.name}'."]
    if part is None:
        lines.append(f"Groups run in this order: {', '.join(layout.run_groups)}.")
        ops = job.run_ops
    else:
        order, group, total = part
        lines.append(f"Group {order + 1} of {total}: '{group}'. Start the files in name order.")
        ops = tuple(layout.members[group])
    published = [(op, e) for op in ops for e in op.expose]
    if published:
        lines.append("Published on the host:")
        for op, e in published:
            lines.append(f"  {layout.services[op.id]}: http://{'127.0.0.1'}:{layout.ports[(op.id, e.port)]} -> port {e.port}")
    return "\n".join(lines)
