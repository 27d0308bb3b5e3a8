"""`convert` then `import`: the normal forms under which the job comes back the same, and what it loses.

`normal_form(job, name)` writes a job the way the Nosana network treats it as equal
(docs/import.md, "Round trip", lists each form and why). `without_losses(job)` also
drops what a Compose file cannot hold, so that the round trip is the identity on
everything else; `losses(job)` names what a job had of those.
"""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path
from typing import Any

from helpers import run_cli
from import_helpers import pinned_env, run_import

from nos2compose.compose.layout import service_names
from nos2compose.load.node_values import js_json, js_truthy

# the node's literal patterns (load/literals.py): ops|global.KEY.PATH and global(s).KEY
LITERAL = re.compile(r"%%((?:ops|global)\.[^.%\s]+\.[A-Za-z0-9._-]+|globals?\.[^.%\s]+)%%")
RESULT = re.compile(r"%%ops\.[^.%\s]+\.results\.[A-Za-z0-9_-]+%%")
SPREAD, PAIRS, REMOVE_IF_EMPTY = "__spread__", "__pairs__", "__remove-if-empty__"
NODE_ENV = "NOSANA_ID"
RUN, VOLUME = "container/run", "container/create-volume"


# -- convert, then import ---------------------------------------------------------------------------


def convert(job_file: Path, tmp: Path, *convert_args: str) -> dict[str, list[str]]:
    """`nos2compose convert` in both forms: {"single": [the file], "groups": [the -o directory]}."""
    single = run_cli("convert", str(job_file), *convert_args)
    assert single.exit_code == 0, single.stderr
    target = tmp / f"{job_file.stem}.yaml"
    target.write_text(single.stdout, encoding="utf-8")
    directory = tmp / job_file.stem
    groups = run_cli("convert", str(job_file), "-o", str(directory), *convert_args)
    assert groups.exit_code == 0, groups.stderr
    return {"single": [str(target)], "groups": [str(directory)]}


def import_files(files: list[str]) -> tuple[dict, list[str]]:
    """`nos2compose import FILE...` as a library call (thread-safe: no chdir): (job, warning lines)."""
    from nos2compose.engine.compose_config import ComposeConfig
    from nos2compose.importer import job_from_project, load_project
    from nos2compose.importer.project_files import expand_directories as _expand_directories

    env = {k: v for k, v in pinned_env().items() if v is not None} | {"PATH": os.environ["PATH"]}
    project = load_project(_expand_directories(files), None, [], [], ComposeConfig(env))
    job, diags = job_from_project(project)
    assert job is not None, [d.describe() for d in diags.items]
    return job, [d.describe() for d in diags.items]


def convert_then_import(job_file: Path, tmp: Path, form: str, *convert_args: str) -> tuple[dict, str, str]:
    """(imported job, convert's stderr, import's stderr) for `single` (one file) or `groups` (`-o DIR`),
    through the command line."""
    files = convert(job_file, tmp, *convert_args)
    imported = run_import(*files[form], cwd=tmp)
    assert imported.exit_code == 0, imported.stderr
    return json.loads(imported.stdout), "", imported.stderr


# -- normal forms --------------------------------------------------------------------------------------


