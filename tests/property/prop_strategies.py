"""Hypothesis strategies for valid Nosana jobs whose text is as hostile as JSON can carry.

A job drawn here is valid for Nosana's network validators (@nosana/types and
@nosana/sdk accept any op id without U+0020, any group name, any strings): convert
must take it (exit 0) and Compose must read back every value exactly. A few
draws are deliberately invalid in a way the compiler must refuse at a located
path (an image of only whitespace, an empty env name); the draw's "invalid" says where.

What the strategies leave out, and why:
- lone surrogates, U+FFFE, U+FFFF: no YAML reader takes them (the compiler refuses
  them with a located error; test_limits checks that);
- text that forms a literal (`%%ops.…%%`, `%%global.…%%`), `__remove-if-empty__` as a
  whole array item and `__spread__`/`__pairs__` as keys: those are Nosana's operators,
  resolved by rules of their own. Literals appear only where a draw puts them on
  purpose: `%%global.variables.NAME%%` inside the op's args;
- variable values that are empty (the node takes them for unresolved: the op fails) or hold `[` or `{`
  (the node parses a value that starts with one, once trimmed, as JSON: another rule).
"""

from __future__ import annotations

import re
from typing import Any

from hypothesis import strategies as st

# -- hostile text ----------------------------------------------------------------------------

CANARY_TOKENS = [  # what could reach Compose's interpolation, or an older design's NUL markers
    "$",
    "$$",
    "$$$",
    "${X}",
    "$X",
    "${N2C_CANARY}",
    "$N2C_CANARY",
    "${N2C_A_B}",
    "$N2C_A_B",
    "${N2C_A_B?set by nos2compose up}",
    "$${N2C_CANARY}",
    "${N2C_CANARY:-default}",
    "${N2C_CANARY:?boom}",
    "${N2C_CANARY",
    "${HOME}",
    "$HOME",
    "${N2C_SECRET_A}",
    "\x00n2c:N2C_CANARY\x00",
    "\x00n2c:N2C_A_B\x00",
]
YAML_TOKENS = [  # what a YAML writer could get wrong
    "yes",
    "No",
    "on",
    "OFF",
    "y",
    "n",
    "true",
    "False",
    "null",
    "Null",
    "~",
    "0x1F",
    "0o17",
    "0b1",
    "1e3",
    "08",
    "010",
    "1_000",
    "1:20",
    ".inf",
    "-.5",
    "+1",
    "2001-12-14",
    ": ",
    ":",
    "#",
    " #",
    "*",
    "&",
    "!",
    "!!str",
    "%",
    "@",
    "`",
    "|",
    ">",
    "-",
    "- ",
    "? ",
    "---",
    "...",
    "<<",
    "=",
    "{",
    "}",
    "[",
    "]",
    ",",
    " ",
    "  ",
    "'",
    '"',
    "\\",
    "\\n",
    "\\u0041",
    "%%",
]
CHARACTER_TOKENS = [  # what a terminal, a YAML reader or a comment could choke on
    "\n",
    "\r",
    "\r\n",
    "\t",
    "\x0b",
    "\x0c",
    "\x1b[31m",
    "\x1b]0;title\x07",
    "\x01",
    "\x08",
    "\x1c",
    "\x1f",
    "\x7f",
    "\x80",
    "\x85",
    "\x9b",
    "\x9f",
    "\xa0",
    "\u2028",
    "\u2029",
    "\u200b",
    "\u200e",
    "\u200f",
    "\u202e",
    "\u2066",
    "\u061c",
    "\ufeff",
    "\ufffd",
    "\U0001f600",
    "\U0001f469\u200d\U0001f469\u200d\U0001f467",
    "e\u0301",
    "\u0130",
    "\u00df",
    "\U0010fffd",
    "\ue000",
]
TOKENS = CANARY_TOKENS + YAML_TOKENS + CHARACTER_TOKENS

_NOT_CARRIED = "\ufffe\uffff"
_LITERAL_LIKE = re.compile(r"%%\s*(?:globals?|ops)\.")
OPERATORS = ("__remove-if-empty__", "__spread__", "__pairs__")


