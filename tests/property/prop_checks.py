"""Every property as a plain function of one JSON example: hypothesis drives them (test_*.py), and
test_regressions.py replays the examples kept in regressions/ through the same functions (CHECKS)."""

from __future__ import annotations

import json
import re
import shutil
import traceback
from pathlib import Path
from typing import Any

import yaml
from helpers import run_cli as run_in_process
from prop_mutations import build
from prop_splices import check_fill, check_splices
from prop_support import (
    CANARY_MARK,
    LONG,
    answered_cleanly,
    compose_both,
    compose_works,
    in_parallel,
    read_back,
    run_cli,
    runtime_fill,
    temp_dir,
)
from prop_values import check_json_value

from nos2compose.compose.node_defaults import ENVIRONMENT as NODE_ENVIRONMENT
from nos2compose.compose.render import render
from nos2compose.compose.yaml_text import dump
from nos2compose.load.node_values import js_json, js_truthy

OP_LABEL, GROUP_LABEL, PROBE_FOR = "io.nosana.op", "io.nosana.group", "io.nosana.probe-for"
VARIABLE = re.compile(r"%%global\.variables\.([^%\s]+)%%")
# what a `#` line must never hold raw (go-yaml: "control characters are not allowed"; line breaks end it)
NOT_IN_COMMENT = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\ufeff]")


# -- the job, as Compose must read it back -------------------------------------------------------


def _resolve(text: str, variables: dict[str, str]) -> str:
    """%%global.variables.X%% replaced by X's value (values never start with [ or {: no JSON rule applies)."""
    return VARIABLE.sub(lambda m: variables[m.group(1)], text)


def _command(value: Any, shell: bool, variables: dict) -> list[str]:
    if isinstance(value, str):
        value = _resolve(value, variables)
        return ["/bin/sh", "-c", value] if shell else [value]
    return [_resolve(v, variables) for v in value]


def expected_services(job: dict, name: str) -> dict[str, dict]:
    """op id -> what its service must hold, worked out from the job alone (the node's rules)."""
    g = job.get("global", {})
    variables = g.get("variables", {})
    out = {}
    for op in job["ops"]:
        args = op["args"]

        def r(value, variables=variables):
            return _resolve(value, variables)

        want: dict[str, Any] = {"group": op.get("execution", {}).get("group", op["id"])}
        want["image"] = r(args["image"]) if "image" in args else g["image"]
        if "entrypoint" in args:
            want["entrypoint"] = _command(args["entrypoint"], False, variables)
        elif "entrypoint" in g:
            want["entrypoint"] = _command(g["entrypoint"], False, {})
        if "cmd" in args:
            want["command"] = _command(args["cmd"], True, variables)
        work_dir = r(args["work_dir"]) if "work_dir" in args else g.get("work_dir")
        if work_dir:  # Compose drops an empty working_dir: the same as none
            want["working_dir"] = work_dir
        # the node's (Podman's) own environment first; the job's wins, as on a node
        own = {**g.get("env", {}), **{k: r(v) for k, v in args.get("env", {}).items()}}
        want["environment"] = {**NODE_ENVIRONMENT, **own}
        want["environment"]["NOSANA_ID"] = name
        if "aliases" in args:  # nos2compose's documented reading: split at commas, trimmed, no empties
            raw = args["aliases"]
            items = r(raw).split(",") if isinstance(raw, str) else [r(a) for a in raw]
            want["aliases"] = list(dict.fromkeys(a.strip() for a in items if a.strip()))
        expose = args.get("expose")
        items = expose if isinstance(expose, list) else [] if expose is None else [expose]
        checks = []
        for item in items:
            if not isinstance(item, dict):
                continue
            for check in item.get("health_checks", ()):
                checks.append((item["port"], check))
        want["checks"] = checks
        want["results"] = {k: (v if isinstance(v, str) else v["regex"]) for k, v in (op.get("results") or {}).items()}
        out[op["id"]] = want
    return out


