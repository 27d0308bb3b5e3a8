"""A container/run op's args -> RunOp: literals resolved first, then each field read, global fallbacks applied."""

from __future__ import annotations

from typing import Any

from ..diagnostics import Path
from ..model import RunOp, Template
from ..results import ResultSpec
from .authentication import read_authentication
from .context import JobContext
from .expose import check_raw_expose, expose_from, read_expose
from .literals import resolve_args
from .node_values import env_string
from .resources import check_raw_resources, read_resources
from .shape import Shape

RUN_KEYS = (
    "image",
    "cmd",
    "entrypoint",
    "env",
    "gpu",
    "work_dir",
    "volumes",
    "aliases",
    "expose",
    "private",
    "restart_policy",
    "resources",
    "authentication",
)
OLD_RUN_KEYS = ("output", "required_vram")
RESTART_POLICIES = ("no", "always", "unless-stopped", "on-failure")


def read_run(
    context: JobContext,
    raw_args: dict,
    path: Path,
    op_id: str,
    index: int,
    group: str,
    execution: dict,
    results: tuple[ResultSpec, ...] = (),
) -> tuple[RunOp, tuple] | None:
    """The op and the registry logins its image needs, or None when it cannot run (errors reported)."""
    sh, apath = context.shape, (*path, "args")
    sh.known_keys({k: v for k, v in raw_args.items() if k not in OLD_RUN_KEYS}, apath, RUN_KEYS, op_id)
    for key in OLD_RUN_KEYS:
        if key in raw_args:
            sh.diags.strict_rule(
                (*apath, key), f"'{key}' is an older field that newer validators reject", "ignored", op_id, "NOS002"
            )
    args = resolve_args(raw_args, apath, context.literals, sh.diags, op_id)
    refuses: list[str] = []
    process = _process(context, args, raw_args, apath, op_id, refuses)
    around = _around(sh, args, raw_args, apath, op_id)
    if process["image"] is None or around["expose"] is None:
        return None
    logins = around.pop("logins")
    op = RunOp(
        id=op_id,
        index=index,
        group=group,
        depends_on=execution.get("depends_on", ()),
        **process,
        **around,
        results=results,
        stop_if_dependent_stops=execution.get("stop_if_dependent_stops", False),
        expose_from=expose_from(args.get("expose")),
        unresolved=tuple(context.literals.unresolved.get(op_id, ())),
        engine_refuses=tuple(refuses),
        grouped=isinstance(execution.get("group"), str),
    )
    return op, logins


def _process(context: JobContext, args: dict, raw_args: dict, apath: Path, op_id: str, refuses: list) -> dict:
    """What the op's container runs: image, command, entrypoint, working directory, environment, GPU."""
    sh, g = context.shape, context.global_
    image = _image(sh, args, g, apath, op_id)
    cmd = _command(sh, args, raw_args, "cmd", apath, op_id, True, refuses)
    entrypoint = _command(sh, args, raw_args, "entrypoint", apath, op_id, False, refuses)
    if entrypoint is None and "entrypoint" not in args and "entrypoint" in g:
        entrypoint = as_command(g["entrypoint"], shell=False)
    work_dir = sh.string(args["work_dir"], (*apath, "work_dir"), op_id) if "work_dir" in args else g.get("work_dir")
    env, env_from = _env(sh, args, raw_args.get("env"), g, apath, op_id, context.job_name)
    gpu = bool(g.get("gpu"))
    if "gpu" in args:
        gpu = bool(sh.boolean(args["gpu"], (*apath, "gpu"), op_id)) or gpu
    return {
        "image": image,
        "cmd": cmd,
        "entrypoint": entrypoint,
        "work_dir": work_dir,
        "env": tuple(env.items()),
        "env_from": env_from,
        "gpu": gpu,
    }


def _around(sh: Shape, args: dict, raw_args: dict, apath: Path, op_id: str) -> dict:
    """What surrounds the container: exposed ports, volumes, aliases, restart policy, resources, registry logins."""
    if "expose" in raw_args:
        check_raw_expose(sh, raw_args["expose"], (*apath, "expose"), op_id)
    expose = read_expose(sh, args["expose"], (*apath, "expose"), op_id) if "expose" in args else ()
    mounts = _mounts(sh, args["volumes"], (*apath, "volumes"), op_id) if "volumes" in args else ()
    aliases = _aliases(sh, args["aliases"], (*apath, "aliases"), op_id) if "aliases" in args else ()
    restart = (
        _restart(sh, args["restart_policy"], (*apath, "restart_policy"), op_id) if "restart_policy" in args else None
    )
    if restart in ("unless-stopped", "on-failure") and not expose:  # a task: its command is meant to exit
        _without_limit(sh, (*apath, "restart_policy"), args["restart_policy"], op_id)
    _sdk_rules(sh, raw_args, apath, op_id)
    if "private" in args and sh.boolean(args["private"], (*apath, "private"), op_id):
        sh.diags.warning(
            (*apath, "private"),
            "private only changes how the node makes the public URL; locally every port is published on 127.0.0.1 only",
            op_id,
            "NOS904",
        )
    if "resources" in raw_args:
        check_raw_resources(sh, raw_args["resources"], (*apath, "resources"), op_id)
    resources = read_resources(sh, args["resources"], (*apath, "resources"), op_id) if "resources" in args else ()
    logins = (
        read_authentication(sh, args["authentication"], (*apath, "authentication"), op_id, args.get("image"))
        if "authentication" in args
        else ()
    )
    return {
        "expose": expose,
        "mounts": mounts,
        "aliases": aliases,
        "restart": restart,
        "resources": resources,
        "logins": logins,
    }


