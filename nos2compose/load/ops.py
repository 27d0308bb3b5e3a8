"""One operation: its type, id, execution (group, depends_on, ...), results, and a create-volume op's args.

A container/run op's args are read by run_args.py.
"""

from __future__ import annotations

import re
from typing import Any

from ..diagnostics import Path
from ..model import Op, VolumeOp
from ..results import ResultSpec, compile_error
from .context import JobContext
from .shape import Shape

RUN, CREATE_VOLUME = "container/run", "container/create-volume"
OP_KEYS = ("type", "id", "args", "results", "execution")
EXECUTION_KEYS = ("group", "depends_on", "timeout", "stop_if_dependent_stops")
LOG_TYPES = ("stdin", "stdout", "stderr", "nodeerr")
VOLUME_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")


def read_op(context: JobContext, raw: Any, index: int) -> tuple[Op, tuple] | None:
    """The op and the registry logins it needs, or None when it cannot be read (errors reported)."""
    from .run_args import read_run

    sh = context.shape
    path: Path = ("ops", index)
    obj = sh.obj(raw, path)
    if obj is None:
        return None
    op_id = obj.get("id") if isinstance(obj.get("id"), str) else None
    sh.known_keys(obj, path, OP_KEYS, op_id)
    ok = all(
        [
            sh.required(obj, "type", path, f'"{RUN}" or "{CREATE_VOLUME}"', op_id),
            sh.required(obj, "id", path, "the op's unique id", op_id),
            sh.required(obj, "args", path, "the op's arguments", op_id),
        ]
    )
    if "id" in obj:
        sh.string(obj["id"], (*path, "id"), op_id)
    kind = sh.one_of(obj["type"], (*path, "type"), [RUN, CREATE_VOLUME], op_id) if "type" in obj else None
    execution = _execution(sh, obj["execution"], (*path, "execution"), op_id) if "execution" in obj else {}
    if not ok or kind is None or op_id is None or execution is None:
        return None
    group = execution["group"] if isinstance(execution.get("group"), str) else op_id
    args = sh.obj(obj["args"], (*path, "args"), op_id)
    if args is None:
        return None
    if kind == CREATE_VOLUME:
        volume = _create_volume(sh, args, path, op_id, index, group, obj)
        return (volume, ()) if volume is not None else None
    results = _results(sh, obj["results"], (*path, "results"), op_id) if "results" in obj else ()
    return read_run(context, args, path, op_id, index, group, execution, results)


def _execution(sh: Shape, raw: Any, path: Path, op_id: str | None) -> dict | None:
    ex = sh.obj(raw, path, op_id)
    if ex is None:
        return None
    sh.known_keys({k: v for k, v in ex.items() if k != "timeout"}, path, EXECUTION_KEYS, op_id)
    out: dict[str, Any] = {}
    if "group" in ex:
        out["group"] = sh.string(ex["group"], (*path, "group"), op_id)
    if "depends_on" in ex:
        deps = sh.strings(ex["depends_on"], (*path, "depends_on"), op_id)
        out["depends_on"] = tuple(deps or ())
    if "timeout" in ex and sh.number(ex["timeout"], (*path, "timeout"), op_id) is not None:
        sh.diags.strict_rule(
            (*path, "timeout"),
            "execution.timeout is in Nosana's schema but its validator rejects it, and the node does not use it",
            "ignored",
            op_id,
            "NOS002",
        )
    if "stop_if_dependent_stops" in ex and "depends_on" not in ex:
        sh.diags.strict_rule(
            (*path, "stop_if_dependent_stops"), "stop_if_dependent_stops without depends_on", "ignored", op_id, "NOS008"
        )
    if "stop_if_dependent_stops" in ex:
        value = sh.boolean(ex["stop_if_dependent_stops"], (*path, "stop_if_dependent_stops"), op_id)
        out["stop_if_dependent_stops"] = bool(value)
    return out


def _create_volume(sh: Shape, args: dict, path: Path, op_id: str, index: int, group: str, obj: dict) -> VolumeOp | None:
    apath = (*path, "args")
    sh.known_keys(args, apath, ["name"], op_id)
    if "results" in obj:
        sh.diags.warning((*path, "results"), "results of a create-volume op mean nothing; ignored", op_id, "NOS009")
    if not sh.required(args, "name", apath, "the volume's name", op_id):
        return None
    name = sh.string(args["name"], (*apath, "name"), op_id)
    if name is None:
        return None
    if not VOLUME_NAME.fullmatch(name):
        sh.diags.error(
            (*apath, "name"), f"volume name '{name}' is not a valid Docker volume name (letters, digits, _ . -)", op_id
        )
        return None
    return VolumeOp(op_id, index, group, name)


def _results(sh: Shape, raw: Any, path: Path, op_id: str) -> tuple[ResultSpec, ...]:
    """What to extract from the op's log once it exits: {key: regex | {regex, logType}}."""
    results = sh.obj(raw, path, op_id)
    if results is None:
        return ()
    specs = []
    for key, spec in results.items():
        here = (*path, key)
        regex, types = None, None
        if isinstance(spec, str):
            regex = spec
        elif isinstance(spec, dict):
            sh.known_keys(spec, here, ["regex", "logType"], op_id)
            if sh.required(spec, "regex", here, "a JavaScript regular expression", op_id):
                regex = sh.string(spec["regex"], (*here, "regex"), op_id)
            if "logType" not in spec:
                sh.diags.strict_rule(here, "missing 'logType'", "all streams are read", op_id, "NOS006")
            else:
                types = _log_types(sh, spec["logType"], (*here, "logType"), op_id)
        else:
            sh.wrong(here, "a regular expression string or {regex, logType}", spec, op_id)
        if regex is not None:
            problem = compile_error(regex)
            if problem is not None:
                sh.diags.warning(
                    here,
                    f"a regex that does not compile ({problem.split(': ')[-1]}); like the node, "
                    "nos2compose reports the error text as the result's value",
                    op_id,
                    "NOS112",
                )
            streams = tuple(t for t in types if t in ("stdout", "stderr")) if types else None
            specs.append(ResultSpec(key, regex, streams))
    return tuple(specs)


def _log_types(sh: Shape, raw: Any, path: Path, op_id: str) -> list[str] | None:
    types = sh.strings(raw, path, op_id)
    for i, t in enumerate(types or ()):
        sh.one_of(t, (*path, i), LOG_TYPES, op_id)
    if types is not None and not (1 <= len(types) <= len(LOG_TYPES) and len(set(types)) == len(types)):
        sh.wrong(path, "1 to 4 different streams (stdin, stdout, stderr, nodeerr)", types, op_id)
    return types