def probe_items(host: str, port: int, check: dict, variables: dict) -> list[str]:
    """The probe arguments that carry a check's fields (scripts/probe.sh's documented options)."""
    r = lambda v: _resolve(v, variables)  # noqa: E731
    if check["type"] == "websocket":
        return [f"--url=ws://{host}:{port}/", f"--expect-text={r(check['expected_response'])}"]
    items = [
        f"--method={check['method']}",
        f"--url=http://{host}:{port}{r(check['path'])}",
        f"--expect-status={check['expected_status']}",
    ]
    items += [f"--header={k}: {r(v)}" for k, v in check.get("headers", {}).items()]
    if check["method"] in ("POST", "PUT") and "body" in check:
        body = r(check["body"]) if isinstance(check["body"], str) else check["body"]
        if js_truthy(body):
            items.append("--body=" + (body if isinstance(body, str) else js_json(body)))  # the node sends a truthy one
    return items


def _is_subsequence(wanted: list[str], items: list[str]) -> bool:
    it = iter(items)
    return all(any(w == x for x in it) for w in wanted)


def compare_service(op_id: str, want: dict, services: dict, variables: dict, probe: str) -> list[str]:
    """What differs between an op's service in Compose's reading and the job; [] when nothing does."""
    found = [(n, s) for n, s in services.items() if (s.get("labels") or {}).get(OP_LABEL) == op_id]
    if len(found) != 1:
        return [f"op {op_id!r}: {len(found)} services carry its label"]
    service_name, svc = found[0]
    problems = []

    def same(what, got, expected):
        if got != expected:
            problems.append(f"op {op_id!r} {what}: job says {expected!r}, Compose reads {got!r}")

    same("image", svc.get("image"), want["image"])
    same("entrypoint", svc.get("entrypoint"), want.get("entrypoint"))
    same("command", svc.get("command"), want.get("command"))
    same("working_dir", svc.get("working_dir"), want.get("working_dir"))
    same("environment", svc.get("environment") or {}, want["environment"])
    same("group label", svc["labels"].get(GROUP_LABEL), want["group"])
    if "aliases" in want:
        networks = svc.get("networks") or {}
        default = networks.get("default") if isinstance(networks, dict) else None
        aliases = default.get("aliases", []) if isinstance(default, dict) else []  # `default: null`: none
        same("aliases", aliases, want["aliases"])
    results = (svc.get("x-nos2compose") or {}).get("results") or {}
    same("results", {k: v["regex"] for k, v in results.items()}, want["results"])
    if want["checks"]:
        holder = svc  # the probe in the op's own container asks it by name, at its network address (--self)
        if probe == "sidecar":
            sidecars = [s for s in services.values() if (s.get("labels") or {}).get(PROBE_FOR) == op_id]
            holder = sidecars[0] if len(sidecars) == 1 else {}
        test = (holder.get("healthcheck") or {}).get("test") or []
        wanted = [item for port, check in want["checks"] for item in probe_items(service_name, port, check, variables)]
        if probe != "sidecar":
            wanted.insert(0, f"--self={service_name}")
        if test[:2] != ["CMD", "sh"] or not _is_subsequence(wanted, test):
            problems.append(f"op {op_id!r} healthcheck: wanted {wanted!r} in order, Compose reads {test!r}")
    return problems


def check_file(path: Path, text: str) -> tuple[dict, list[str]]:
    """Compose's reading of one generated file (YAML and JSON renderings both accepted, no canary in either)."""
    problems = []
    header = text[: text.index("\nname:") + 1] if "\nname:" in text else ""
    for line in header.splitlines():
        if not line.startswith("#") or NOT_IN_COMMENT.search(line):
            problems.append(f"{path.name}: header line {line!r} is not a safe comment")
    as_yaml, as_json = compose_both(path, runtime_fill(text))
    for proc, fmt in ((as_yaml, "yaml"), (as_json, "json")):
        if proc.returncode != 0:
            problems.append(f"{path.name}: docker compose config ({fmt}) refuses it: {proc.stderr.strip()[:500]}")
        elif CANARY_MARK in proc.stdout:
            leaked = sorted(set(re.findall(CANARY_MARK + r"[\w/-]*", proc.stdout)))
            problems.append(f"{path.name}: the environment reached Compose's output ({fmt}): {leaked}")
    return (read_back(as_yaml.stdout) if as_yaml.returncode == 0 else {}), problems


