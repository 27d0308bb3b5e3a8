"""Values that look like JSON, wherever the node parses them (issue 21): strategies and their check.

The node runs JSON.parse on args text that starts with `[` or `{` (after trim()), on every __spread__ /
__pairs__ string and on chunked joins; V8 takes any depth. nos2compose answers each such value with the node's
value, or with one located error at the value's path when it passes a documented bound (deeper than 100
levels; longer than the input limit), from `validate` and `convert` alike, within 20 s and 1 GiB. The node's
value is computed by node_values.mjs, the node's own functions under Node.js (skipped when there is none).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st
from prop_support import answered_cleanly, in_parallel, run_cli, temp_dir, unescape, within_bounds

HERE = Path(__file__).resolve().parent
BOUND = 100  # levels (load/json_text.py, docs/limits.md)

# -- strategies --------------------------------------------------------------------------------------------

# brackets, quotes and escapes inside strings, where they do not count; no `%` (no literal), no surrogate
TEXT = st.text(st.sampled_from('ab []{}",:\\/\t\u00e9\u2028\U0001f600$'), max_size=6)
# no integer-like keys: JavaScript orders those first in an object, which nos2compose does not (not issue 21)
KEYS = st.text(st.sampled_from("kxy[{ "), min_size=1, max_size=3).map(lambda k: "k" + k)
LEAF = st.one_of(st.integers(-(10**6), 10**6), st.booleans(), st.none(), TEXT).map(json.dumps)
SPACE = st.sampled_from(["", " ", "\n\t", "\u00a0", "\ufeff", "\u2028\u3000", "\x1c"])


@st.composite
def deep(draw) -> str:
    """Arrays and objects nested around the bound (and far past it), built as text: no recursion here either."""
    depth = draw(st.one_of(st.integers(1, 130), st.sampled_from([99, 100, 101, 300, 5000, 100_000])))
    opens, closes = [], []
    pattern = draw(st.sampled_from(["[", "{", "[{", "{[["]))
    for level in range(depth):
        if pattern[level % len(pattern)] == "[":
            opens.append("[")
            closes.append("]")
        else:
            opens.append('{"' + draw(KEYS) + '":' if level < 3 else '{"k":')
            closes.append("}")
    return "".join(opens) + draw(LEAF) + "".join(reversed(closes))


@st.composite
def wide(draw) -> str:
    items = draw(st.lists(LEAF, min_size=1, max_size=8))
    return "[" + ",".join(items * draw(st.integers(1, 5000))) + "]"


def _containers(inner: st.SearchStrategy) -> st.SearchStrategy:
    arrays = st.lists(inner, max_size=4).map(lambda items: "[" + ",".join(items) + "]")
    objects = st.dictionaries(KEYS, inner, max_size=3).map(
        lambda d: "{" + ",".join(f"{json.dumps(k)}:{v}" for k, v in d.items()) + "}"
    )
    return st.one_of(arrays, objects)


mixed = _containers(st.recursive(LEAF, _containers, max_leaves=12))  # always an array or an object


@st.composite
def json_looking(draw) -> str:
    """Deep, wide, mixed; sometimes broken as JSON.parse would refuse it, wrapped as text inside text, or
    preceded by white space (JavaScript's or not)."""
    text = draw(st.one_of(deep(), wide(), mixed))
    broken = draw(st.sampled_from(["", "", "", "drop-last", "extra-close", "nan", "trailing-comma"]))
    if broken == "drop-last":
        text = text[:-1]
    elif broken == "extra-close":
        text += "]"
    elif broken == "nan" and text.startswith("["):
        text = "[NaN," + text[1:]
    elif broken == "trailing-comma" and text.endswith("]"):
        text = text[:-1] + ",]"
    for _ in range(draw(st.integers(0, 2)) if len(text) < 100_000 else 0):
        text = json.dumps([text], ensure_ascii=False)  # text inside text: tokens parse it again
    return draw(SPACE) + text


PLACES = ["cmd item", "cmd literal", "env", "env literal", "cmd text", "entrypoint", "work_dir", "spread", "pairs",
          "chunked", "embedded"]  # fmt: skip
json_values = st.fixed_dictionaries({"text": json_looking(), "place": st.sampled_from(PLACES)})

# -- the job around a value ----------------------------------------------------------------------------------

X = "%%global.variables.X%%"


def placed(text: str, place: str) -> tuple[dict, dict, str, str | None]:
    """(args, variables, the JSON path of the value, how node_values.mjs gives its value or None)."""
    path = "$.ops[0].args."
    if place == "cmd item":
        return {"cmd": [text, "z"]}, {}, path + "cmd[0]", "item"
    if place == "cmd literal":
        return {"cmd": [X, "z"]}, {"X": text}, path + "cmd[0]", "literal-item"
    if place == "env":
        return {"env": {"A": text}}, {}, path + "env.A", "field"
    if place == "env literal":
        return {"env": {"A": X}}, {"X": text}, path + "env.A", "literal-field"
    if place == "cmd text":
        return {"cmd": text}, {}, path + "cmd", None
    if place == "entrypoint":
        return {"entrypoint": ["sh", text]}, {}, path + "entrypoint[1]", None
    if place == "work_dir":
        return {"work_dir": text}, {}, path + "work_dir", None
    if place == "spread":
        return {"cmd": [{"__spread__": X}]}, {"X": text}, path + "cmd[0]", None
    if place == "pairs":
        return {"env": {"__pairs__": X}}, {"X": text}, path + "env.__pairs__", None
    if place == "chunked":
        half = len(text) // 2
        chunks = {"C1": text[:half] or " ", "C2": text[half:]}
        spread = {"__spread__": ["%%global.variables.C1%%", "%%global.variables.C2%%"], "chunked": True}
        return {"cmd": [spread]}, chunks, path + "cmd[0]", None
    return {"env": {"A": "[" + X + "]"}}, {"X": text}, path + "env.A", None  # embedded in longer text


def node_values(requests: list[dict]) -> list[dict] | None:
    """The node's values (node_values.mjs), or None without Node.js."""
    if shutil.which("node") is None:
        return None
    proc = subprocess.run(
        ["node", "--stack-size=984", str(HERE / "node_values.mjs")],
        input=json.dumps(requests),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(proc.stdout)


# -- the check ---------------------------------------------------------------------------------------------

LOCATED = re.compile(r"^error: job\.json:\d+:\d+: (\$[^ :]*)(?: \(op \"[^\"]*\"\))?: (.*)$")


def read_file(compose: str) -> dict:
    """What a generated file means, every scalar a string (libyaml's loader when there is one: files here may
    hold hundreds of thousands of items), `$$` read as `$`."""
    return unescape(yaml.load(compose, Loader=getattr(yaml, "CBaseLoader", yaml.BaseLoader)))


def located_errors(stderr: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in map(LOCATED.match, stderr.splitlines()) if m]


def answered_alike(runs: list, problems: list[str]) -> list[tuple[str, str]]:
    """validate and convert each answered cleanly, within the bounds, alike: the located errors of one."""
    for run in runs:
        problems += [p for p in (answered_cleanly(run, "job.json"), within_bounds(run)) if p]
    validate, convert = runs
    if validate.status != convert.status or located_errors(validate.err) != located_errors(convert.err):
        problems.append(f"validate and convert differ: {validate!r} {convert!r}")
    errors = located_errors(convert.err)
    if convert.status == 2 and len(errors) != 1:
        problems.append(f"exit 2 with {len(errors)} located errors, not one: {convert!r}")
    return errors


def check_json_value(example: dict) -> None:
    """The node's value, or one located error at the value's path when it passes a bound; alike from validate
    and convert; never a traceback; within 20 s and 1 GiB."""
    text, place = example["text"], example["place"]
    args, variables, where, how = placed(text, place)
    definition = {"version": "0.1", "type": "container", "ops": [{"type": "container/run", "id": "a"}]}
    definition["ops"][0]["args"] = {"image": "x", **args}
    if variables:
        definition["global"] = {"variables": variables}
    work = temp_dir()
    try:
        (work / "job.json").write_text(json.dumps(definition), encoding="utf-8")
        runs = in_parallel(lambda cmd: run_cli(cmd, "job.json", cwd=work), ["validate", "convert"])
        problems: list[str] = []
        errors = answered_alike(runs, problems)
        node = node_values([{"how": how, "text": text}])[0] if how and not problems else None
        if errors:
            path, message = errors[0]
            if "looks like JSON" in message:  # the bound: only for text that can nest that deep, at its path
                if text.count("[") + text.count("{") <= BOUND or path != where:
                    problems.append(f"a bound's error for text within the bounds, or elsewhere: {errors}")
            # refused although the node parses every JSON-looking text in it within the bounds (text JSON.parse
            # throws on stays text there: refusing it past the bound is one located error, which the issue allows)
            read = node is not None and "error" not in node and not node["refused"] and node["deepest"] <= BOUND
            if read and "looks like JSON" in message:
                problems.append(f"refused what the node reads within the bounds ({node}): {errors}")
        elif node is not None and runs[1].status == 0:
            problems += _same_as_node(runs[1].stdout.decode("utf-8"), place, node)
        assert not problems, "\n".join(problems)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _same_as_node(compose: str, place: str, node: dict[str, Any]) -> list[str]:
    if "error" in node or node["deepest"] > BOUND:
        return [f"converted what the node cannot read within the bounds: {node}"]
    service = read_file(compose)["services"]["a"]
    got = service["command"][:-1] if place.startswith("cmd") else service["environment"]["A"]
    return [] if got == node["value"] else [f"{place}: the node gives {node['value']!r}, the file {got!r}"]