def _fine(text: str) -> bool:
    return not _LITERAL_LIKE.search(text) and text not in OPERATORS


any_char = st.characters(blacklist_categories=("Cs",), blacklist_characters=_NOT_CARRIED)
piece = st.one_of(st.sampled_from(TOKENS), any_char, st.text(alphabet="abcXYZ019_-./", min_size=1, max_size=4))
hostile = st.lists(piece, max_size=7).map("".join).filter(_fine)
nonblank = hostile.filter(lambda s: s.strip() != "")
# ids: any text without U+0020 (what Nosana's validators and the compiler accept)
op_ids = hostile.map(lambda s: s.replace(" ", ""))
variable_names = st.text(alphabet="ABCXYZabc019_-", min_size=1, max_size=6)
# the node takes "" for unresolved, and parses a value that starts (after trimming) with [ or { as JSON
variable_values = hostile.filter(lambda s: s != "" and "[" not in s and "{" not in s)


def literal(name: str) -> str:
    return f"%%global.variables.{name}%%"


@st.composite
def field(draw, names: list[str], text=hostile) -> str:
    """Hostile text, sometimes with a global variable spliced in (resolved at convert time)."""
    value = draw(text)
    if names and draw(st.integers(0, 3)) == 0:
        at = draw(st.integers(0, len(value)))
        value = value[:at] + literal(draw(st.sampled_from(names))) + value[at:]
    return value


@st.composite
def commands(draw, names: list[str]):
    if draw(st.booleans()):
        return draw(field(names))
    return draw(st.lists(field(names), max_size=4).filter(lambda items: "__remove-if-empty__" not in items))


@st.composite
def env_maps(draw, names: list[str], allow_literals: bool = True):
    keys = draw(st.lists(nonblank.filter(lambda k: k not in OPERATORS and "%%" not in k), max_size=4, unique=True))
    return {k: draw(field(names if allow_literals else [])) for k in keys}


@st.composite
def health_check(draw, names: list[str]):
    if draw(st.integers(0, 4)) == 0:
        return {"type": "websocket", "expected_response": draw(field(names)), "continuous": draw(st.booleans())}
    method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE"]))
    check: dict[str, Any] = {
        "type": "http",
        "path": draw(field(names)),
        "method": method,
        "expected_status": draw(st.integers(100, 599)),
        "continuous": draw(st.booleans()),
    }
    if draw(st.booleans()):
        check["headers"] = {
            k: draw(field(names)) for k in draw(st.lists(nonblank.filter(lambda k: "%%" not in k), max_size=3))
        }
    if method in ("POST", "PUT") and draw(st.booleans()):
        check["body"] = draw(
            st.one_of(field(names), st.dictionaries(hostile.filter(lambda k: "%%" not in k), hostile, max_size=3))
        )
    return check


@st.composite
def exposes(draw, names: list[str]):
    ports = draw(st.lists(st.integers(1, 65535), min_size=1, max_size=3, unique=True))
    items = []
    for port in ports:
        if draw(st.booleans()):
            items.append(port)
        else:
            item: dict[str, Any] = {"port": port}
            if draw(st.booleans()):
                item["type"] = draw(st.sampled_from(["web", "api", "webapi", "websocket", "none"]))
            item["health_checks"] = draw(st.lists(health_check(names), max_size=2))
            items.append(item)
    return items[0] if len(items) == 1 and draw(st.booleans()) else items


@st.composite
def run_args(draw, names: list[str], has_global_image: bool):
    args: dict[str, Any] = {}
    if not has_global_image or draw(st.integers(0, 3)):
        args["image"] = draw(field(names, nonblank))
    for key, strategy in (
        ("cmd", commands(names)),
        ("entrypoint", commands(names)),
        ("work_dir", field(names)),
        ("env", env_maps(names)),
        ("aliases", st.one_of(field(names), st.lists(field(names), max_size=3))),
        ("expose", exposes(names)),
    ):
        if draw(st.booleans()):
            args[key] = draw(strategy)
    return args


