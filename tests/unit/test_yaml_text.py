"""The YAML writer: the same bytes everywhere, and nothing YAML would misread."""

from __future__ import annotations

import random

import pytest
import yaml

from nos2compose.compose.yaml_text import dump

ALPHABET = "ab :#-?'\"\\\n\t${}[]%&*!|>@`,\u2028\x85é😀0"


def test_yaml_writer_round_trips_awkward_strings():
    rng = random.Random(7)
    for _ in range(2000):
        s = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 12)))
        doc = {"k": s, s or "empty": [s, {"x": s}], "n": [1, True, False, [], {}]}
        assert yaml.safe_load(dump(doc)) == doc, repr(s)


def test_yaml_writer_quotes_what_yaml_would_misread():
    for tricky in [
        "yes",
        "No",
        "on",
        "null",
        "~",
        "1.0",
        "0x10",
        "80:80",
        "1e3",
        "-x",
        ": x",
        "#c",
        "*a",
        "&a",
        "!t",
        "",
    ]:
        assert yaml.safe_load(dump({"v": tricky}))["v"] == tricky


def test_yaml_writer_quotes_what_composes_reader_takes_for_a_number():
    # Compose's YAML reader (YAML 1.1 rules) reads -_5 as -5, -_.5 as -0.5 and -_1e3 as -1000; PyYAML does not
    for tricky in ["-_5", "-_.5", "-_1e3", "-_5_"]:
        assert dump({"v": tricky}).strip() == f'v: "{tricky}"'


def _shared_doc() -> dict:
    from nos2compose.compose.yaml_text import MERGE, Anchor

    node = Anchor("nosana-node", {"shm_size": "4gb", "cap_add": ["NET_ADMIN"], "extra_hosts": ["a:8.8.8.8"]})
    return {
        "name": "p",
        "x-nosana-node": node,
        "services": {
            "a": {MERGE: node, "image": "x"},
            "b": {MERGE: node, "image": "w", "cap_add": ["SYS_TIME"]},  # its own key wins over the merged one
            "c": {"image": "z", "environment": {"<<": "a variable named <<"}},  # text, not a merge
        },
        "list": [{MERGE: node, "k": 1}],
    }


def test_an_anchor_is_declared_once_and_merged_by_name():
    text = dump(_shared_doc())
    assert text == (
        "name: p\n"
        "x-nosana-node: &nosana-node\n"
        '  shm_size: "4gb"\n'
        "  cap_add:\n"
        "    - NET_ADMIN\n"
        "  extra_hosts:\n"
        "    - a:8.8.8.8\n"
        "services:\n"
        "  a:\n"
        "    <<: *nosana-node\n"
        "    image: x\n"
        "  b:\n"
        "    <<: *nosana-node\n"
        "    image: w\n"
        "    cap_add:\n"
        "      - SYS_TIME\n"
        "  c:\n"
        "    image: z\n"
        "    environment:\n"
        '      "<<": "a variable named <<"\n'
        "list:\n"
        "  - <<: *nosana-node\n"
        "    k: 1\n"
    )


def test_merges_read_back_as_resolved_says_with_and_without_libyaml():
    from nos2compose.compose.yaml_text import resolved

    doc = _shared_doc()
    text = dump(doc)
    want = resolved(doc)
    assert want["services"]["b"] == {
        "shm_size": "4gb",
        "cap_add": ["SYS_TIME"],
        "extra_hosts": ["a:8.8.8.8"],
        "image": "w",
    }
    assert want["services"]["c"]["environment"] == {"<<": "a variable named <<"}
    assert yaml.load(text, Loader=yaml.SafeLoader) == want
    if yaml.__with_libyaml__:
        assert yaml.load(text, Loader=yaml.CSafeLoader) == want


def test_an_alias_before_its_anchor_or_a_second_anchor_of_one_name_is_refused():
    import pytest

    from nos2compose.compose.yaml_text import MERGE, Anchor

    node = Anchor("n", {"k": 1})
    with pytest.raises(ValueError, match=r"<<: \*n before &n"):
        dump({"services": {"a": {MERGE: node}}, "x-n": node})
    with pytest.raises(ValueError, match="declared twice"):
        dump({"x-n": node, "x-m": node})
    with pytest.raises(ValueError):
        Anchor("two words", {"k": 1})


