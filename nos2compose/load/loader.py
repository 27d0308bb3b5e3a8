"""Raw job mapping -> typed model, checking every key on the way.

Each key of the job is handled here, warned about (it changes nothing, or is
not reproduced locally), or rejected; nothing is dropped silently. Literals in
an op's args are resolved first, so the model holds final values.
"""
from __future__ import annotations

import json
import re
from typing import Any, NamedTuple

from ..diagnostics import Diagnostics, Path
from ..model import Expose, HealthCheck, HttpCheck, Job, Mount, Op, Resource, RunOp, VolumeOp, WebSocketCheck
from .literals import REMOVE_IF_EMPTY, SENTINEL, SPREAD, LiteralContext, resolve_args
from ..results import ResultSpec, compile_error
from .shape import Shape

RUN, CREATE_VOLUME = "container/run", "container/create-volume"
TOP_KEYS = ("version", "type", "ops", "meta", "global", "logistics", "deployment_id")
GLOBAL_KEYS = ("image", "gpu", "entrypoint", "env", "work_dir", "variables")
OP_KEYS = ("type", "id", "args", "results", "execution")
RUN_KEYS = ("image", "cmd", "entrypoint", "env", "gpu", "work_dir", "volumes", "aliases", "expose",
            "private", "restart_policy", "resources", "authentication")
OLD_RUN_KEYS = ("output", "required_vram")
EXECUTION_KEYS = ("group", "depends_on", "timeout", "stop_if_dependent_stops")
EXPOSE_KINDS = ("api", "web", "webapi", "websocket", "none")
HTTP_METHODS = ("GET", "POST", "PUT", "DELETE")
RESTART_POLICIES = ("no", "always", "unless-stopped", "on-failure")
LOG_TYPES = ("stdin", "stdout", "stderr", "nodeerr")
_S3 = {"type": ("string", True), "target": ("string", True), "url": ("string", False),
       "allowWrite": ("bool", False), "IAM": ("iam", False)}
RESOURCE_FIELDS = {  # the five shapes of Nosana's Resources schema: key -> (kind, required)
    "S3": {**_S3, "files": ("strings", False)},
    "S3-bucket": {**_S3, "bucket": ("string", True)},
    "S3-buckets": {**_S3, "buckets": ("buckets", True)},
    "HF": {"type": ("string", True), "target": ("string", True), "repo": ("string", True),
           "revision": ("string", False), "files": ("strings", False), "accessToken": ("string", False)},
    "Ollama": {"type": ("string", True), "model": ("string", True), "target": ("string", False)},
}
IAM_KEYS = ("REGION", "ACCESS_KEY_ID", "SECRET_ACCESS_KEY")
# Where the schema allows a literal instead of a value (expose and __spread__), it must look like this.
SCHEMA_LITERAL = re.compile(r"%%(?:ops|global)[^\n\r\u2028\u2029][^%]+%%")


