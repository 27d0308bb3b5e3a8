"""load/resources.py: S3 (prefix, bucket, buckets), HF and Ollama resources, checked against the variant of
Nosana's schema each picks, and split into a spec that may be written out and credentials that may not."""

from __future__ import annotations

import json

from nos2compose.diagnostics import Diagnostics
from nos2compose.load.resources import OLLAMA_STORE, check_raw_resources, read_resources
from nos2compose.load.shape import Shape
from nos2compose.model import Placeholder, Resource, Template

PATH = ("ops", 0, "args", "resources")
IAM = {"REGION": "eu-west-1", "ACCESS_KEY_ID": "AKIA-ID", "SECRET_ACCESS_KEY": "s3cr3t-key"}


def read(raw, strict: bool = False) -> tuple[tuple[Resource, ...], Diagnostics]:
    diags = Diagnostics(strict=strict)
    return read_resources(Shape(diags), raw, PATH, "op"), diags


def test_an_s3_prefix_is_read_with_its_spec_and_cache_key():
    (res,), diags = read([{"type": "S3", "url": "https://b.s3.amazonaws.com/p/", "target": "/data", "files": ["a"]}])
    assert (res.kind, res.target, res.secrets) == ("S3", "/data", ())
    assert json.loads(res.spec) == {
        "type": "S3",
        "url": "https://b.s3.amazonaws.com/p/",
        "target": "/data",
        "files": ["a"],
    }
    assert json.loads(res.keyed) == {"type": "S3", "url": "https://b.s3.amazonaws.com/p/", "files": ["a"]}
    assert not diags.items


def test_where_a_resource_is_mounted_does_not_change_its_cache_key():
    """target and allowWrite say nothing about what is fetched, so two ops share one cache volume."""
    (a, b), _ = read(
        [
            {"type": "HF", "repo": "org/model", "target": "/a"},
            {"type": "HF", "repo": "org/model", "target": "/b"},
        ]
    )
    assert a.keyed == b.keyed and a.spec != b.spec
    (c, d), _ = read(
        [
            {"type": "S3", "url": "s3://x/p", "target": "/a", "allowWrite": True},
            {"type": "S3", "url": "s3://x/p", "target": "/a"},
        ]
    )
    assert c.keyed == d.keyed


def test_s3_credentials_go_to_secrets_and_never_into_the_spec():
    (res,), diags = read([{"type": "S3", "url": "s3://private/p", "target": "/d", "IAM": IAM}])
    assert res.secrets == (
        ("N2C_S3_ACCESS_KEY_ID", "AKIA-ID"),
        ("N2C_S3_SECRET_ACCESS_KEY", "s3cr3t-key"),
        ("N2C_S3_REGION", "eu-west-1"),
    )
    for text in (res.spec, res.keyed, *(d.describe() for d in diags.items)):
        assert "s3cr3t-key" not in text and "AKIA-ID" not in text and "IAM" not in text


def test_empty_s3_keys_mean_an_anonymous_fetch():
    (res,), _ = read(
        [
            {
                "type": "S3",
                "url": "s3://public/p",
                "target": "/d",
                "IAM": {**IAM, "ACCESS_KEY_ID": "", "SECRET_ACCESS_KEY": ""},
            }
        ]
    )
    assert res.secrets == ()


def test_a_hugging_face_token_goes_to_secrets_only_when_given():
    (with_token, without), _ = read(
        [
            {"type": "HF", "repo": "org/m", "target": "/m", "revision": "main", "accessToken": "hf_TOKEN"},
            {"type": "HF", "repo": "org/m", "target": "/m", "accessToken": ""},
        ]
    )
    assert with_token.secrets == (("N2C_HF_TOKEN", "hf_TOKEN"),)
    assert "hf_TOKEN" not in with_token.spec and "accessToken" not in with_token.keyed
    assert json.loads(with_token.keyed) == {"type": "HF", "repo": "org/m", "revision": "main"}
    assert without.secrets == ()


def test_an_ollama_model_without_target_lands_in_ollamas_own_store():
    (res,), diags = read([{"type": "Ollama", "model": "llama3.1:8b"}])
    assert (res.kind, res.target) == ("Ollama", OLLAMA_STORE)
    assert not diags.items


