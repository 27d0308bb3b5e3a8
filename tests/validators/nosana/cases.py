"""Named Nosana job definitions for differential tests against Nosana's own validator.

`cases()` returns `(name, job)` pairs in a fixed order: a few valid bases, then
systematic mutations of the richest base (each key removed / set to null / given a
wrong type, an unknown key added to each object), then targeted cases for each rule
(expose forms, health checks, resources, results, execution, numbers, ids, ...).

Names read `<base>/<path>:<action>`, e.g. `full/ops[1].args.image:del`,
`min/ops[0].args.expose=8000.5`. Feed the jobs to `validate.mjs` (one JSON array on
stdin) and compare its verdicts with the Python loader's `--strict` mode. About 700
cases; the whole batch takes ~0.2 s in one node process. No two cases share an object,
so a loader may mutate what it is given.
Only the standard library is used; every job is JSON-serialisable without NaN/Infinity.
`python3 cases.py` prints the jobs as one JSON array (what validate.mjs reads).
"""

from __future__ import annotations

import copy
import json

_DEL = object()
_UNKNOWN = "x_unknown"


# --------------------------------------------------------------------------- bases


def minimal_job() -> dict:
    return {
        "version": "0.1",
        "type": "container",
        "ops": [
            {"type": "container/run", "id": "app", "args": {"image": "alpine:3"}},
        ],
    }


def seed_job() -> dict:
    """The seed docs' "vLLM + Open-WebUI (Multi-Operations)" job, verbatim."""
    return {
        "version": "0.1",
        "type": "container",
        "meta": {"trigger": "dashboard", "system_requirements": {"required_vram": 6}},
        "ops": [
            {
                "type": "container/run",
                "id": "vllm-server",
                "args": {
                    "image": "vllm/vllm-openai:latest",
                    "cmd": [
                        "--model",
                        "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B",
                        "--served-model-name",
                        "R1-Qwen-1.5B",
                        "--port",
                        "9000",
                    ],
                    "gpu": True,
                    "expose": [
                        {
                            "port": 9000,
                            "health_checks": [
                                {
                                    "type": "http",
                                    "path": "/v1/models",
                                    "method": "GET",
                                    "expected_status": 200,
                                    "continuous": True,
                                }
                            ],
                        }
                    ],
                },
                "execution": {"group": "inference"},
            },
            {
                "type": "container/run",
                "id": "open-webui",
                "args": {
                    "image": "ghcr.io/open-webui/open-webui:main",
                    "env": {"OPENAI_API_BASE_URL": "http://vllm-server:9000/v1"},
                    "expose": [8080],
                },
                "execution": {"group": "inference", "depends_on": ["vllm-server"]},
            },
        ],
    }


def pipeline_job() -> dict:
    """The seed docs' "Multi-Stage Pipeline" job (valid for the validator)."""

    def run(op_id, image, port, group, env=None):
        args = {"image": image}
        if env:
            args["env"] = env
        args["expose"] = [port]
        return {"type": "container/run", "id": op_id, "args": args, "execution": {"group": group}}

    return {
        "version": "0.1",
        "type": "container",
        "ops": [
            run("database", "postgres:15", 5432, "infrastructure", {"POSTGRES_DB": "app"}),
            run("redis", "redis:7", 6379, "infrastructure"),
            run(
                "api-server",
                "myapp/api:latest",
                3000,
                "application",
                {"DATABASE_URL": "postgres://database:5432/app", "REDIS_URL": "redis://redis:6379"},
            ),
            run("web-frontend", "myapp/frontend:latest", 80, "application", {"API_URL": "http://api-server:3000"}),
        ],
    }


