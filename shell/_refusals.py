"""A run that is being refused stops early and says why, instead of waiting out its timeout.

The demo and the replay count what the bus refuses (status 02 from ``docbus`` to a
sender: a dead letter) and what receivers refuse (a record they cannot decode or verify),
by reason class. When one class reaches ``limit``, the run stops with one line: the
class, how many, and the first reason given.
"""

from __future__ import annotations

import collections
import re

from consumers import NoticeHandler
from docbus import DocbusError
from schemas import BUS_AGENCY, StatusCode, StatusNotice

__all__ = ["RefusalWatch", "RunRefused"]

#: The router's rejection notices read "rejected by docbus (<class>): <detail>".
_BUS_REJECTION = re.compile(r"rejected by docbus \((?P<kind>[a-z_]+)\): (?P<detail>.*)", re.S)
_SAMPLE_CHARS = 200


class RunRefused(DocbusError):
    """A run stopped because the bus or its receivers kept refusing one kind of record."""

    def __init__(self, kind: str, count: int, sample: str) -> None:
        super().__init__(
            f"{count:,} records refused as {kind} (the first: {sample[:_SAMPLE_CHARS]}); "
            "the run stopped"
        )
        self.kind = kind
        self.count = count


class RefusalWatch:
    """Counts refusals by class; :meth:`check` raises :class:`RunRefused` at ``limit``."""

    def __init__(self, *, limit: int = 100) -> None:
        self.limit = limit
        self.counts: collections.Counter[str] = collections.Counter()
        self._first: dict[str, str] = {}

    def refused(self, kind: str, reason: str) -> None:
        """A record refused for ``reason`` of class ``kind`` (a Receiver's ``on_refused``)."""
        self.counts[kind] += 1
        self._first.setdefault(kind, reason)

    def watching(self, on_notice: NoticeHandler) -> NoticeHandler:
        """``on_notice`` that first counts the bus's rejections among the notices."""

        async def counted(notice: StatusNotice) -> None:
            if notice.from_agency == BUS_AGENCY and notice.status_code == StatusCode.REJECTED:
                found = _BUS_REJECTION.match(notice.description)
                kind, detail = (
                    (found["kind"], found["detail"]) if found else ("rejected", notice.description)
                )
                self.refused(kind, detail)
            await on_notice(notice)

        return counted

    def check(self) -> None:
        """Raise :class:`RunRefused` if one class has been refused ``limit`` times."""
        if not self.counts:
            return
        kind, count = self.counts.most_common(1)[0]
        if count >= self.limit:
            raise RunRefused(kind, count, self._first[kind])
