"""The router service: consume every outbox, route, produce, then commit.

At-least-once: a batch's offsets are committed only after every record derived from it
(deliveries, notices, dead letters) is acknowledged by the broker. Two lanes route side
by side in one event loop (:mod:`router._lanes`): express partitions with a consumer of
their own, everything else with the other.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import signal
import time
from collections.abc import Collection

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError

from docbus import (
    LANES,
    BrokerError,
    ClientStateError,
    ExpressDoorbell,
    HandedOver,
    KeptThread,
    Keystore,
    Lane,
    Lifecycle,
    MetricsServer,
    PartitionBatches,
    Ringer,
    Service,
    Settings,
    all_finished,
    kafka_errors,
    lane_names,
    make_lanes,
    make_producer,
    start_consumer,
    start_producer,
)
from docbus.directory import Directory
from router._directory_feed import DirectoryFollower
from router._lag import partition_lag
from router._lanes import producer_linger_ms
from router._metrics import RouterMetrics
from router._parking import Parking
from router._revocations import Revocations
from router._routing import IncomingRecord, Outgoing, Routed, RoutingCore
from router._settlements import SettlementQueue
from router.tracking import (
    OverdueCounter,
    PendingChanges,
    StoreReadNeeded,
    Tracker,
    open_store,
)
from router.tracking._writer import ProcessWriter
from schemas import BUS_AGENCY, EXPRESS_PARTITION, Codec, TopicLayout

__all__ = ["Router", "RouterStats"]

log = structlog.get_logger("docbus.router")

#: The router yields to the event loop every this many records of a batch: a 5,000-record
#: batch took about a second and a half with nothing else running (the producer's sends
#: waited, and so did everything sharing the loop in the demo and the replay).
_YIELD_EVERY = 250
#: ...and every this many while express documents flow, so that the express lane's fetches,
#: routing and sends, each a turn of the loop, do not each wait for 250 bulk records.
#: Measured with a saturated router (benchmarks/express_lane.py): every 250, express p99
#: 1.1 s at 7,600 bulk documents/s; every 50, 340 ms at 6,500; every 20, 172 ms at 5,400.
_YIELD_EVERY_EXPRESS = 20
#: Parked notices (their document not known yet) are retried this often, at most...
_RETRY_PARKED_S = 0.25
#: Store reads one record may need: its forgotten delivery, then that delivery's newer
#: history from another router.
_STORE_READS_PER_RECORD = 2
#: ...and no more than this many are held (about 1 KB each): past it, dead letters.
_MAX_PARKED = 50_000
#: The express lane counts as flowing for this long after it last routed something.
_EXPRESS_FLOWING_S = 1.0
#: The express lane's batches routed and not yet settled, at most (the bulk lane's: 1).
_EXPRESS_UNSETTLED = 16


class RouterStats:
    """What one router instance has done since it started, read from its metric tables."""

    def __init__(self, metrics: RouterMetrics) -> None:
        self._metrics = metrics

    @property
    def documents_routed(self) -> int:
        """Documents routed."""
        return sum(self._metrics.documents_routed.values.values())

    @property
    def deliveries(self) -> int:
        """Deliveries written to inboxes."""
        return sum(self._metrics.deliveries.values.values())

    @property
    def notices_routed(self) -> int:
        """Status notices routed back."""
        return sum(self._metrics.status_notices.values.values())

    @property
    def redirects(self) -> int:
        """Recipients redirected to a successor."""
        return sum(self._metrics.redirects.values.values())

    @property
    def dead_letters(self) -> collections.Counter[str]:
        """Records sent to the dead-letter topic, by reason."""
        return collections.Counter(
            {reason: count for (reason,), count in self._metrics.dead_letters.values.items()}
        )

    @property
    def dead_lettered(self) -> int:
        """Every record sent to the dead-letter topic."""
        return sum(self._metrics.dead_letters.values.values())

    @property
    def batches_committed(self) -> int:
        """Outbox batches committed."""
        return sum(self._metrics.batches_committed.values.values())


class Router(Service):
    """The routing core as a service: ``async with Router(settings=...) as r: await r.join()``."""

    def __init__(
        self,
        *,
        settings: Settings,
        directory: Directory | None = None,
        codec: Codec | None = None,
        group_id: str | None = None,
        max_batch_records: int = 5000,
        poll_timeout_ms: int = 100,
        follow_directory: bool = True,
        tracker: Tracker | None = None,
        track: bool = True,
        metrics: RouterMetrics | None = None,
        lag_interval_s: float = 5.0,
        overdue_interval_s: float = 30.0,
        unknown_notice_grace_s: float = 30.0,
        lanes: Collection[str] = LANES,
    ) -> None:
        self._settings = settings
        self._layout = TopicLayout(settings.topic_prefix)
        self._inbox_prefix = self._layout.inbox("")
        self._owns_tracker = tracker is None and track
        self._tracker = tracker
        self._writer: ProcessWriter | None = None
        keystore = Keystore(settings.keys_root)
        self._core = RoutingCore(
            directory=directory if directory is not None else Directory.load(),
            codec=codec if codec is not None else Codec(),
            layout=self._layout,
            max_document_bytes=settings.max_document_bytes,
            signer=keystore.signer(BUS_AGENCY),
            keys=keystore.keyring(),
        )
        self._group_id = group_id or settings.group_id("router")
        self._max_batch = max_batch_records
        self._poll_timeout_ms = poll_timeout_ms
        self._lifecycle = Lifecycle("Router")
        self._stopping = asyncio.Event()
        self._follow_directory = follow_directory
        self._producer: AIOKafkaProducer | None = None
        self._lanes: list[Lane] = []
        self._doorbell: ExpressDoorbell | None = None
        self._inbox_ringer: Ringer | None = None
        self._lane_names = lane_names(lanes)
        self._express_routed_at = float("-inf")
        self._in_process_writes = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._directory_task: asyncio.Task[None] | None = None
        self._directory_changed = asyncio.Condition()
        self._trace_records = settings.traces_records
        self.metrics = metrics if metrics is not None else RouterMetrics()
        self.stats = RouterStats(self.metrics)
        self._lag_interval_s = lag_interval_s
        self._overdue_interval_s = overdue_interval_s
        self._overdue = OverdueCounter(dsn=settings.tracking_dsn, state_dir=settings.home)
        #: Every tracking-store read and the store's opening and closing, off the loop.
        self._store_thread = KeptThread("docbus-store")
        self._gauge_tasks: list[asyncio.Task[None]] = []
        self._metrics_server: MetricsServer | None = None
        self._parking = Parking(grace_s=unknown_notice_grace_s, retry_every_s=_RETRY_PARKED_S)
        self._revocations = Revocations()
        self._backlog_at = float("-inf")  # when a lane last fetched a full batch
        self._next_offsets: dict[TopicPartition, int] = {}

    async def start(self) -> None:
        """Connect, join the router group and start routing in a background task."""
        self._lifecycle.opening()
        try:
            if self._settings.metrics_port is not None:  # first: a taken port fails fast
                self._metrics_server = MetricsServer(
                    self.metrics.registry,
                    port=self._settings.metrics_port,
                    host=self._settings.metrics_host,
                    live=self.is_alive,
                    ready=self.is_ready,
                )
                await self._metrics_server.start()
            self._producer = make_producer(
                self._settings, linger_ms=producer_linger_ms(self._settings, self._lane_names)
            )
            self._inbox_ringer = Ringer(
                self._producer,
                self._layout.inbox_doorbell,
                enabled=self._settings.express_sweep_ms > 0,
            )
            self._lanes = make_lanes(self._settings, self._group_id, self._lane_names)
            for lane in self._lanes:
                self._subscribe(lane)
            # Together: each consumer waits ~2 s to join its group, and the tracking writer
            # takes a second to start; no record is routed before all are done.
            await all_finished(
                *([self._open_tracking()] if self._owns_tracker else []),
                start_producer(self._producer, self._settings, "the router"),
                *(
                    start_consumer(lane.consumer, f"starting the router's {lane.name} lane")
                    for lane in self._lanes
                ),
                *([self._doorbell.start()] if self._doorbell is not None else []),
            )
            self._core.tracker = self._tracker
            if self._tracker is not None:
                self._tracker.on_unknown_deadline = self._count_unknown_deadlines
                self._tracker.reads_inline = False  # the store is read in its own thread
        except BaseException:
            await self._close_clients()
            self._lifecycle.closing()
            raise
        await asyncio.to_thread(lambda: self._core.directory.units)  # build the unit index once
        self.metrics.use_directory(self._core.directory)
        if self._follow_directory:
            follower = DirectoryFollower(settings=self._settings, on_update=self._use_directory)
            self._directory_task = asyncio.create_task(follower.run(), name="docbus-directory")
            self._directory_task.add_done_callback(_log_follower_failure)
        self._task = asyncio.create_task(self._route_forever(), name="docbus-router")
        self._gauge_tasks = [
            asyncio.create_task(self._refresh_lag(), name="docbus-router-lag"),
            *(
                [asyncio.create_task(self._refresh_overdue(), name="docbus-router-overdue")]
                if self.counts_overdue
                else []
            ),
        ]
        log.info(
            "router_started",
            group_id=self._group_id,
            lanes=[lane.name for lane in self._lanes],
            pattern=self._layout.outbox_pattern,
            directory_version=self.directory_version,
        )

    async def _open_tracking(self) -> None:
        """Start the tracking writer (it creates the store's tables), then open the store
        for this router's reads."""
        self._writer = ProcessWriter(dsn=self._settings.tracking_dsn, state_dir=self._settings.home)
        await asyncio.to_thread(self._writer.start)
        self._tracker = Tracker(
            await self._store_thread.run(
                open_store, dsn=self._settings.tracking_dsn, state_dir=self._settings.home
            ),
            writer=self._writer.write,
        )

    def _subscribe(self, lane: Lane) -> None:
        """Subscribe ``lane`` to the outboxes; put the express lane on the doorbell where
        the settings say so (``express_sweep_ms``)."""
        if not (lane.express and self._settings.express_sweep_ms > 0):
            lane.subscribe(self._layout.outbox_pattern, on_revoked=self._forget)
            return
        self._doorbell = ExpressDoorbell(
            self._settings, lane, self._layout.doorbell, self.metrics.doorbell_rings
        )
        self._doorbell.subscribe(self._layout.outbox_pattern, on_revoked=self._forget)

    @property
    def counts_overdue(self) -> bool:
        """Whether this router exports the overdue count: a router that tracks and runs the
        bulk lane. The count scans the whole shared store (about 1.2 s of CPU a time at a
        million deliveries), so a router of the express lane alone leaves it to the bulk
        lane's routers rather than spend its process's turns on it."""
        tracks = self._tracker is not None or self._owns_tracker
        return tracks and "bulk" in self._lane_names

    def is_alive(self) -> bool:
        """Whether the router is started and its routing task still runs (the probes' answer)."""
        return self._lifecycle.is_open and self._task is not None and not self._task.done()

    def is_ready(self) -> bool:
        """Whether the router is alive and not stopping."""
        return self.is_alive() and not self._stopping.is_set()

    @property
    def metrics_url(self) -> str | None:
        """Where this router's metrics are served, if they are."""
        return self._metrics_server.url if self._metrics_server is not None else None

    @property
    def directory_version(self) -> str:
        """The version of the directory the router routes by."""
        return self._core.directory.version

    async def _use_directory(self, directory: Directory) -> None:
        """Switch to ``directory`` between two records (its unit index built off the loop)."""
        await asyncio.to_thread(lambda: directory.units)
        previous = self._core.directory.version
        self._core.directory = directory
        self.metrics.use_directory(directory)
        log.info("directory_updated", previous=previous, directory_version=directory.version)
        async with self._directory_changed:
            self._directory_changed.notify_all()

    async def wait_for_directory(self, version: str) -> None:
        """Wait until the router routes by directory ``version``."""
        async with self._directory_changed:
            await self._directory_changed.wait_for(lambda: self.directory_version == version)

    def request_stop(self) -> None:
        """Ask the router to finish its in-flight batch, commit and stop (signal-safe)."""
        self._stopping.set()

    async def join(self) -> None:
        """Wait until the routing task ends; re-raise its failure."""
        if self._task is None:
            raise ClientStateError("Router is not started")
        await asyncio.shield(self._task)

    async def stop(self) -> None:
        """Finish the in-flight batch, commit, close the clients; safe to call twice."""
        if not self._lifecycle.closing():
            return
        self._stopping.set()
        task, self._task = self._task, None
        follower, self._directory_task = self._directory_task, None
        helpers = [t for t in [follower, *self._gauge_tasks] if t is not None]
        self._gauge_tasks = []
        for helper in helpers:
            helper.cancel()
        if helpers:
            await asyncio.wait(helpers)
        try:
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait([task])
                    if not task.cancelled() and task.exception() is not None:
                        log.error("router_failed", error=repr(task.exception()))
        finally:
            await self._close_clients()
            log.info(
                "router_stopped",
                documents=self.stats.documents_routed,
                deliveries=self.stats.deliveries,
                dead_letters=self.stats.dead_lettered,
            )

    async def _route_with_store_reads(self, record: IncomingRecord) -> Routed:
        """Route ``record``; where the tracker must see the store first (a forgotten
        delivery, or another router's newer history), read it off the loop and route again."""
        for _ in range(_STORE_READS_PER_RECORD):
            try:
                return self._core.route(record)
            except StoreReadNeeded as needed:
                assert self._tracker is not None
                read = await self._store_thread.run(self._tracker.read_delivery, needed.key)
                self._tracker.remember(read)
        return self._core.route(record)  # a third request would be a bug: let it raise

    def _count_unknown_deadlines(self, deliveries: int) -> None:
        self.metrics.deadlines_unknown.values[()] += deliveries

    @property
    def tracker(self) -> Tracker | None:
        """The tracker the router records deliveries and notices in."""
        return self._tracker

    async def _close_clients(self) -> None:
        server, self._metrics_server = self._metrics_server, None
        if server is not None:
            await server.stop()
        if self._owns_tracker and self._tracker is not None:
            await self._store_thread.run(self._tracker.store.close)
        await self._store_thread.close()
        if self._writer is not None:
            await asyncio.to_thread(self._writer.stop)
        await self._overdue.close()
        lanes, self._lanes = self._lanes, []
        producer, self._producer = self._producer, None
        doorbell, self._doorbell = self._doorbell, None
        for lane in lanes:
            await lane.consumer.stop()
        if doorbell is not None:
            await doorbell.stop()
        if producer is not None:
            await producer.stop()

    def pause_routing(self) -> None:
        """Stop fetching outbox records (for benchmarks that fill the outboxes first)."""
        for lane in self._lanes:
            lane.pause()
        if self._doorbell is not None:
            self._doorbell.hold()

    def resume_routing(self) -> None:
        """Fetch outbox records again after :meth:`pause_routing`."""
        for lane in self._lanes:
            if lane.express and self._doorbell is not None:
                self._doorbell.release()
            else:
                lane.resume()

    def _forget(self, revoked: set[TopicPartition]) -> None:
        """Partitions taken away in a rebalance: their parked records are the new owner's,
        and so is what a batch in hand still holds of them."""
        self._revocations.revoke(revoked)
        self._parking.drop(revoked)
        for tp in revoked:
            self._next_offsets.pop(tp, None)

    async def _route_forever(self) -> None:
        """Route both lanes until asked to stop; if one fails, the other finishes its batch."""
        lanes = [
            asyncio.create_task(self._route_lane(lane), name=f"docbus-router-{lane.name}")
            for lane in self._lanes
        ]
        if self._doorbell is not None:
            lanes.append(
                asyncio.create_task(self._doorbell.run(self._stopping), name="docbus-doorbell")
            )
        await asyncio.wait(lanes, return_when=asyncio.FIRST_EXCEPTION)
        self._stopping.set()
        await asyncio.wait(lanes)
        for task in lanes:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]

    async def _route_lane(self, lane: Lane) -> None:
        """Fetch and route batch after batch; settle each (acks, tracking write, commit) behind.

        Batch N settles while batch N+1 is routed, and settlements run one at a time and in
        order, so offsets are committed in order and only after all that N produced and
        wrote is acknowledged. The bulk lane routes one batch ahead of its settlements; the
        express lane up to :data:`_EXPRESS_UNSETTLED`, so that an express document is not
        held while an earlier batch's tracking write waits for the store (the bulk lane's
        writes hold it for tens of milliseconds, more as it grows).
        """
        consumer = lane.consumer
        settlements = SettlementQueue(_EXPRESS_UNSETTLED if lane.express else 1)
        try:
            while not self._stopping.is_set():
                with kafka_errors(f"fetching from the outboxes ({lane.name} lane)"):
                    batch = await consumer.getmany(
                        timeout_ms=self._poll_timeout_ms, max_records=self._max_batch
                    )
                fetched = self._revocations.mark()
                batch = {tp: records for tp, records in batch.items() if lane.owns(tp)}
                if lane.express and self._doorbell is not None:
                    # Before the loop turns: a partition read to its ring's offset is paused
                    # before the consumer would fetch it again.
                    for tp, records in batch.items():
                        self._doorbell.read(tp, records[-1].offset + 1)
                if not batch and not self._parking.due(time.monotonic(), lane.name, lane.owns):
                    continue
                fetched_at = time.time()
                if sum(len(records) for records in batch.values()) >= self._max_batch:
                    self._backlog_at = time.monotonic()  # a full batch: more is waiting
                self.metrics.in_flight.inc(sum(len(records) for records in batch.values()))
                if lane.express:
                    self._express_routed_at = time.monotonic()
                routed, acks, offsets = await self._route_batch(
                    lane, batch, self._yield_every(lane), fetched
                )
                if not offsets:  # nothing read, nothing parked became routable
                    continue
                changes = self._tracker.take_changes() if self._tracker is not None else None
                await settlements.add(
                    self._settle(consumer, acks, offsets, changes, routed, fetched_at, fetched)
                )
        finally:
            await settlements.drain()

    def _yield_every(self, lane: Lane) -> int:
        """How many records ``lane`` routes between two yields to the loop."""
        flowing = time.monotonic() - self._express_routed_at < _EXPRESS_FLOWING_S
        return _YIELD_EVERY_EXPRESS if lane.express or flowing else _YIELD_EVERY

    async def _route_batch(
        self,
        lane: Lane,
        batch: dict[TopicPartition, list],  # type: ignore[type-arg]
        yield_every: int,
        fetched: int,
    ) -> tuple[list[Routed], list[asyncio.Future[object]], dict[TopicPartition, int]]:
        """Route the parked records that are due, then every record of ``batch``: what
        became of each, the acks, the offsets to commit. A partition revoked since the
        batch was ``fetched`` (a :meth:`Revocations.mark`) is left where it stands: no
        more of it is routed and nothing of it committed (its new owner reads it again)."""
        assert self._producer is not None
        revoked_since = self._revocations.revoked_since
        acks: list[asyncio.Future[object]] = []
        offsets: dict[TopicPartition, int] = {}
        outcomes: list[Routed] = []
        since_yield = 0
        now = flushed_at = time.monotonic()
        # What the batch becomes leaves as a batch per partition: at each yield once it has
        # gathered for flush_every_s (the express lane: at once), and at the end.
        batches = PartitionBatches(self._producer)
        own: list[Outgoing] = []  # the bus's own notices, signed together at each flush
        flush_every_s = 0.0 if lane.express else self._settings.bulk_gather_ms / 1000
        with kafka_errors("delivering routed records"):
            if self._parking.due(now, lane.name, lane.owns):
                for parked in list(self._parking.take(now, lane.name, lane.owns)):
                    if revoked_since(parked.tp, fetched):
                        continue
                    routed = await self._route_record(
                        parked.tp, parked.record, batches, own, parked.deadline
                    )
                    outcomes += [routed] if routed is not None else []
                    offset = self._commit_offset(parked.tp)
                    if offset is not None:
                        offsets[parked.tp] = offset
            if self._tracker is not None:  # one store read for the ids the cache forgot
                tracker = self._tracker
                forgotten = tracker.forgotten(
                    record.key.decode("utf-8", "replace")
                    for records in batch.values()
                    for record in records
                    if record.key
                )
                if forgotten:
                    tracker.remember_digests(
                        await self._store_thread.run(tracker.read_digests, forgotten)
                    )
            for tp, records in batch.items():
                for record in records:
                    since_yield += 1
                    if since_yield == yield_every:
                        since_yield = 0
                        if time.monotonic() - flushed_at >= flush_every_s:
                            await self._add_signed(own, batches)
                            acks += await batches.flush()
                            flushed_at = time.monotonic()
                        await asyncio.sleep(0)  # let the other lane, acks and fetches in
                    if revoked_since(tp, fetched):
                        break
                    routed = await self._route_record(tp, record, batches, own)
                    outcomes += [routed] if routed is not None else []
                else:
                    self._next_offsets[tp] = records[-1].offset + 1
                    offset = self._commit_offset(tp)
                    assert offset is not None  # just read
                    offsets[tp] = offset
            await self._add_signed(own, batches)
            acks += await batches.flush()
            if lane.express:
                acks += [
                    asyncio.ensure_future(self._ring_inbox(batch))
                    for batch in batches.handed_over()
                    if batch.partition == EXPRESS_PARTITION
                    and batch.topic.startswith(self._inbox_prefix)
                ]
        return outcomes, acks, offsets

    async def _ring_inbox(self, batch: HandedOver) -> None:
        """Once ``batch`` of express deliveries is in its inbox, ring the inbox doorbell
        with its last record's offset (for hosts of many inboxes)."""
        metadata = await batch.ack
        assert self._inbox_ringer is not None
        await self._inbox_ringer.ring(
            batch.topic, batch.partition, metadata.offset + batch.records - 1
        )

    async def _add_signed(self, own: list[Outgoing], batches: PartitionBatches) -> None:
        """Sign the bus's own notices gathered so far as one batch and add them to ``batches``."""
        for out in self._core.signed(own):
            await batches.add(
                out.topic, out.value, key=out.key, headers=out.headers, partition=out.partition
            )
        own.clear()

    def _may_park(self, now: float, deadline: float) -> bool:
        """Whether a notice whose document is unknown may wait (again): before its deadline,
        or while the router works through a backlog (the document may be in it: a restart
        re-reads what was not committed), and while fewer than the cap are parked."""
        if len(self._parking) >= _MAX_PARKED:
            log.warning("parking_full", parked=len(self._parking))
            return False
        return now < deadline or now - self._backlog_at < self._parking.grace_s

    def _commit_offset(self, tp: TopicPartition) -> int | None:
        """Where ``tp`` may be committed to: past what was read, but not past a parked
        record; ``None`` when neither is known (a partition this router no longer reads
        and has nothing parked of: committing it is the new owner's business)."""
        parked = self._parking.first_offset(tp)
        read = self._next_offsets.get(tp)
        if parked is None or read is None:
            return parked if read is None else read
        return min(parked, read)

    async def _route_record(
        self,
        tp: TopicPartition,
        record: IncomingRecord,
        batches: PartitionBatches,
        own: list[Outgoing],
        deadline: float | None = None,
    ) -> Routed | None:
        """Route one record and add what it becomes to ``batches`` (the bus's own notices
        to ``own``, to be signed together); None when the record is parked (a notice whose
        document is not known yet, or one that waits behind such a notice)."""
        now = time.monotonic()
        deadline = deadline if deadline is not None else now + self._parking.grace_s
        if self._parking.holds(tp, record.key):
            self._parking.park(tp, record, deadline)
            return None
        routed = await self._route_with_store_reads(record)
        if routed.reason == "unknown_document" and self._may_park(now, deadline):
            self._parking.park(tp, record, deadline)
            return None
        self.metrics.record(routed)
        if routed.kind == "dead_letter":
            log.warning(
                "dead_letter",
                document_id=routed.document_id,
                sender=routed.sender,
                reason=routed.reason,
                detail=routed.detail,
            )
        elif self._trace_records:
            log.debug(
                f"{routed.kind}_routed",
                document_id=routed.document_id,
                sender=routed.sender,
                recipient=",".join(routed.inboxes),
                status_code=",".join(routed.status_codes),
            )
        for out in routed.outputs:
            if out.unsigned:
                own.append(out)
                continue
            await batches.add(
                out.topic, out.value, key=out.key, headers=out.headers, partition=out.partition
            )
        return routed

    async def _settle(
        self,
        consumer: AIOKafkaConsumer,
        acks: list[asyncio.Future[object]],
        offsets: dict[TopicPartition, int],
        changes: PendingChanges | None,
        routed: list[Routed],
        fetched_at: float,
        fetched: int,
    ) -> None:
        """Await the batch's acks and its tracking write (one at a time), then commit the
        partitions not revoked since the batch was ``fetched`` (a revoked one may be
        another router's by now, or this one's again with parked notices below ``offsets``)."""
        with kafka_errors("delivering routed records"):
            if changes is not None:
                await asyncio.gather(asyncio.gather(*acks), self._write(changes))
            else:
                await asyncio.gather(*acks)
        self.metrics.settled(routed, fetched_at=fetched_at)
        revoked_since = self._revocations.revoked_since
        offsets = {tp: offset for tp, offset in offsets.items() if not revoked_since(tp, fetched)}
        if not offsets:
            return
        try:
            await consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as exc:
            # The group rebalanced: the new owner will redeliver; receivers deduplicate.
            log.warning("commit_failed_after_rebalance", error=str(exc))
        except KafkaError as exc:
            raise BrokerError(f"committing offsets: {exc!r}", retriable=exc.retriable) from exc
        else:
            self.metrics.committed()

    async def _write(self, changes: PendingChanges) -> None:
        """Write a batch's tracking changes, one batch at a time in the order the lanes ask.

        The writer process takes turns itself; a tracker handed in from outside (tests)
        writes through a thread, behind a lock of the router's.
        """
        assert self._tracker is not None
        if self._writer is not None:
            await self._writer.write_async(changes)
            return
        async with self._in_process_writes:
            await asyncio.to_thread(self._tracker.write, changes)

    async def _refresh_lag(self) -> None:
        """Export how far behind each assigned outbox partition the router is."""
        while True:
            lags: dict[tuple[str, int], int] = {}
            for lane in self._lanes:
                lags.update(await partition_lag(lane.consumer, lane.owns))
            self.metrics.set_lag(lags)
            await asyncio.sleep(self._lag_interval_s)

    async def _refresh_overdue(self) -> None:
        """Export the overdue deliveries, counted in the store off the event loop."""
        while True:
            try:
                counts = await self._overdue.count()
            except Exception as exc:  # a store hiccup must not stop routing
                log.warning("overdue_count_failed", error=repr(exc))
            else:
                self.metrics.set_overdue(counts)
            await asyncio.sleep(self._overdue_interval_s)

    async def async_run(self) -> None:
        """Run until :meth:`request_stop` (or SIGTERM/SIGINT in :meth:`run`), then stop cleanly."""
        async with self:
            await self.join()

    def run(self) -> None:
        """Own the event loop and the signal handlers; return after a clean stop."""

        async def main() -> None:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, self.request_stop)
            await self.async_run()

        asyncio.run(main())

    def __repr__(self) -> str:
        return f"<Router group={self._group_id} {self._lifecycle.state.value}>"


def _log_follower_failure(task: asyncio.Task[None]) -> None:
    """The router keeps routing by the directory it has; the operator sees why updates stopped."""
    if not task.cancelled() and task.exception() is not None:
        log.error("directory_follower_failed", error=repr(task.exception()))
