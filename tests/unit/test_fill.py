"""Results of earlier ops filled in when a group starts."""

from __future__ import annotations

import pytest


def test_filling_results_splices_chunks_pairs_and_objects():
    from nos2compose.model import Placeholder
    from nos2compose.supervisor.fill import Unfilled, value_of

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
    # two matches as a string's whole value: the node joins them with a space (String() of each token)
    assert value_of(spec("chunks", "text"), results) == '["x", "y"]'
    # one match that is JSON: the node parses it and, in a string field, writes it back as JSON
    assert value_of(spec("env", "text"), results) == '{"K":"v"}'
    assert value_of(spec("env", "embedded"), results) == "[object Object]"
    # a regex that did not compile: its error text is the value; no match: an empty value
    assert value_of(spec("bad", "text"), results) == "Invalid regular expression: /(/: missing )"
    assert value_of(spec("none", "text"), results) == "" and value_of(spec("none", "items"), results) == []
    with pytest.raises(Unfilled, match="__spread__ is not valid JSON"):
        value_of(spec("none", "object"), results)  # "" is no JSON object
    with pytest.raises(Unfilled, match=r'Unresolved literal: "%%ops.b.results.k%%" \(opId="b", path="results.k"\)'):
        value_of(Placeholder("b", "k", "text"), results)  # op b has not exited