class Loader:
    def __init__(self, diags: Diagnostics, job_name: str, service_names: dict[str, str]):
        self.diags = diags
        self.shape = Shape(diags)
        self.job_name = job_name
        self.service_names = service_names
        self.global_: dict[str, Any] = {}
        self.literals: LiteralContext | None = None
        self.logins: list[RegistryLogin] = []  # kept in memory only: never written into a Compose file
        self.resources: list[Resource] = []  # of the op being read

    # -- top level -------------------------------------------------------------------------

    def job(self, data: Any) -> Job | None:
        top = self.shape.obj(data, ())
        if top is None:
            return None
        self.shape.known_keys({k: v for k, v in top.items() if k != "ssh"}, (), TOP_KEYS)
        self._version(top)
        if self.shape.required(top, "type", (), 'the job type, "container"'):
            self.shape.one_of(top["type"], ("type",), ["container"])
        if "meta" in top:
            self._meta(top["meta"])
        if "global" in top:
            self._global(top["global"])
        self._extras(top)
        self.literals = LiteralContext(self.job_name, dict(self.global_.get("variables") or {}), self.service_names,
                                       *_groups_and_results(top.get("ops")))
        ops_raw = top.get("ops")
        if "ops" not in top:
            self.diags.error((), "missing required key 'ops' (the job's operations)")
            return None
        if not isinstance(ops_raw, list):
            self.shape.wrong(("ops",), "an array of operations", ops_raw)
            return None
        ops: list[Op] = []
        for index, raw in enumerate(ops_raw):
            op = self.op(raw, index)
            if op is not None:
                ops.append(op)
        groups = tuple(dict.fromkeys(op.group for op in ops))
        return Job(self.job_name, tuple(ops), groups)

    def _version(self, top: dict) -> None:
        if "version" not in top:
            self.diags.strict_rule((), "missing 'version'", 'read as "0.1"')
            return
        version = self.shape.string(top["version"], ("version",), what='a string ("0.1")')
        if version is not None and version != "0.1":
            self.diags.strict_rule(("version",), f'version is "{version}", Nosana knows only "0.1"', 'read as "0.1"')

    def _meta(self, meta: Any) -> None:
        meta = self.shape.obj(meta, ("meta",))
        if meta is None:
            return
        if "trigger" in meta:
            self.shape.string(meta["trigger"], ("meta", "trigger"))
        if "system_resources" in meta:
            resources = self.shape.obj(meta["system_resources"], ("meta", "system_resources"))
            for key, value in (resources or {}).items():
                if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                    self.shape.wrong(("meta", "system_resources", key), "a string or a number", value)
        for key, value in meta.items():
            if key not in ("trigger", "system_resources") and not _meta_value_ok(value):
                self.shape.wrong(("meta", key), "a string, a number, an array of those, or an object of those", value)

    def _global(self, raw: Any) -> None:
        g = self.shape.obj(raw, ("global",))
        if g is None:
            return
        path: Path = ("global",)
        self.shape.known_keys(g, path, GLOBAL_KEYS)
        out: dict[str, Any] = {}
        for key in ("image", "work_dir"):
            if key in g:
                out[key] = self.shape.string(g[key], path + (key,))
        if "gpu" in g:
            out["gpu"] = self.shape.boolean(g["gpu"], path + ("gpu",))
        if "entrypoint" in g:
            out["entrypoint"] = self.shape.string_or_strings(g["entrypoint"], path + ("entrypoint",))
        for key in ("env", "variables"):
            if key in g:
                out[key] = self.shape.string_map(g[key], path + (key,))
        self.global_ = {k: v for k, v in out.items() if v is not None}

    def _extras(self, top: dict) -> None:
        """Top-level keys a local run has no use for: checked for type, then set aside."""
        if "deployment_id" in top:
            self.shape.string(top["deployment_id"], ("deployment_id",))
        if "logistics" in top:
            self._logistics(top["logistics"])
        if "ssh" in top:
            ssh = self.shape.obj(top["ssh"], ("ssh",))
            self.diags.strict_rule(("ssh",), "ssh is in Nosana's schema, but its validator rejects it", "ignored")
            if ssh is not None:
                self.shape.known_keys(ssh, ("ssh",), ["public_keys"])
                if "public_keys" in ssh:
                    self.shape.strings(ssh["public_keys"], ("ssh", "public_keys"))
                if not self.diags.strict:
                    self.diags.warning(("ssh",), "ssh access is not set up locally; use `docker exec` into the op's container instead")

    def _logistics(self, raw: Any) -> None:
        sh, path = self.shape, ("logistics",)
        logistics = sh.obj(raw, path)
        if logistics is None:
            return
        sh.known_keys(logistics, path, ["send", "receive"])
        for way in ("send", "receive"):
            if not sh.required(logistics, way, path, "{type, args}"):
                continue
            here = path + (way,)
            spec = sh.obj(logistics[way], here)
            if spec is None:
                continue
            sh.known_keys(spec, here, ["type", "args"])
            if sh.required(spec, "type", here, '"api" or "api-listen"'):
                sh.one_of(spec["type"], here + ("type",), ["api", "api-listen"])
            if sh.required(spec, "args", here, "{endpoint}"):
                args = sh.obj(spec["args"], here + ("args",))
                if args is not None:
                    sh.known_keys(args, here + ("args",), ["endpoint"])
                    if "endpoint" in args:
                        sh.string(args["endpoint"], here + ("args", "endpoint"))
        self.diags.warning(path, "logistics (how a confidential job's ops and results travel) has no local equivalent; ignored")

    # -- operations ------------------------------------------------------------------------

    def op(self, raw: Any, index: int) -> Op | None:
        path: Path = ("ops", index)
        obj = self.shape.obj(raw, path)
        if obj is None:
            return None
        op_id = obj.get("id") if isinstance(obj.get("id"), str) else None
        self.shape.known_keys(obj, path, OP_KEYS, op_id)
        ok = all([
            self.shape.required(obj, "type", path, f'"{RUN}" or "{CREATE_VOLUME}"', op_id),
            self.shape.required(obj, "id", path, "the op's unique id", op_id),
            self.shape.required(obj, "args", path, "the op's arguments", op_id),
        ])
        if "id" in obj:
            self.shape.string(obj["id"], path + ("id",), op_id)
        kind = self.shape.one_of(obj["type"], path + ("type",), [RUN, CREATE_VOLUME], op_id) if "type" in obj else None
        execution = self._execution(obj["execution"], path + ("execution",), op_id) if "execution" in obj else {}
        if not ok or kind is None or op_id is None or execution is None:
            return None
        group = execution["group"] if isinstance(execution.get("group"), str) else op_id
        args = self.shape.obj(obj["args"], path + ("args",), op_id)
        if args is None:
            return None
        if kind == CREATE_VOLUME:
            return self._create_volume(args, path, op_id, index, group, obj)
        results = self._results(obj["results"], path + ("results",), op_id) if "results" in obj else ()
        return self._run(args, path, op_id, index, group, execution, results)

    def _execution(self, raw: Any, path: Path, op_id: str | None) -> dict | None:
        ex = self.shape.obj(raw, path, op_id)
        if ex is None:
            return None
        self.shape.known_keys({k: v for k, v in ex.items() if k != "timeout"}, path, EXECUTION_KEYS, op_id)
        out: dict[str, Any] = {}
        if "group" in ex:
            out["group"] = self.shape.string(ex["group"], path + ("group",), op_id)
        if "depends_on" in ex:
            deps = self.shape.strings(ex["depends_on"], path + ("depends_on",), op_id)
            out["depends_on"] = tuple(deps or ())
        if "timeout" in ex and self.shape.number(ex["timeout"], path + ("timeout",), op_id) is not None:
            self.diags.strict_rule(path + ("timeout",), "execution.timeout is in Nosana's schema but its validator rejects it, and the node does not use it",
                                   "ignored", op_id)
        if "stop_if_dependent_stops" in ex and "depends_on" not in ex:
            self.diags.strict_rule(path + ("stop_if_dependent_stops",), "stop_if_dependent_stops without depends_on", "ignored", op_id)
        if "stop_if_dependent_stops" in ex:
            out["stop_if_dependent_stops"] = bool(self.shape.boolean(ex["stop_if_dependent_stops"], path + ("stop_if_dependent_stops",), op_id))
        return out

    def _create_volume(self, args: dict, path: Path, op_id: str, index: int, group: str, obj: dict) -> VolumeOp | None:
        apath = path + ("args",)
        self.shape.known_keys(args, apath, ["name"], op_id)
        for key in ("results",):
            if key in obj:
                self.diags.warning(path + (key,), f"{key} of a create-volume op mean nothing; ignored", op_id)
        if not self.shape.required(args, "name", apath, "the volume's name", op_id):
            return None
        name = self.shape.string(args["name"], apath + ("name",), op_id)
        if name is None:
            return None
        if not re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*", name):
            self.diags.error(apath + ("name",), f"volume name '{name}' is not a valid Docker volume name (letters, digits, _ . -)", op_id)
            return None
        return VolumeOp(op_id, index, group, name)

    def _results(self, raw: Any, path: Path, op_id: str) -> tuple[ResultSpec, ...]:
        results = self.shape.obj(raw, path, op_id)
        if results is None:
            return ()
        specs = []
        for key, spec in results.items():
            here = path + (key,)
            regex, types = None, None
            if isinstance(spec, str):
                regex = spec
            elif isinstance(spec, dict):
                self.shape.known_keys(spec, here, ["regex", "logType"], op_id)
                if self.shape.required(spec, "regex", here, "a JavaScript regular expression", op_id):
                    regex = self.shape.string(spec["regex"], here + ("regex",), op_id)
                if "logType" not in spec:
                    self.diags.strict_rule(here, "missing 'logType'", "all streams are read", op_id)
                else:
                    types = self.shape.strings(spec["logType"], here + ("logType",), op_id)
                    for i, t in enumerate(types or ()):
                        self.shape.one_of(t, here + ("logType", i), LOG_TYPES, op_id)
                    if types is not None and not (1 <= len(types) <= len(LOG_TYPES) and len(set(types)) == len(types)):
                        self.shape.wrong(here + ("logType",), "1 to 4 different streams (stdin, stdout, stderr, nodeerr)", types, op_id)
            else:
                self.shape.wrong(here, "a regular expression string or {regex, logType}", spec, op_id)
            if regex is not None:
                problem = compile_error(regex)
                if problem is not None:
                    self.diags.warning(here, f"a JavaScript regex that Python cannot compile ({problem.split(': ')[-1]}); "
                                             "like the node, nos2compose reports the error text as the result's value", op_id)
                streams = tuple(t for t in types if t in ("stdout", "stderr")) if types else None
                specs.append(ResultSpec(key, regex, streams))
        return tuple(specs)

    def _run(self, raw_args: dict, path: Path, op_id: str, index: int, group: str, execution: dict,
             results: tuple[ResultSpec, ...] = ()) -> RunOp | None:
        apath = path + ("args",)
        sh = self.shape
        sh.known_keys({k: v for k, v in raw_args.items() if k not in OLD_RUN_KEYS}, apath, RUN_KEYS, op_id)
        for key in OLD_RUN_KEYS:
            if key in raw_args:
                self.diags.strict_rule(apath + (key,), f"'{key}' is an older field that newer validators reject", "ignored", op_id)
        assert self.literals is not None
        args = resolve_args(raw_args, apath, self.literals, self.diags, op_id)
        g = self.global_

        image = None
        if "image" in args:
            image = sh.string(args["image"], apath + ("image",), op_id)
        elif "image" in g:
            self.diags.strict_rule(apath, "no 'image' of its own", f"global.image '{g['image']}' is used", op_id)
            image = g["image"]
        else:
            self.diags.error(apath, "missing required key 'image' (and no global.image to fall back on)", op_id)

        cmd = self._command(args, "cmd", apath, op_id, shell=True)
        entrypoint = self._command(args, "entrypoint", apath, op_id, shell=False)
        if entrypoint is None and "entrypoint" not in args and "entrypoint" in g:
            entrypoint = _as_command(g["entrypoint"], shell=False)

        work_dir = sh.string(args["work_dir"], apath + ("work_dir",), op_id) if "work_dir" in args else g.get("work_dir")
        env = dict(g.get("env") or {})
        if "env" in args:
            env.update(sh.string_map(args["env"], apath + ("env",), op_id) or {})
        env["NOSANA_ID"] = self.job_name
        runtime_env = tuple(SENTINEL.fullmatch(k).group(1) for k in env if SENTINEL.fullmatch(k))
        env = {k: v for k, v in env.items() if not SENTINEL.fullmatch(k)}
        gpu = bool(g.get("gpu"))
        if "gpu" in args:
            gpu = bool(sh.boolean(args["gpu"], apath + ("gpu",), op_id)) or gpu

        if "expose" in raw_args:
            self._raw_expose(raw_args["expose"], apath + ("expose",), op_id)
        expose = self._expose(args["expose"], apath + ("expose",), op_id) if "expose" in args else ()
        runtime_ports = self._runtime_ports(args.get("expose"))
        mounts = self._mounts(args["volumes"], apath + ("volumes",), op_id) if "volumes" in args else ()
        aliases = self._aliases(args["aliases"], apath + ("aliases",), op_id) if "aliases" in args else ()
        restart = self._restart(args["restart_policy"], apath + ("restart_policy",), op_id) if "restart_policy" in args else None
        self._not_local(args, apath, op_id)
        if image is None or expose is None:
            return None
        return RunOp(
            id=op_id, index=index, group=group, image=image,
            depends_on=execution.get("depends_on", ()),
            cmd=cmd, entrypoint=entrypoint, work_dir=work_dir,
            env=tuple(env.items()), gpu=gpu, expose=expose, mounts=mounts,
            aliases=aliases, restart=restart, results=results,
            stop_if_dependent_stops=execution.get("stop_if_dependent_stops", False),
            runtime_ports=runtime_ports, runtime_env=runtime_env, resources=tuple(self.resources),
        )

    def _command(self, args: dict, key: str, apath: Path, op_id: str, shell: bool) -> tuple[str, ...] | None:
        if key not in args:
            return None
        value = self.shape.string_or_strings(args[key], apath + (key,), op_id)
        return None if value is None else _as_command(value, shell)

    def _runtime_ports(self, expose: Any) -> tuple[str, ...]:
        """Ports that come from results of earlier ops: the placeholder of each, as a list to splice."""
        assert self.literals is not None
        out = []
        for item in expose if isinstance(expose, list) else [expose]:
            m = SENTINEL.fullmatch(item) if isinstance(item, str) else None
            if m:
                spec = self.literals.placeholders[m.group(1)]
                mode = spec["splice"] if spec["splice"].startswith("items") else "items"
                where = self.literals.first_use[m.group(1)]
                out.append(SENTINEL.fullmatch(self.literals.placeholder(spec["op"], spec["key"], mode, where)).group(1))
        return tuple(dict.fromkeys(out))

    def _raw_expose(self, raw: Any, path: Path, op_id: str) -> None:
        """What only the job's own text can show: strings in expose must be literals."""
        items = raw if isinstance(raw, list) else [raw]
        for i, item in enumerate(items):
            here = path + (i,) if isinstance(raw, list) else path
            if isinstance(item, str) and not SCHEMA_LITERAL.fullmatch(item):
                self.shape.wrong(here, "a port number (or a literal such as %%global.variables.PORT%%)", item, op_id)
            elif isinstance(item, dict) and SPREAD in item:
                self._spread_marker(item, here, op_id)
            elif item is None or isinstance(item, (bool, list)) or (isinstance(raw, list) and isinstance(item, dict) and not item):
                self.shape.wrong(here, "a port number, {port, type?, health_checks?}, or a literal", item, op_id)

    def _expose(self, raw: Any, path: Path, op_id: str) -> tuple[Expose, ...] | None:
        items = raw if isinstance(raw, list) else [raw]
        out: list[Expose] = []
        seen: dict[int, Path] = {}
        for i, item in enumerate(items):
            here = path + (i,) if isinstance(raw, list) else path
            if isinstance(item, str) and ("%%" in item or SENTINEL.search(item)) or isinstance(item, dict) and SPREAD in item:
                continue  # a run-time literal (its ports come later), or a malformed one (reported already)
            if isinstance(item, str) and not (item.strip().isascii() and item.strip().isdigit()) or item is None or isinstance(item, (bool, list)):
                if not any(d.path == here and d.is_error for d in self.diags.items):  # a literal's value, no port
                    self.shape.wrong(here, "a port number (the literal's value is none)", item, op_id)
                continue
            if isinstance(item, dict):
                exp = self._exposed_port(item, here, op_id)
            else:
                port = self.shape.integer(item, here, 1, 65535, "a port", op_id, text_ok=True)
                exp = Expose(port) if port is not None else None
            if exp is None:
                continue
            if exp.port in seen:
                self.diags.error(here, f"port {exp.port} is exposed twice by this op (ports must be unique)", op_id)
                continue
            seen[exp.port] = here
            out.append(exp)
        return tuple(out)

    def _exposed_port(self, obj: dict, path: Path, op_id: str) -> Expose | None:
        sh = self.shape
        sh.known_keys(obj, path, ["port", "type", "health_checks"], op_id)
        if not sh.required(obj, "port", path, "the container port", op_id):
            return None
        port = sh.integer(obj["port"], path + ("port",), 1, 65535, "a port", op_id)
        kind = sh.one_of(obj["type"], path + ("type",), EXPOSE_KINDS, op_id) if "type" in obj else None
        checks: list[HealthCheck] = []
        if "health_checks" in obj:
            raw_checks = obj["health_checks"]
            if not isinstance(raw_checks, list):
                sh.wrong(path + ("health_checks",), "an array of health checks", raw_checks, op_id)
            else:
                for i, raw in enumerate(raw_checks):
                    check = self._health_check(raw, path + ("health_checks", i), op_id)
                    if check is not None:
                        checks.append(check)
        return Expose(port, kind, tuple(checks)) if port is not None else None

    def _health_check(self, raw: Any, path: Path, op_id: str) -> HealthCheck | None:
        sh = self.shape
        obj = sh.obj(raw, path, op_id)
        if obj is None or not sh.required(obj, "type", path, '"http" or "websocket"', op_id):
            return None
        kind = sh.one_of(obj["type"], path + ("type",), ["http", "websocket"], op_id)
        if kind is None:
            return None
        continuous = False
        if "continuous" not in obj:
            self.diags.strict_rule(path, "health check without 'continuous'", "read as false", op_id)
        else:
            continuous = bool(sh.boolean(obj["continuous"], path + ("continuous",), op_id))
        if kind == "websocket":
            sh.known_keys(obj, path, ["type", "expected_response", "continuous"], op_id)
            if not sh.required(obj, "expected_response", path, "text the reply must contain", op_id):
                return None
            text = sh.string(obj["expected_response"], path + ("expected_response",), op_id)
            return WebSocketCheck(text, continuous) if text is not None else None
        sh.known_keys(obj, path, ["type", "path", "method", "expected_status", "headers", "body", "continuous"], op_id)
        present = [sh.required(obj, key, path, what, op_id) for key, what in
                   (("path", "the URL path to request"), ("method", "GET, POST, PUT or DELETE"),
                    ("expected_status", "the HTTP status that means healthy"))]
        if not all(present):
            return None
        url_path = sh.string(obj["path"], path + ("path",), op_id)
        method = sh.one_of(obj["method"], path + ("method",), HTTP_METHODS, op_id)
        status = sh.integer(obj["expected_status"], path + ("expected_status",), 100, 599, "an HTTP status", op_id)
        headers = sh.string_map(obj["headers"], path + ("headers",), op_id) if "headers" in obj else {}
        body = None
        if "body" in obj and method in ("POST", "PUT"):
            body = obj["body"] if isinstance(obj["body"], str) else json.dumps(obj["body"], separators=(",", ":"), ensure_ascii=False)
        if url_path is None or method is None or status is None or headers is None:
            return None
        return HttpCheck(url_path, method, status, tuple(headers.items()), body, continuous)

    def _mounts(self, raw: Any, path: Path, op_id: str) -> tuple[Mount, ...]:
        if not isinstance(raw, list):
            self.shape.wrong(path, "an array of {name, dest}", raw, op_id)
            return ()
        out = []
        for i, item in enumerate(raw):
            here = path + (i,)
            obj = self.shape.obj(item, here, op_id)
            if obj is None:
                continue
            self.shape.known_keys(obj, here, ["name", "dest"], op_id)
            if not (self.shape.required(obj, "name", here, "a create-volume op's volume name", op_id)
                    and self.shape.required(obj, "dest", here, "the path in the container", op_id)):
                continue
            name = self.shape.string(obj["name"], here + ("name",), op_id)
            dest = self.shape.string(obj["dest"], here + ("dest",), op_id)
            if dest is not None and not dest.startswith("/"):
                self.diags.error(here + ("dest",), f"expected an absolute path in the container, found {dest!r}", op_id)
                dest = None
            if name is not None and dest is not None:
                out.append(Mount(name, dest))
        return tuple(out)

    def _aliases(self, raw: Any, path: Path, op_id: str) -> tuple[str, ...]:
        value = self.shape.string_or_strings(raw, path, op_id)
        if value is None:
            return ()
        items = value.split(",") if isinstance(value, str) else value
        return tuple(dict.fromkeys(a.strip() for a in items if a.strip()))

    def _restart(self, raw: Any, path: Path, op_id: str) -> str | None:
        if isinstance(raw, dict):
            self.shape.known_keys(raw, path, ["policy", "restart_tries"], op_id)
            if not self.shape.required(raw, "policy", path, '"on-failure"', op_id):
                return None
            if self.shape.one_of(raw["policy"], path + ("policy",), ["on-failure"], op_id) is None:
                return None
            if "restart_tries" in raw:
                tries = self.shape.integer(raw["restart_tries"], path + ("restart_tries",), 0, 1_000_000, "a count", op_id)
                return f"on-failure:{tries}" if tries else "on-failure"
            return "on-failure"
        return self.shape.one_of(raw, path, RESTART_POLICIES, op_id)

    def _not_local(self, args: dict, apath: Path, op_id: str) -> None:
        """Fields a local run does not reproduce yet: type-checked, then a warning saying what happens instead."""
        sh = self.shape
        if "private" in args and sh.boolean(args["private"], apath + ("private",), op_id):
            self.diags.warning(apath + ("private",), "private only changes how the node makes the public URL; locally every port is published on 127.0.0.1 only", op_id)
        self.resources = []
        if "resources" in args:
            self._resources(args["resources"], apath + ("resources",), op_id)
        if "authentication" in args:
            auth = sh.obj(args["authentication"], apath + ("authentication",), op_id)
            if auth is not None:
                sh.known_keys(auth, apath + ("authentication",), ["docker"], op_id)
                if "docker" in auth:
                    docker = sh.obj(auth["docker"], apath + ("authentication", "docker"), op_id)
                    if docker is not None:
                        sh.known_keys(docker, apath + ("authentication", "docker"), ["username", "password", "email", "server"], op_id)
                        fields = {key: sh.string(docker[key], apath + ("authentication", "docker", key), op_id)
                                  for key in ("username", "password", "email", "server") if key in docker}
                        if fields.get("username") and fields.get("password"):
                            self.logins.append(RegistryLogin(op_id, fields.get("server") or registry_of(args.get("image")),
                                                             fields["username"], fields["password"]))
                self.diags.warning(apath + ("authentication",),
                                   "`nos2compose up` logs in to the registry before the pull (the password goes to `docker login` "
                                   "on its standard input, never into a Compose file or the terminal); with plain "
                                   "`docker compose`, run `docker login` yourself", op_id)

    def _resources(self, raw: Any, path: Path, op_id: str) -> None:
        if not isinstance(raw, list):
            self.shape.wrong(path, "an array of resources", raw, op_id)
            return
        for i, item in enumerate(raw):
            here = path + (i,)
            if item == REMOVE_IF_EMPTY:
                continue
            obj = self.shape.obj(item, here, op_id)
            if obj is None:
                continue
            if SPREAD in obj:
                self._spread_marker(obj, here, op_id)
                continue
            kind = self._resource(obj, here, op_id)
            if kind is None:
                continue
            self.resources.append(resource(kind, obj))

    def _resource(self, obj: dict, path: Path, op_id: str) -> str | None:
        """One resource, checked against the variant Nosana's schema picks for it."""
        sh = self.shape
        if obj.get("type") in ("HF", "Ollama"):
            kind, variant = obj["type"], obj["type"]
        else:
            kind = "S3"
            variant = "S3-bucket" if "bucket" in obj else "S3-buckets" if "buckets" in obj else "S3"
            if sh.required(obj, "type", path, '"S3", "HF" or "Ollama"', op_id) and sh.one_of(obj["type"], path + ("type",), ["S3", "HF", "Ollama"], op_id) is None:
                return None
        fields = RESOURCE_FIELDS[variant]
        sh.known_keys(obj, path, fields, op_id)
        ok = True
        for key, (check, required) in fields.items():
            if key == "type":
                continue
            if key not in obj:
                if required:
                    ok = sh.required(obj, key, path, f"{key} of the {kind} resource", op_id) and ok
                continue
            here = path + (key,)
            value = obj[key]
            if check == "string":
                ok = sh.string(value, here, op_id) is not None and ok
            elif check == "bool":
                ok = sh.boolean(value, here, op_id) is not None and ok
            elif check == "strings":
                ok = sh.strings(value, here, op_id) is not None and ok
            elif check == "iam":
                iam = sh.obj(value, here, op_id)
                if iam is not None:
                    sh.known_keys(iam, here, IAM_KEYS, op_id)
                    for k in IAM_KEYS:
                        if sh.required(iam, k, here, "an S3 credential", op_id):
                            ok = sh.string(iam[k], here + (k,), op_id) is not None and ok
                        else:
                            ok = False
            elif check == "buckets":
                if not isinstance(value, list):
                    sh.wrong(here, "an array of {url, files?}", value, op_id)
                    ok = False
                    continue
                for j, bucket in enumerate(value):
                    b = sh.obj(bucket, here + (j,), op_id)
                    if b is None:
                        ok = False
                        continue
                    sh.known_keys(b, here + (j,), ["url", "files"], op_id)
                    if sh.required(b, "url", here + (j,), "the bucket's URL", op_id):
                        ok = sh.string(b["url"], here + (j, "url"), op_id) is not None and ok
                    if "files" in b:
                        ok = sh.strings(b["files"], here + (j, "files"), op_id) is not None and ok
        return kind if ok else None

    def _spread_marker(self, obj: dict, path: Path, op_id: str) -> None:
        """`{__spread__: literal, chunked?}` as the schema allows it (in expose and resources)."""
        self.shape.known_keys(obj, path, [SPREAD, "chunked"], op_id)
        literal = obj[SPREAD]
        if not (isinstance(literal, str) and SCHEMA_LITERAL.fullmatch(literal)):
            self.shape.wrong(path + (SPREAD,), "a literal such as %%ops.ID.results.KEY%%", literal, op_id)
        if "chunked" in obj:
            self.shape.boolean(obj["chunked"], path + ("chunked",), op_id)


