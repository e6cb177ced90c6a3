"""Every schema version kept in ``schemas/avro``, found by name, version or fingerprint."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from fastavro import parse_schema
from fastavro.schema import fingerprint, to_parsing_canonical_form

from schemas._errors import ConfigurationError, UnknownSchemaError

__all__ = ["SchemaRegistry", "SchemaVersion"]

_FILE_NAME = re.compile(r"^(?P<stem>[a-z_]+)\.v(?P<version>\d+)\.avsc$")


@dataclass(frozen=True)
class SchemaVersion:
    """One version of one schema, with its CRC-64-AVRO fingerprint (8 bytes, little-endian)."""

    name: str
    version: int
    parsed: Any
    fingerprint: bytes

    @classmethod
    def from_json(cls, schema: dict[str, Any], version: int) -> SchemaVersion:
        """Parse ``schema`` and compute its fingerprint from the parsing canonical form."""
        parsed: dict[str, Any] = parse_schema(schema, named_schemas={})  # type: ignore[assignment]
        canonical = to_parsing_canonical_form(parsed)
        return cls(
            name=parsed["name"],
            version=version,
            parsed=parsed,
            fingerprint=bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO")),
        )


class SchemaRegistry:
    """The schema versions a codec can write and read."""

    def __init__(self, versions: Iterable[SchemaVersion]) -> None:
        self._by_fingerprint: dict[bytes, SchemaVersion] = {}
        self._by_name: dict[str, dict[int, SchemaVersion]] = {}
        for v in versions:
            if v.fingerprint in self._by_fingerprint:
                other = self._by_fingerprint[v.fingerprint]
                raise ConfigurationError(
                    f"{v.name} v{v.version} has the same canonical form as v{other.version}"
                )
            self._by_fingerprint[v.fingerprint] = v
            self._by_name.setdefault(v.name, {})[v.version] = v

    @classmethod
    def load(cls, directory: Path | None = None) -> SchemaRegistry:
        """Load every ``<name>.v<N>.avsc`` in ``directory`` (default: the packaged schemas)."""
        root = (
            directory if directory is not None else Path(str(resources.files("schemas") / "avro"))
        )
        versions = []
        for path in sorted(root.glob("*.avsc")):
            match = _FILE_NAME.match(path.name)
            if match is None:
                raise ConfigurationError(f"schema file {path.name} is not named <name>.v<N>.avsc")
            versions.append(
                SchemaVersion.from_json(json.loads(path.read_text("utf-8")), int(match["version"]))
            )
        if not versions:
            raise ConfigurationError(f"no schemas in {root}")
        return cls(versions)

    def by_fingerprint(self, fp: bytes) -> SchemaVersion:
        """The version with fingerprint ``fp``, or :class:`UnknownSchemaError`."""
        try:
            return self._by_fingerprint[fp]
        except KeyError:
            raise UnknownSchemaError(f"no schema in schemas/ has fingerprint {fp.hex()}") from None

    def latest(self, name: str) -> SchemaVersion:
        """The newest version of the schema ``name``."""
        versions = self._versions(name)
        return versions[max(versions)]

    def version(self, name: str, version: int) -> SchemaVersion:
        """Version ``version`` of the schema ``name``."""
        try:
            return self._versions(name)[version]
        except KeyError:
            raise UnknownSchemaError(f"{name} has no version {version}") from None

    def versions(self, name: str) -> list[SchemaVersion]:
        """Every version of ``name``, oldest first."""
        return [v for _, v in sorted(self._versions(name).items())]

    def _versions(self, name: str) -> dict[int, SchemaVersion]:
        try:
            return self._by_name[name]
        except KeyError:
            raise UnknownSchemaError(f"no schema named {name}") from None
