"""What the gateway's routes share: settings, limits, tokens, open senders and inboxes."""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from fastapi import FastAPI

from docbus import BlobStore, Settings
from docbus.directory import Directory
from producers import Sender
from router.tracking import Tracker, open_store
from schemas import SchemaRegistry
from shell.gateway._inbox import AgencyInbox
from shell.gateway._metrics import GatewayMetrics
from shell.gateway._problems import Problem
from shell.gateway._tokens import TokenStore

__all__ = ["GatewayLimits", "GatewayState"]


@dataclass(frozen=True, slots=True)
class GatewayLimits:
    """What one request and one token may take."""

    max_body_bytes: int = 64 << 20
    max_attachment_bytes: int = 1 << 30  # POST /v1/attachments, streamed to the blob store
    requests_per_second: float = 20.0
    burst: int = 40
    longest_poll_seconds: float = 60.0  # a long poll answers by then, whatever it asked
    header_seconds: float = 10.0  # a request's headers, whole, from their first byte
    upload_grace_seconds: float = 10.0  # a body's time: this, plus its size at the rate below
    min_upload_bytes_per_second: int = 64 << 10


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


@dataclass(slots=True)
class GatewayState:
    """What the routes share: settings, directory, tokens, open senders, the tracker."""

    settings: Settings
    tokens: TokenStore
    directory: Directory
    limits: GatewayLimits
    blobs: BlobStore
    senders: dict[str, Sender] = field(default_factory=dict)
    inboxes: dict[str, AgencyInbox] = field(default_factory=dict)
    opening: asyncio.Lock = field(default_factory=asyncio.Lock)
    buckets: dict[str, _Bucket] = field(default_factory=dict)
    tracker: Tracker | None = None
    registry: SchemaRegistry = field(default_factory=SchemaRegistry.load)
    metrics: GatewayMetrics = field(default_factory=GatewayMetrics)

    async def sender(self, agency: str) -> Sender:
        """The sender of ``agency``, started on its first use and kept."""
        async with self.opening:
            sender = self.senders.get(agency)
            if sender is None:
                sender = Sender(agency=agency, settings=self.settings, directory=self.directory)
                await sender.start()
                self.senders[agency] = sender
        return sender

    async def inbox(self, agency: str) -> AgencyInbox:
        """The inbox of ``agency``, read from its first use on and kept."""
        async with self.opening:
            inbox = self.inboxes.get(agency)
            if inbox is None:
                inbox = AgencyInbox(agency, self.settings)
                await inbox.start()
                self.inboxes[agency] = inbox
        return inbox

    def admit(self, token: str) -> None:
        """Take one request from ``token``'s bucket, or refuse it with 429."""
        now = time.monotonic()
        limits = self.limits
        bucket = self.buckets.setdefault(token, _Bucket(limits.burst, now))
        bucket.tokens = min(
            limits.burst, bucket.tokens + (now - bucket.at) * limits.requests_per_second
        )
        bucket.at = now
        if bucket.tokens < 1:
            wait = (1 - bucket.tokens) / limits.requests_per_second
            raise Problem(
                429,
                "rate-limited",
                f"more than {limits.requests_per_second:g} requests a second for this token",
                headers={"Retry-After": str(max(1, round(wait)))},
            )
        bucket.tokens -= 1

    @contextlib.asynccontextmanager
    async def lifespan(self, _: FastAPI) -> AsyncIterator[None]:
        self.tracker = Tracker(
            open_store(dsn=self.settings.tracking_dsn, state_dir=self.settings.home)
        )
        try:
            yield
        finally:
            for inbox in self.inboxes.values():
                await inbox.stop()
            for sender in self.senders.values():
                await sender.stop()
            self.tracker.store.close()
