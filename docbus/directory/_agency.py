"""A top-level agency of the directory, valid over a span of dates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from docbus._exceptions import ConfigurationError
from schemas import AgencyCode, is_party_id

__all__ = ["GOVERNMENT_KINDS", "KINDS", "OUTSIDE_KINDS", "PROVINCE_KINDS", "RECEIVE_ALL", "Agency"]

GOVERNMENT_KINDS = frozenset({"ministry", "ministerial_agency"})
PROVINCE_KINDS = frozenset({"province", "city"})
#: Parties outside the national code scheme, known by the ids they really use: the
#: national platform's hosted tenants (``vxp.saas.03``) and external organisations and
#: gateways (an enterprise by its tax code). They have no sub-units.
OUTSIDE_KINDS = frozenset({"hosted", "external"})
KINDS = GOVERNMENT_KINDS | PROVINCE_KINDS | OUTSIDE_KINDS | {"party"}
#: ``receiver`` of a closed agency whose successors all receive for it.
RECEIVE_ALL = "all"


@dataclass(frozen=True, slots=True)
class Agency:
    """One endpoint of the bus; ``valid_to`` is the last day it exists (``None``: still open)."""

    code: str
    name: str
    kind: str
    name_en: str = ""
    abbreviation: str = ""
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    successors: tuple[str, ...] = ()
    receiver: str | None = None
    illustrative: bool = False
    #: Other ids the same party is known under in real files (``G12``); resolved to ``code``.
    aliases: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Agency:
        """An agency from its data-file entry; a malformed entry is a ConfigurationError."""
        try:
            agency = cls(
                code=raw["code"],
                name=raw["name"],
                kind=raw["kind"],
                name_en=raw.get("name_en", ""),
                abbreviation=raw.get("abbreviation", ""),
                valid_from=_date(raw.get("valid_from")),
                valid_to=_date(raw.get("valid_to")),
                successors=tuple(raw.get("successors") or ()),
                receiver=raw.get("receiver"),
                illustrative=bool(raw.get("illustrative", False)),
                aliases=tuple(raw.get("aliases") or ()),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise ConfigurationError(f"directory entry {raw!r:.80} is malformed: {exc}") from exc
        problems = agency.problems()
        if problems:
            raise ConfigurationError(f"directory entry {agency.code}: {'; '.join(problems)}")
        return agency

    def problems(self) -> list[str]:
        """What is wrong with this entry on its own."""
        problems = []
        if self.kind in OUTSIDE_KINDS:
            if AgencyCode.is_valid(self.code) or not is_party_id(self.code):
                problems.append(f"a {self.kind} party has an id outside the national scheme")
        elif not AgencyCode.is_valid(self.code) or AgencyCode.parse(self.code).level != 1:
            problems.append("code is not a top-level agency code")
        problems += [
            f"alias {alias!r} is not a party id outside the national scheme"
            for alias in self.aliases
            if AgencyCode.is_valid(alias) or not is_party_id(alias)
        ]
        if self.kind not in KINDS:
            problems.append(f"unknown kind {self.kind!r}")
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            problems.append("valid_to is before valid_from")
        if self.valid_to is not None and not self.successors:
            problems.append("a closed agency needs successors")
        if (
            self.successors
            and self.receiver != RECEIVE_ALL
            and self.receiver not in self.successors
        ):
            problems.append("receiver must be one of the successors or 'all'")
        return problems

    def is_open(self, at: dt.date) -> bool:
        """Whether the agency exists on day ``at``."""
        return (self.valid_from is None or self.valid_from <= at) and (
            self.valid_to is None or at <= self.valid_to
        )

    @property
    def receiving_successors(self) -> tuple[str, ...]:
        """The successors that receive for this agency once it is closed."""
        if self.receiver == RECEIVE_ALL:
            return self.successors
        return (self.receiver,) if self.receiver else ()

    def to_json(self) -> dict[str, Any]:
        """The data-file entry of this agency."""
        return {
            "code": self.code,
            "name": self.name,
            "name_en": self.name_en,
            "abbreviation": self.abbreviation,
            "kind": self.kind,
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
            "successors": list(self.successors),
            "receiver": self.receiver,
            "illustrative": self.illustrative,
            **({"aliases": list(self.aliases)} if self.aliases else {}),
        }


def _date(value: str | None) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(value)
