"""Property: any valid job, converted and imported back, is the very job, and passes `validate --strict`.

Random jobs (hypothesis): ops with cmd (text, or a list, `/bin/sh -c` too), entrypoint, env, expose with
http and websocket checks, results, groups (named after the op, too), depends_on in the same group,
volumes, aliases (a list or text), restart policies, meta, global fallbacks, literals (global
variables, op hosts, results of earlier groups), and text YAML would misread -> `convert` (the
single file and the group files) -> `import`:
- a job `validate --strict` accepts comes back as the same JSON value;
- of one it refuses (health checks without `continuous`, an op without its own image), every key it
  does not refuse comes back as the same JSON value, the refused ones in the form import reads from the
  file (equal under roundtrip.normal_form: the node reads both alike), and the job import writes passes.

Profiles: "ci" (the default: a fixed seed, 6 examples, a few seconds) and "long"
(NOS2COMPOSE_HYPOTHESIS_PROFILE=long: 300 examples, seeds vary). tests/property registers
the same two names; whichever registers first is used, with this module's example counts.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from helpers import compose_config_errors
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from import_helpers import need_compose, network_verdicts, run_import, strict_errors
from roundtrip import difference, normal_form, without_losses

from nos2compose.compiler import Options, compile_job
from nos2compose.written import same

pytestmark = [pytest.mark.property, pytest.mark.compose]

_SLOW_IS_FINE = [HealthCheck.too_slow, HealthCheck.data_too_large]
_PROFILES = {
    "ci": {"derandomize": True, "database": None},  # a fixed seed: the same examples on every run
    "long": {"derandomize": False, "database": None},
}
EXAMPLES = {"ci": 6, "long": 300}  # ci: a few seconds
for _name, _options in _PROFILES.items():
    try:  # tests/property's conftest registers the same two profiles: keep its, when it ran first
        settings.get_profile(_name)
    except Exception:
        settings.register_profile(_name, deadline=None, suppress_health_check=_SLOW_IS_FINE, **_options)
PROFILE = os.environ.get("NOS2COMPOSE_HYPOTHESIS_PROFILE", "ci")
if PROFILE not in _PROFILES:
    raise pytest.UsageError(f"NOS2COMPOSE_HYPOTHESIS_PROFILE={PROFILE!r}: use ci (the default) or long")
NAME = "prop"

# job text: dollars, braces, quotes and backslashes (the file escapes them), never a `%` (no accidental literal),
# and text YAML would read as something else (numbers, booleans, null)
TEXT = st.one_of(
    st.text(alphabet=list("ab xyz$'\"{}\\-_/:.,#=é"), max_size=10),
    st.sampled_from(["1.0", "-_5", "0x1F", "yes", "null", "~", "", "[]", "{}", "1e3", "-_.5"]),
)
WORD = st.text(alphabet=list("abcxyz0123456789-_."), min_size=1, max_size=6)
ENV_NAME = st.from_regex(r"[A-Z_][A-Z0-9_]{0,5}", fullmatch=True).filter(lambda n: not n.startswith("N2C_"))
IMAGES = st.sampled_from(["busybox:1.36", "ghcr.io/example/app:1.0", "python:3.12-alpine"])


def _literal(op: str, key: str) -> str:
    return f"%%ops.{op}.results.{key}%%"


@st.composite
def http_check(draw) -> dict:
    method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE"]))
    check: dict = {
        "type": "http",
        "path": "/" + draw(st.text(alphabet=list("abc019/?=&._-"), max_size=8)),
        "method": method,
        "expected_status": draw(st.integers(100, 599)),
    }
    if draw(st.booleans()):
        check["headers"] = draw(
            st.dictionaries(st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,6}", fullmatch=True), TEXT, max_size=2)
        )
    if draw(st.booleans()):
        check["body"] = draw(st.one_of(TEXT, st.dictionaries(WORD, st.integers(0, 9), max_size=2)))
    if draw(st.integers(0, 4)):  # mostly given; missing reads as false
        check["continuous"] = draw(st.booleans())
    return check


@st.composite
def websocket_check(draw) -> dict:
    return {"type": "websocket", "expected_response": draw(TEXT), "continuous": draw(st.booleans())}


@st.composite
def expose(draw, earlier: list[tuple[str, str]]):
    ports = draw(st.lists(st.integers(1, 65535), min_size=1, max_size=3, unique=True))
    items: list = []
    for port in ports:
        if draw(st.booleans()):
            checks = draw(st.lists(st.one_of(http_check(), websocket_check()), min_size=1, max_size=2))
            items.append({"port": port, "health_checks": checks})
        else:
            items.append(port)
    if earlier and draw(st.integers(0, 3)) == 0:
        op, key = draw(st.sampled_from(earlier))
        items.append(draw(st.sampled_from([{"__spread__": _literal(op, key)}, _literal(op, key)])))
    if len(items) == 1 and isinstance(items[0], int) and draw(st.booleans()):
        return items[0]  # a bare number
    return items


@st.composite
def text_with_literals(draw, literals: list[str]) -> str:
    """Job text, sometimes with a literal inside it (or as the whole of it)."""
    if not literals or draw(st.integers(0, 2)):
        return draw(TEXT)
    literal = draw(st.sampled_from(literals))
    if draw(st.booleans()):
        return literal
    return draw(TEXT) + literal + draw(TEXT)


@st.composite
def jobs(draw) -> dict:
    n_groups = draw(st.integers(1, 3))
    sizes = [draw(st.integers(1, 3)) for _ in range(n_groups)]
    ids = draw(
        st.lists(
            st.from_regex(r"[a-z]{1,4}[0-9]?", fullmatch=True), min_size=sum(sizes), max_size=sum(sizes), unique=True
        )
    )
    g: dict = {}
    variables = {}
    if draw(st.booleans()):
        variables = draw(st.dictionaries(st.from_regex(r"[A-Z]{1,4}", fullmatch=True), WORD, min_size=1, max_size=2))
        g["variables"] = variables
    if draw(st.integers(0, 3)) == 0:
        g["image"] = draw(IMAGES)
    if draw(st.integers(0, 3)) == 0:
        g["env"] = draw(st.dictionaries(ENV_NAME, TEXT, max_size=2))
    if draw(st.integers(0, 3)) == 0:
        g["work_dir"] = "/" + draw(WORD)
    if draw(st.integers(0, 3)) == 0:
        g["gpu"] = draw(st.booleans())
    volumes = draw(st.lists(st.from_regex(r"vol[a-z]{1,3}", fullmatch=True), max_size=2, unique=True))
    ops: list[dict] = []
    for v in volumes:
        op = {"type": "container/create-volume", "id": f"make-{v}", "args": {"name": v}}
        if draw(st.booleans()):
            op["execution"] = {"group": "grp-0"}
        ops.append(op)
    earlier: list[tuple[str, str]] = []  # (op, result key) of earlier groups
    at = 0
    for group, size in enumerate(sizes):
        members = ids[at : at + size]
        at += size
        here: list[tuple[str, str]] = []
        for i, op_id in enumerate(members):
            literals = [_literal(o, k) for o, k in earlier] + [f"%%ops.{draw(st.sampled_from(ids))}.host%%"]
            literals += [f"%%global.variables.{v}%%" for v in variables]
            args: dict = {}
            if "image" not in g or draw(st.booleans()):
                args["image"] = draw(IMAGES)
            form = draw(st.integers(0, 3))
            if form == 1:
                args["cmd"] = draw(text_with_literals(literals))
            elif form == 2:
                args["cmd"] = draw(st.lists(text_with_literals(literals), max_size=3))
            elif form == 3:
                args["cmd"] = ["/bin/sh", "-c", draw(text_with_literals(literals))]  # what a string cmd runs
            if draw(st.integers(0, 4)) == 0:
                args["entrypoint"] = draw(st.one_of(TEXT, st.lists(TEXT, min_size=1, max_size=2)))
            if draw(st.booleans()):
                env = draw(st.dictionaries(ENV_NAME, text_with_literals(literals), max_size=3))
                if earlier and draw(st.integers(0, 2)) == 0:
                    o, k = draw(st.sampled_from(earlier))
                    env[draw(st.sampled_from(["__spread__", "__pairs__"]))] = _literal(o, k)
                args["env"] = env
            if draw(st.booleans()):
                args["expose"] = draw(expose(earlier))
            if volumes and draw(st.booleans()):
                chosen = draw(st.lists(st.sampled_from(volumes), min_size=1, unique=True))
                args["volumes"] = [{"name": v, "dest": f"/mnt/{v}"} for v in chosen]
            if draw(st.integers(0, 3)) == 0:
                args["gpu"] = True
            if draw(st.integers(0, 3)) == 0:
                args["work_dir"] = "/" + draw(WORD)
            if draw(st.integers(0, 4)) == 0:
                aliases = draw(st.lists(WORD, min_size=1, max_size=2, unique=True))
                args["aliases"] = ", ".join(aliases) if draw(st.booleans()) else aliases
            if draw(st.integers(0, 4)) == 0:
                args["restart_policy"] = draw(
                    st.sampled_from(
                        ["no", "always", "unless-stopped", "on-failure", {"policy": "on-failure", "restart_tries": 3}]
                    )
                )
            op: dict = {"type": "container/run", "id": op_id, "args": args}
            if draw(st.booleans()):
                keys = draw(st.lists(st.from_regex(r"[a-z]{1,4}", fullmatch=True), min_size=1, max_size=2, unique=True))
                op["results"] = {
                    k: draw(st.one_of(TEXT, st.fixed_dictionaries({"regex": TEXT, "logType": st.just(["stdout"])})))
                    for k in keys
                }
                here += [(op_id, k) for k in keys]
            execution: dict = {}
            if size > 1 or draw(st.booleans()):
                execution["group"] = f"grp-{group}"
            elif draw(st.integers(0, 3)) == 0:
                execution["group"] = op_id  # a group of its own, said
            deps = draw(st.lists(st.sampled_from(members[:i]), unique=True)) if i else []
            if deps and "group" in execution:
                execution["depends_on"] = deps
                if draw(st.booleans()):
                    execution["stop_if_dependent_stops"] = True
            if execution:
                op["execution"] = execution
            ops.append(op)
        earlier += here
    job: dict = {"version": "0.1", "type": "container", "ops": ops}
    if draw(st.booleans()):
        job["meta"] = {"trigger": draw(WORD)}
        if draw(st.booleans()):
            job["meta"]["system_requirements"] = {"vram_total_mb": draw(st.sampled_from([8192, 1024.0, 0.5]))}
    if g:
        job["global"] = g
    return job


def _files(job: dict, tmp: Path) -> dict[str, list[str]]:
    """Convert (the library, as the CLI does): the single file, and the group files."""
    result = compile_job(job, Options(name=NAME, source="prop.json"))
    assert result.ok, [d.describe() for d in result.diagnostics.errors]
    single = tmp / "compose.yaml"
    single.write_text(result.single_file(), encoding="utf-8")
    groups = tmp / "groups"
    groups.mkdir()
    names = []
    for name, text in result.group_files():
        (groups / name).write_text(text, encoding="utf-8")
        names.append(str(groups / name))
    return {"single": [str(single)], "groups": names}


def _import(files: list[str], tmp: Path) -> dict:
    args = [a for f in files for a in ("-f", f)]
    result = run_import(*args, cwd=tmp)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _refused(job: dict) -> set[tuple]:
    """What `validate --strict` refuses of the job: (op id, "args.KEY" or an op key) and (top-level key,)."""
    result = compile_job(job, Options(name=NAME, strict=True, to_run=False))
    out: set[tuple] = set()
    for d in result.diagnostics.errors:
        path = d.path
        if len(path) >= 3 and path[0] == "ops":
            op_id = job["ops"][path[1]]["id"]
            out.add((op_id, f"args.{path[3]}" if len(path) >= 4 and path[2] == "args" else "args.image"))
        else:
            out.add((path[0],))
    return out


def _outside(job: dict, refused: set[tuple]) -> dict:
    """The job without what `validate --strict` refuses of it."""
    job = json.loads(json.dumps(job))
    for key in [k for k, *rest in refused if not rest]:
        job.pop(key, None)
    for op in job["ops"]:
        for op_id, *rest in refused:
            if rest and op_id == op["id"]:
                op.get("args", {}).pop(rest[0].removeprefix("args."), None)
    return job


SEEN: list[dict] = []  # imported jobs, for the validator (one Node.js run for all of them)


# found by the long profile: a global env value the node never parses as JSON, in a job the strict validator refuses;
# a /bin/sh -c list whose text looks like JSON; an empty body the node does not send
FOUND = [
    {
        "version": "0.1",
        "type": "container",
        "ops": [{"type": "container/run", "id": "a", "args": {"entrypoint": "x"}, "execution": {"group": "a"}}],
        "global": {"image": "busybox:1.36", "env": {"A": "[]"}, "work_dir": "/0", "gpu": False},
    },
    {  # a cmd list of /bin/sh -c and text that looks like JSON: the node parses it as an item, not as a string
        "version": "0.1",
        "type": "container",
        "ops": [
            {"type": "container/run", "id": "pd", "args": {"image": "busybox:1.36", "cmd": ["/bin/sh", "-c", "{}"]}}
        ],
    },
    {  # a check the strict validator refuses (no continuous) with an empty body, which the node does not send
        "version": "0.1",
        "type": "container",
        "ops": [
            {
                "type": "container/run",
                "id": "a",
                "args": {
                    "image": "busybox:1.36",
                    "expose": [
                        {
                            "port": 80,
                            "health_checks": [
                                {"type": "http", "path": "/", "method": "POST", "expected_status": 200, "body": ""}
                            ],
                        }
                    ],
                },
            }
        ],
    },
]


@settings(settings.get_profile(PROFILE), max_examples=EXAMPLES[PROFILE])
@given(jobs())
@example(job=FOUND[0])
@example(job=FOUND[1])
@example(job=FOUND[2])
def test_convert_then_import_is_the_very_job(job):
    need_compose()
    refused = _refused(job)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        files = _files(job, tmp)
        for form, paths in files.items():
            imported = _import(paths, tmp)
            assert strict_errors(imported) == [], (form, json.dumps(job))
            if not refused:
                assert difference(job, imported) == [], (form, json.dumps(job))
                assert same(imported, job)
            else:
                assert difference(_outside(job, refused), _outside(imported, refused)) == [], (form, json.dumps(job))
                want, got = (without_losses(normal_form(j, NAME)) for j in (job, imported))
                assert difference(want, got) == [], (form, json.dumps(job))
            SEEN.append(imported)


def test_every_imported_property_job_passes_nosanas_strict_validator_and_converts_again(compose, tmp_path):
    if not SEEN:
        pytest.skip("the property test did not run first")
    verdicts = network_verdicts(SEEN)
    assert [(job, v["errors"]) for job, v in zip(SEEN, verdicts, strict=True) if not v["success"]] == []
    files = []
    for n, job in enumerate(SEEN[::2]):  # the two forms give the same job
        result = compile_job(job, Options(name=NAME, source="prop.json"))
        assert result.ok, [d.describe() for d in result.diagnostics.errors]
        for name, text in result.group_files():
            (tmp_path / f"{n}-{name}").write_text(text, encoding="utf-8")
            files.append(tmp_path / f"{n}-{name}")
    assert compose_config_errors(compose, files) == ""