@st.composite
def valid_jobs(draw, max_ops: int = 4) -> dict:
    """{"job", "name" (--name), "probe" (--health-probe), "format" (json/yaml), "ascii" (only ASCII in the
    file), "invalid" (JSON paths where the draw made the job invalid on purpose; [] for a valid job)}."""
    variables = draw(st.dictionaries(variable_names, variable_values, max_size=3))
    names = sorted(variables)
    global_: dict[str, Any] = {}
    if variables:
        global_["variables"] = variables
    # no literals in global.*: only an op's args are resolved (as the node does it)
    if draw(st.integers(0, 2)) == 0:
        global_["image"] = draw(nonblank)
    if draw(st.integers(0, 3)) == 0:
        global_["env"] = draw(env_maps([], allow_literals=False))
    if draw(st.integers(0, 3)) == 0:
        global_["entrypoint"] = draw(commands([]))
    if draw(st.integers(0, 3)) == 0:
        global_["work_dir"] = draw(hostile)

    ids = draw(st.lists(op_ids, min_size=1, max_size=max_ops, unique=True))
    group_pool = draw(st.lists(hostile, min_size=1, max_size=3, unique=True))
    ops = []
    group_of: dict[str, str] = {}
    for op_id in ids:
        op: dict[str, Any] = {"type": "container/run", "id": op_id, "args": draw(run_args(names, "image" in global_))}
        execution: dict[str, Any] = {}
        if draw(st.booleans()):
            execution["group"] = draw(st.sampled_from(group_pool))
        group = execution.get("group", op_id)
        same_group = [o for o in group_of if group_of[o] == group]
        if same_group and draw(st.booleans()):
            execution["depends_on"] = draw(st.lists(st.sampled_from(same_group), min_size=1, unique=True))
            if draw(st.booleans()):
                execution["stop_if_dependent_stops"] = True
        if execution:
            op["execution"] = execution
        if draw(st.integers(0, 3)) == 0:
            op["results"] = {
                k: draw(st.one_of(hostile, st.builds(lambda r: {"regex": r, "logType": ["stdout"]}, hostile)))
                for k in draw(st.lists(hostile, min_size=1, max_size=2, unique=True))
            }
        group_of[op_id] = group
        ops.append(op)
    job: dict[str, Any] = {"version": "0.1", "type": "container", "ops": ops}
    if global_:
        job["global"] = global_

    invalid: list[str] = []
    if draw(st.integers(0, 19)) == 0:  # now and then, invalid on purpose: convert must say where
        i = draw(st.integers(0, len(ops) - 1))
        if draw(st.booleans()):
            ops[i]["args"]["image"] = draw(st.sampled_from(["", " ", "\t", " \n "]))
            invalid.append(f"$.ops[{i}].args.image")
        else:
            ops[i]["args"].setdefault("env", {})[""] = "x"
            invalid.append(f"$.ops[{i}].args.env")

    name = draw(st.sampled_from(["job", "hostile-1", "a_b-2"]))
    probe = draw(st.sampled_from(["container", "sidecar"]))
    fmt = draw(st.sampled_from(["json", "json", "yaml"]))
    return {"job": job, "name": name, "probe": probe, "format": fmt, "ascii": draw(st.booleans()), "invalid": invalid}


# -- documents for the YAML writer alone -----------------------------------------------------

writer_text = st.one_of(hostile, st.text(any_char, max_size=12), st.sampled_from(TOKENS))
long_text = st.builds(
    lambda c, n: c * n, st.sampled_from(["K", "\x01", "\U0001f600", '"', "$", "a\n"]), st.integers(1000, 1100)
)
writer_keys = st.one_of(writer_text, long_text)
writer_scalars = st.one_of(writer_text, long_text, st.integers(-(2**63), 2**63), st.booleans())
writer_docs = st.recursive(
    writer_scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(writer_keys, children, max_size=4)),
    max_leaves=12,
)
