"""The agency directory: every agency before and after the 2025 reorganisation, and lookups."""

from docbus.directory._agency import GOVERNMENT_KINDS, KINDS, OUTSIDE_KINDS, PROVINCE_KINDS, Agency
from docbus.directory._directory import BUILTIN_GROUPS, Directory, Group, Resolution
from docbus.directory._units import Unit, generate_units

__all__ = [
    "BUILTIN_GROUPS",
    "GOVERNMENT_KINDS",
    "KINDS",
    "OUTSIDE_KINDS",
    "PROVINCE_KINDS",
    "Agency",
    "Directory",
    "Group",
    "Resolution",
    "Unit",
    "generate_units",
]
