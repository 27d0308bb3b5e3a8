"""The YAML writer and the one place job text is escaped, alone: any document of hostile strings (keys over
YAML's 1024-character limit included) and any header read back exactly by PyYAML and by Compose."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prop_checks import check_writer
from prop_strategies import hostile, writer_docs
from prop_support import examples, recorded

pytestmark = pytest.mark.property

headers = st.lists(hostile, max_size=4).map("\n".join)


@settings(max_examples=examples(40))
@given(doc=writer_docs, header=headers)
def test_any_document_reads_back_exactly(doc, header):
    example = {"doc": doc, "header": header}
    with recorded("writer", example):
        check_writer(example)


@pytest.mark.parametrize("length", [1023, 1024, 1025, 5000])
@pytest.mark.parametrize("char", ["K", "\x01", "\U0001f600"])
def test_keys_at_yamls_implicit_key_limit(length, char):
    """Keys just under, at and over YAML's 1024-character limit for `key: value` (counted after escaping)."""
    key = char * (length if char != "\x01" else length // 6)
    check_writer({"doc": {key: "v", "nested": {key: [key]}}, "header": ""})
