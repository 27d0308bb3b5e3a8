"""The YAML writer: the same bytes everywhere, and nothing YAML would misread."""

from __future__ import annotations

import random

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