def _sdk_rules(sh: Shape, raw: dict, apath: Path, op_id: str) -> None:
    """What @nosana/sdk, which the node validates with, refuses although @nosana/types accepts it. (restart_policy
    is not among them: the node is built against sdk ^0.4.83, whose RestartPolicy its Podman code passes on.)"""
    sdk = "which @nosana/sdk (the node's validator) refuses"
    if raw.get("volumes") == []:
        sh.diags.strict_rule((*apath, "volumes"), f"an empty volumes array, {sdk}", "ignored", op_id, "NOS007")
    expose = raw.get("expose")
    if isinstance(expose, dict) and "__spread__" not in expose:
        sh.diags.strict_rule(
            (*apath, "expose"),
            f"expose as a single {{port, …}} object, {sdk} (it wants a number, an array or a spread)",
            "read as a one-item array",
            op_id,
            "NOS007",
        )
    if isinstance(expose, dict) and "chunked" in expose:
        sh.diags.strict_rule(
            (*apath, "expose", "chunked"), f"chunked on expose's spread, {sdk}", "applied", op_id, "NOS007"
        )


def _image(sh: Shape, args: dict, g: dict, apath: Path, op_id: str) -> str | None:
    if "image" in args:
        return sh.string(args["image"], (*apath, "image"), op_id)
    if "image" in g:
        sh.diags.strict_rule(apath, "no 'image' of its own", f"global.image '{g['image']}' is used", op_id, "NOS004")
        return g["image"]
    sh.diags.error(apath, "missing required key 'image' (and no global.image to fall back on)", op_id)
    return None


def _env(sh: Shape, args: dict, raw_env, g: dict, apath: Path, op_id: str, job_name: str) -> tuple[dict, tuple]:
    """{...global.env, ...args.env, NOSANA_ID}, as the node merges it; objects spread from results apart."""
    env = dict(g.get("env") or {})
    if "env" in args:
        given = raw_env if isinstance(raw_env, dict) else {}
        resolved = sh.obj(args["env"], (*apath, "env"), op_id) or {}
        # what a literal or a spread brought may be a number, a boolean or JSON: the node makes it a string
        # (finalizeEnv.ts); a value the job itself gives must be a string
        resolved = {
            k: env_string(v) if isinstance(given.get(k, ""), str) and not isinstance(v, str) else v
            for k, v in resolved.items()
        }
        env.update(sh.string_map(resolved, (*apath, "env"), op_id) or {})
    env["NOSANA_ID"] = job_name
    spread = tuple(k.whole for k in env if isinstance(k, Template) and k.whole is not None)
    return {k: v for k, v in env.items() if not (isinstance(k, Template) and k.whole is not None)}, spread


def as_command(value: str | list[str], shell: bool) -> tuple[str, ...]:
    """cmd strings run through /bin/sh -c, as on the node; an entrypoint string is one word, as Docker takes it."""
    if isinstance(value, str):
        return ("/bin/sh", "-c", value) if shell else (value,)
    return tuple(value)


_GO_KIND = {dict: "object", int: "number", float: "number", bool: "bool"}  # what Go's json names, arrays aside
_JS_KIND = {dict: "an object", list: "an array", int: "a number", float: "a number", bool: "a boolean"}


