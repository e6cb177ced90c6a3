"""Tests that each package exports exactly its public names."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize(
    "package",
    ["docbus", "docbus.edxml", "schemas", "producers", "consumers", "router", "router.directory"],
)
def test_exports_are_defined_and_public(package: str) -> None:
    """Every name in __all__ exists, and no private name is exported."""
    module = importlib.import_module(package)
    for name in module.__all__:
        assert hasattr(module, name), name
        assert not name.startswith("_") or name == "__version__", name


def test_docbus_exports() -> None:
    """The shell package exports the settings, the broker and the exception tree."""
    import docbus

    assert {"Settings", "EmbeddedBroker", "DocbusError", "CodecError", "RouterError"} <= set(
        docbus.__all__
    )