def full_job() -> dict:
    """Every field the validator knows, each in a valid form (the job passes).

    ops[0] create-volume; ops[1] the rich service; ops[2] a dependent client;
    ops[3..5] the other expose / restart_policy forms.
    """
    return {
        "version": "0.1",
        "type": "container",
        "deployment_id": "dep-1",
        "logistics": {
            "send": {"type": "api", "args": {"endpoint": "https://example.invalid/send"}},
            "receive": {"type": "api-listen", "args": {}},
        },
        "meta": {
            "trigger": "cli",
            "system_requirements": {"required_vram": 6, "vram_total_mb": 8192, "required_cuda": ["11.8", "12.1"]},
            "system_resources": {"cores": 4, "gpu": "any"},
            "tags": ["llm", 1],
            "note": "free-form",
        },
        "global": {
            "image": "ubuntu:22.04",
            "gpu": False,
            "entrypoint": ["/bin/sh", "-c"],
            "env": {"GLOBAL_A": "1"},
            "work_dir": "/work",
            "variables": {"MODEL": "llama3", "PORTS": "[9100, 9101]", "CHUNKS": '["[9102,", "9103]"]', "RES": "[]"},
        },
        "ops": [
            {"type": "container/create-volume", "id": "models", "args": {"name": "models"}},
            {
                "type": "container/run",
                "id": "server",
                "args": {
                    "image": "vllm/vllm-openai:latest",
                    "cmd": ["--model", "%%global.variables.MODEL%%", "__remove-if-empty__"],
                    "entrypoint": "/entry.sh",
                    "env": {"HF_HOME": "/models", "EMPTY": ""},
                    "gpu": True,
                    "work_dir": "/app",
                    "volumes": [{"name": "models", "dest": "/models"}],
                    "aliases": "srv,server-alias",
                    "expose": [
                        8000,
                        {
                            "port": 9000,
                            "type": "api",
                            "health_checks": [
                                {
                                    "type": "http",
                                    "path": "/v1/models",
                                    "method": "GET",
                                    "expected_status": 200,
                                    "headers": {"Authorization": "Bearer x"},
                                    "continuous": True,
                                },
                                {
                                    "type": "http",
                                    "path": "/v1/completions",
                                    "method": "POST",
                                    "expected_status": 401,
                                    "headers": {"Content-Type": "application/json"},
                                    "body": {"prompt": "hi", "max_tokens": 1},
                                    "continuous": False,
                                },
                            ],
                        },
                        {
                            "port": 9001,
                            "type": "websocket",
                            "health_checks": [{"type": "websocket", "expected_response": "pong", "continuous": False}],
                        },
                        "%%ops.models.results.extra_port%%",
                        {"__spread__": "%%global.variables.PORTS%%"},
                    ],
                    "private": False,
                    "restart_policy": "unless-stopped",
                    "resources": [
                        {
                            "type": "S3",
                            "url": "https://bucket.example.invalid/models/x",
                            "target": "/models/s3",
                            "files": ["a.bin"],
                            "allowWrite": False,
                        },
                        {
                            "type": "HF",
                            "repo": "org/model",
                            "target": "/models/hf",
                            "revision": "main",
                            "files": ["config.json"],
                            "accessToken": "hf_x",
                        },
                        {"type": "Ollama", "model": "llama3:8b", "target": "/models/ollama"},
                    ],
                    "authentication": {
                        "docker": {"username": "u", "password": "p", "email": "u@example.invalid", "server": "ghcr.io"}
                    },
                },
                "results": {
                    "port": "(?<=port: ).*",
                    "ready": {"regex": "ready", "logType": ["stdout", "stderr"]},
                },
                "execution": {"group": "serve"},
            },
            {
                "type": "container/run",
                "id": "client",
                "args": {
                    "image": "curlimages/curl:8",
                    "cmd": "curl http://%%ops.server.host%%:9000/v1/models",
                    "aliases": ["client-a", "client-b"],
                    "expose": 8080,
                    "restart_policy": {"policy": "on-failure", "restart_tries": 3},
                },
                "execution": {"group": "serve", "depends_on": ["server"], "stop_if_dependent_stops": True},
            },
            {
                "type": "container/run",
                "id": "single",
                "args": {
                    "image": "nginx:1",
                    "expose": {
                        "port": 7000,
                        "type": "web",
                        "health_checks": [
                            {
                                "type": "http",
                                "path": "/",
                                "method": "PUT",
                                "expected_status": 204,
                                "body": "raw text",
                                "continuous": True,
                            }
                        ],
                    },
                    "restart_policy": "always",
                },
                "execution": {"group": "post"},
            },
            {
                "type": "container/run",
                "id": "literal",
                "args": {"image": "nginx:1", "expose": "%%ops.server.results.port%%", "restart_policy": "no"},
            },
            {
                "type": "container/run",
                "id": "spread",
                "args": {
                    "image": "nginx:1",
                    "expose": {"__spread__": "%%global.variables.CHUNKS%%", "chunked": True},
                    "restart_policy": "on-failure",
                    "resources": ["__remove-if-empty__", {"__spread__": "%%global.variables.RES%%"}],
                },
            },
        ],
    }


# ----------------------------------------------------------------------- helpers


def _fmt(path: tuple) -> str:
    out = ""
    for p in path:
        if isinstance(p, int):
            out += f"[{p}]"
        elif out:
            out += f".{p}"
        else:
            out = str(p)
    return out or "$"


def _edit(job: dict, path: tuple, value) -> dict:
    job = copy.deepcopy(job)
    node = job
    for p in path[:-1]:
        node = node[p]
    if value is _DEL:
        del node[path[-1]]
    else:
        node[path[-1]] = copy.deepcopy(value)  # no object shared between two cases
    return job


def _edits(job: dict, *pairs) -> dict:
    for path, value in pairs:
        job = _edit(job, path, value)
    return job