def normal_form(job: dict, name: str) -> dict:
    """The job as the network treats it as equal; `name` is the local job id convert used (%%global.job%%)."""
    job = copy.deepcopy(job)
    g = job.get("global") or {}
    raw_ops = [op for op in job.get("ops") or [] if isinstance(op, dict)]
    names = service_names(op["id"] for op in raw_ops)
    resolve = _Literals(job, name, names)
    run_ops, volume_ops = [], []
    for op in raw_ops:
        if op.get("type") == VOLUME:
            group = (op.get("execution") or {}).get("group", op["id"])
            volume_ops.append(
                {"type": VOLUME, "id": op["id"], "args": {"name": op["args"]["name"]}, "execution": {"group": group}}
            )
            continue
        args = resolve.args(op.get("args") or {})
        run_ops.append(_run_op(op, args, g, names))
    volume_ids = {op["id"] for op in volume_ops}
    for op in run_ops:
        ex = op["execution"]
        deps = sorted({d for d in ex.get("depends_on", []) if d not in volume_ids})  # a volume exists before
        ex.pop("depends_on", None)  # any container starts; the order of depends_on says nothing
        if deps:
            ex["depends_on"] = deps
    run_groups = list(dict.fromkeys(op["execution"]["group"] for op in run_ops))
    # groups that only create volumes run first, in any order: creating a volume earlier changes nothing an op sees
    volume_groups = sorted({op["execution"]["group"] for op in volume_ops} - set(run_groups))
    out_ops = []
    for group in volume_groups + run_groups:  # in order of first appearance; ops of a group start together
        members = [op for op in volume_ops + run_ops if op["execution"]["group"] == group]
        out_ops += sorted(members, key=lambda op: (op["type"] != VOLUME, op["id"]))
    top = {"version": "0.1", "type": "container", "ops": out_ops}
    meta = {k: v for k, v in (job.get("meta") or {}).items() if k != "trigger"}  # who posted it: no one reads it
    if meta:
        top["meta"] = meta
    return top


def _run_op(op: dict, args: dict, g: dict, names: dict[str, str]) -> dict:
    out: dict = {"type": RUN, "id": op["id"]}
    a: dict = {}
    image = args.get("image", g.get("image"))
    if image is not None:
        a["image"] = image
    for key, shell in (("entrypoint", False), ("cmd", True)):
        value = args[key] if key in args else g.get(key) if key == "entrypoint" else None
        if isinstance(value, str):
            value = ["/bin/sh", "-c", value] if shell else [value]
        if value is not None and not (key == "cmd" and value == []):
            a[key] = value
    env = {**(g.get("env") or {}), **(args.get("env") or {})}
    env.pop(NODE_ENV, None)
    spreads = {k: env.pop(k) for k in (SPREAD, PAIRS) if k in env}
    env.update(spreads)  # merged last: they win, as on the node
    if env:
        a["env"] = env
    work_dir = args.get("work_dir", g.get("work_dir"))
    if work_dir is not None:
        a["work_dir"] = work_dir
    if args.get("gpu") or g.get("gpu"):
        a["gpu"] = True
    expose = _expose(args.get("expose"))
    if expose:
        a["expose"] = expose
    if args.get("volumes"):
        a["volumes"] = [{"name": m["name"], "dest": m["dest"]} for m in args["volumes"]]
    aliases = args.get("aliases") or []
    if isinstance(aliases, str):
        aliases = [x.strip() for x in aliases.split(",") if x.strip()]
    a["aliases"] = list(dict.fromkeys([names[op["id"]], *aliases]))  # %%ops.ID.host%% resolves to it
    policy = args.get("restart_policy")
    if isinstance(policy, dict) and not policy.get("restart_tries"):
        policy = policy.get("policy")
    if policy == "always":
        policy = "unless-stopped"  # as the node's Podman provider passes it on (createPodmanRunOptions.ts)
    if policy is not None:
        a["restart_policy"] = policy
    for key in ("private", "authentication"):
        if key in args:
            a[key] = args[key]
    resources = [r for r in args.get("resources") or [] if r != REMOVE_IF_EMPTY]
    if resources:
        a["resources"] = resources
    out["args"] = a
    results = {
        k: (v["regex"] if isinstance(v, dict) and "logType" not in v else v)
        for k, v in (op.get("results") or {}).items()
    }
    if results:
        out["results"] = results
    ex = dict(op.get("execution") or {})
    ex.setdefault("group", op["id"])
    ex.pop("timeout", None)  # in the schema; the node does not use it
    if not ex.get("stop_if_dependent_stops"):
        ex.pop("stop_if_dependent_stops", None)
    out["execution"] = ex
    return out


