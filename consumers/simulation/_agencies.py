"""Simulated receiving agencies and the ledger that checks what the applications saw."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

import structlog

from consumers._receiver import Receiver, Reply
from schemas import BUS_AGENCY, StatusCode, StatusNotice

__all__ = ["AcknowledgingAgency", "DeliveryLedger"]

log = structlog.get_logger("docbus.simulation")

DeliveryKey = tuple[str, str]
NoticeKey = tuple[str, str, str]


@dataclass
class DeliveryLedger:
    """What the simulated applications were handed, counted as an application would see it."""

    received: set[DeliveryKey] = field(default_factory=set)
    duplicates: int = 0
    notices: set[NoticeKey] = field(default_factory=set)
    bus_rejections: set[str] = field(default_factory=set)
    _targets: tuple[int, int, int] | None = None
    _done: asyncio.Event = field(default_factory=asyncio.Event)

    def delivered(self, document_id: str, recipient: str) -> None:
        """An application was handed ``document_id`` for ``recipient``."""
        key = (document_id, recipient)
        if key in self.received:
            self.duplicates += 1
        else:
            self.received.add(key)
        self._check()

    async def on_notice(self, notice: StatusNotice) -> None:
        """A sender's inbox got ``notice`` (a :class:`~consumers.NoticeHandler`)."""
        if notice.from_agency == BUS_AGENCY:
            self.bus_rejections.add(notice.document_id or notice.description)
        else:
            self.notices.add((notice.document_id, notice.from_agency, notice.status_code))
        self._check()

    def expect(self, *, deliveries: int, notices: int, rejections: int) -> None:
        """Set the totals at which :meth:`wait_complete` returns."""
        self._targets = (deliveries, notices, rejections)
        self._check()

    async def wait_complete(self, timeout_s: float) -> bool:
        """Wait until the expected totals are reached; False on timeout."""
        try:
            await asyncio.wait_for(self._done.wait(), timeout_s)
        except TimeoutError:
            return False
        return True

    def _check(self) -> None:
        if self._targets is None or self._done.is_set():
            return
        deliveries, notices, rejections = self._targets
        if (
            len(self.received) >= deliveries
            and len(self.notices) >= notices
            and len(self.bus_rejections) >= rejections
        ):
            self._done.set()


class AcknowledgingAgency:
    """A receiving agency's clerk: arrival is automatic, then accept (or reject a small share)."""

    def __init__(
        self,
        receiver: Receiver,
        ledger: DeliveryLedger,
        *,
        reject_share: float = 0.02,
        seed: int = 0,
    ) -> None:
        self._receiver = receiver
        self._ledger = ledger
        self._reject_share = reject_share
        self._rng = random.Random(seed)

    async def run(self) -> None:
        """Handle documents until cancelled: each fetched batch answered at once (signed
        together), concurrently with receiving the next."""
        async with asyncio.TaskGroup() as answers:
            async for batch in self._receiver.batches():
                replies = []
                for received in batch:
                    self._ledger.delivered(received.document.document_id, received.recipient)
                    if self._rng.random() < self._reject_share:
                        code, why = StatusCode.REJECTED, "Không thuộc thẩm quyền giải quyết"
                    else:
                        code, why = StatusCode.ACCEPTED, "Đã tiếp nhận, vào sổ"
                    replies.append(Reply(received, code, why))
                answers.create_task(self._answer(replies))

    async def _answer(self, replies: list[Reply]) -> None:
        """Send a batch's answers; a failure is logged at once (then ends the clerk)."""
        try:
            await self._receiver.notify_many(replies)
        except Exception as exc:
            log.error(
                "answers_failed",
                agency=self._receiver.agency,
                answers=len(replies),
                error=repr(exc),
            )
            raise
