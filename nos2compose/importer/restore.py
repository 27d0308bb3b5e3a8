"""The job's own words back, from a file `convert` wrote: the very job it came from, with your edits.

`convert` records the job's words wherever the file says the same another way (written.py). Import
reads the file as any Compose project (`plain`), puts each recorded word in its place (`candidate`),
and keeps a word only where the file still holds what the job said: both read the same once compiled
(`written.held`). Where a person changed the file, the file wins. Then:
- an op keeps its service name as an alias (as in Compose) when text that named it through
  `%%ops.ID.host%%` was edited, and every op does when a service was added by hand;
- `global` keeps a fallback only while every op still relies on it as the job did;
- the ops come in the job's order;
- what Nosana's strict validator refuses (a job's own words may be older forms) is written in the
  form import gives it, with a warning: what import writes always passes `validate --strict`.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from ..compose import contract
from ..compose.codec import FileMeta
from ..diagnostics import Diagnostics
from ..load.json_text import looks_like_json
from ..model import Words
from ..written import RUN, TOP, VOLUME, canonical_order, group_of, held, shell_string

FALLBACKS = ("image", "entrypoint", "work_dir", "env", "gpu")  # what `global` gives every op that has none
# where import warns that a file cannot hold a key the job's words give back after all
WITHDRAWN = {"args.entrypoint": ("entrypoint",), "results": (contract.EXTENSION, contract.RESULTS_KEY)}
NAMED = re.compile(r"%%ops\.([^.%\s]+)\.(?:host|endpoint)")  # literals that name an op by its host name
MISSING = object()


def restore(job: dict, meta: FileMeta, words: dict[str, Words], services: dict[str, str], diags: Diagnostics) -> dict:
    """The job, from import's reading of a file convert wrote: `words` are the ops' recorded words by op id
    (every op convert wrote has an entry), `services` their service names."""
    if meta.words is None:  # a file of an older version: no words recorded; every op answers to its service name
        for op in job["ops"]:
            if op["id"] in services:
                _add_alias(op, services[op["id"]])
        return job
    plain = {**_top(meta.words), "ops": [_plain(op) if op["id"] in words else op for op in job["ops"]]}
    candidate = {
        **_top(meta.words, recorded=True),
        "ops": [_candidate(op, words.get(op["id"])) for op in plain["ops"]],
    }
    models = _compiled(candidate, meta), _compiled(plain, meta)
    if None in models:  # the words no longer fit the file (a broken hand edit): the file alone
        return plain
    out, edited = _decide(candidate, plain, words, models, services)
    diags.withdraw(
        [
            ("services", services[op_id], *WITHDRAWN[path])
            for op_id, w in words.items()
            for path in w.as_written
            if path in WITHDRAWN and op_id in services and (op_id, path) not in edited
        ]
    )
    _keep_fallbacks(out, plain, words, edited)
    out["ops"] = _ordered(out["ops"], words)
    return _strict_form(out, plain, services, meta, diags)


def _top(top: Words, recorded: bool = False) -> dict:
    """The job's top level: import's (version, type), or with the recorded words (meta, global, ...)."""
    if not recorded:
        return dict(TOP)
    out = {k: v for k, v in TOP.items() if k not in top.not_written}
    out.update(copy.deepcopy(top.as_written))
    return out


def _plain(op: dict) -> dict:
    """Import's reading of an op convert wrote, in the forms convert's record compares with (written.py)."""
    op = copy.deepcopy(op)
    args = op.get("args") or {}
    if shell_string(args.get("cmd")) is not None:
        args["cmd"] = shell_string(args["cmd"])
    if isinstance(args.get("expose"), list) and len(args["expose"]) == 1 and isinstance(args["expose"][0], int):
        args["expose"] = args["expose"][0]
    if op.get("execution") == {"group": op["id"]}:
        del op["execution"]  # an op in a group of its own
    return op


def _candidate(op: dict, words: Words | None) -> dict:
    """The op with its recorded words in place."""
    if words is None:
        return op
    op = copy.deepcopy(op)
    for path, value in words.as_written.items():  # by key: args.cmd, results, execution, ...
        _put(op, path, copy.deepcopy(value))
    for path in words.not_written:
        _put(op, path, MISSING)
    return op


def _get(op: dict, path: str) -> Any:
    head, _, key = path.partition(".")
    found = op.get(head, MISSING)
    if key:
        found = found.get(key, MISSING) if isinstance(found, dict) else MISSING
    return found


def _put(op: dict, path: str, value: Any) -> None:
    head, _, key = path.partition(".")
    where = op
    if key:
        where = op.setdefault(head, {})
        if not isinstance(where, dict):
            return
        head = key
    if value is MISSING:
        where.pop(head, None)
    else:
        where[head] = value


def _compiled(job: dict, meta: FileMeta):
    """The job compiled as convert compiles it: {op id: op}, with the run ops by id; None when it has errors."""
    from ..compiler import Options, compile_job

    result = compile_job(job, Options(name=meta.job or "job", to_run=False))
    if result.job is None or result.diagnostics.has_errors():
        return None
    return {op.id: op for op in result.job.ops}


def _decide(candidate: dict, plain: dict, words: dict[str, Words], models, services: dict[str, str]):
    """(the job with each recorded word where the file still holds what it says, the file's own reading
    elsewhere; the (op id, key) pairs where the file won)."""
    kept_models, file_models = models
    kept_runs, file_runs = ({i: o for i, o in m.items() if hasattr(o, "image")} for m in models)
    out = copy.deepcopy(candidate)
    edited: set[tuple[str, str]] = set()
    named: set[str] = set()
    for op, plain_op in zip(out["ops"], plain["ops"], strict=True):
        w = words.get(op["id"])
        if w is None:
            continue
        ours, theirs = kept_models.get(op["id"]), file_models.get(op["id"])
        recorded = w.as_written
        for path in [*recorded, *w.not_written]:
            if (
                ours is None
                or theirs is None
                or held(ours, path, kept_runs) != _file_held(theirs, path, file_runs, plain_op)
            ):
                edited.add((op["id"], path))  # the file wins
                found = _get(plain_op, path)
                if path == "args.env" and ours is not None and theirs is not None:
                    found = _env_edited(recorded.get(path), found, ours, _file_env(theirs, plain_op))
                _put(op, path, found)
                named.update(NAMED.findall(json.dumps(recorded.get(path))))
    hand_made = any(op["id"] not in words for op in out["ops"] if op.get("type") == RUN)
    for op in out["ops"]:
        if op["id"] in services and (hand_made or op["id"] in named):
            _add_alias(op, services[op["id"]])  # text names it by its service name, as Compose does
    return out, edited


def _file_held(theirs, path: str, file_runs, plain_op: dict) -> Any:
    """`held` of import's reading of the file; an environment as the file gives it (_file_env)."""
    found = held(theirs, path, file_runs)
    return (sorted(_file_env(theirs, plain_op).items()), found[1]) if path == "args.env" else found


