"""The replay's express documents, sent from a process of their own.

A real agency's express document leaves from its own machine. In the replay one process
plays every agency's senders, receivers and clerks; with the bus saturated its event
loop lags 250-500 ms at p99, and an express document waited that long there before its
producer even sent it (the bus's express latency is measured from the outbox record's
timestamp, taken when the producer is handed the record). Here the replay hands express
documents over a pipe to a process that does nothing else, so the latency measured is
the bus's, as it would be for an agency whose own machine is not the bottleneck.
"""

from __future__ import annotations

import asyncio
from multiprocessing.connection import Connection

from docbus import Settings, make_producer, start_producer
from docbus.directory import Directory
from producers import Sender
from schemas import Codec, Document
from shell._child import ChildFailed, HelperProcess, Ready, run_child

__all__ = ["ExpressSenders"]


class ExpressSenders:
    """``async with ExpressSenders(settings, codes) as express: express.send(docs)``.

    Leaving the block waits until every document handed over is acknowledged by the
    broker, and raises :class:`ChildFailed` if any send failed.
    """

    def __init__(self, settings: Settings, codes: list[str]) -> None:
        self._child = HelperProcess(_serve, (settings, codes), name="docbus-express-senders")
        #: Documents the child sent (and the broker acknowledged), known on leaving.
        self.sent = 0

    async def __aenter__(self) -> ExpressSenders:
        await self._child.start()
        return self

    @property
    def cpu_s(self) -> dict[str, float]:
        """CPU seconds the process used, by name, once stopped."""
        return self._child.cpu_by_name

    async def __aexit__(self, *exc: object) -> None:
        result = await self._child.stop()
        assert isinstance(result, dict)
        self.sent = result["sent"]
        if result["failed"]:
            raise ChildFailed(f"express sends failed: {result['failed'][:5]}")

    def send(self, documents: list[Document]) -> None:
        """Hand ``documents`` to the child, which sends each through its sender's SDK."""
        if documents:
            self._child.tell(documents)


def _serve(conn: Connection, parent_pid: int, settings: Settings, codes: list[str]) -> None:
    """The child's entry point."""
    child = _SendingChild(settings, codes)
    run_child(conn, parent_pid, child.run, on_message=child.take)


class _SendingChild:
    """Every agency's sender on one producer, sending what the parent hands over."""

    def __init__(self, settings: Settings, codes: list[str]) -> None:
        self._settings = settings
        self._codes = codes
        self._senders: dict[str, Sender] = {}
        self._pending: set[asyncio.Task[object]] = set()
        self._sent = 0
        self._failed: list[str] = []

    async def run(self, ready: Ready, stop: asyncio.Event) -> dict[str, object]:
        producer = make_producer(self._settings)
        await start_producer(producer, self._settings, "the express senders")
        codec = Codec()
        directory = Directory.load()
        try:
            for code in self._codes:
                sender = Sender(
                    agency=code,
                    settings=self._settings,
                    producer=producer,
                    codec=codec,
                    directory=directory,
                )
                await sender.start()
                self._senders[code] = sender
            ready(None)
            await stop.wait()
            while self._pending:
                await asyncio.wait(set(self._pending))
        finally:
            for sender in self._senders.values():
                await sender.stop()
            await producer.stop()
        return {"sent": self._sent, "failed": self._failed}

    def take(self, message: object) -> None:
        """Send each document of ``message`` (a list of documents) without waiting."""
        assert isinstance(message, list)
        for document in message:
            task = asyncio.get_running_loop().create_task(self._send(document))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _send(self, document: Document) -> object:
        try:
            receipt = await self._senders[document.sender].send(document)
        except Exception as exc:
            self._failed.append(f"{document.document_id}: {exc!r}")
            return None
        self._sent += 1
        return receipt
