"""The job's top level: version, type, meta, global, and the keys a local run sets aside.

`read_job` reads as the order it works in: the top level, then each op (ops.py),
which reads its args (run_args.py) with the literals resolved (literals.py).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..diagnostics import Diagnostics, Path
from ..model import Job, Op
from .context import JobContext
from .literals import LiteralContext
from .node_values import js_string
from .shape import Shape

TOP_KEYS = ("version", "type", "ops", "meta", "global", "logistics", "deployment_id")
GLOBAL_KEYS = ("image", "gpu", "entrypoint", "env", "work_dir", "variables")


class Loaded(NamedTuple):
    job: Job
    logins: tuple  # RegistryLogin, from `authentication` (in memory only)
    literals: LiteralContext  # run-time literals and placeholders found on the way


def read_job(data: Any, diags: Diagnostics, job_name: str, service_names: dict[str, str]) -> Loaded | None:
    """The typed job, or None when its top level cannot be read; every problem goes to `diags`."""
    from .ops import read_op

    shape = Shape(diags)
    top = shape.obj(data, ())
    if top is None:
        return None
    shape.known_keys({k: v for k, v in top.items() if k != "ssh"}, (), TOP_KEYS)
    _version(shape, top)
    if shape.required(top, "type", (), 'the job type, "container"'):
        shape.one_of(top["type"], ("type",), ["container"])
    if "meta" in top:
        _meta(shape, top["meta"])
    global_ = _global(shape, top["global"]) if "global" in top else {}
    _extras(shape, top)
    literals = LiteralContext(job_name, global_.get("variables"), service_names, *_groups_and_results(top.get("ops")))
    if "ops" not in top:
        diags.error((), "missing required key 'ops' (the job's operations)")
        return None
    if not isinstance(top["ops"], list):
        shape.wrong(("ops",), "an array of operations", top["ops"])
        return None
    context = JobContext(shape, job_name, global_, literals)
    ops: list[Op] = []
    logins: list = []
    for index, raw in enumerate(top["ops"]):
        read = read_op(context, raw, index)
        if read is not None:
            ops.append(read[0])
            logins.extend(read[1])
    groups = tuple(dict.fromkeys(op.group for op in ops))
    return Loaded(Job(job_name, tuple(ops), groups), tuple(logins), literals)


def _version(shape: Shape, top: dict) -> None:
    if "version" not in top:
        shape.diags.strict_rule((), "missing 'version'", 'read as "0.1"', code="NOS003")
        return
    version = shape.string(top["version"], ("version",), what='a string ("0.1")')
    if version is not None and version != "0.1":
        shape.diags.strict_rule(
            ("version",), f'version is "{version}", Nosana knows only "0.1"', 'read as "0.1"', code="NOS003"
        )


def _meta(shape: Shape, raw: Any) -> None:
    meta = shape.obj(raw, ("meta",))
    if meta is None:
        return
    if "trigger" in meta:
        shape.string(meta["trigger"], ("meta", "trigger"))
    if "system_resources" in meta:
        resources = shape.obj(meta["system_resources"], ("meta", "system_resources"))
        for key, value in (resources or {}).items():
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                shape.wrong(("meta", "system_resources", key), "a string or a number", value)
    for key, value in meta.items():
        if key not in ("trigger", "system_resources") and not _meta_value_ok(value):
            shape.diags.strict_rule(
                ("meta", key),
                "@nosana/types wants a string, a number, an array of those, or an "
                "object of those here (the node reads no meta)",
                "kept as it is",
                code="NOS008",
            )


def _global(shape: Shape, raw: Any) -> dict[str, Any]:
    g = shape.obj(raw, ("global",))
    if g is None:
        return {}
    path: Path = ("global",)
    shape.known_keys(g, path, GLOBAL_KEYS)
    out: dict[str, Any] = {}
    for key in ("image", "work_dir"):
        if key in g:
            out[key] = shape.string(g[key], (*path, key))
    if "gpu" in g:
        out["gpu"] = shape.boolean(g["gpu"], (*path, "gpu"))
    if "entrypoint" in g:
        out["entrypoint"] = shape.string_or_strings(g["entrypoint"], (*path, "entrypoint"))
    for key in ("env", "variables"):
        if key in g:
            out[key] = shape.string_map(g[key], (*path, key))
    return {k: v for k, v in out.items() if v is not None}


def _extras(shape: Shape, top: dict) -> None:
    """Top-level keys a local run has no use for: checked for type, then set aside."""
    diags = shape.diags
    if "deployment_id" in top:
        shape.string(top["deployment_id"], ("deployment_id",))
    if "logistics" in top:
        _logistics(shape, top["logistics"])
    if "ssh" in top:
        ssh = shape.obj(top["ssh"], ("ssh",))
        diags.strict_rule(("ssh",), "ssh is in Nosana's schema, but its validator rejects it", "ignored", code="NOS002")
        if ssh is not None:
            shape.known_keys(ssh, ("ssh",), ["public_keys"])
            if "public_keys" in ssh:
                _public_keys(shape, ssh["public_keys"])
            if not diags.strict:
                diags.warning(
                    ("ssh",),
                    "ssh access is not set up locally; use `docker exec` into the op's container instead",
                    code="NOS907",
                )


def _public_keys(shape: Shape, raw: Any) -> None:
    """Strings, as the network's validators check; one that is not an OpenSSH public key is a warning (ssh_keys.py,
    the checker the node API's SSH routes use too), since no ssh client could log in with it."""
    from ..ssh_keys import problem

    path: Path = ("ssh", "public_keys")
    for i, key in enumerate(shape.strings(raw, path) or ()):
        why = problem(key)
        if why is not None:
            shape.diags.warning(
                (*path, i),
                f"not an OpenSSH public key ({why}): no ssh client can log in with it (Nosana's validators accept "
                "any string)",
                code="NOS114",
            )


