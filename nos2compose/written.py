"""The job's own words: what `convert` records so that `import` of its files gives the very job back.

A Compose file says what a job means, not always in the job's words: a string cmd is `/bin/sh -c` and
the string, `global.image` is each op's image, `%%global.variables.MODEL%%` is the model's name, `meta`
has no Compose key at all. So the files carry, beside what they say, the job's own words wherever they
differ from what `import` reads back (codec: `as_written`, `not_written`, `index`), and nothing else.

- `expected_ops` is what `import` gives back from files nobody edited, op by op: the model, written
  the way import writes it (a `/bin/sh -c` cmd as its string, one plain port as a number, no
  execution for an op in a group of its own);
- `record` compares the job with that and keeps the differences (never a credential);
- `held` is what the files hold of one key of an op: `import` gives the job's words back for a key
  only where the files still hold what the job said (importer/restore.py), so a hand edit wins.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .model import Job, RunOp, Template, VolumeOp, Words, Written

if TYPE_CHECKING:
    from .compose.layout import Layout

RUN, VOLUME = "container/run", "container/create-volume"
TOP = {"version": "0.1", "type": "container"}  # the top level import writes for a file convert wrote
OP_KEYS = ("type", "id", "args")  # an op's keys that are never recorded (each is its service's own)
CREDENTIALS = ("IAM", "accessToken")  # a resource's: never in a file
NEVER = ("authentication",)  # registry logins: never in a file
SHELL = ("/bin/sh", "-c")  # how the node runs a cmd string
NODE_ENV = "NOSANA_ID"  # the node sets it in every op
OLLAMA_STORE = "/root/.ollama"  # where an Ollama resource that names no target is mounted


def same(a: Any, b: Any) -> bool:
    """Equal as JSON values (1 is not true, 1.0 is not 1; key order does not count)."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


# -- what import gives back -----------------------------------------------------------------------


def _item(value: Any) -> Any:
    """A cmd/entrypoint item as import reads it back: a result spliced in pieces is a chunked spread; any other
    result is its literal."""
    if isinstance(value, Template) and value.whole is not None and value.whole.splice.endswith("_chunked"):
        return {"__spread__": value.whole.literal, "chunked": True}
    return str(value)


def shell_string(cmd: Any) -> str | None:
    """The cmd string a cmd list stands for: the node runs a string as `/bin/sh -c` and the string. None for any
    other list, and where the string would mean something else: a literal that is the whole third item splices
    a result's items there, but is one text in a string; text that looks like JSON the node parses whole as a
    string, but as one item in a list."""
    from .load.json_text import looks_like_json
    from .load.literals import LITERAL

    if isinstance(cmd, list) and len(cmd) == 3 and tuple(cmd[:2]) == SHELL and isinstance(cmd[2], str):
        return None if LITERAL.fullmatch(cmd[2]) or looks_like_json(cmd[2]) else cmd[2]
    return None


def _command(words: tuple | None, shell: bool) -> Any:
    if not words:
        return None
    items = [_item(w) for w in words]
    found = shell_string(items) if shell else None
    return items if found is None else found


def _check(check) -> dict:
    if hasattr(check, "expected_response"):
        return {"type": "websocket", "expected_response": check.expected_response, "continuous": check.continuous}
    out: dict = {"type": "http", "path": check.path, "method": check.method, "expected_status": check.expected_status}
    if check.headers:
        out["headers"] = dict(check.headers)
    if check.body is not None:
        out["body"] = check.body
    out["continuous"] = check.continuous
    return out


def _expose(op: RunOp) -> Any:
    items: list = []
    for e in op.expose:
        checks = [_check(c) for c in e.health_checks]
        items.append({"port": e.port, "health_checks": checks} if checks else e.port)
        items += list(range(e.port + 1, e.port + e.count))  # a range comes back as its ports
    for p in op.expose_from:
        items.append({"__spread__": p.literal, **({"chunked": True} if p.splice.endswith("_chunked") else {})})
    if len(items) == 1 and isinstance(items[0], int):
        return items[0]
    return items or None


