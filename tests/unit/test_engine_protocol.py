"""The real engine and the tests' fake engine both satisfy the runtime's Engine protocol, method for method."""

from __future__ import annotations

import inspect

from fake_engine import FakeEngine

from nos2compose.engine.docker import DockerEngine
from nos2compose.engine.protocol import Engine


def _methods(cls) -> dict[str, list[str]]:
    return {
        name: list(inspect.signature(getattr(cls, name)).parameters)
        for name, member in vars(cls).items()
        if callable(member) and not name.startswith("_")
    }


def test_both_engines_have_every_method_of_the_protocol_with_its_parameters():
    wanted = _methods(Engine)
    assert len(wanted) >= 12
    for cls in (DockerEngine, FakeEngine):
        have = _methods(cls)
        for name, parameters in wanted.items():
            assert name in have, f"{cls.__name__} lacks {name}"
            assert have[name] == parameters, (cls.__name__, name, have[name], parameters)