OLLAMA_STORE = "/root/.ollama"  # where the ollama image keeps its models
PRIVATE_FIELDS = ("IAM", "accessToken")  # credentials: fetchers get them as environment variables only
CACHE_NEUTRAL = ("target", "allowWrite")  # where it is mounted changes nothing about what is fetched


def resource(kind: str, obj: dict) -> Resource:
    """A checked resource, split into what may be written out and the credentials that may not."""
    import hashlib

    spec = {k: v for k, v in obj.items() if k not in PRIVATE_FIELDS}
    keyed = {k: v for k, v in spec.items() if k not in CACHE_NEUTRAL}
    digest = hashlib.sha256(json.dumps([kind, keyed], sort_keys=True).encode()).hexdigest()[:16]
    secrets: list[tuple[str, str]] = []
    if isinstance(obj.get("IAM"), dict):
        iam = obj["IAM"]
        secrets += [("N2C_S3_ACCESS_KEY_ID", iam.get("ACCESS_KEY_ID", "")), ("N2C_S3_SECRET_ACCESS_KEY", iam.get("SECRET_ACCESS_KEY", "")),
                    ("N2C_S3_REGION", iam.get("REGION", ""))]
    if isinstance(obj.get("accessToken"), str):
        secrets.append(("N2C_HF_TOKEN", obj["accessToken"]))
    target = obj.get("target") or OLLAMA_STORE
    return Resource(kind, target, json.dumps(spec, sort_keys=True), f"nos2compose-cache-{digest}", tuple(secrets))