def _dotted_doc() -> dict:
    from nos2compose.compose.yaml_text import MERGE, Anchor

    node = Anchor("n", {"ipc": "private", "shm_size": "4gb"})
    return {
        "x-n": node,
        "services": {
            "1": {MERGE: node, "image": "a"},
            "1._1": {MERGE: node, "image": "b", "ipc": "host"},  # its own ipc still wins
            "2.x": {MERGE: node, "image": "c"},
            "2": {MERGE: node, "image": "d"},  # the other way round: the shorter name second
            "3": {MERGE: node, "image": "e"},
        },
        "l": [{MERGE: node, "k": 1}],
        "l.0": [{MERGE: node, "ipc": "x", "shm_size": "z"}],  # at l.0.0, under l.0 (list items: their index)
    }


def test_a_merge_compose_would_take_for_a_nested_one_is_written_out():
    """compose-go joins a merge's keys with dots and refuses one anchor merged at `services.1` and at
    `services.1._1` ("cycle detected", regressions/roundtrip-8663ea74b57a.json): the second merge is written
    as the anchor's keys, each path stays a merge where no other merge's path extends it."""
    from nos2compose.compose.yaml_text import resolved

    doc = _dotted_doc()
    text = dump(doc)
    assert text == (
        "x-n: &n\n"
        "  ipc: private\n"
        '  shm_size: "4gb"\n'
        "services:\n"
        '  "1":\n'
        "    <<: *n\n"
        "    image: a\n"
        '  "1._1":\n'
        '    shm_size: "4gb"\n'
        "    image: b\n"
        "    ipc: host\n"
        '  "2.x":\n'
        "    <<: *n\n"
        "    image: c\n"
        '  "2":\n'
        "    ipc: private\n"
        '    shm_size: "4gb"\n'
        "    image: d\n"
        '  "3":\n'
        "    <<: *n\n"
        "    image: e\n"
        "l:\n"
        "  - <<: *n\n"
        "    k: 1\n"
        "l.0:\n"
        "  - ipc: x\n"  # every key its own: nothing written for the merge, the item still starts with `- `
        "    shm_size: z\n"
    )
    assert yaml.load(text, Loader=yaml.SafeLoader) == resolved(doc)


@pytest.mark.compose
def test_compose_reads_merges_at_dotted_service_names(compose, tmp_path):
    import json
    import subprocess

    from nos2compose.compose.yaml_text import resolved

    doc = {k: v for k, v in _dotted_doc().items() if k.startswith(("x-", "services"))}
    (tmp_path / "compose.yaml").write_text(dump(doc), encoding="utf-8")
    proc = subprocess.run([*compose, "config", "--format", "json"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    services = json.loads(proc.stdout)["services"]
    want = resolved(doc)["services"]
    assert {name: (s["image"], s["ipc"]) for name, s in services.items()} == {
        name: (s["image"], s["ipc"]) for name, s in want.items()
    }


def test_an_alias_inside_its_own_anchor_is_refused():
    """A real cycle: the mapping would hold itself (YAML allows the alias; no reader can expand it)."""
    from nos2compose.compose.yaml_text import MERGE, Anchor

    node = Anchor("n", {"k": 1})
    node.value["inner"] = {MERGE: node}
    with pytest.raises(ValueError, match=r"<<: \*n inside &n"):
        dump({"x-n": node})


def test_generated_files_are_the_same_bytes_with_and_without_libyaml():
    """The writer never asks PyYAML; a process where libyaml cannot load writes the very same files."""
    import subprocess
    import sys

    from helpers import FIXTURES

    from nos2compose.compiler import Options, compile_job

    job = FIXTURES / "seed-vllm-openwebui-multi-op" / "seed-vllm-openwebui-multi-op.json"
    script = (
        "import json, sys; sys.modules['yaml._yaml'] = None; import yaml; assert not yaml.__with_libyaml__\n"
        "from nos2compose.compiler import Options, compile_job\n"
        f"r = compile_job(json.load(open({str(job)!r})), Options(name='seed', source='seed.json'))\n"
        "sys.stdout.write(r.single_file() + ''.join(t for _, t in r.group_files()))\n"
    )
    without = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    import json

    result = compile_job(json.loads(job.read_text()), Options(name="seed", source="seed.json"))
    assert without == result.single_file() + "".join(t for _, t in result.group_files())
    assert without.count("&nosana-node") == 2 and without.count("\n    <<: *nosana-node\n") == 4