def _convert(args: list[str], cwd: Path):
    result = run_in_process("convert", *args, cwd=cwd)
    crash = None
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        crash = "".join(traceback.format_exception(*result.exc_info))
    return result, crash


def _raw_unicode_ok(job: dict, ascii_only: bool) -> bool:
    """PyYAML's emitter writes U+0085 raw with allow_unicode=True, and YAML 1.1 readers (its own too) take a
    raw U+0085 for a line break, folded to a space: such a file would not hold the job. Escape it then."""
    return not ascii_only and "\x85" not in json.dumps(job, ensure_ascii=False)


def check_roundtrip(example: dict) -> None:
    """convert takes a valid job; Compose accepts every file; every value comes back exactly; no canary leaks."""
    job, project, probe, work = example["job"], example["name"], example["probe"], temp_dir()
    try:
        name = f"job.{example['format']}"
        text = (
            json.dumps(job, ensure_ascii=example["ascii"], indent=1)
            if example["format"] == "json"
            else yaml.safe_dump(job, allow_unicode=_raw_unicode_ok(job, example["ascii"]), sort_keys=False)
        )
        (work / name).write_text(text, encoding="utf-8")
        options = ["--name", project, "--health-probe", probe]
        single, crash = _convert([name, *options], work)
        assert crash is None, crash
        if example["invalid"]:
            assert single.exit_code == 2, f"an invalid job converted (exit {single.exit_code}): {single.stderr}"
            for where in example["invalid"]:
                located = re.compile(rf"^error: {re.escape(name)}:\d+:\d+: {re.escape(where)}", re.M)
                assert located.search(single.stderr), f"no located error at {where}: {single.stderr}"
            return
        assert single.exit_code == 0, f"a valid job was refused (exit {single.exit_code}): {single.stderr}"

        wants = expected_services(job, project)
        variables = job.get("global", {}).get("variables", {})
        run_groups = list(dict.fromkeys(w["group"] for w in wants.values()))
        problems: list[str] = []

        (work / "compose.yaml").write_text(single.stdout, encoding="utf-8")
        doc, found = check_file(work / "compose.yaml", single.stdout)
        problems += found
        if doc:
            services = doc.get("services") or {}
            for op_id, want in wants.items():
                problems += compare_service(op_id, want, services, variables, probe)
            groups = (doc.get("x-nos2compose") or {}).get("groups")
            if groups != run_groups:
                problems.append(f"x-nos2compose.groups: job says {run_groups!r}, Compose reads {groups!r}")

        split, crash = _convert([name, *options, "-o", "out"], work)
        assert crash is None, crash
        assert split.exit_code == 0, f"convert -o refused what convert took: {split.stderr}"
        files = sorted((work / "out").glob("*.yaml"))
        if len(files) != len(run_groups):
            problems.append(f"{len(files)} group files for {len(run_groups)} groups: {[f.name for f in files]}")
        seen: set[str] = set()

        def one(f: Path):
            return f, check_file(f, f.read_text(encoding="utf-8"))

        for f, (doc, found) in in_parallel(one, files):
            problems += found
            if not doc:
                continue
            services = doc.get("services") or {}
            group = (doc.get("x-nos2compose") or {}).get("group")
            for op_id in [(s.get("labels") or {}).get(OP_LABEL) for s in services.values()]:
                if op_id in wants:
                    seen.add(op_id)
                    problems += compare_service(op_id, wants[op_id], services, variables, probe)
                    if wants[op_id]["group"] != group:
                        problems.append(f"{f.name}: op {op_id!r} of group {wants[op_id]['group']!r} in {group!r}")
        if seen != set(wants):
            problems.append(f"ops missing from the group files: {sorted(set(wants) - seen)!r}")
        assert not problems, "\n".join(problems)
    finally:
        shutil.rmtree(work, ignore_errors=True)