def _command(
    sh: Shape, args: dict, raw: dict, key: str, apath: Path, op_id: str, shell: bool, refuses: list[str]
) -> tuple[str, ...] | None:
    if key not in args:
        return None
    value = args[key]
    written = raw.get(key)
    as_text = isinstance(written, str) or (
        isinstance(written, list) and all(isinstance(w, (str, dict)) for w in written)
    )
    if (
        as_text
        and not isinstance(value, str)
        and not (isinstance(value, list) and all(isinstance(v, str) for v in value))
    ):
        # text the job wrote as a string became an object or a number (the node parses JSON-looking text):
        # Docker refuses the node's container for it; the file keeps that item as JSON text
        field = "Cmd" if key == "cmd" else "Entrypoint"
        go_kind = _GO_KIND.get(type(value), "array")
        said = (
            f"(HTTP code 500) server error - json: cannot unmarshal {go_kind} into Go struct field "
            f"ContainerConfigWrapper.{field} of type string"
        )
        odd = next(v for v in value if not isinstance(v, str)) if isinstance(value, list) else value
        sh.diags.warning(
            (*apath, key),
            f"the node parses JSON-looking text in {key} and passes {env_string(odd)} on as "
            f"{_JS_KIND.get(type(odd), 'a value')}, not a string: Docker refuses its container ({said}), "
            "so on a node this op fails before it starts (exit code 2); `nos2compose up` does the same",
            op_id,
            "NOS306",
        )
        refuses.append(said)
        texts: dict[int, str] = {}  # by token: a value spliced again and again is made text once, not per use
        if not isinstance(value, list):  # a whole literal whose value is a number or an object
            value = env_string(value)
        else:
            value = [
                v if isinstance(v, str) else texts.get(id(v)) or texts.setdefault(id(v), env_string(v)) for v in value
            ]
    value = sh.string_or_strings(value, (*apath, key), op_id)
    return None if value is None else as_command(value, shell)


def _mounts(sh: Shape, raw: Any, path: Path, op_id: str) -> tuple:
    from ..model import Mount

    if not isinstance(raw, list):
        sh.wrong(path, "an array of {name, dest}", raw, op_id)
        return ()
    out = []
    for i, item in enumerate(raw):
        here = (*path, i)
        obj = sh.obj(item, here, op_id)
        if obj is None:
            continue
        sh.known_keys(obj, here, ["name", "dest"], op_id)
        if not (
            sh.required(obj, "name", here, "a create-volume op's volume name", op_id)
            and sh.required(obj, "dest", here, "the path in the container", op_id)
        ):
            continue
        name = sh.string(obj["name"], (*here, "name"), op_id)
        dest = sh.string(obj["dest"], (*here, "dest"), op_id)
        if dest is not None and not dest.startswith("/"):
            sh.diags.error((*here, "dest"), f"expected an absolute path in the container, found {dest!r}", op_id)
            dest = None
        if name is not None and dest is not None:
            out.append(Mount(name, dest))
    return tuple(out)


def _aliases(sh: Shape, raw: Any, path: Path, op_id: str) -> tuple[str, ...]:
    value = sh.string_or_strings(raw, path, op_id)
    if value is None:
        return ()
    items = (
        value.split(",")
        if isinstance(value, str) and not isinstance(value, Template)
        else [value]
        if isinstance(value, str)
        else value
    )
    return tuple(dict.fromkeys(a if isinstance(a, Template) else a.strip() for a in items if a.strip()))


def _restart(sh: Shape, raw: Any, path: Path, op_id: str) -> str | None:
    """Compose's `restart` for the policy, as the node's Podman provider passes it on (createPodmanRunOptions.ts
    parseRestartPolicy): `always` becomes unless-stopped, other names stay; {policy, restart_tries: N} becomes
    on-failure:N, and on-failure without a count (none, or 0) restarts without limit."""
    if isinstance(raw, dict):
        sh.known_keys(raw, path, ["policy", "restart_tries"], op_id)
        if not sh.required(raw, "policy", path, '"on-failure"', op_id):
            return None
        if sh.one_of(raw["policy"], (*path, "policy"), ["on-failure"], op_id) is None:
            return None
        if "restart_tries" in raw:
            tries = sh.integer(raw["restart_tries"], (*path, "restart_tries"), 0, 1_000_000, "a count", op_id)
            if tries:
                return f"on-failure:{tries}"
        return "on-failure"
    policy = sh.one_of(raw, path, RESTART_POLICIES, op_id)
    return "unless-stopped" if policy == "always" else policy


def _without_limit(sh: Shape, path: Path, raw: Any, op_id: str) -> None:
    """NOS911, for a task (an op that exposes nothing: its command is meant to exit): a node ends an op that
    restarts without limit once its polls find it stopped (the Podman provider's ContainerStateManager); Docker's
    restarts never look stopped, so locally it never ends (tests/fidelity)."""
    policy = "on-failure" if isinstance(raw, dict) else str(raw)
    when = "fails" if policy == "on-failure" else "exits"
    sh.diags.warning(
        path,
        f"restart_policy {policy} (no limit) restarts the op each time its command {when}: a node (Podman) ends "
        "the op once three of its polls, a second apart, find it stopped between two runs (after a few seconds "
        "or more, with the last exit code), but Docker here keeps restarting it, so `nos2compose up` waits for it "
        "until --timeout; for a task, give on-failure with restart_tries, or no policy",
        op_id,
        "NOS911",
    )