def _env(op: RunOp) -> dict | None:
    from .compose.node_defaults import ENVIRONMENT

    env = {str(k): str(v) for k, v in op.env if k != NODE_ENV and ENVIRONMENT.get(str(k), object()) != v}
    for p in op.env_from:
        env["__pairs__" if p.splice.startswith("pairs") else "__spread__"] = p.literal
    return env or None


def _resources(op: RunOp, mounted: dict) -> list | None:
    out = []
    for r in op.resources:
        if r.target in mounted:
            continue  # a host directory stands in for it: the file has a bind mount, no fetcher
        spec = json.loads(r.spec)
        if r.kind == "Ollama":
            target = {} if r.target == OLLAMA_STORE else {"target": r.target}
            out.append({"type": "Ollama", "model": spec["model"], **target})
        else:
            kind = spec.pop("type", r.kind)
            if str(spec.get("target", "")).rstrip("/") != r.target.rstrip("/"):
                spec["target"] = r.target
            out.append({"type": kind, **spec})
    return out or None


def restart_policy(restart: str | None) -> Any:
    """Compose's `restart:` as a job's restart_policy (on-failure:N is {policy, restart_tries})."""
    if restart is None or not restart.startswith("on-failure:"):
        return restart
    return {"policy": "on-failure", "restart_tries": int(restart.split(":", 1)[1])}


def _args(op: RunOp, mounted: dict) -> dict:
    values = {
        "image": op.image,
        "entrypoint": _command(op.entrypoint, False),
        "cmd": _command(op.cmd, True),
        "env": _env(op),
        "work_dir": op.work_dir or None,
        "gpu": True if op.gpu else None,
        "expose": _expose(op),
        "volumes": [{"name": m.volume, "dest": m.dest} for m in op.mounts] or None,
        "aliases": list(dict.fromkeys(op.aliases)) or None,
        "restart_policy": restart_policy(op.restart),
        "resources": _resources(op, mounted),
    }
    return {k: v for k, v in values.items() if v is not None}


def _execution(op: RunOp | VolumeOp, deps: list[str]) -> dict | None:
    execution: dict = {"group": op.group}
    if deps:
        execution["depends_on"] = deps
    if getattr(op, "stop_if_dependent_stops", False):
        execution["stop_if_dependent_stops"] = True
    return None if execution == {"group": op.id} else execution  # an op in a group of its own says nothing


def expected_ops(job: Job, layout: Layout) -> dict[str, dict]:
    """op id -> the op as `import` gives it back from the files, if nobody edits them."""
    by_id = {op.id: op for op in job.run_ops}
    out: dict[str, dict] = {}
    for op in job.ops:
        deps: list[str] = []
        if isinstance(op, VolumeOp):
            entry: dict = {"type": VOLUME, "id": op.id, "args": {"name": op.name}}
        else:
            entry = {"type": RUN, "id": op.id, "args": _args(op, layout.mounted)}
            if op.results:
                entry["results"] = {
                    r.key: {"regex": r.regex, "logType": list(r.streams)} if r.streams else r.regex for r in op.results
                }
            deps = sorted(same_group_deps(op, by_id), key=lambda d: layout.services[d])  # Compose's: by name
        execution = _execution(op, deps)
        if execution is not None:
            entry["execution"] = execution
        out[op.id] = entry
    return out


def same_group_deps(op: RunOp, by_id: dict[str, RunOp]) -> list[str]:
    """The depends_on a file holds: ops of the op's own group that run (a volume exists before any container
    starts; the group order already waits for an earlier group)."""
    return list(dict.fromkeys(d for d in op.depends_on if d in by_id and by_id[d].group == op.group and d != op.id))


# -- the order import writes ops in ----------------------------------------------------------------


def canonical_order(ops: list[dict], run_groups: list[str]) -> list[str]:
    """Op ids in the order `import` writes them when the job's own order is not recorded: groups of nothing but
    create-volume ops first (by name), then the groups that run something in their order; in a group,
    create-volume ops first; by id."""
    rank = {g: (1, "", n) for n, g in enumerate(run_groups)}

    def key(op: dict) -> tuple:
        return (rank.get(group_of(op), (0, group_of(op), 0)), op.get("type") != VOLUME, op["id"])

    return [op["id"] for op in sorted(ops, key=key)]


