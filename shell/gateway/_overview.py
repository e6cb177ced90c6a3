"""What the operators' console shows: throughput and delivery latency now and over the
last hour (from the tracking store), dead letters by reason, the routers' lag."""

import collections
import datetime as dt
from dataclasses import dataclass, field

from docbus import DocbusError, Settings
from router import DeadLetter, group_lag, recent_dead_letters
from router.tracking import TrackingStore
from schemas import TopicLayout

__all__ = ["BusOverview", "DeadLetterReason", "Minute", "bus_overview"]

#: "Now" is the last few minutes: one minute alone is too jumpy to read.
NOW_MINUTES = 5
SAMPLES_PER_REASON = 3


@dataclass(frozen=True, slots=True)
class Minute:
    """One minute of the last hour: deliveries sent in it and how many have arrived."""

    start: dt.datetime
    sent: int
    arrived: int


@dataclass(frozen=True, slots=True)
class DeadLetterReason:
    """One reason the router refused records, how often, and the newest of them."""

    reason: str
    count: int
    samples: list[DeadLetter]


@dataclass(slots=True)
class BusOverview:
    """The figures of the operators' page; ``problems`` says what could not be read."""

    at: dt.datetime
    minutes: list[Minute]
    latency_now: dict[str, float]
    latency_hour: dict[str, float]
    dead_letters: list[DeadLetterReason]
    lag: dict[str, int]
    problems: list[str] = field(default_factory=list)

    @property
    def per_minute_now(self) -> float:
        """Deliveries sent a minute over the last :data:`NOW_MINUTES` minutes."""
        return sum(m.sent for m in self.minutes[-NOW_MINUTES:]) / NOW_MINUTES

    @property
    def sent_in_hour(self) -> int:
        """Deliveries sent over the hour."""
        return sum(m.sent for m in self.minutes)

    @property
    def busiest_minute(self) -> int:
        return max((m.sent for m in self.minutes), default=0)


async def bus_overview(
    settings: Settings, store: TrackingStore, now: dt.datetime, *, router_group: str
) -> BusOverview:
    """The bus as the operators' page shows it at ``now``."""
    start = now.replace(second=0, microsecond=0) - dt.timedelta(minutes=59)
    arrivals = store.arrivals(start)
    overview = BusOverview(
        at=now,
        minutes=_minutes(arrivals, start),
        latency_now=_latency(arrivals, now.timestamp() - NOW_MINUTES * 60),
        latency_hour=_latency(arrivals, start.timestamp()),
        dead_letters=[],
        lag={},
    )
    try:
        overview.dead_letters = _by_reason(await recent_dead_letters(settings, last=500))
    except DocbusError as exc:
        overview.problems.append(f"dead letters: {exc}")
    try:
        outboxes = TopicLayout(settings.topic_prefix).outbox_pattern
        for group in (router_group, f"{router_group}-express"):
            for topic, lag in (await group_lag(settings, group, outboxes)).items():
                overview.lag[topic] = overview.lag.get(topic, 0) + lag
    except DocbusError as exc:
        overview.problems.append(f"consumer lag: {exc}")
    return overview


def _minutes(arrivals: list[tuple[float, float | None]], start: dt.datetime) -> list[Minute]:
    sent = collections.Counter(int((s - start.timestamp()) // 60) for s, _ in arrivals)
    arrived = collections.Counter(
        int((s - start.timestamp()) // 60) for s, a in arrivals if a is not None
    )
    return [Minute(start + dt.timedelta(minutes=i), sent[i], arrived[i]) for i in range(60)]


def _latency(arrivals: list[tuple[float, float | None]], since: float) -> dict[str, float]:
    """p50, p95 and p99 seconds from sending to arrival of the deliveries sent since."""
    taken = sorted(a - s for s, a in arrivals if a is not None and s >= since)
    if not taken:
        return {}
    return {
        name: max(0.0, taken[min(len(taken) - 1, int(q * len(taken)))])
        for name, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))
    }


def _by_reason(letters: list[DeadLetter]) -> list[DeadLetterReason]:
    grouped: dict[str, list[DeadLetter]] = collections.defaultdict(list)
    for letter in letters:
        grouped[letter.reason].append(letter)
    return sorted(
        (
            DeadLetterReason(reason, len(found), found[-SAMPLES_PER_REASON:][::-1])
            for reason, found in grouped.items()
        ),
        key=lambda r: -r.count,
    )
