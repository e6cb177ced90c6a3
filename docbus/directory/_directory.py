"""The agency directory: who exists on a given day, who receives for a code, and groups."""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from docbus._exceptions import (
    ConfigurationError,
    DirectoryError,
    UnknownAgencyError,
    UnknownRecipientError,
)
from docbus.directory._agency import GOVERNMENT_KINDS, OUTSIDE_KINDS, PROVINCE_KINDS, Agency
from docbus.directory._units import Unit, generate_units
from schemas import BUS_AGENCY, GROUP_PREFIX, KeyRing, top_level_of

__all__ = ["BUILTIN_GROUPS", "Directory", "Group", "Resolution"]

#: Groups every directory has, by kind: name → kinds of the members.
BUILTIN_GROUPS: Mapping[str, frozenset[str]] = {
    "ministries": GOVERNMENT_KINDS,
    "provinces": PROVINCE_KINDS,
    "all": GOVERNMENT_KINDS | PROVINCE_KINDS,
}
_TOP_LEVEL_PREFIX = "000.00.00."
_MAX_HOPS = 16


@dataclass(frozen=True, slots=True)
class Group:
    """A named group of agencies from the data file."""

    name: str
    description: str
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Resolution:
    """Who receives for ``requested`` on a day: one agency, or its successors if it closed."""

    requested: str
    agencies: tuple[Agency, ...]
    redirected_from: Agency | None = None

    @property
    def recipients(self) -> tuple[str, ...]:
        """The unit codes deliveries are made out to: the code asked for, or the successors'."""
        if self.redirected_from is None:
            return (self.requested,)
        return tuple(a.code for a in self.agencies)