def _walk(node, path=()):
    yield path, node
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _walk(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(v, path + (i,))


def _wrong_type(value):
    if isinstance(value, bool):
        return "true"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return 123
    if isinstance(value, list):
        return {}
    return []


def _short(value) -> str:
    return json.dumps(value, separators=(",", ":"))


# ------------------------------------------------------------------- systematic


def _skipped(path: tuple, job: dict) -> bool:
    """Keep the systematic walk small: one representative of each repeated shape."""
    text = _fmt(path)
    if any(text.startswith(p) for p in _SKIP_PREFIXES):
        return True
    node = job
    for i, p in enumerate(path):
        parent = path[i - 1] if i else None
        if (
            isinstance(p, int)
            and p > 0
            and not (
                (parent == "ops" and p <= 2)
                or parent == "resources"
                or (parent == "expose" and p <= 1)
                or parent == "health_checks"
            )
        ):
            return True
        if (
            parent in _OPEN_MAPS
            and isinstance(p, str)
            and p != next(iter(node))
            and not (parent == "meta" and p in _META_KNOWN)
        ):
            return True
        node = node[p]
    return False


_META_KNOWN = {"trigger", "system_requirements", "system_resources"}
_OPEN_MAPS = {"env", "variables", "headers", "system_requirements", "system_resources", "meta"}
_SKIP_PREFIXES = (
    "logistics.receive.",
    "ops[1].args.expose[1].health_checks[1].",
    "ops[1].args.resources[0].files[",
    "ops[1].args.resources[1].files[",
    "ops[1].args.authentication.docker.password",
    "ops[1].args.authentication.docker.email",
    "ops[1].args.authentication.docker.server",
)


def _systematic(base_name: str, base: dict) -> list[tuple[str, dict]]:
    """Every kept key: removed, null, a wrong scalar type; an unknown key in every object."""
    out = []
    walked = [(p, n) for p, n in _walk(base) if p and not _skipped(p, base)]
    for path, node in walked:
        name = f"{base_name}/{_fmt(path)}"
        if isinstance(path[-1], str):
            out.append((f"{name}:del", _edit(base, path, _DEL)))
        out.append((f"{name}:null", _edit(base, path, None)))
        if not isinstance(node, (dict, list)):
            out.append((f"{name}:wrongtype={_short(_wrong_type(node))}", _edit(base, path, _wrong_type(node))))
    for path, node in [((), base)] + walked:
        if isinstance(node, dict):
            out.append((f"{base_name}/{_fmt(path + (_UNKNOWN,))}:add", _edit(base, path + (_UNKNOWN,), "x")))
    return out


# --------------------------------------------------------------------- targeted


def _targeted() -> list[tuple[str, dict]]:
    out: list[tuple[str, dict]] = []
    mn = minimal_job()
    op = ("ops", 0)
    args = ("ops", 0, "args")

    def add(name, job):
        out.append((name, job))

    def m(what, *pairs):  # mutation of the minimal job
        add(f"min/{what}", _edits(mn, *pairs))

    def a(key, value, tag=None):  # set one key of the minimal op's args
        m(f"ops[0].args.{key}={tag or _short(value)}", (args + (key,), value))

    # ---- top level
    for v in ["0.2", "0.1.0", "", 0.1, None]:
        m(f"version={_short(v)}", (("version",), v))
    m("version:del", (("version",), _DEL))
    for v in ["container/run", "docker", None]:
        m(f"type={_short(v)}", (("type",), v))
    m("type:del", (("type",), _DEL))
    m("ops=[]", (("ops",), []))
    m("ops={}", (("ops",), {}))
    m("ops:del", (("ops",), _DEL))
    for v in [None, "x", [], 1]:
        m(f"ops[0]={_short(v)}", (op, v))
    m("ssh={}", (("ssh",), {"key": "x"}))
    m("deployment_id=1", (("deployment_id",), 1))
    m("logistics={}", (("logistics",), {}))
    m("logistics.receive:missing", (("logistics",), {"send": {"type": "api", "args": {}}}))
    m(
        "logistics.send.type=post",
        (("logistics",), {"send": {"type": "post", "args": {}}, "receive": {"type": "api", "args": {}}}),
    )
    m(
        "logistics.send.args:missing",
        (("logistics",), {"send": {"type": "api"}, "receive": {"type": "api", "args": {}}}),
    )
    add("input=[]", [])
    add('input="job"', "job")
    add("input=null", None)

    # ---- meta (open keys, restricted value types)
    for what, meta in [
        ("{}", {}),
        ("trigger=1", {"trigger": 1}),
        ("k=true", {"k": True}),
        ("k=null", {"k": None}),
        ("k=1.5", {"k": 1.5}),
        ("k=[]", {"k": []}),
        ('k=[1,"a"]', {"k": [1, "a"]}),
        ("k=[true]", {"k": [True]}),
        ("k=[[1]]", {"k": [[1]]}),
        ("k=[{}]", {"k": [{}]}),
        ("k={a:{b:1}}", {"k": {"a": {"b": 1}}}),
        ("k={a:true}", {"k": {"a": True}}),
        ("k={a:null}", {"k": {"a": None}}),
        ('k={a:[1,"x"]}', {"k": {"a": [1, "x"]}}),
        ("k={a:[[1]]}", {"k": {"a": [[1]]}}),
        ("system_requirements.required_vram=6", {"system_requirements": {"required_vram": 6}}),
        ('system_requirements.required_cuda=["12"]', {"system_requirements": {"required_cuda": ["12"]}}),
        ("system_resources={a:[1]}", {"system_resources": {"a": [1]}}),
        ("system_resources={a:true}", {"system_resources": {"a": True}}),
        ("system_resources=[]", {"system_resources": []}),
    ]:
        m(f"meta={what}", (("meta",), meta))
    m("meta=[]", (("meta",), []))
    m('meta="x"', (("meta",), "x"))

    # ---- global
    m("global={}", (("global",), {}))
    m('global.entrypoint=["a","__remove-if-empty__"]', (("global",), {"entrypoint": ["a", "__remove-if-empty__"]}))
    m("global.entrypoint=[]", (("global",), {"entrypoint": []}))
    m("global.variables.X=1", (("global",), {"variables": {"X": 1}}))
    m("global.env.X=true", (("global",), {"env": {"X": True}}))
    m('global.cmd="x"', (("global",), {"cmd": "x"}))
    m("global.expose=80", (("global",), {"expose": 80}))

    # ---- op and id
    m("ops[0].type=container/exec", (op + ("type",), "container/exec"))
    m("ops[0].type=container/create-volume(run args)", (op + ("type",), "container/create-volume"))
    for v, tag in [
        ("my app", "space"),
        ("my\tapp", "tab"),
        ("", "empty"),
        ("a.b", "dot"),
        ("%%x%%", "percent"),
        (" ", "onlyspace"),
    ]:
        m(f"ops[0].id={tag}", (op + ("id",), v))
    m("ops[0].id=1", (op + ("id",), 1))
    m("ops[0].id:del", (op + ("id",), _DEL))
    add("min/ops:duplicate-ids", _edits(mn, (("ops",), [mn["ops"][0], copy.deepcopy(mn["ops"][0])])))
    add(
        "min/ops:duplicate-ids+bad-arg",
        _edits(mn, (("ops",), [mn["ops"][0], {"type": "container/run", "id": "app", "args": {"image": 1}}])),
    )
    add(
        "min/ops:second-op-id-missing",
        _edits(mn, (("ops",), [mn["ops"][0], {"type": "container/run", "args": {"image": "a"}}])),
    )
    m('ops[0].output="x"', (op + ("output",), "x"))
    m('ops[0].name="x"', (op + ("name",), "x"))

    # ---- args union: run vs create-volume
    m("ops[0].args={}", (args, {}))
    m("ops[0].args=[]", (args, []))
    m("ops[0].args={name}(run op, volume args)", (args, {"name": "v"}))
    m("ops[0].args={name:1}", (args, {"name": 1}))
    m("ops[0].args={image,name}", (args, {"image": "a", "name": "v"}))
    m("ops[0].args={name,dest}", (args, {"name": "v", "dest": "/d"}))
    add(
        "min/create-volume:args={name}",
        _edits(mn, (op, {"type": "container/create-volume", "id": "vol", "args": {"name": "vol"}})),
    )
    add(
        "min/create-volume:args={image,gpu}(run args)",
        _edits(mn, (op, {"type": "container/create-volume", "id": "vol", "args": {"image": "a", "gpu": True}})),
    )
    add(
        "min/create-volume:args={name,size}",
        _edits(mn, (op, {"type": "container/create-volume", "id": "vol", "args": {"name": "vol", "size": "1G"}})),
    )
    add("min/create-volume:args={}", _edits(mn, (op, {"type": "container/create-volume", "id": "vol", "args": {}})))
    add(
        "min/create-volume:+results+execution",
        _edits(
            mn,
            (
                op,
                {
                    "type": "container/create-volume",
                    "id": "vol",
                    "args": {"name": "vol"},
                    "results": {"r": "x"},
                    "execution": {"group": "g"},
                },
            ),
        ),
    )
    add(
        "min/ops[0].args.image:del+global.image",
        _edits(mn, (args + ("image",), _DEL), (("global",), {"image": "alpine:3"})),
    )
    add(
        "min/ops[0].args={cmd}+global.image",
        _edits(mn, (args, {"cmd": ["echo"]}), (("global",), {"image": "alpine:3"})),
    )
    a("image", "", '""')
    a("output", "/out")
    a("required_vram", 6)
    a("ports", [80])
    a("command", "x")

    # ---- simple run args
    for key, vals in [
        ("cmd", ["", [], ["a", "__remove-if-empty__"], [1], [None], {"a": "b"}]),
        ("entrypoint", ["", [], ["__remove-if-empty__"], [1]]),
        ("aliases", ["a,b", "", [], ["a"], [1], 5]),
        ("env", [{}, {"": "x"}, {"A": 1}, {"A": True}, {"A": None}, {"A": ["x"]}, ["A=1"]]),
        ("gpu", ["true", 1, 0]),
        ("private", [True, "yes"]),
        ("work_dir", ["", 1]),
        (
            "volumes",
            [
                [],
                [{"name": "v"}],
                [{"dest": "/d"}],
                [{"name": "v", "dest": "/d", "readonly": True}],
                [{"name": 1, "dest": "/d"}],
                "v:/d",
                ["v:/d"],
            ],
        ),
        (
            "authentication",
            [
                {},
                {"docker": {}},
                {"docker": {"username": "u"}},
                {"docker": {"username": 1}},
                {"docker": {"token": "t"}},
                {"ghcr": {"username": "u"}},
                {"docker": []},
            ],
        ),
    ]:
        for v in vals:
            a(key, v)

    # ---- restart_policy
    for v in [
        "no",
        "always",
        "unless-stopped",
        "on-failure",
        "never",
        "On-Failure",
        "",
        {"policy": "on-failure"},
        {"policy": "on-failure", "restart_tries": 0},
        {"policy": "on-failure", "restart_tries": -1},
        {"policy": "on-failure", "restart_tries": 2.5},
        {"policy": "on-failure", "restart_tries": 10**30},
        {"policy": "on-failure", "restart_tries": "3"},
        {"policy": "always"},
        {"policy": "always", "restart_tries": 3},
        {"restart_tries": 3},
        {},
        {"policy": "on-failure", "max": 1},
        ["on-failure"],
        3,
        False,
    ]:
        a("restart_policy", v)

    # ---- expose: the top-level forms
    for v in [
        8000,
        0,
        -1,
        65535,
        65536,
        8000.5,
        10**30,
        "8000",
        "8000-8010",
        "%%ops.app.results.port%%",
        "%%global.variables.PORT%%",
        "%%globals.variables.PORT%%",
        "%%ops%%",
        "x%%ops.a.b%%",
        "%%opsXa%%",
        "%%ops.a%b%%",
        True,
        [],
        [8000],
        [8000, 9000],
        [8000, 8000],
        [8000, 8000.0],
        [8000, {"port": 8000}],
        [{"port": 8000}, {"port": 8000}],
        ["%%ops.a.results.p%%", "%%ops.a.results.p%%"],
        [{"__spread__": "%%ops.a.results.p%%"}, {"__spread__": "%%ops.a.results.p%%"}],
        [{"__spread__": "%%ops.a.results.p%%"}, 8000],
        ["8000"],
        ["8000-8010"],
        [[8000]],
        [None],
        [True],
        [8000.5],
        [-1],
        [10**30],
        {"port": 8000},
        {"port": "8000"},
        {"port": 8000.5},
        {"port": None},
        {"port": 8000, "type": "web"},
        {"port": 8000, "type": "http"},
        {"port": 8000, "type": "WEB"},
        {"port": 8000, "type": None},
        {"type": "web"},
        {},
        {"port": 8000, "health_checks": []},
        {"port": 8000, "health_checks": {}},
        {"port": 8000, "protocol": "tcp"},
        {"__spread__": "%%ops.a.results.p%%"},
        {"__spread__": "%%ops.a.results.p%%", "chunked": True},
        {"__spread__": "%%ops.a.results.p%%", "chunked": "yes"},
        {"__spread__": "%%ops.a.results.p%%", "extra": 1},
        {"__spread__": "ports"},
        {"__spread__": ""},
        {"__spread__": ["%%ops.a.b%%"]},
        {"__spread__": "%%ops.a.results.p%%", "port": 8000},
    ]:
        a("expose", v)

    # literal-string edge cases (JS regex /^%%(ops|global).[^%]+%%$/: `.` excludes \n \r
    # \u2028 \u2029, `$` is end of input only)
    for v, tag in [
        ("%%ops%x%%", "ops%x"),
        ("%%ops.%%", "ops.(empty)"),
        ("%%ops.a%%", "ops.a"),
        ("%%ops.a.b%%\n", "trailing-newline"),
        ("%%ops\nx.y%%", "newline-after-ops"),
        ("%%ops\rx.y%%", "cr-after-ops"),
        ("%%ops\u2028x.y%%", "u2028-after-ops"),
        ("%%ops.a\nb%%", "newline-inside"),
        ("%%global.job%%", "global.job"),
        ("%%GLOBAL.job%%", "GLOBAL-uppercase"),
        (" %%ops.a.b%%", "leading-space"),
    ]:
        a("expose", v, f"literal:{tag}")
    for v in [
        [{"port": None}],
        [{"port": "8000-8010"}],
        [8005, {"port": 8000}, 8000.5],
        [8000, "%%ops.a.b%%", {"__spread__": "%%ops.a.b%%"}, {"port": 9000}],
        ["__remove-if-empty__"],
        [8000, "__remove-if-empty__"],
        [{"__spread__": ""}],
        [{"port": True}],
        [-0.0],
    ]:
        a("expose", v)
    a("expose", [10**400], "[10**400](JS Infinity)")
    a("expose", 10**400, "10**400(JS Infinity)")
    a("expose", {"port": True})

    # ---- Python bools are ints: the validator does not take booleans for numbers
    a("restart_policy", {"policy": "on-failure", "restart_tries": True})
    a("aliases", ["a", "__remove-if-empty__"])
    m("ops[0].id=nbsp", (op + ("id",), "my\u00a0app"))
    m("ops[0].id=newline", (op + ("id",), "my\napp"))

    # ---- health checks
    http = {"type": "http", "path": "/", "method": "GET", "expected_status": 200, "continuous": True}
    ws = {"type": "websocket", "expected_response": "ok", "continuous": True}

    def hc(what, check):
        add(
            f"min/ops[0].args.expose[0].health_checks[0]:{what}",
            _edits(mn, (args + ("expose",), [{"port": 8000, "health_checks": [check]}])),
        )

    hc("http", http)
    hc("websocket", ws)
    for key in ["type", "path", "method", "expected_status", "continuous"]:
        hc(f"http-{key}", {k: v for k, v in http.items() if k != key})
    for key in ["type", "expected_response", "continuous"]:
        hc(f"ws-{key}", {k: v for k, v in ws.items() if k != key})
    for key, v in [
        ("type", "tcp"),
        ("type", "HTTP"),
        ("type", "https"),
        ("method", "get"),
        ("method", "PATCH"),
        ("method", "HEAD"),
        ("expected_status", "200"),
        ("expected_status", 200.5),
        ("expected_status", -1),
        ("expected_status", 0),
        ("expected_status", 10**30),
        ("continuous", "true"),
        ("continuous", 1),
        ("expected_status", True),
        ("continuous", None),
        ("path", ""),
        ("path", "no-slash"),
        ("path", 1),
        ("headers", {}),
        ("headers", {"X": 1}),
        ("headers", {"X": None}),
        ("headers", [["X", "1"]]),
        ("headers", "X: 1"),
        ("body", "text"),
        ("body", {"a": [1, {"b": None}]}),
        ("body", [1, "a"]),
        ("body", 42),
        ("body", False),
        ("body", None),
        ("body", ""),
        ("interval", 5),
        ("timeout", 5),
        ("expected_response", "ok"),
        ("port", 8000),
    ]:
        hc(f"http.{key}={_short(v)}", {**http, key: v})
    hc("http.method=POST+body", {**http, "method": "POST", "body": {"q": 1}})
    hc("http.method=DELETE", {**http, "method": "DELETE"})
    for key, v in [
        ("expected_response", ""),
        ("expected_response", 1),
        ("continuous", "false"),
        ("path", "/ws"),
        ("expected_status", 101),
    ]:
        hc(f"ws.{key}={_short(v)}", {**ws, key: v})
    hc("null", None)
    hc("string", "http")
    add(
        "min/ops[0].args.expose:two-ports-mixed-checks",
        _edits(
            mn,
            (args + ("expose",), [{"port": 8000, "health_checks": [http, ws]}, {"port": 8001, "type": "none"}, 8002]),
        ),
    )
    add(
        "min/ops[0].args.expose={port,health_checks}(not array)",
        _edits(mn, (args + ("expose",), {"port": 8000, "health_checks": [http]})),
    )

    # ---- resources
    s3 = {"type": "S3", "url": "https://b.example.invalid/p", "target": "/d"}
    for what, res in [
        ("S3", s3),
        ("S3-url", {"type": "S3", "target": "/d"}),
        ("S3-target", {"type": "S3", "url": "https://b.example.invalid/p"}),
        ("S3-type", {"url": "https://b.example.invalid/p", "target": "/d"}),
        ("S3+files", {**s3, "files": ["a"]}),
        ("S3+files=[1]", {**s3, "files": [1]}),
        ('S3+allowWrite="true"', {**s3, "allowWrite": "true"}),
        ("S3+bucket", {**s3, "bucket": "b"}),
        ("S3+bucket+files", {**s3, "bucket": "b", "files": ["a"]}),
        ("S3+bucket=1", {**s3, "bucket": 1}),
        ("S3+buckets", {"type": "S3", "target": "/d", "buckets": [{"url": "u"}]}),
        ("S3+buckets+files", {"type": "S3", "target": "/d", "buckets": [{"url": "u", "files": ["a"]}]}),
        ("S3+buckets[0]-url", {"type": "S3", "target": "/d", "buckets": [{"files": ["a"]}]}),
        ("S3+buckets[0]+extra", {"type": "S3", "target": "/d", "buckets": [{"url": "u", "x": 1}]}),
        ("S3+buckets+top-files", {"type": "S3", "target": "/d", "buckets": [], "files": ["a"]}),
        ("S3+IAM", {**s3, "IAM": {"REGION": "r", "ACCESS_KEY_ID": "k", "SECRET_ACCESS_KEY": "s"}}),
        ("S3+IAM-REGION", {**s3, "IAM": {"ACCESS_KEY_ID": "k", "SECRET_ACCESS_KEY": "s"}}),
        ("S3+IAM+extra", {**s3, "IAM": {"REGION": "r", "ACCESS_KEY_ID": "k", "SECRET_ACCESS_KEY": "s", "TOKEN": "t"}}),
        ("S3+extra", {**s3, "region": "eu"}),
        ("type=s3", {**s3, "type": "s3"}),
        ("type=GCS", {**s3, "type": "GCS"}),
        ("HF", {"type": "HF", "repo": "o/m", "target": "/d"}),
        ("HF-repo", {"type": "HF", "target": "/d"}),
        ("HF-target", {"type": "HF", "repo": "o/m"}),
        ("HF+bucket", {"type": "HF", "repo": "o/m", "target": "/d", "bucket": "b"}),
        ("HF+url", {"type": "HF", "repo": "o/m", "target": "/d", "url": "u"}),
        ("HF+revision=1", {"type": "HF", "repo": "o/m", "target": "/d", "revision": 1}),
        ("Ollama", {"type": "Ollama", "model": "m"}),
        ("Ollama+target", {"type": "Ollama", "model": "m", "target": "/d"}),
        ("Ollama-model", {"type": "Ollama", "target": "/d"}),
        ("Ollama+url", {"type": "Ollama", "model": "m", "url": "u"}),
        ("remove-if-empty", "__remove-if-empty__"),
        ("remove_if_empty(typo)", "__remove_if_empty__"),
        ("spread", {"__spread__": "%%global.variables.R%%"}),
        ("spread-bad", {"__spread__": "R"}),
        ("null", None),
        ("[]", []),
    ]:
        add(f"min/ops[0].args.resources[0]={what}", _edits(mn, (args + ("resources",), [res])))
    a("resources", [])
    a("resources", {"type": "S3", "target": "/d"}, "object(not array)")

    # ---- results
    for what, res in [
        ("{}", {}),
        ('k=""', {"k": ""}),
        ('k="("(bad regex)', {"k": "("}),
        ("k={regex,logType:[stdout]}", {"k": {"regex": "x", "logType": ["stdout"]}}),
        ("k={regex,logType:all4}", {"k": {"regex": "x", "logType": ["stdin", "stdout", "stderr", "nodeerr"]}}),
        ("k={regex}", {"k": {"regex": "x"}}),
        ("k={logType}", {"k": {"logType": ["stdout"]}}),
        ("k={regex,logType:[]}", {"k": {"regex": "x", "logType": []}}),
        ("k={regex,logType:dup}", {"k": {"regex": "x", "logType": ["stdout", "stdout"]}}),
        ("k={regex,logType:5}", {"k": {"regex": "x", "logType": ["stdin", "stdout", "stderr", "nodeerr", "stdout"]}}),
        ("k={regex,logType:[STDOUT]}", {"k": {"regex": "x", "logType": ["STDOUT"]}}),
        ("k={regex,logType:[log]}", {"k": {"regex": "x", "logType": ["log"]}}),
        ('k={regex,logType:"stdout"}', {"k": {"regex": "x", "logType": "stdout"}}),
        ("k={regex:1,logType}", {"k": {"regex": 1, "logType": ["stdout"]}}),
        ("k={regex,logType,+extra}", {"k": {"regex": "x", "logType": ["stdout"], "flags": "g"}}),
        ("k=1", {"k": 1}),
        ("k=null", {"k": None}),
        ('k=["x"]', {"k": ["x"]}),
        ("[]", []),
        ('"x"', "x"),
    ]:
        m(f"ops[0].results={what}", (op + ("results",), res))

    # ---- execution
    two = {
        "version": "0.1",
        "type": "container",
        "ops": [
            {"type": "container/run", "id": "a", "args": {"image": "x"}},
            {"type": "container/run", "id": "b", "args": {"image": "x"}},
        ],
    }

    def ex(what, ea, eb=None):
        job = copy.deepcopy(two)
        if ea is not _DEL:
            job["ops"][0]["execution"] = ea
        if eb is not None:
            job["ops"][1]["execution"] = eb
        add(f"two/execution:{what}", job)

    ex("none", _DEL)
    ex("{}", {})
    ex("group", {"group": "g"})
    ex('group=""', {"group": ""})
    ex("group=1", {"group": 1})
    ex("depends_on=[]", {"depends_on": []})
    ex("depends_on=[b]", {"depends_on": ["b"]})
    ex("depends_on=[b]+stop_if=true", {"depends_on": ["b"], "stop_if_dependent_stops": True})
    ex('depends_on=[b]+stop_if="yes"', {"depends_on": ["b"], "stop_if_dependent_stops": "yes"})
    ex("stop_if=true(no depends_on)", {"stop_if_dependent_stops": True})
    ex("stop_if=false(no depends_on)", {"stop_if_dependent_stops": False})
    ex('depends_on="b"', {"depends_on": "b"})
    ex("depends_on=[1]", {"depends_on": [1]})
    ex("depends_on=null", {"depends_on": None})
    ex("depends_on=[unknown]", {"depends_on": ["nope"]})
    ex("depends_on=[self]", {"depends_on": ["a"]})
    ex("depends_on=[b,b]", {"depends_on": ["b", "b"]})
    ex("cross-group", {"group": "g1", "depends_on": ["b"]}, {"group": "g2"})
    ex("cycle", {"group": "g", "depends_on": ["b"]}, {"group": "g", "depends_on": ["a"]})
    ex("timeout=60", {"timeout": 60})
    ex("timeout=60+group", {"group": "g", "timeout": 60})
    ex("depends_on+timeout", {"depends_on": ["b"], "timeout": 60})
    ex("extra-key", {"group": "g", "priority": 1})
    ex("null", None)
    ex("[]", [])
    ex('"g"', "g")

    # ---- cross-op facts the validator does not check
    def both(what, args_a, args_b):
        job = copy.deepcopy(two)
        job["ops"][0]["args"].update(args_a)
        job["ops"][1]["args"].update(args_b)
        add(f"two/{what}", job)

    both("same-port-on-two-ops", {"expose": 8000}, {"expose": [8000]})
    both("same-alias-on-two-ops", {"aliases": "x"}, {"aliases": ["x"]})
    both("alias-equals-other-op-id", {"aliases": "b"}, {})
    both("volume-without-create-volume-op", {"volumes": [{"name": "nope", "dest": "/d"}]}, {})
    both("literal-to-unknown-op", {"env": {"U": "%%ops.nope.host%%"}}, {"expose": "%%ops.nope.results.port%%"})

    # ---- misc: empty strings and many ops
    m('ops[0].args.image=" "', (args + ("image",), " "))
    add(
        "min/ops:200-ops",
        _edits(
            mn,
            (("ops",), [{"type": "container/run", "id": f"op{i}", "args": {"image": "alpine:3"}} for i in range(200)]),
        ),
    )
    return out


def _seed_variants() -> list[tuple[str, dict]]:
    s = seed_job()
    hcp = ("ops", 0, "args", "expose", 0, "health_checks", 0)
    return [
        ("seed/continuous:del", _edit(s, hcp + ("continuous",), _DEL)),
        (
            "seed/ops[0].args.image:del+global.image",
            _edits(s, (("ops", 0, "args", "image"), _DEL), (("global",), {"image": "vllm/vllm-openai:latest"})),
        ),
        ("seed/ops[1].execution.depends_on=[vllm]", _edit(s, ("ops", 1, "execution", "depends_on"), ["vllm"])),
        (
            'seed/meta.system_requirements.required_vram="6"',
            _edit(s, ("meta", "system_requirements", "required_vram"), "6"),
        ),
        ("seed/ops[0].args.required_vram=6", _edit(s, ("ops", 0, "args", "required_vram"), 6)),
        (
            "seed/single-service",
            {
                "version": "0.1",
                "type": "container",
                "ops": [{"type": "container/run", "id": "my-service", "args": {"image": "nginx:latest", "expose": 80}}],
            },
        ),
        (
            "seed/multi-service-container",
            {
                "version": "0.1",
                "type": "container",
                "meta": {"trigger": "dashboard", "system_requirements": {"required_vram": 6}},
                "ops": [
                    {
                        "type": "container/run",
                        "id": "multi-service",
                        "args": {
                            "image": "docker.io/username/multi-service:latest",
                            "gpu": True,
                            "expose": [8000, 9000],
                        },
                    }
                ],
            },
        ),
    ]


def cases() -> list[tuple[str, dict]]:
    out: list[tuple[str, dict]] = [
        ("min/base", minimal_job()),
        ("seed/base", seed_job()),
        ("pipeline/base", pipeline_job()),
        ("full/base", full_job()),
    ]
    out += _seed_variants()
    out += _systematic("full", full_job())
    out += _targeted()
    names = [n for n, _ in out]
    dupes = {n for n in names if names.count(n) > 1}
    assert not dupes, f"duplicate case names: {sorted(dupes)}"
    return out


if __name__ == "__main__":
    print(json.dumps([job for _, job in cases()], allow_nan=False))
