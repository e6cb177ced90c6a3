"""The agency directory the router resolves recipients against, and its topic feed."""

from router.directory._agency import GOVERNMENT_KINDS, KINDS, PROVINCE_KINDS, Agency
from router.directory._directory import BUILTIN_GROUPS, Directory, Group, Resolution, today_vn
from router.directory._units import Unit, generate_units

__all__ = [
    "BUILTIN_GROUPS",
    "GOVERNMENT_KINDS",
    "KINDS",
    "PROVINCE_KINDS",
    "Agency",
    "Directory",
    "Group",
    "Resolution",
    "Unit",
    "generate_units",
    "today_vn",
]
