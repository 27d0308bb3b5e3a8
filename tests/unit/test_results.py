"""Results read from logs: the same patterns over the same entries in JavaScript (as the node runs them) and here."""

from __future__ import annotations

import json
import subprocess

import pytest

from nos2compose.results import ResultSpec, extract, js_to_python

# (regex, log entries as the node keeps them: one line each, with its newline)
CASES = [
    (r"v(\d)$", ["end v7\n", "v8"]),
    (r"^(\w+)=(\d+)$", ["a=1\n", "b=2"]),
    (r"(?<q>['\"]).*?\k<q>", ["say 'hi' now\n", 'and "so"\n']),
    (r"\k<q>x", ["kx\n", "<q>x\n"]),  # no named group: \k is a plain k
    (r"(?<=\$)\d+(\.\d+)?", ["cost $12.50\n", "cost 3\n"]),
    (r"(?<=v(?:er)?)\d+", ["ver12 v3\n"]),
    (r"done(\s*)", ["done\n"]),
    (r"\Ahead", ["Ahead\n", "head\n"]),
    (r"a\Z", ["aZ\n", "a\n"]),
    (r"[^]x", ["\nx\n", "yx\n"]),
    (r"[$]", ["a$b\n"]),
    (r"\$(\d)", ["$5\n"]),
    (r"(a)|(b)", ["b\n"]),
    (r"\p{L}", ["p{L}\n", "x\n"]),
    (r"(.*)", ["line one\n"]),
    ("*", ["/x\n", "x\n"]),
]

JS = """
const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const out = cases.map(([regex, lines]) => {
  try {
    let found = [];
    for (const line of lines) found = [...found, ...(line.match(new RegExp(regex === '*' ? '/*' : regex)) || [])];
    return found.map((v) => (v === undefined ? null : v));
  } catch (err) { return `${err}`; }
});
process.stdout.write(JSON.stringify(out));
"""


@pytest.mark.node
def test_results_agree_with_javascript():
    run = subprocess.run(["node", "-e", JS], input=json.dumps(CASES), capture_output=True, text=True, check=True)
    expected = json.loads(run.stdout)
    got = [extract([ResultSpec("k", regex)], [("stdout", line) for line in lines])["k"] for regex, lines in CASES]
    for (regex, lines), js, ours in zip(CASES, expected, got, strict=True):
        assert ours == js, f"{regex!r} over {lines!r}: JavaScript {js!r}, nos2compose {ours!r}"


def test_the_translation_leaves_classes_and_escapes_alone():
    assert js_to_python(r"[$]\$x$") == r"[$]\$x\Z"
    assert js_to_python(r"(?<n>a)\k<n>") == r"(?<n>a)(?P=n)"
    assert js_to_python(r"\d\w\s\b") == r"\d\w\s\b"


def test_a_stream_filter_keeps_the_log_order_of_the_rest():
    lines = [("stdout", "out1\n"), ("stderr", "err1\n"), ("stdout", "out2\n")]
    assert extract([ResultSpec("k", r"\w+\d", ("stdout",))], lines) == {"k": ["out1", "out2"]}
    assert extract([ResultSpec("k", r"\w+\d")], lines) == {"k": ["out1", "err1", "out2"]}


def test_the_status_table_shows_results_with_groups_that_took_no_part():
    from nos2compose.run_plan import PlannedOp
    from nos2compose.supervisor.report import status_table
    from nos2compose.supervisor.states import OpStatus

    status = OpStatus(PlannedOp("res", "res", "g", False, (), False), "completed", 0)
    table = status_table([status], {"res": {"optional": ["a", None], "bad": "SyntaxError: x"}})
    assert "optional=a; bad=SyntaxError: x" in table[1]