# -- the YAML writer and the escaping, alone ----------------------------------------------------------


def _as_strings(value: Any) -> Any:
    """What a document means once every scalar is read as a string (Compose's output read by BaseLoader)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return [_as_strings(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_strings(v) for k, v in value.items()}
    return value


def check_writer(example: dict) -> None:
    """dump() writes YAML that PyYAML and Compose read back exactly; render() keeps Compose from touching `$`."""
    doc, header = example["doc"], example["header"]
    text = dump({"x-doc": doc}, header)
    assert yaml.safe_load(text) == {"x-doc": doc}, text[:2000]
    for line in text.splitlines():
        if line.startswith("#"):
            assert not NOT_IN_COMMENT.search(line), f"unsafe comment line {line!r}"
        else:
            break
    if not compose_works():
        return
    work = temp_dir()
    try:
        path = work / "compose.yaml"
        path.write_text(dump({"name": "t", "x-doc": render(doc, {}), "services": {"s": {"image": "x"}}}, header))
        as_yaml, as_json = compose_both(path)
        assert as_yaml.returncode == 0, as_yaml.stderr
        assert as_json.returncode == 0, as_json.stderr
        assert CANARY_MARK not in as_yaml.stdout + as_json.stdout, "the environment reached Compose's output"
        assert read_back(as_yaml.stdout)["x-doc"] == _as_strings(doc)
    finally:
        shutil.rmtree(work, ignore_errors=True)


# -- hostile files through the real CLI ------------------------------------------------------------------


COMPOSE_CHECK_BYTES = 512 * 1024


def check_mutation(case: dict) -> None:
    """validate and convert answer a damaged job as every input must be answered (see answered_cleanly), and
    Compose accepts whatever convert writes."""
    name, data = build(case)
    work = temp_dir()
    try:
        (work / name).write_bytes(data)
        runs = in_parallel(lambda cmd: run_cli(cmd, name, cwd=work), ["validate", "convert"])
        problems = [p for p in (answered_cleanly(r, name) for r in runs) if p]
        validate, convert = runs
        if validate.status == 2 and convert.status == 0:
            problems.append(f"validate refused what convert took: {validate!r}")
        # Compose itself needs seconds per MB of `$$` (a 1 MB string of `$`: ~5 s): big outputs in the long run only
        if convert.status == 0 and compose_works() and (LONG or len(convert.stdout) <= COMPOSE_CHECK_BYTES):
            (work / "compose.yaml").write_bytes(convert.stdout)
            text = convert.stdout.decode("utf-8")
            _, found = check_file(work / "compose.yaml", text)
            problems += found
        assert not problems, "\n".join(problems)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def check_compile(example: dict) -> None:
    """compile_job never raises for bad input (README: library use), nor do the emitters for a job it took."""
    from nos2compose.compiler import Options, compile_job
    from nos2compose.compose.layout import PlanOptions

    result = compile_job(example["job"], Options(name="job", plan=PlanOptions(health_probe=example["probe"])))
    if result.ok:
        result.single_file()
        result.group_files()
    else:
        assert result.diagnostics.errors or result.job is None, "not ok, yet no error says why"


CHECKS = {  # property name -> (check, markers its replay needs)
    "roundtrip": (check_roundtrip, ("compose",)),
    "writer": (check_writer, ()),
    "mutation": (check_mutation, ()),
    "compile": (check_compile, ()),
    "json_value": (check_json_value, ()),
    "splices": (check_splices, ()),
    "fill": (check_fill, ()),
}