def _expose(value: Any) -> list:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    plain, spread = [], []
    for item in items:
        if isinstance(item, str) and RESULT.fullmatch(item):
            spread.append({SPREAD: item})  # a result is always an array: a whole item splices like __spread__
        elif isinstance(item, dict) and SPREAD in item:
            spread.append({SPREAD: item[SPREAD], **({"chunked": True} if item.get("chunked") else {})})
        elif isinstance(item, dict):
            port = int(item["port"])
            checks = [_check(c) for c in item.get("health_checks") or []]
            entry = {"port": port, "health_checks": checks} if checks else port
            if "type" in item:
                entry = {"port": port, "type": item["type"], **({"health_checks": checks} if checks else {})}
            plain.append(entry)
        else:
            plain.append(int(item))
    return plain + spread  # convert publishes ports from results after the others


def _check(check: dict) -> dict:
    out = dict(check)
    out["continuous"] = bool(check.get("continuous", False))  # the node reads a missing one as false
    if out.get("type") == "http":
        if not out.get("headers"):
            out.pop("headers", None)
        if "body" in out:
            body = out["body"]
            if out.get("method") not in ("POST", "PUT"):
                out.pop("body")  # the node sends a body with POST and PUT only
            elif not js_truthy(body):
                out.pop("body")  # and only a body JavaScript finds truthy ({} and [] are)
            elif not isinstance(body, str):
                out["body"] = js_json(body)
    return out


