"""Tests for schemas._registry: loading every schema version."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from docbus import ConfigurationError, UnknownSchemaError
from schemas import DOCUMENT_SCHEMA, NOTICE_SCHEMA, SchemaRegistry


def test_packaged_schemas_load() -> None:
    """The packaged registry has both Document versions and the StatusNotice."""
    registry = SchemaRegistry.load()
    assert registry.latest(DOCUMENT_SCHEMA).version == 5
    assert registry.latest(NOTICE_SCHEMA).version == 3


def test_unknown_lookups_raise() -> None:
    """Unknown names, versions and fingerprints raise UnknownSchemaError."""
    registry = SchemaRegistry.load()
    with pytest.raises(UnknownSchemaError):
        registry.latest("vn.gov.docbus.Nothing")
    with pytest.raises(UnknownSchemaError):
        registry.version(DOCUMENT_SCHEMA, 99)
    with pytest.raises(UnknownSchemaError):
        registry.by_fingerprint(b"\x00" * 8)


def test_badly_named_file_is_refused(tmp_path: Path) -> None:
    """A schema file not named <name>.v<N>.avsc is a configuration error."""
    (tmp_path / "document.avsc").write_text(
        json.dumps({"type": "record", "name": "X", "fields": []})
    )
    with pytest.raises(ConfigurationError, match="v<N>"):
        SchemaRegistry.load(tmp_path)


def test_identical_versions_are_refused(tmp_path: Path) -> None:
    """Two versions with the same canonical form would be ambiguous, so loading fails."""
    schema = json.dumps({"type": "record", "name": "X", "fields": [{"name": "a", "type": "int"}]})
    (tmp_path / "x.v1.avsc").write_text(schema)
    (tmp_path / "x.v2.avsc").write_text(schema)
    with pytest.raises(ConfigurationError, match="same canonical form"):
        SchemaRegistry.load(tmp_path)
