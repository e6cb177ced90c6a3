"""The topic layout: an outbox and an inbox per top-level agency, and one dead-letter topic."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["BUS_AGENCY", "HEADER_ERROR", "HEADER_ERROR_CLASS", "HEADER_RECIPIENT", "TopicLayout"]

#: ``from_agency`` of the notices the bus itself sends (rejections).
BUS_AGENCY = "docbus"

#: Record header carrying a dead letter's reason, in words.
HEADER_ERROR = "docbus-error"
#: Record header carrying a dead letter's bounded reason class (a metric label).
HEADER_ERROR_CLASS = "docbus-error-class"
#: Record header naming the recipient unit a delivery is for.
HEADER_RECIPIENT = "docbus-recipient"
#: Record header naming the code a redirected delivery was addressed to.
HEADER_ADDRESSED_TO = "docbus-addressed-to"
#: Record header of a redirect notice: the successors that received, comma-separated.
HEADER_REDIRECTED_TO = "docbus-redirected-to"


@dataclass(frozen=True, slots=True)
class TopicLayout:
    """Topic names under ``prefix``: ``<prefix>.outbox.<code>``, ``<prefix>.inbox.<code>``."""

    prefix: str = "docbus"

    def outbox(self, agency: str) -> str:
        """Where top-level agency ``agency`` writes its documents and notices."""
        return f"{self.prefix}.outbox.{agency}"

    def inbox(self, agency: str) -> str:
        """Where top-level agency ``agency`` reads documents and notices for it."""
        return f"{self.prefix}.inbox.{agency}"

    @property
    def deadletter(self) -> str:
        """Where the router puts what it will not deliver, with the reason in headers."""
        return f"{self.prefix}.deadletter"

    @property
    def directory(self) -> str:
        """The compacted topic that carries the agency directory to every router."""
        return f"{self.prefix}.directory"

    @property
    def outbox_pattern(self) -> str:
        """A regular expression matching every outbox topic."""
        return rf"^{re.escape(self.prefix)}\.outbox\..+$"

    def outbox_owner(self, topic: str) -> str | None:
        """The agency whose outbox ``topic`` is, or ``None`` for another topic."""
        head = f"{self.prefix}.outbox."
        return topic[len(head) :] if topic.startswith(head) and len(topic) > len(head) else None

    def agency_topics(self, agencies: Iterable[str]) -> list[str]:
        """Every topic the bus needs: ``agencies``' outboxes and inboxes, dead letters, directory."""
        names = [self.deadletter, self.directory]
        for agency in agencies:
            names += [self.outbox(agency), self.inbox(agency)]
        return names
