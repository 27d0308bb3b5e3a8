"""The compiler: a job mapping in, Compose documents and diagnostics out. No I/O, no engine.

`compile_job` reads as the list of passes it runs; each pass lives in its own
module (load/, compose/). Library users call it directly; the CLI only
reads files, calls it, and prints what it returns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from .compose import contract
from .compose.layout import Layout, PlanOptions, PortProblem, plan_job, service_names
from .diagnostics import Diagnostics, Path
from .load import checks, read_job
from .load.limits import BeyondLimit, TooLarge, check_output_size
from .model import Job

if TYPE_CHECKING:
    from .run_plan import RunPlan


class Options(NamedTuple):
    name: str = "job"  # the Compose project name, already normalized
    source: str = "job.json"  # shown in headers; a file name, never a host path
    strict: bool = False
    # convert and up (True) or validate: compiled alike, with the same limits, as both expand the job as much
    to_run: bool = True
    plan: PlanOptions = PlanOptions()  # how health checks are probed and resources fetched


class Result:
    """What the compiler found: diagnostics always; the job and its layout when it could read them."""

    def __init__(self, diagnostics: Diagnostics, source: str = "job.json"):
        self.diagnostics = diagnostics
        self.source = source
        self.job: Job | None = None
        self.layout: Layout | None = None
        self.meta: dict | None = None  # the job's meta, as given (GPU memory wishes)
        self.logins: list = []  # registry logins from `authentication` (in memory only)

    @property
    def ok(self) -> bool:
        return self.job is not None and not self.diagnostics.has_errors()

    @property
    def secrets(self) -> dict[str, str]:
        """Resource credentials by the Compose variable `up` sets (in memory only, never in a file)."""
        if self.job is None or self.layout is None:
            return {}
        return {
            self.layout.secret_variables[(op.id, n, env)]: value
            for op in self.job.run_ops
            for n, r in enumerate(op.resources, 1)
            for env, value in r.secrets
        }

    def single_file(self) -> str:
        """The whole job as one Compose file; TooLarge (at the job's path) past the output limit."""
        from .compose.files import job_file

        assert self.job is not None and self.layout is not None
        return self._written(job_file)

    def group_files(self) -> list[tuple[str, str]]:
        """(file name, text) for each group that runs something, names sorting in group order; TooLarge (at the
        job's path) when together they pass the output limit."""
        from .compose.files import group_files

        assert self.job is not None and self.layout is not None
        return self._written(group_files)

    def directory_files(self) -> list[tuple[str, str]]:
        """What `convert -o` writes: the group files, then the scripts they mount from beside them."""
        from .compose.files import directory_files

        assert self.job is not None and self.layout is not None
        return self._written(directory_files)

    def _written(self, write):
        """The writer counts the text as it grows and stops at the limit; the job's path of where it stopped."""
        try:
            return write(self.job, self.layout, self.source)
        except TooLarge as big:
            raise big.at(_job_path(self.job, self.layout, big.where)) from None

    def run_plan(self) -> tuple[RunPlan, list[tuple[str, str]]]:
        """The typed plan the runtime runs, and the files (name, text) it starts, to be written beside each other
        (RunPlan.at gives the plan its directory): the group files, then the scripts they mount."""
        from .compose.plans import compiled

        assert self.job is not None and self.layout is not None
        return compiled(self.job, self.layout, self.source, self.meta)


def compile_job(data: Any, options: Options = Options()) -> Result:
    """Validate a job definition and plan its Compose output; never raises for bad input."""
    diags = Diagnostics(strict=options.strict)
    result = Result(diags, source=options.source)
    if not checks.check_text(data, diags):  # string keys, storable text, bounded depth
        return result
    raw_ops = data.get("ops") if isinstance(data, dict) else None
    names = (
        service_names(op["id"] for op in raw_ops if isinstance(op, dict) and isinstance(op.get("id"), str))
        if isinstance(raw_ops, list)
        else {}
    )
    try:
        loaded = read_job(data, diags, options.name, names)  # shape, literals, model
    except BeyondLimit as big:
        diags.error(big.path or (), big.message)
        return result
    if isinstance(raw_ops, list):
        checks.check_ids(raw_ops, diags)  # unique ids without spaces
    if loaded is None:
        return result
    job = result.job = loaded.job
    result.logins = list(loaded.logins)
    checks.check_dependencies(job, diags)  # same group, known, acyclic
    if not check_output_size(job, names, diags):  # depends_on: square of the ops
        return result
    checks.check_volumes(job, diags)
    checks.check_images(job, diags)
    checks.warn_local_differences(job, diags)
    _note_renamed_services(job, names, diags)
    try:  # names, ports, helpers, variables
        result.layout = plan_job(job, names, list(loaded.literals.first_use), options.plan)
    except PortProblem as exc:
        diags.error(("ops",), str(exc))
        return result
    _note_runtime_values(loaded.literals.first_use, result.layout, diags)
    if options.to_run and not diags.has_errors():  # the job's own words, for the files (import gives them back)
        from .written import record

        result.job = job._replace(written=record(data, job, result.layout))
    return result


def _note_runtime_values(first_use: dict, layout: Layout, diags: Diagnostics) -> None:
    """Say which values only `up` can fill in (results of earlier ops), once per literal."""
    seen = set()
    for placeholder, (path, op_id) in first_use.items():
        if placeholder.literal in seen:
            continue
        seen.add(placeholder.literal)
        diags.warning(
            path,
            f"{placeholder.literal} is a result of an earlier op: the Compose files hold "
            f"${{{layout.variables[placeholder]}}}, which `nos2compose up` fills in when this op's group "
            "starts (plain `docker compose` stops, naming it, until it is set)",
            op_id,
            "NOS901",
        )


def _note_renamed_services(job: Job, names: dict[str, str], diags: Diagnostics) -> None:
    for op in job.run_ops:
        if names[op.id] != op.id:
            diags.warning(
                (*op.path, "id"),
                f"'{op.id}' is not a valid Compose service name; the service is named '{names[op.id]}' "
                f"(label {contract.OP_LABEL} keeps the id, and %%ops.{op.id.split('.')[0]}.host%% resolves to it)",
                op.id,
                "NOS902",
            )


# a service's keys -> the args field they come from, for an error found as the file is written
_FIELDS = {"command": "cmd", "entrypoint": "entrypoint", "environment": "env", "ports": "expose"}
_FIELDS.update(healthcheck="expose", working_dir="work_dir", networks="aliases", volumes="volumes", image="image")


def _job_path(job: Job, layout: Layout, where: tuple) -> Path:
    """The job's path for a place in a Compose document (services.NAME.KEY): the op and its args field."""
    if len(where) < 2 or where[0] != "services":
        return ()
    key = where[2] if len(where) > 2 else None
    for op in job.run_ops:
        if where[1] == layout.services.get(op.id):
            if key == "depends_on":
                return (*op.path, "execution", "depends_on")
            return (*op.path, "args", _FIELDS[key]) if key in _FIELDS else op.path
        if where[1] == layout.probes.get(op.id):
            return (*op.path, "args", "expose")
        if any(where[1] == f.service for f in layout.fetchers.get(op.id, ())):
            return (*op.path, "args", "resources")
    return ()
