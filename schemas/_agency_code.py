"""Party ids: agency codes of QCVN 102:2016 (``V1V2V3.Z1Z2.Y1Y2.MX1X2``, level 4 down to
level 1) and the other ids real exchanges use (``vxp.saas.03``, ``020100107370``, ``G12``)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from schemas._errors import MalformedAgencyCodeError

__all__ = ["GROUP_PREFIX", "AgencyCode", "is_party_id", "top_level_of"]

#: A recipient that names a group of agencies rather than one: ``group:<name>``.
GROUP_PREFIX = "group:"
_GROUP_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}\Z")

_PATTERN = re.compile(r"^(\d{3})\.(\d{2})\.(\d{2})\.([A-Z]\d{2})\Z")
#: Ids outside the national scheme: the platform's hosted tenants (``vxp.saas.03``),
#: enterprises known by tax code (``020100107370``), external gateways, short aliases.
_OTHER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
#: What starts like a national code must be one (``000.00.00.XYZ`` is a typo, not an id).
_NATIONAL_LOOK = re.compile(r"^\d{3}\.\d{2}\.\d{2}\.")
#: Codes remembered by the two checks every record's codes pass through: a bus knows a few
#: thousand units, and a hostile flood of new ones only turns the oldest out.
_CODES_REMEMBERED = 8192


@dataclass(frozen=True, slots=True)
class AgencyCode:
    """A parsed agency code; ``level1`` is the top-level agency (e.g. ``G22``)."""

    level4: str
    level3: str
    level2: str
    level1: str

    @classmethod
    def parse(cls, code: str) -> AgencyCode:
        """Parse ``code`` or raise :class:`MalformedAgencyCodeError` saying why."""
        return cls(*_national_levels(code).groups())

    @staticmethod
    def is_valid(code: str) -> bool:
        """Whether ``code`` parses (checked without building it: every record's codes pass here)."""
        match = _PATTERN.match(code)
        return match is not None and _levels_hold(match)

    @staticmethod
    def is_group(recipient: str) -> bool:
        """Whether ``recipient`` is a well-formed ``group:<name>`` reference."""
        return recipient.startswith(GROUP_PREFIX) and bool(
            _GROUP_NAME.match(recipient[len(GROUP_PREFIX) :])
        )

    @property
    def level(self) -> int:
        """1 for a top-level agency, up to 4 for a commune-level unit."""
        if self.level4 != "000":
            return 4
        if self.level3 != "00":
            return 3
        if self.level2 != "00":
            return 2
        return 1

    @property
    def top_level(self) -> str:
        """The code of the top-level agency this unit belongs to."""
        return f"000.00.00.{self.level1}"

    def __str__(self) -> str:
        return f"{self.level4}.{self.level3}.{self.level2}.{self.level1}"


@functools.lru_cache(maxsize=_CODES_REMEMBERED)
def is_party_id(code: str) -> bool:
    """Whether ``code`` can name a party: an agency code, or another id of 1-64 letters,
    digits, ``.``, ``_`` and ``-`` (the directory decides whether the party exists)."""
    if _NATIONAL_LOOK.match(code):
        return AgencyCode.is_valid(code)
    return bool(_OTHER_ID.match(code))


@functools.lru_cache(maxsize=_CODES_REMEMBERED)
def top_level_of(code: str) -> str:
    """The top-level party ``code`` belongs to: an agency code's level-1 agency, or the id
    itself for a party outside the national scheme (it has no sub-units)."""
    if _NATIONAL_LOOK.match(code):
        return f"000.00.00.{_national_levels(code)[4]}"
    if not _OTHER_ID.match(code):
        raise MalformedAgencyCodeError(
            f"{code!r} is not an agency code of the form 000.00.00.G22 or a party id "
            "(1-64 letters, digits, '.', '_', '-')"
        )
    return code


def _national_levels(code: str) -> re.Match[str]:
    """``code``'s four levels as matched, or :class:`MalformedAgencyCodeError` saying why."""
    match = _PATTERN.match(code)
    if match is None:
        raise MalformedAgencyCodeError(f"{code!r} is not an agency code of the form 000.00.00.G22")
    if not _levels_hold(match):
        raise MalformedAgencyCodeError(f"{code!r} names a lower level under an empty higher one")
    return match


def _levels_hold(match: re.Match[str]) -> bool:
    """No lower level under an empty higher one (``000.05.00.G22`` is no unit)."""
    level4, level3, level2 = match[1], match[2], match[3]
    return (level3 == "00" or level2 != "00") and (level4 == "000" or level3 != "00")