def _file_env(theirs, plain_op: dict) -> dict[str, str]:
    """The file's environment as the container gets it. Compiling import's reading again would parse a value that
    looks like JSON, as the node parses an op's own env; a value `global.env` gave the op the node never parses,
    and the file holds it as it is."""
    raw = _get(plain_op, "args.env")
    raw = raw if isinstance(raw, dict) else {}
    parsed_by_node = {k for k, v in raw.items() if looks_like_json(v)}
    return {str(k): raw[k] if k in parsed_by_node else str(v) for k, v in theirs.env}


def _env_edited(recorded: Any, found: Any, ours, file_env: dict[str, str]) -> Any:
    """An edited env, variable by variable: the job's words for each variable the file still holds as they say."""
    if not isinstance(recorded, dict) or not isinstance(found, dict):
        return found
    kept = {str(k): str(v) for k, v in ours.env}
    return {k: recorded[k] if k in recorded and kept.get(k) == file_env.get(k) else v for k, v in found.items()}


def _add_alias(op: dict, alias: str) -> None:
    if op.get("type") != RUN:
        return
    args = op.setdefault("args", {})
    aliases = args.get("aliases")
    aliases = [a.strip() for a in aliases.split(",") if a.strip()] if isinstance(aliases, str) else aliases or []
    if alias in aliases:
        return
    if "aliases" not in args:  # where import writes it: before restart_policy and resources
        keys = list(args)
        at = next((i for i, k in enumerate(keys) if k in ("restart_policy", "resources")), len(keys))
        op["args"] = args = {**dict(list(args.items())[:at]), "aliases": [], **dict(list(args.items())[at:])}
    args["aliases"] = [alias, *aliases]


def _keep_fallbacks(out: dict, plain: dict, words: dict[str, Words], edited: set[tuple[str, str]]) -> None:
    """`global` gives each op what it has none of: a fallback stays only while every op relies on it as the job
    did (none was edited, none added by hand); otherwise every op gets its own value."""
    fallbacks = out.get("global")
    if not isinstance(fallbacks, dict):
        return
    runs = [op for op in out["ops"] if op.get("type") == RUN]
    for key in [k for k in FALLBACKS if k in fallbacks]:
        if all(op["id"] in words and (op["id"], f"args.{key}") not in edited for op in runs):
            continue
        if key == "env" and _env_still_given(runs, fallbacks["env"], words, edited):
            continue
        _explicit(out, plain, {key: fallbacks.pop(key)}, set(words), edited)
    if not fallbacks:
        del out["global"]


def _env_still_given(runs: list[dict], given: Any, words: dict[str, Words], edited: set) -> bool:
    """Whether every op whose env was edited still has each variable of `global.env` as it gives it; then global
    keeps them, and those ops lose the copies the file gave them (the node merges global.env under an op's own,
    and never parses it as JSON, as it parses an op's own values)."""
    if not isinstance(given, dict) or any(op["id"] not in words for op in runs):
        return False
    changed = [op for op in runs if (op["id"], "args.env") in edited]
    envs = [op.get("args", {}).get("env") for op in changed]
    if not all(isinstance(env, dict) and all(env.get(k) == v for k, v in given.items()) for env in envs):
        return False
    for op, env in zip(changed, envs, strict=True):
        own = words[op["id"]].as_written.get("args.env")
        own = own if isinstance(own, dict) else {}
        op["args"]["env"] = {k: v for k, v in env.items() if k not in given or k in own}
        if not op["args"]["env"]:
            del op["args"]["env"]
    return True