def _logistics(sh: Shape, raw: Any) -> None:
    path: Path = ("logistics",)
    logistics = sh.obj(raw, path)
    if logistics is None:
        return
    sh.known_keys(logistics, path, ["send", "receive"])
    for way in ("send", "receive"):
        if way not in logistics:
            sh.diags.strict_rule(
                path,
                f"logistics without '{way}', which @nosana/types refuses (@nosana/sdk accepts it)",
                "ignored",
                code="NOS008",
            )
            continue
        here = (*path, way)
        spec = sh.obj(logistics[way], here)
        if spec is None:
            continue
        sh.known_keys(spec, here, ["type", "args"])
        if sh.required(spec, "type", here, '"api" or "api-listen"'):
            sh.one_of(spec["type"], (*here, "type"), ["api", "api-listen"])
        if sh.required(spec, "args", here, "{endpoint}"):
            args = sh.obj(spec["args"], (*here, "args"))
            if args is not None:
                sh.known_keys(args, (*here, "args"), ["endpoint"])
                if "endpoint" in args:
                    sh.string(args["endpoint"], (*here, "args", "endpoint"))
    sh.diags.warning(
        path,
        "logistics (how a confidential job's ops and results travel) has no local equivalent; ignored",
        code="NOS906",
    )


def _groups_and_results(raw_ops: Any) -> tuple[dict[str, int], dict[str, set], dict[str, set]]:
    """From the raw ops, before they are read: each op's group position, result keys and exposed ports
    (what literals may name)."""
    order: dict[str, int] = {}
    groups: dict[str, int] = {}
    keys: dict[str, set] = {}
    exposed: dict[str, set] = {}
    for raw in raw_ops if isinstance(raw_ops, list) else ():
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            continue
        execution = raw.get("execution") if isinstance(raw.get("execution"), dict) else {}
        group = execution.get("group") if isinstance(execution.get("group"), str) else raw["id"]
        order[raw["id"]] = groups.setdefault(group, len(groups))
        if isinstance(raw.get("results"), dict):
            keys[raw["id"]] = set(raw["results"])
        expose = raw.get("args", {}).get("expose") if isinstance(raw.get("args"), dict) else None
        items = expose if isinstance(expose, list) else [expose]
        ports = (e.get("port") if isinstance(e, dict) else e for e in items)
        # the node keys endpoints by `${port}` (setDefaults.ts), JavaScript's text: 80.0 is "80"
        exposed[raw["id"]] = {t for t in map(js_string, ports) if t and t != "null" and "%%" not in t}
    return order, keys, exposed


def _meta_value_ok(value: Any) -> bool:
    scalar = (str, int, float)
    if isinstance(value, bool):
        return False
    if isinstance(value, scalar):
        return True
    if isinstance(value, list):
        return all(isinstance(v, scalar) and not isinstance(v, bool) for v in value)
    if isinstance(value, dict):
        return all(_meta_value_ok(v) and not isinstance(v, dict) for v in value.values())
    return False
