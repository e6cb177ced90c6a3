"""An agency's inbox as the gateway hands it out: each delivery until its status is posted.

The gateway reads an agency's inbox with the receiver SDK, one batch at a time, and keeps
the batch as the agency's pending deliveries: every ``GET /v1/inbox`` hands out the same
ones until their system posts a status for each. Only then is the next batch asked for,
and only then is the receiver allowed to mark the batch handled and commit past it; so a
gateway that dies between hand-out and status hands the deliveries out again after its
restart (the receiver's dedupe store never saw them handled), and a delivery answered is
never handed out again. The cost: one delivery left unanswered holds the next batch back.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib

from consumers import ReceivedDocument, Receiver
from docbus import BrokerError, Settings
from schemas import StaffInfo

__all__ = ["AgencyInbox", "delivery_id"]

#: Deliveries handed out at once, at most.
_BATCH = 200
#: Deliveries handed out and unanswered beyond which the inbox stops taking new ones.
_MOST_PENDING = 2000


def delivery_id(received: ReceivedDocument) -> str:
    """A URL-safe id for one (document, recipient) delivery."""
    key = f"{received.document.document_id}\x00{received.recipient}".encode()
    return hashlib.sha256(key).hexdigest()[:32]


class AgencyInbox:
    """One agency's deliveries, each pending until answered (in any order), new ones taken
    as they arrive."""

    def __init__(self, agency: str, settings: Settings) -> None:
        self.agency = agency
        self._receiver = Receiver(agency=agency, settings=settings)
        self._pending: dict[str, ReceivedDocument] = {}
        self._changed = asyncio.Condition()
        self._pulling: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._receiver.start()
        self._pulling = asyncio.create_task(self._pull(), name=f"gateway-inbox-{self.agency}")

    async def stop(self) -> None:
        if self._pulling is not None:
            self._pulling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pulling
        await self._receiver.stop()

    async def pending(self, wait_s: float, limit: int) -> list[tuple[str, ReceivedDocument]]:
        """Up to ``limit`` deliveries handed out and not answered, waiting up to ``wait_s``
        seconds for one when there are none."""
        if self._pulling is not None and self._pulling.done() and not self._pulling.cancelled():
            failure = self._pulling.exception()
            raise BrokerError(f"{self.agency}'s inbox is not being read: {failure!r}")
        async with self._changed:
            if not self._pending and wait_s > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._changed.wait_for(lambda: bool(self._pending)), wait_s
                    )
            return list(self._pending.items())[:limit]

    def get(self, delivery: str) -> ReceivedDocument | None:
        """The pending delivery ``delivery``, if it is one."""
        return self._pending.get(delivery)

    async def answer(
        self, delivery: str, code: str, description: str, staff: StaffInfo | None = None
    ) -> bool:
        """Send ``code`` for ``delivery`` and stop handing it out; ``False`` if it is not
        pending. ``ImpossibleTransition`` (nothing sent) for a status its state forbids."""
        received = self._pending.get(delivery)
        if received is None:
            return False
        await received.notify(code, description, staff=staff)  # durable when it returns
        async with self._changed:
            self._pending.pop(delivery, None)
            self._changed.notify_all()
        return True

    async def _pull(self) -> None:
        """Take deliveries as they come, each pending until answered in any order; stop
        taking more only while :data:`_MOST_PENDING` wait unanswered."""
        async for batch in self._receiver.batches(max_documents=_BATCH, answer_later=True):
            async with self._changed:
                self._pending.update((delivery_id(r), r) for r in batch)
                self._changed.notify_all()
                await self._changed.wait_for(lambda: len(self._pending) < _MOST_PENDING)
