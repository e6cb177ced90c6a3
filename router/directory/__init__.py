"""The agency directory the router resolves recipients against."""

from router.directory._directory import Agency, Directory

__all__ = ["Agency", "Directory"]
