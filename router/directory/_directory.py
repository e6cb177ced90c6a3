"""The agency directory: which top-level agencies the bus serves, and who receives for a code."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from docbus._exceptions import ConfigurationError, UnknownAgencyError
from schemas import AgencyCode

__all__ = ["Agency", "Directory"]

KINDS = frozenset({"ministry", "ministerial_agency", "province", "city", "party"})


@dataclass(frozen=True, slots=True)
class Agency:
    """A top-level agency: one endpoint of the bus."""

    code: str
    name: str
    name_en: str
    kind: str
    abbreviation: str = ""
    illustrative: bool = False

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Agency:
        agency = cls(
            code=raw["code"],
            name=raw["name"],
            name_en=raw.get("name_en", ""),
            kind=raw["kind"],
            abbreviation=raw.get("abbreviation", ""),
            illustrative=bool(raw.get("illustrative", False)),
        )
        if AgencyCode.parse(agency.code).level != 1:
            raise ConfigurationError(f"directory entry {agency.code} is not a top-level code")
        if agency.kind not in KINDS:
            raise ConfigurationError(
                f"directory entry {agency.code} has unknown kind {agency.kind!r}"
            )
        return agency


class Directory:
    """Top-level agencies by code; any unit code resolves to its top-level agency."""

    def __init__(self, agencies: Iterable[Agency], *, version: str) -> None:
        self.version = version
        self._by_code: dict[str, Agency] = {}
        for agency in agencies:
            if agency.code in self._by_code:
                raise ConfigurationError(f"directory lists {agency.code} twice")
            self._by_code[agency.code] = agency

    @classmethod
    def load(cls, path: Path | None = None) -> Directory:
        """Load the versioned data file (default: the packaged ``agencies.json``)."""
        source = path if path is not None else resources.files("router.directory") / "agencies.json"
        try:
            raw = json.loads(source.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"cannot read the agency directory {source}: {exc}") from exc
        return cls((Agency.from_json(a) for a in raw["agencies"]), version=raw["version"])

    def get(self, code: str) -> Agency:
        """The top-level agency with exactly this code."""
        try:
            return self._by_code[code]
        except KeyError:
            raise UnknownAgencyError(f"no agency {code} in directory {self.version}") from None

    def resolve(self, code: str) -> Agency:
        """The top-level agency that receives for unit ``code`` (malformed or unknown: an error)."""
        agency = self._by_code.get(code)
        if agency is not None:
            return agency
        return self.get(AgencyCode.parse(code).top_level)

    def __iter__(self) -> Iterator[Agency]:
        return iter(self._by_code.values())

    def __len__(self) -> int:
        return len(self._by_code)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def codes(self, *, kind: str | None = None) -> list[str]:
        """Codes of every top-level agency, or of those of one ``kind``."""
        return [a.code for a in self._by_code.values() if kind is None or a.kind == kind]
