"""The one codec for what generated Compose files carry: each thing is written here and read back here.

Writers (the emitter) and readers (the run plan read from group files, the engine's rows, `ps`, the
importer) meet only through these functions and the typed values they return, so adding a field means
adding it here once; tests/unit/test_codec.py checks that everything written reads back the same.
The names themselves are in contract.py. Each part lives in a module of its own (labels, extension,
probe, names), loaded when first used: a command that needs only the labels (`ps`) does not pay for the rest.
"""

from __future__ import annotations

from importlib import import_module

_WHERE = {  # name -> the module of this package that defines it
    "FileMeta": "extension",
    "ServiceExtras": "extension",
    "environment_from": "extension",
    "extension_of": "extension",
    "file_meta": "extension",
    "has_meta": "extension",
    "keep_extension": "extension",
    "placeholder_record": "extension",
    "read_file_meta": "extension",
    "read_placeholder": "extension",
    "read_result_specs": "extension",
    "read_service_extension": "extension",
    "read_words": "extension",
    "result_problems": "extension",
    "service_extension": "extension",
    "with_environment_from": "extension",
    "with_variables": "extension",
    "words_block": "extension",
    "CACHE_FILTER": "labels",
    "CACHE_LABELS": "labels",
    "LABELS": "labels",
    "Marks": "labels",
    "ONEOFF_LABEL": "labels",
    "PROJECT_LABEL": "labels",
    "SERVICE_LABEL": "labels",
    "fetch_labels": "labels",
    "is_cache_volume": "labels",
    "is_group_file": "labels",
    "is_script_mount": "labels",
    "labels_of": "labels",
    "marks": "labels",
    "op_labels": "labels",
    "override_of": "labels",
    "probe_labels": "labels",
    "read_labels": "labels",
    "script_mount": "labels",
    "REFERENCE": "names",
    "cache_volume": "names",
    "fetch_service": "names",
    "fetcher_number": "names",
    "is_cache": "names",
    "probe_service": "names",
    "reference": "names",
    "references": "names",
    "secret_variable": "names",
    "substitute": "names",
    "used_variables": "names",
    "variable_base": "names",
    "whole_reference": "names",
    "ProbeArgsError": "probe",
    "ProbeCheck": "probe",
    "loopback_only_port": "probe",
    "probe_args": "probe",
    "probe_test": "probe",
    "read_probe_args": "probe",
    "read_probe_test": "probe",
}
__all__ = list(_WHERE)


def __getattr__(name: str):
    """Load the module that defines `name` on first use (`ps` needs only the labels)."""
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{_WHERE[name]}", __name__), name)
    globals()[name] = value
    return value