def group_of(op: dict) -> str:
    execution = op.get("execution")
    group = execution.get("group") if isinstance(execution, dict) else None
    return group if isinstance(group, str) else op["id"]


# -- the record -------------------------------------------------------------------------------------


def _without_credentials(key: str, value: Any) -> Any:
    if key == "resources" and isinstance(value, list):
        return [{k: v for k, v in r.items() if k not in CREDENTIALS} if isinstance(r, dict) else r for r in value]
    return value


def differences(raw: dict, expected: dict) -> Words:
    """The op's own words where they differ from what import gives back (`expected`), by key ("args.cmd")."""
    as_written: dict = {}
    missing: list[str] = []
    for key, value in raw.items():
        if key not in OP_KEYS and not same(value, expected.get(key)):
            as_written[key] = value
    missing += [key for key in expected if key not in OP_KEYS and key not in raw]
    raw_args, args = raw.get("args") or {}, expected.get("args") or {}
    for key, value in raw_args.items():
        value = _without_credentials(key, value)
        if key not in NEVER and not same(value, args.get(key)):
            as_written[f"args.{key}"] = value
    missing += [f"args.{key}" for key in args if key not in raw_args]
    return Words(as_written, tuple(missing))


def record(data: dict, job: Job, layout: Layout) -> Written:
    """What the files carry of the job's own words (`data` is the job as given, `job` as compiled)."""
    expected = expected_ops(job, layout)
    ops = data.get("ops") if isinstance(data.get("ops"), list) else []
    raw_ops = [op for op in ops if isinstance(op, dict) and isinstance(op.get("id"), str) and op["id"] in expected]
    ordered = [op["id"] for op in raw_ops] == canonical_order(list(expected.values()), list(layout.run_groups))
    ops = {}
    for index, raw in enumerate(raw_ops):
        words = differences(raw, expected[raw["id"]])
        ops[raw["id"]] = words if ordered else words._replace(index=index)
    top = {k: v for k, v in data.items() if k != "ops" and not same(v, TOP.get(k))}
    return Written(Words(top, tuple(k for k in TOP if k not in data)), ops)


# -- what the files hold of a key -------------------------------------------------------------------


def held(op: RunOp | VolumeOp, key: str, by_id: dict[str, RunOp]) -> Any:
    """What the files hold of the op's `key` ("args.cmd", "execution", "results", ...), compiled: equal for the
    job's own words and for what import read from files that still say the same. None for what no file
    holds (args.private, fields a node ignores): there, the job's words are all there is."""
    if isinstance(op, VolumeOp):
        return {"args.name": op.name, "args": op.name, "execution": op.group}.get(key)
    part = key.removeprefix("args.")
    if key == "execution":
        return (op.group, tuple(sorted(same_group_deps(op, by_id))), op.stop_if_dependent_stops)
    if key == "results":
        return tuple((r.key, r.regex, r.streams or None) for r in op.results)
    if part in ("cmd", "entrypoint"):
        return _held_words(getattr(op, part) or None)
    if part == "env":
        return (sorted((str(k), str(v)) for k, v in op.env), sorted(p.literal for p in op.env_from))
    if part == "expose":
        return ([(e.port, e.health_checks, e.count) for e in op.expose], [p.literal for p in op.expose_from])
    if part == "resources":
        return [(r.kind, r.target, r.spec) for r in op.resources]
    found = {
        "image": op.image,
        "work_dir": op.work_dir,
        "gpu": op.gpu,
        "volumes": op.mounts,
        "aliases": tuple(dict.fromkeys(op.aliases)),
        "restart_policy": op.restart,
    }
    return found.get(part) if key.startswith("args.") else None


def _held_words(words: tuple | None) -> Any:
    """Each word, and whether a result splices into it in pieces (a file reads a result standing for text or for
    items back alike)."""
    if words is None:
        return None
    return tuple(
        (str(w), isinstance(w, Template) and bool(w.whole) and w.whole.splice.endswith("_chunked")) for w in words
    )