class RegistryLogin(NamedTuple):
    op: str
    server: str | None  # None: Docker Hub
    username: str
    password: str

    def __repr__(self) -> str:  # never show the password, even in a traceback
        return f"RegistryLogin(op={self.op!r}, server={self.server!r}, username={self.username!r}, password=***)"


def registry_of(image: Any) -> str | None:
    """The registry host of an image reference (None for Docker Hub), as Docker reads it."""
    if not isinstance(image, str) or "/" not in image:
        return None
    first = image.split("/", 1)[0]
    return first if ("." in first or ":" in first or first == "localhost") else None


def _groups_and_results(raw_ops: Any) -> tuple[dict[str, int], dict[str, set]]:
    """From the raw ops, before they are read: each op's group position and result keys (for literals)."""
    order: dict[str, int] = {}
    groups: dict[str, int] = {}
    keys: dict[str, set] = {}
    for raw in raw_ops if isinstance(raw_ops, list) else ():
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            continue
        execution = raw.get("execution") if isinstance(raw.get("execution"), dict) else {}
        group = execution.get("group") if isinstance(execution.get("group"), str) else raw["id"]
        order[raw["id"]] = groups.setdefault(group, len(groups))
        if isinstance(raw.get("results"), dict):
            keys[raw["id"]] = set(raw["results"])
    return order, keys


def _as_command(value: str | list[str], shell: bool) -> tuple[str, ...]:
    """cmd strings run through /bin/sh -c, as on the node; an entrypoint string is one word, as Docker takes it."""
    if isinstance(value, str):
        return ("/bin/sh", "-c", value) if shell else (value,)
    return tuple(value)


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
