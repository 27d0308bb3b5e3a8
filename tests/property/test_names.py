"""Control characters (U+0000-001F, U+007F-009F) and other troublemakers (U+2028/2029, bidi controls, the
BOM) in op ids, group names and the job file's name.

- They never reach a `#` header comment raw (Compose refuses "control characters are not allowed", and
  CR/NEL/LS/PS would end the comment early): compose/yaml_text.comment_text escapes them. Labels and
  x-nos2compose keep the exact text (checked by the roundtrip property on these names).
- In op ids: the service is renamed, with the same located warning from `validate` and `convert`.
- In group names: the name is carried exactly, in labels and x-nos2compose, and slugged in file names,
  with the same located warning from `validate` and `convert` (the node accepts the name).
- In diagnostics (stderr): escaped by the same rule as comments, so each is one plain line.
"""

from __future__ import annotations

import json
import os
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prop_checks import NOT_IN_COMMENT, check_file, check_roundtrip
from prop_support import examples, recorded, run_cli

from nos2compose.compose.yaml_text import comment_text

pytestmark = pytest.mark.property

TROUBLE = [chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)]] + list("\u2028\u2029\u200e\u200f\u202e\u2066\ufeff")
names = st.lists(st.sampled_from([*TROUBLE, "a", "b", "-", ".", ":", " ", "$", "é"]), min_size=1, max_size=6).map(
    "".join
)


@st.composite
def troubled_jobs(draw) -> dict:
    ids = draw(st.lists(names.map(lambda s: s.replace(" ", "")), min_size=1, max_size=4, unique=True))
    groups = draw(st.lists(names, min_size=1, max_size=3))
    ops = []
    for n, op_id in enumerate(ids):
        op = {"type": "container/run", "id": op_id, "args": {"image": "x", "expose": 8000 + n}}
        if draw(st.booleans()):
            op["execution"] = {"group": draw(st.sampled_from(groups))}
        ops.append(op)
    job = {"version": "0.1", "type": "container", "ops": ops}
    return {
        "job": job,
        "name": "job",
        "probe": "container",
        "format": "json",
        "ascii": draw(st.booleans()),
        "invalid": [],
    }


@pytest.mark.compose
@settings(max_examples=examples(12))
@given(example=troubled_jobs())
def test_troubled_ids_and_group_names_never_reach_a_comment_raw(example):
    with recorded("roundtrip", example):
        check_roundtrip(example)


ESCAPED = {*range(0x20), *range(0x7F, 0xA0), 0x061C, 0x200E, 0x200F, 0x2028, 0x2029, *range(0x202A, 0x202F)}
ESCAPED |= {*range(0x2066, 0x206A), 0xFEFF, 0xFFFE, 0xFFFF}


def _by_hand(text: str) -> str:
    return "".join(
        (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}") if ord(c) in ESCAPED else c for c in text
    )


@settings(max_examples=examples(200))
@given(text=st.text(st.one_of(st.sampled_from(TROUBLE), st.characters(blacklist_categories=("Cs",))), max_size=8))
def test_comment_text_escapes_exactly_what_a_comment_cannot_hold(text):
    escaped = comment_text(text)
    assert escaped == _by_hand(text)
    assert not NOT_IN_COMMENT.search(escaped)


CONTROLS = ["\x00", "\x01", "\x08", "\x0a", "\x1b", "\x1f", "\x7f", "\x85", "\x9f", "\u2028"]


def _job_file(tmp_path, op_id: str = "a", group: str | None = None):
    op = {"type": "container/run", "id": op_id, "args": {"image": "x"}}
    if group is not None:
        op["execution"] = {"group": group}
    (tmp_path / "job.json").write_text(json.dumps({"version": "0.1", "type": "container", "ops": [op]}))


def _diagnostics(run) -> list[str]:
    lines = run.err.split("\n")  # not splitlines(): a message that held U+2028 raw would be cut there
    return [line for line in lines if line.startswith(("error: job.json:", "warning: job.json:"))]