def _explicit(out: dict, plain: dict, fallbacks: dict, ours: set[str], edited: set[tuple[str, str]]) -> None:
    """Each run op's own value of what `fallbacks` (gone from `global`) gave it: the file's where the op had
    none; for env, an op convert wrote keeps its own variables over the fallback's, as the node merges them."""
    by_id = {op["id"]: op for op in plain["ops"]}
    for op in out["ops"]:
        if op.get("type") != RUN or op["id"] not in by_id:
            continue
        for key, value in fallbacks.items():
            path, mine = f"args.{key}", _get(op, f"args.{key}")
            if mine is MISSING or key == "gpu":  # an op's gpu: false never turned global's off
                _put(op, path, _get(by_id[op["id"]], path))
            elif key == "env" and op["id"] in ours and (op["id"], path) not in edited and isinstance(value, dict):
                _put(op, path, {**value, **mine})


def _ordered(ops: list[dict], words: dict[str, Words]) -> list[dict]:
    """The job's order where recorded (an op added by hand after the op before it in the file), else import's;
    never one that would run the groups in another order."""
    by_id = {op["id"]: op for op in ops}
    run_groups = _run_groups(ops)
    canonical = [by_id[i] for i in canonical_order(ops, run_groups)]
    if not any(w.index is not None for w in words.values()):
        return canonical
    keys, last = [], -1.0
    for op in ops:
        index = words[op["id"]].index if op["id"] in words else None
        last = float(index) if index is not None else last + 0.001
        keys.append(last)
    ordered = [op for _, op in sorted(zip(keys, ops, strict=True), key=lambda pair: pair[0])]
    return ordered if _run_groups(ordered) == run_groups else canonical


def _run_groups(ops: list[dict]) -> list[str]:
    return list(dict.fromkeys(group_of(op) for op in ops if op.get("type") != VOLUME))


def _strict_form(out: dict, plain: dict, services: dict[str, str], meta: FileMeta, diags: Diagnostics) -> dict:
    """What Nosana's strict validator refuses of the job's words (older forms), in the form import reads from the
    file, warned: the key it refuses, else the whole op, else the top-level key."""
    from ..compiler import Options, compile_job

    for _ in range(3):
        result = compile_job(out, Options(name=meta.job or "job", strict=True, to_run=False))
        if not result.diagnostics.has_errors():
            return out
        refused: dict[tuple, str] = {}
        for d in result.diagnostics.errors:
            refused.setdefault(_refused(out, d.path), d.message)
        for (op_id, key), message in refused.items():
            where, what, now = _refuse(out, plain, op_id, key, services)
            why = message.removesuffix(" (Nosana's validator rejects this)")
            diags.warning(
                where, f"{what} as the job wrote it is a form Nosana's strict validator refuses ({why}): {now}"
            )
    return plain


def _refused(job: dict, path: tuple) -> tuple[str | None, str]:
    """(op id, key) of what a strict error's path points at: ("web", "args.volumes"), ("web", "") for the whole
    op, (None, "meta") for a top-level key."""
    if len(path) < 2 or path[0] != "ops" or not isinstance(path[1], int) or path[1] >= len(job["ops"]):
        return None, str(path[0]) if path else "version"
    op_id = job["ops"][path[1]]["id"]
    if len(path) >= 4 and path[2] == "args":
        return op_id, f"args.{path[3]}"
    if path[2:] == ("args",):  # the one rule about args as a whole: an op's own image (not global.image)
        return op_id, "args.image"
    return op_id, str(path[2]) if len(path) >= 3 and path[2] != "args" else ""


def _refuse(out: dict, plain: dict, op_id: str | None, key: str, services: dict[str, str]) -> tuple[tuple, str, str]:
    """Puts import's own reading in place of what the strict validator refuses; (path, what, what now) for the
    warning."""
    if op_id is not None:
        found = _op(plain, op_id)
        at = next(i for i, op in enumerate(out["ops"]) if op["id"] == op_id)
        value = _get(found, key) if key else found
        if key:
            _put(out["ops"][at], key, copy.deepcopy(value, {id(MISSING): MISSING}))
        else:
            out["ops"][at] = copy.deepcopy(found)
        now = "left out" if value is MISSING else "written as the file has it"
        return ("services", services.get(op_id, op_id)), f"{key or 'op'} of op {op_id}", now
    if key in TOP:
        out[key] = TOP[key]
        return (), f"the job's {key}", f"written as {TOP[key]!r}"
    found = out.pop(key, None)
    if key == "global" and isinstance(found, dict):
        _explicit(out, plain, {k: v for k, v in found.items() if k in FALLBACKS}, set(services), set())
    return (), f"the job's {key}", "left out"


def _op(job: dict, op_id: str) -> dict:
    return next(op for op in job["ops"] if op["id"] == op_id)
