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
