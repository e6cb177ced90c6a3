"""Creating every topic the bus needs for a directory."""

from __future__ import annotations

from docbus import Settings, create_missing_topics
from docbus.directory import Directory
from router._directory_feed import COMPACTED
from schemas import TopicLayout

__all__ = ["ensure_bus_topics"]


async def ensure_bus_topics(settings: Settings, directory: Directory) -> tuple[list[str], int]:
    """Create each agency's outbox and inbox, the dead letters and the compacted directory topic.

    Every code the directory ever held gets its topics, so that a replay of an earlier
    year finds the agencies of that year. Returns (topics created, topics wanted).
    """
    layout = TopicLayout(settings.topic_prefix)
    wanted = layout.agency_topics(directory.codes())
    created = await create_missing_topics(settings, wanted, configs={layout.directory: COMPACTED})
    return created, len(wanted)
