"""Splices that multiply the output (issue 21): a variable of N items used M times, in cmd, entrypoint, env and
expose, across ops, and results spliced by `up` into its override file. Strategies and their checks.

Every job here is a few hundred KB at most, and may stand for gigabytes of Compose. `validate` and `convert`
answer alike: the file (at most the 50 MiB output limit), or one located error naming that limit; within 20 s
and 1 GiB (the CLI as a process under RLIMIT_AS). The override `up` writes is checked in-process (compose/overrides.py results_override)
against a lowered limit, with tracemalloc's peak.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import tracemalloc

from hypothesis import strategies as st
from prop_support import in_parallel, run_cli, temp_dir
from prop_values import answered_alike, read_file

MiB = 1 << 20
OUTPUT_LIMIT = 50 * MiB
V, OBJ, PORTS = "%%global.variables.V%%", "%%global.variables.O%%", "%%global.variables.P%%"
CHUNKS = {"__spread__": ["%%global.variables.C1%%", "%%global.variables.C2%%"], "chunked": True}

# -- strategies --------------------------------------------------------------------------------------------

splices = st.fixed_dictionaries(
    {
        "n": st.one_of(st.integers(1, 50), st.integers(1000, 250_000)),  # items in the variable
        "m": st.one_of(st.integers(1, 20), st.integers(20, 400)),  # uses per op and field
        "ops": st.integers(1, 4),
        "item": st.sampled_from(["int", "a", "word", "long"]),
        "cmd": st.sampled_from([None, "items", "text", "spread", "chunked"]),
        "entrypoint": st.booleans(),
        "env": st.sampled_from([None, "values", "text", "spread"]),
        "expose": st.booleans(),
    }
).map(lambda d: d if d["cmd"] or d["env"] or d["expose"] else {**d, "entrypoint": True})  # one field at least


def _items(n: int, kind: str) -> list:
    return {
        "int": lambda: [i % 1000 for i in range(n)],
        "a": lambda: ["a"] * n,
        "word": lambda: [f"w{i}" for i in range(n)],
        "long": lambda: ["x" * 30] * n,
    }[kind]()


def splice_job(d: dict) -> dict:
    """The job a draw stands for: each op splices the variable into the fields drawn, M times each. Only the
    variables used are given, and long items are fewer, so the job stays under the 8 MiB input limit."""
    n, m = min(d["n"], 100_000) if d["item"] == "long" else d["n"], d["m"]
    text = json.dumps(_items(n, d["item"]), separators=(",", ":"))
    args: dict = {"image": "x"}
    variables: dict = {}
    cmd = {"items": [V] * m, "text": " ".join([V] * m), "spread": [{"__spread__": V}] * m, "chunked": [CHUNKS] * m}
    if d["cmd"]:
        args["cmd"] = cmd[d["cmd"]]
    if d["entrypoint"]:
        args["entrypoint"] = [{"__spread__": V}] * m
    env = {"values": {f"E{i}": V for i in range(m)}, "text": {f"E{i}": f"x {V}" for i in range(m)}}
    env["spread"] = {"__spread__": OBJ}
    if d["env"]:
        args["env"] = env[d["env"]]
    if d["expose"]:
        args["expose"] = [PORTS]  # the ports once per op: the same port twice in one op is an error of its own
        variables["P"] = json.dumps(list(range(1024, 1024 + min(n, 60_000))))
    if d["cmd"] == "chunked":
        variables.update(C1=text[: len(text) // 2], C2=text[len(text) // 2 :])
    if d["env"] == "spread":
        # an object in a one-item array: the node makes a whole literal a string field's value first, and only a
        # one-item array keeps its item (an object alone would be "[object Object]")
        obj = json.dumps({f"K{i}": v for i, v in enumerate(_items(n, d["item"]))}, separators=(",", ":"))
        variables["O"] = f"[{obj}]"
    if V in json.dumps(args):
        variables["V"] = text
    ops = [{"type": "container/run", "id": f"o{i}", "args": args} for i in range(d["ops"])]
    return {"version": "0.1", "type": "container", "global": {"variables": variables}, "ops": ops}


# -- the checks ------------------------------------------------------------------------------------------------


def check_splices(draw: dict) -> None:
    """The file within the output limit, or one located error naming it; validate and convert alike; never a
    traceback; within 20 s and 1 GiB. What convert writes holds every spliced item."""
    work = temp_dir()
    try:
        (work / "job.json").write_text(json.dumps(splice_job(draw)), encoding="utf-8")
        runs = in_parallel(lambda cmd: run_cli(cmd, "job.json", cwd=work), ["validate", "convert"])
        problems: list[str] = []
        errors = answered_alike(runs, problems)
        convert = runs[1]
        for _, message in errors:
            if "NOS2COMPOSE_MAX_OUTPUT_BYTES" not in message and "host port" not in message:
                problems.append(f"an error that is not the output limit's (nor the host ports'): {message}")
        if convert.status == 0:
            if len(convert.stdout) > OUTPUT_LIMIT:
                problems.append(f"{len(convert.stdout):,} bytes of Compose, past the limit")
            elif len(convert.stdout) < 4 * MiB and draw["cmd"] == "items" and draw["item"] != "long":
                command = read_file(convert.stdout.decode("utf-8"))["services"]["o0"]["command"]
                if len(command) != draw["n"] * draw["m"]:
                    problems.append(f"{len(command)} items in the command, not {draw['n']} x {draw['m']}")
        assert not problems, "\n".join(problems)
    finally:
        shutil.rmtree(work, ignore_errors=True)


fill_splices = st.fixed_dictionaries(
    {
        "n": st.one_of(st.integers(0, 50), st.integers(1000, 100_000)),
        "length": st.integers(1, 64),
        "m": st.integers(1, 300),
        "services": st.integers(1, 4),
        "env": st.integers(0, 5_000),  # entries of an object merged into each service's environment
    }
)

FILL_LIMIT = MiB  # lowered for an in-process check: the bound scales with it


def check_fill(draw: dict) -> None:
    """`up`'s override: the text within the output limit, or Overflow before it is built (tracemalloc's peak at
    most a few times the limit beyond the values themselves), within 20 s."""
    from nos2compose.compose import overrides as fill

    values = {"N2C_A_K": ["v" * draw["length"]] * draw["n"], "N2C_A_P": [str(p) for p in range(1024, 1124)]}
    values["N2C_A_E"] = {f"K{i}": "e" * draw["length"] for i in range(draw["env"])}
    service = {
        "command": ["run", *["${N2C_A_K?x}"] * draw["m"]],
        "ports": ["127.0.0.1:${N2C_A_P?x}:${N2C_A_P?x}"],
        "x-nos2compose": {"environment_from": ["${N2C_A_E?x}"]},
    }
    services = {f"s{i}": service for i in range(draw["services"])}
    before = os.environ.get("NOS2COMPOSE_MAX_OUTPUT_BYTES")
    os.environ["NOS2COMPOSE_MAX_OUTPUT_BYTES"] = str(FILL_LIMIT)
    text, said = None, ""
    tracemalloc.start()
    start = time.monotonic()
    try:
        text = fill.results_override(services, values)
    except fill.Overflow as overflow:
        text, said = None, str(overflow)
    finally:
        seconds, (_, peak) = time.monotonic() - start, tracemalloc.get_traced_memory()
        tracemalloc.stop()
        if before is None:
            os.environ.pop("NOS2COMPOSE_MAX_OUTPUT_BYTES")
        else:
            os.environ["NOS2COMPOSE_MAX_OUTPUT_BYTES"] = before
    assert seconds < 20, f"{seconds:.1f} s"
    assert peak < 6 * FILL_LIMIT, f"tracemalloc peak {peak:,} bytes for a {FILL_LIMIT:,}-byte limit"
    if text is None:
        assert "more than 1 MiB of Compose" in said, said
    else:
        assert len(text.encode()) <= FILL_LIMIT, len(text)
        assert text.count('"' + "v" * draw["length"] + '"') == draw["n"] * draw["m"] * draw["services"]