class _Literals:
    """The literals convert resolves before anything runs, with the values convert gives them."""

    def __init__(self, job: dict, name: str, names: dict[str, str]):
        from nos2compose.load.literals import LiteralContext
        from nos2compose.load.node_values import js_string

        variables = (job.get("global") or {}).get("variables")
        self.ctx = LiteralContext(name, dict(variables) if isinstance(variables, dict) else None, names)
        exposed = {}
        for op in job.get("ops") or []:
            e = (op.get("args") or {}).get("expose")
            items = e if isinstance(e, list) else [e]
            ports = (i.get("port") if isinstance(i, dict) else i for i in items if i is not None)
            exposed[op["id"]] = set(map(js_string, ports))  # the node's `${port}`: 80.0 is "80"
        if hasattr(self.ctx, "exposed"):
            self.ctx.exposed = exposed

    def value(self, literal: str) -> Any:
        """The value, or None when only the run knows it (results) or nothing does."""
        if ".results." in literal:
            return None
        try:
            value = self.ctx.value(literal)
        except Exception:  # unresolved: the text stays, on the node and in the file
            return None
        from nos2compose.load.node_values import json_if_it_looks_like

        return json_if_it_looks_like(value)

    def text(self, text: str) -> Any:
        whole = LITERAL.fullmatch(text)
        if whole:
            value = self.value(whole.group(1))
            return text if value is None else value

        def one(m: re.Match) -> str:
            value = self.value(m.group(1))
            if value is None:
                return m.group(0)
            if isinstance(value, list):
                return " ".join(str(v) for v in value)
            return value if isinstance(value, str) else json.dumps(value)

        return LITERAL.sub(one, text)

    def walk(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            out: list = []
            for item in value:
                if isinstance(item, dict) and set(item) <= {SPREAD, "chunked"} and SPREAD in item:
                    if not (isinstance(item[SPREAD], str) and RESULT.fullmatch(item[SPREAD])):
                        found = self.text(item[SPREAD])
                        if isinstance(found, list):
                            out.extend(found)
                            continue
                    out.append(item if item.get("chunked") else item[SPREAD])  # a result: a whole item splices
                    continue
                if isinstance(item, str) and LITERAL.fullmatch(item):
                    found = self.text(item)
                    out.extend(found if isinstance(found, list) else [found])
                    continue
                out.append(self.walk(item))
            return out
        if isinstance(value, dict):
            return {k: self.walk(v) for k, v in value.items()}
        return value

    def args(self, args: dict) -> dict:
        out = {}
        for key, value in args.items():
            value = self.walk(value) if key != "expose" or isinstance(value, list) else value
            if key == "expose" and isinstance(value, dict) and SPREAD in value:
                value = [value]
            if isinstance(value, list) and REMOVE_IF_EMPTY in value:  # the node's last step
                value = list(value)
                value.remove(REMOVE_IF_EMPTY)
                if not value:
                    continue
            out[key] = value
        if "expose" in out and isinstance(out["expose"], list):  # in expose, a result stays a spread
            out["expose"] = [{SPREAD: e} if isinstance(e, str) and RESULT.fullmatch(e) else e for e in out["expose"]]
        return out


# -- what a Compose file cannot hold ----------------------------------------------------------------

LOSSES = {
    "meta": "meta other than trigger (system_requirements: the GPU memory the market matches on): a Compose "
    "file holds none; import warns for a GPU job",
    "private": "args.private: convert warns and publishes on 127.0.0.1; the file has no trace of it",
    "authentication": "args.authentication: registry credentials are never written to a file",
    "credentials": "IAM / accessToken of resources: never written; import warns to add them",
    "expose type": "expose[].type (web, api, ...): the node only reports it in its events; convert drops it",
    "logType": "results logType entries other than stdout and stderr: convert keeps those two",
}


def losses(job: dict) -> list[str]:
    """Which of LOSSES the job (in normal form) has."""
    found = []
    if job.get("meta"):
        found.append("meta")
    run_ops = [op for op in job["ops"] if op["type"] == RUN]
    if any("private" in op["args"] for op in run_ops):
        found.append("private")
    if any("authentication" in op["args"] for op in run_ops):
        found.append("authentication")
    if any("IAM" in r or "accessToken" in r for op in run_ops for r in op["args"].get("resources", [])):
        found.append("credentials")
    if any(isinstance(e, dict) and "type" in e for op in run_ops for e in op["args"].get("expose", [])):
        found.append("expose type")
    if any(
        isinstance(r, dict) and set(r.get("logType", ["stdout"])) - {"stdout", "stderr"}
        for op in run_ops
        for r in (op.get("results") or {}).values()
    ):
        found.append("logType")
    return found


def without_losses(job: dict) -> dict:
    """The normal form without what LOSSES lists (applied to both sides of a comparison)."""
    job = copy.deepcopy(job)
    job.pop("meta", None)
    for op in job["ops"]:
        if op["type"] != RUN:
            continue
        a = op["args"]
        a.pop("private", None)
        a.pop("authentication", None)
        for r in a.get("resources", []):
            if isinstance(r, dict):
                r.pop("IAM", None)
                r.pop("accessToken", None)
        a["expose"] = [
            ({k: v for k, v in e.items() if k != "type"} if isinstance(e, dict) else e) for e in a.get("expose", [])
        ]
        a["expose"] = [e["port"] if isinstance(e, dict) and set(e) == {"port"} else e for e in a["expose"]]
        if not a["expose"]:
            a.pop("expose")
        for key, r in list((op.get("results") or {}).items()):
            if isinstance(r, dict) and "logType" in r:
                kept = [t for t in r["logType"] if t in ("stdout", "stderr")]
                op["results"][key] = {**r, "logType": kept} if kept else r["regex"]
    return job


def difference(a: Any, b: Any, path: str = "$") -> list[str]:
    """Where two JSON values differ, one line each (for readable assertion messages)."""
    if type(a) is not type(b):
        return [f"{path}: {json.dumps(a)[:120]} != {json.dumps(b)[:120]}"]
    if isinstance(a, dict):
        out = []
        for k in sorted(set(a) | set(b), key=str):
            if k not in a or k not in b:
                out.append(f"{path}.{k}: only in {'the first' if k in a else 'the second'}")
            else:
                out += difference(a[k], b[k], f"{path}.{k}")
        return out
    if isinstance(a, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items != {len(b)} items: {json.dumps(a)[:160]} != {json.dumps(b)[:160]}"]
        return [line for i, (x, y) in enumerate(zip(a, b, strict=True)) for line in difference(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {json.dumps(a)[:120]} != {json.dumps(b)[:120]}"]