def test_bucket_and_buckets_pick_their_own_variant_of_the_schema():
    """With `bucket`, `files` is not a key of that variant (a warning); `buckets` items are {url, files?}."""
    (one, many), diags = read(
        [
            {"type": "S3", "url": "s3://b", "target": "/a", "bucket": "b", "files": ["x"]},
            {"type": "S3", "target": "/b", "buckets": [{"url": "s3://c", "files": ["y"]}]},
        ]
    )
    assert one.kind == many.kind == "S3"
    assert [(d.severity, d.path) for d in diags.items] == [("warning", (*PATH, 0, "files"))]


def test_a_wrong_bucket_entry_drops_the_resource_and_names_the_entry():
    found, diags = read([{"type": "S3", "target": "/b", "buckets": [{"files": []}, 3, {"url": 1}]}])
    assert found == ()
    assert [(d.path, d.message) for d in diags.errors] == [
        ((*PATH, 0, "buckets", 0), "missing required key 'url' (the bucket's URL)"),
        ((*PATH, 0, "buckets", 1), "expected an object, found 3"),
        ((*PATH, 0, "buckets", 2, "url"), "expected a string, found 1"),
    ]


def test_a_missing_or_unknown_type_is_an_error():
    """A resource without a type is an error, then checked as S3 (so its other problems show too)."""
    found, diags = read([{"url": "s3://b", "target": "/a"}, {"type": "GCS", "url": "gs://b", "target": "/a"}])
    assert [r.kind for r in found] == ["S3"]
    assert [(d.path, d.message) for d in diags.errors] == [
        ((*PATH, 0), 'missing required key \'type\' ("S3", "HF" or "Ollama")'),
        ((*PATH, 1, "type"), 'expected one of "S3", "HF", "Ollama", found "GCS"'),
    ]


def test_each_missing_required_field_is_named_with_its_kind():
    found, diags = read([{"type": "HF"}, {"type": "Ollama", "target": "/o"}])
    assert found == ()
    assert [d.message for d in diags.errors] == [
        "missing required key 'target' (target of the HF resource)",
        "missing required key 'repo' (repo of the HF resource)",
        "missing required key 'model' (model of the Ollama resource)",
    ]


def test_iam_needs_all_three_keys_as_strings():
    found, diags = read([{"type": "S3", "url": "s3://b", "target": "/a", "IAM": {"REGION": "r", "ACCESS_KEY_ID": 5}}])
    assert found == ()
    assert [(d.path, d.message) for d in diags.errors] == [
        ((*PATH, 0, "IAM", "ACCESS_KEY_ID"), "expected a string, found a number (not shown: it may be a credential)"),
        ((*PATH, 0, "IAM"), "missing required key 'SECRET_ACCESS_KEY' (an S3 credential)"),
    ]


def test_resources_must_be_an_array_and_each_item_an_object():
    assert read({"type": "S3"})[1].errors[0].message == "expected an array of resources, found an object"
    found, diags = read(["s3://b"])
    assert found == () and diags.errors[0].path == (*PATH, 0)


def test_a_remove_if_empty_item_is_skipped():
    found, diags = read(["__remove-if-empty__", {"type": "Ollama", "model": "m"}])
    assert [r.kind for r in found] == ["Ollama"] and not diags.items


def test_resources_spliced_from_results_are_a_warning_not_a_fetch():
    """The node fetches them when the op starts; nos2compose cannot, and says so at the item."""
    item = Template([Placeholder("prep", "res", "items")])
    found, diags = read([item])
    assert found == ()
    (warning,) = diags.warnings
    assert warning.path == (*PATH, 0)
    assert warning.message.startswith("resources spliced from %%ops.prep.results.res%% are known only when the op")


def test_the_raw_job_may_splice_only_literals_and_never_holds_an_array_item():
    diags = Diagnostics()
    check_raw_resources(Shape(diags), [{"__spread__": "%%ops.a.results.r%%"}, {"__spread__": "[]"}, [{}]], PATH, "op")
    assert [d.path for d in diags.errors] == [(*PATH, 1, "__spread__"), (*PATH, 2)]
    assert diags.errors[1].message == "expected an object (a resource), found an array"