class Directory:
    """Every top-level agency before and after the 2025 reorganisation, with sub-units and groups."""

    def __init__(
        self,
        agencies: Iterable[Agency],
        *,
        version: str,
        groups: Iterable[Group] = (),
        description: str = "",
        keys: KeyRing | None = None,
    ) -> None:
        self.version = version
        self.description = description
        #: The agencies' public signing keys (and the bus's own).
        self.keys = keys if keys is not None else KeyRing()
        self._agencies = sorted(agencies, key=lambda a: (a.code, a.valid_from or dt.date.min))
        self._by_code: dict[str, list[Agency]] = {}
        for agency in self._agencies:
            self._by_code.setdefault(agency.code, []).append(agency)
        #: Other ids a party is known under → its code.
        self._aliases = {alias: a.code for a in self._agencies for alias in a.aliases}
        self._starts = {
            code: [a.valid_from or dt.date.min for a in entries]
            for code, entries in self._by_code.items()
        }
        self.groups = {g.name: g for g in groups}
        self._units: dict[str, Unit] | None = None
        problems = self.problems()
        if problems:
            raise ConfigurationError(
                f"directory {version} is inconsistent: {'; '.join(problems[:5])}"
            )

    # -- loading and saving ---------------------------------------------------------------

    @classmethod
    def load(cls, path: Path | None = None) -> Directory:
        """Load the versioned data file (default: the packaged ``agencies.json``)."""
        source = path if path is not None else resources.files("docbus.directory") / "agencies.json"
        try:
            raw = json.loads(source.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"cannot read the agency directory {source}: {exc}") from exc
        return cls.from_json(raw)

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Directory:
        """A directory from the data-file structure."""
        try:
            return cls(
                (Agency.from_json(a) for a in raw["agencies"]),
                version=str(raw["version"]),
                description=str(raw.get("description", "")),
                groups=(
                    Group(g["name"], g.get("description", ""), tuple(g["members"]))
                    for g in raw.get("groups", ())
                ),
                keys=KeyRing.from_json(raw.get("keys", ())),
            )
        except (KeyError, TypeError) as exc:
            raise ConfigurationError(f"the agency directory is malformed: {exc!r}") from exc

    def to_json(self) -> dict[str, Any]:
        """The data-file structure of this directory."""
        return {
            "version": self.version,
            "description": self.description,
            "agencies": [a.to_json() for a in self._agencies],
            "groups": [
                {"name": g.name, "description": g.description, "members": list(g.members)}
                for g in self.groups.values()
            ],
            "keys": self.keys.to_json(),
        }

    def with_keys(self, keys: KeyRing) -> Directory:
        """This directory with ``keys`` as its public signing keys."""
        return Directory(
            self._agencies,
            version=self.version,
            groups=self.groups.values(),
            description=self.description,
            keys=keys,
        )

    # -- lookups --------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Agency]:
        return iter(self._agencies)

    def __len__(self) -> int:
        return len(self._agencies)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def codes(self) -> list[str]:
        """Every top-level code that ever had an agency (each needs an outbox and an inbox)."""
        return list(self._by_code)

    def canonical(self, code: str) -> str:
        """``code``, or the code of the party that ``code`` is an alias of."""
        return self._aliases.get(code, code)

    def history(self, code: str) -> list[Agency]:
        """Every agency that has held top-level ``code``, oldest first."""
        return list(self._by_code.get(code, ()))

    def agency_at(self, code: str, at: dt.date) -> Agency | None:
        """The agency holding top-level ``code`` on day ``at``, if any."""
        entries = self._by_code.get(code)
        if entries is None:
            return None
        if len(entries) == 1:  # most codes never changed hands
            only = entries[0]
            return only if only.is_open(at) else None
        index = bisect.bisect_right(self._starts[code], at) - 1
        if index < 0:
            return None
        agency = entries[index]
        return agency if agency.valid_to is None or at <= agency.valid_to else None

    def open_at(self, at: dt.date, *, kinds: Iterable[str] | None = None) -> list[Agency]:
        """Agencies that exist on day ``at``, optionally only of ``kinds``."""
        wanted = None if kinds is None else frozenset(kinds)
        return [a for a in self._agencies if a.is_open(at) and (wanted is None or a.kind in wanted)]

    @property
    def units(self) -> Mapping[str, Unit]:
        """Every sub-unit by code (generated on first use; about 100,000)."""
        if self._units is None:
            units: dict[str, Unit] = {}
            for code, entries in self._by_code.items():
                if entries[-1].kind in OUTSIDE_KINDS:
                    continue  # known by its own id only
                for unit in generate_units(code, entries[-1].kind):
                    units[unit.code] = unit
            self._units = units
        return self._units

    def unit(self, code: str) -> Unit | None:
        """The sub-unit with ``code``, if the directory has one."""
        return self.units.get(code)

    # -- resolution -----------------------------------------------------------------------

    def resolve(self, code: str, at: dt.date) -> Resolution:
        """Who receives for agency or unit ``code`` (or an alias) on day ``at``, following
        successors."""
        code = self.canonical(code)
        top = code
        if code not in self._by_code:
            units = self._units if self._units is not None else self.units
            if code not in units:
                parent = top_level_of(code)  # malformed: MalformedAgencyCodeError
                if parent not in self._by_code:
                    raise UnknownAgencyError(f"no agency {parent} in directory {self.version}")
                raise UnknownAgencyError(
                    f"no unit {code} under {parent} in directory {self.version}"
                )
            top = _TOP_LEVEL_PREFIX + code[len(_TOP_LEVEL_PREFIX) :]  # units are well-formed
        agency = self.agency_at(top, at)
        if agency is not None:
            return Resolution(code, (agency,))
        closed = self._closed_before(top, at)
        return Resolution(code, tuple(self._successors_at(closed, at, 0)), redirected_from=closed)

    def _closed_before(self, code: str, at: dt.date) -> Agency:
        index = bisect.bisect_right(self._starts[code], at) - 1
        if index < 0:
            first = self._by_code[code][0]
            raise UnknownAgencyError(f"{code} ({first.name}) did not exist yet on {at.isoformat()}")
        return self._by_code[code][index]

    def _successors_at(self, closed: Agency, at: dt.date, hops: int) -> Iterator[Agency]:
        if hops > _MAX_HOPS:
            raise ConfigurationError(f"succession from {closed.code} does not end")
        for code in closed.receiving_successors:
            agency = self.agency_at(code, at)
            if agency is not None:
                yield agency
            else:
                yield from self._successors_at(self._closed_before(code, at), at, hops + 1)

    def expand(self, recipient: str, at: dt.date) -> list[Resolution]:
        """The resolutions for one recipient: an agency or unit code, or ``group:<name>``."""
        if not recipient.startswith(GROUP_PREFIX):
            return [self.resolve(recipient, at)]
        name = recipient[len(GROUP_PREFIX) :]
        kinds = BUILTIN_GROUPS.get(name)
        if kinds is not None:
            return [Resolution(a.code, (a,)) for a in self.open_at(at, kinds=kinds)]
        group = self.groups.get(name)
        if group is None:
            known = ", ".join(sorted([*BUILTIN_GROUPS, *self.groups]))
            raise UnknownAgencyError(
                f"no group {name!r} in directory {self.version} (known: {known})"
            )
        return [self.resolve(member, at) for member in group.members]

    def check_recipients(self, recipients: Iterable[str], at: dt.date) -> None:
        """Raise :class:`UnknownRecipientError` unless every recipient resolves on day ``at``:
        what the router would otherwise refuse after the document was sent. (A closed
        agency always has a successor: a directory without one does not load.)"""
        for recipient in recipients:
            try:
                self.expand(recipient, at)
            except DirectoryError as exc:
                raise UnknownRecipientError(recipient, str(exc)) from exc

    # -- consistency ----------------------------------------------------------------------

    def problems(self) -> list[str]:
        """Every inconsistency: overlapping holders of a code, dangling successors, cycles."""
        problems = []
        for code, entries in self._by_code.items():
            for before, after in itertools.pairwise(entries):
                if before.valid_to is None or (
                    after.valid_from and after.valid_from <= before.valid_to
                ):
                    problems.append(f"{code} is held by two agencies at once")
        for agency in self._agencies:
            for successor in agency.successors:
                if successor not in self._by_code:
                    problems.append(f"{agency.code} names an unknown successor {successor}")
        problems += [
            f"alias {alias} of {code} is also a code"
            for alias, code in self._aliases.items()
            if alias in self._by_code
        ]
        problems += [
            f"alias {alias} names {a.code} and {self._aliases[alias]}"
            for a in self._agencies
            for alias in a.aliases
            if self._aliases[alias] != a.code
        ]
        for group in self.groups.values():
            if group.name in BUILTIN_GROUPS:
                problems.append(f"group {group.name} shadows a built-in group")
            problems += [
                f"group {group.name} names unknown {m}" for m in group.members if m not in self
            ]
        problems += [
            f"key {key.key_id} belongs to unknown agency {key.agency}"
            for key in self.keys
            if key.agency != BUS_AGENCY and key.agency not in self
        ]
        if not problems:
            problems += self._succession_problems()
        return problems

    def _succession_problems(self) -> list[str]:
        problems = []
        for agency in self._agencies:
            if agency.valid_to is None:
                continue
            day_after = agency.valid_to + dt.timedelta(days=1)
            try:
                receivers = list(self._successors_at(agency, day_after, 0))
            except (ConfigurationError, UnknownAgencyError) as exc:
                problems.append(f"{agency.code} closed on {agency.valid_to}: {exc}")
                continue
            if not receivers:
                problems.append(f"{agency.code} closed on {agency.valid_to} with nobody to receive")
        return problems