@pytest.mark.parametrize("char", CONTROLS, ids=[f"U+{ord(c):04X}" for c in CONTROLS])
def test_a_control_character_in_an_op_id_gets_the_same_located_warning_from_validate_and_convert(tmp_path, char):
    _job_file(tmp_path, op_id=f"a{char}b")
    validate = run_cli("validate", "job.json", cwd=tmp_path)
    convert = run_cli("convert", "job.json", cwd=tmp_path)
    assert validate.status == 0 and convert.status == 0, (validate, convert)
    assert _diagnostics(validate) == _diagnostics(convert)
    assert any(
        re.match(r"warning: job\.json:\d+:\d+: NOS902 \$\.ops\[0\]\.id .*not a valid Compose service name", line)
        for line in _diagnostics(convert)
    ), convert
    for line in _diagnostics(convert):
        assert not re.search("[\x00-\x1f\x7f-\x9f]", line), f"a raw control character in {line!r}"


@pytest.mark.parametrize("char", ["\u2028", "\u2029", "\u202e", "\u2066"], ids=["U+2028", "U+2029", "U+202E", "U+2066"])
def test_a_diagnostic_is_one_plain_line_whatever_the_op_id(tmp_path, char):
    _job_file(tmp_path, op_id=f"a{char}b")
    run = run_cli("validate", "job.json", cwd=tmp_path)
    assert run.status == 0, run
    assert run.err.splitlines() == run.err.removesuffix("\n").split("\n"), repr(run.err)
    assert not re.search("[\u200e\u200f\u202a-\u202e\u2066-\u2069]", run.err), repr(run.err)


@pytest.mark.parametrize("char", CONTROLS, ids=[f"U+{ord(c):04X}" for c in CONTROLS])
def test_a_control_character_in_a_group_name_gets_the_same_located_warning_from_validate_and_convert(tmp_path, char):
    _job_file(tmp_path, group=f"g{char}h")
    validate = run_cli("validate", "job.json", cwd=tmp_path)
    convert = run_cli("convert", "job.json", cwd=tmp_path)
    assert validate.status == 0 and convert.status == 0, (validate, convert)  # the node accepts the job
    assert _diagnostics(validate) == _diagnostics(convert)
    assert any(
        re.match(r"warning: job\.json:\d+:\d+: NOS910 \$\.ops\[0\]\.execution\.group", line)
        for line in _diagnostics(validate)
    ), validate
    for line in _diagnostics(convert):
        assert not re.search("[\x00-\x1f\x7f-\x9f\u2028]", line), f"a raw control character in {line!r}"


FILE_NAMES = {
    "escape-sequence": "a\x1b[31m$x\u2028.json",
    "newline": "line\nbreak.json",
    "carriage-return-yaml": "a\rservices: {evil: {image: evil}}.json",
    "dollar-braces": "${N2C_CANARY}.json",
    "bidi": "\u202egnp.json",
    "not-utf8": os.fsdecode(b"\xff\xfe.json"),
}


@pytest.mark.compose
@pytest.mark.parametrize(
    "file_name",
    list(FILE_NAMES.values()),
    ids=list(FILE_NAMES),
)
def test_a_hostile_job_file_name_never_breaks_the_file(tmp_path, file_name):
    (tmp_path / file_name).write_text(
        json.dumps(
            {
                "version": "0.1",
                "type": "container",
                "ops": [{"type": "container/run", "id": "a", "args": {"image": "x"}}],
            }
        )
    )
    run = run_cli("convert", file_name, cwd=tmp_path)
    assert run.status == 0, run
    out = tmp_path / "out"
    out.mkdir()
    (out / "compose.yaml").write_bytes(run.stdout)
    doc, problems = check_file(out / "compose.yaml", run.stdout.decode("utf-8"))
    assert not problems, problems
    # recorded exactly, but for the bytes of a name that is not UTF-8 (no YAML holds a lone surrogate): \xNN
    assert doc["x-nos2compose"]["source"] == os.fsencode(file_name).decode("utf-8", "backslashreplace")
