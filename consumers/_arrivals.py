"""Arrival notices (01) held for the application's first answer, so that both go back in
one record; each goes alone once due, when its delivery is acked, or when the receiver stops.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

import structlog

from schemas import StatusNotice

__all__ = ["HeldArrivals"]

log = structlog.get_logger("docbus.receiver")

#: ``(document id, recipient)``: the delivery a held 01 is about.
Key = tuple[str, str]
#: Sends notices together; returns once the broker holds them.
Send = Callable[[list[StatusNotice]], Awaitable[Any]]


class HeldArrivals:
    """One receiver's held 01s: each with when it is due, sent by ``send``.

    An answer takes its delivery's 01 along (:meth:`answering`); a delivery about to be
    marked handled without an answer gets its 01 sent first (:meth:`send_before_marks`),
    so no delivery is ever handled without its 01 gone.
    """

    def __init__(self, send: Send, hold_s: float, *, who: str) -> None:
        self._send = send
        self.hold_s = hold_s
        self._who = who
        self._held: dict[Key, tuple[float, StatusNotice]] = {}
        #: Deliveries whose 01 an answer took, until that answer is written.
        self._answering: dict[Key, asyncio.Future[None]] = {}
        self._releasing: asyncio.Task[None] | None = None

    def __contains__(self, key: object) -> bool:
        """Whether ``key``'s 01 is held, or on its way with an answer."""
        return key in self._held or key in self._answering

    def hold(self, arrivals: Mapping[Key, StatusNotice]) -> None:
        """Hold ``arrivals`` (by delivery) for the answers, for :attr:`hold_s`."""
        due = asyncio.get_running_loop().time() + self.hold_s
        self._keep({key: (due, notice) for key, notice in arrivals.items()})

    @contextlib.asynccontextmanager
    async def answering(self, keys: Iterable[Key]) -> AsyncIterator[dict[Key, StatusNotice]]:
        """The held 01s of ``keys``, taken at once (before the caller awaits anything) to
        go with their answers; held again if the block fails."""
        taken = {key: self._held.pop(key) for key in keys if key in self._held}
        written = asyncio.get_running_loop().create_future()
        self._answering.update(dict.fromkeys(taken, written))
        try:
            yield {key: notice for key, (_, notice) in taken.items()}
        except BaseException:
            self._keep(taken)  # to go with the next answer, or alone when due
            raise
        finally:
            for key in taken:
                if self._answering.get(key) is written:
                    del self._answering[key]
            written.set_result(None)

    async def send_before_marks(self, keys: Sequence[Key]) -> None:
        """Return once the 01s of ``keys`` are gone: with the answers that took them, or
        now (together)."""
        answering = {self._answering[key] for key in keys if key in self._answering}
        if answering:  # if an answer failed, its 01s are held again: sent below
            await asyncio.wait(answering)
        await self.send(keys)

    async def send(self, keys: Sequence[Key]) -> None:
        """Send the held 01s of ``keys`` now, together (held again if that fails). An
        answer written after this call goes after them: one producer, the document's key."""
        taken = {key: self._held.pop(key) for key in keys if key in self._held}
        if not taken:
            return
        try:
            await self._send([notice for _, notice in taken.values()])
        except BaseException:
            self._keep(taken)
            raise

    async def close(self) -> None:
        """Stop releasing and send every 01 still held (their deliveries are not handled:
        if this fails, they are read again next time and their 01s sent then)."""
        await self._stop_releasing()
        try:
            await self.send(list(self._held))
        except Exception as exc:
            log.warning("arrival_notices_not_sent", agency=self._who, error=str(exc))
        await self._stop_releasing()  # one a failure above started again

    def _keep(self, held: Mapping[Key, tuple[float, StatusNotice]]) -> None:
        self._held.update(held)
        if self._held and (self._releasing is None or self._releasing.done()):
            self._releasing = asyncio.create_task(self._release_due(), name=f"arrivals-{self._who}")

    async def _stop_releasing(self) -> None:
        releasing, self._releasing = self._releasing, None
        if releasing is not None:
            releasing.cancel()
            await asyncio.wait([releasing])

    async def _release_due(self) -> None:
        """Send each held 01 once it is due (its delivery not answered meanwhile)."""
        loop = asyncio.get_running_loop()
        while self._held:
            wait = min(due for due, _ in self._held.values()) - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            now = loop.time()
            try:
                await self.send([key for key, (due, _) in self._held.items() if due <= now])
            except Exception as exc:  # held again: sent at the next try, or with the answer
                log.warning("arrival_notices_not_sent", agency=self._who, error=str(exc))
                await asyncio.sleep(1.0)
