"""Results of earlier ops filled in when a group starts."""

from __future__ import annotations

import pytest


def test_filling_results_splices_chunks_pairs_and_objects():
    from nos2compose.contract import Placeholder
    from nos2compose.runtime.fill import Unfilled, value_of

    results = {
        "a": {
            "chunks": ['["x",', '"y"]'],
            "env": ['{"K": "v"}'],
            "pairs": ['[{"key": "P", "value": 1}]'],
            "bad": "Invalid regular expression: /(/: missing )",
            "none": [],
        }
    }

    def spec(key, splice):
        return Placeholder("a", key, splice)

    assert value_of(spec("chunks", "items_chunked"), results) == ["x", "y"]
    assert value_of(spec("env", "object"), results) == {"K": "v"}
    assert value_of(spec("pairs", "pairs"), results) == {"P": "1"}
    assert value_of(spec("chunks", "text"), results) == '["x", "y"]'
    for key, message in (("bad", "Invalid regular expression"), ("none", "no line of op 'a' matched")):
        with pytest.raises(Unfilled, match=message):
            value_of(spec(key, "text"), results)
    with pytest.raises(Unfilled, match="has not exited"):
        value_of(Placeholder("b", "k", "text"), results)
