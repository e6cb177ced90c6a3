"""Tests for router.tracking._tracker: the lifecycle of every delivery, as the router sees it."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from docbus.directory import Directory
from router import RoutingCore
from router.tracking import StoreReadNeeded, Tracker, open_store
from schemas import BUS_AGENCY, Business, BusinessType, Codec, StatusNotice, TopicLayout
from tests.helpers import G12, G22, H29, H41, letter
from tests.router.test_routing import Record
from tests.signing import signer_for, test_keyring

LAYOUT = TopicLayout("p")
T0 = dt.datetime(2024, 11, 25, 2, 0, tzinfo=dt.UTC)  # Monday 09:00 in Vietnam


@pytest.fixture(scope="module")
def directory() -> Directory:
    return Directory.load()


@pytest.fixture
def tracker(tmp_path: Path) -> Tracker:
    return Tracker(open_store(dsn=None, state_dir=tmp_path))


def make_core(directory: Directory, tracker: Tracker) -> RoutingCore:
    """A routing core that tracks in ``tracker``, with the test keys."""
    return RoutingCore(
        directory=directory,
        codec=Codec(),
        layout=LAYOUT,
        max_document_bytes=100_000,
        tracker=tracker,
        signer=signer_for(BUS_AGENCY),
        keys=test_keyring(),
    )


@pytest.fixture
def core(directory: Directory, tracker: Tracker) -> RoutingCore:
    return make_core(directory, tracker)


def send(core: RoutingCore, doc) -> None:  # type: ignore[no-untyped-def]
    routed = core.route(Record(LAYOUT.outbox(doc.sender[-13:]), Codec().encode(doc)))
    assert routed.kind == "document", routed.detail


def notify(
    core: RoutingCore,
    doc,
    unit: str,
    code: str,
    minutes: int,
    *,
    to: str | None = None,  # type: ignore[no-untyped-def]
    from_agency: str | None = None,
    document_id: str | None = None,
):
    """Route a notice about ``doc`` from ``unit`` (or from ``from_agency``) and return the result."""
    sender = from_agency or unit
    notice = StatusNotice(
        document_id=document_id or doc.document_id,
        document_sender=doc.sender,
        from_agency=sender,
        to_agency=to or doc.sender,
        status_code=code,
        timestamp=T0 + dt.timedelta(minutes=minutes),
    )
    owner = "000.00.00." + sender[-3:]
    return core.route(Record(LAYOUT.outbox(owner), Codec().encode(notice)))


def states(tracker: Tracker, document_id: str) -> dict[str, str]:
    from schemas import DeliveryState

    tracker.flush()
    return {
        d.recipient: DeliveryState(d.status, d.recall).label
        for d in tracker.store.deliveries(document_id)
    }


def test_unicast_lifecycle_with_history(core: RoutingCore, tracker: Tracker) -> None:
    """01, 03, 04, 05, 06 are each routed and recorded with their time and author."""
    doc = letter(G22, (H29,), sent_at=T0)
    send(core, doc)
    for minute, code in enumerate(["01", "03", "04", "05", "06"], start=1):
        assert notify(core, doc, H29, code, minute).kind == "notice"
    tracker.flush()
    (delivery,) = tracker.store.deliveries(doc.document_id)
    assert delivery.status == "06"
    assert [h.code for h in delivery.history] == ["01", "03", "04", "05", "06"]
    assert all(h.by_agency == H29 for h in delivery.history)
    assert delivery.deadline == "2024-11-26T10:00:00.000000+00:00"  # end of Tuesday, UTC+7


def test_multicast_recipients_progress_separately(core: RoutingCore, tracker: Tracker) -> None:
    """Each recipient of one document has its own state."""
    doc = letter(G22, (H29, G12, H41), sent_at=T0)
    send(core, doc)
    notify(core, doc, H29, "01", 1)
    notify(core, doc, H29, "03", 2)
    notify(core, doc, G12, "01", 3)
    notify(core, doc, G12, "02", 4)
    assert states(tracker, doc.document_id) == {H29: "03", G12: "02", H41: "delivered"}


def test_recall_agreed_and_refused(core: RoutingCore, tracker: Tracker) -> None:
    """The sender's 13 goes to the recipient; 15 ends the delivery, 16 lets it go on."""
    doc = letter(G22, (H29, G12), sent_at=T0)
    send(core, doc)
    for unit in (H29, G12):
        notify(core, doc, unit, "01", 1)
        recall = notify(core, doc, unit, "13", 2, from_agency=G22, to=unit)
        assert recall.kind == "notice" and recall.outputs[0].topic == LAYOUT.inbox(unit)
    notify(core, doc, H29, "15", 3)
    notify(core, doc, G12, "16", 3)
    assert states(tracker, doc.document_id) == {H29: "recalled", G12: "01"}
    assert notify(core, doc, H29, "03", 4).reason == "impossible_notice"
    assert notify(core, doc, G12, "03", 4).kind == "notice"


def test_revoke_and_replace_show_on_the_original(core: RoutingCore, tracker: Tracker) -> None:
    """A revoking and a replacing document mark the documents they name."""
    first = letter(G22, (H29,), number=1, sent_at=T0)
    second = letter(G22, (H29,), number=2, sent_at=T0)
    send(core, first)
    send(core, second)

    def amending(number: int, kind: BusinessType, reason: str, original: str):  # type: ignore[no-untyped-def]
        business = Business(business_type=kind, reason=reason, related_document_id=original)
        return dataclasses.replace(
            letter(G22, (H29,), number=number, sent_at=T0), business=business
        )

    revoke = amending(3, BusinessType.REVOKE, "Ban hành nhầm", first.document_id)
    replace = amending(4, BusinessType.REPLACE, "Thay thế", second.document_id)
    send(core, revoke)
    send(core, replace)
    tracker.flush()
    assert (
        tracker.store.document(first.document_id).effect,
        tracker.store.document(first.document_id).effect_by,
    ) == (
        "revoked",
        revoke.document_id,
    )
    assert tracker.store.document(second.document_id).effect == "replaced"


@pytest.mark.parametrize(
    ("steps", "reason"),
    [
        ([("06", 1)], "impossible_notice"),  # 06 before 01
        ([("01", 1), ("02", 2), ("03", 3)], "impossible_notice"),  # a notice after 02
        ([("01", 1), ("04", 2), ("03", 3)], "impossible_notice"),  # backwards
    ],
)
def test_out_of_order_notices_are_dead_lettered(
    core: RoutingCore, steps: list[tuple[str, int]], reason: str
) -> None:
    """The last, impossible notice of each sequence is refused with a clear reason."""
    doc = letter(G22, (H29,), sent_at=T0)
    send(core, doc)
    results = [notify(core, doc, H29, code, minute) for code, minute in steps]
    assert all(r.kind == "notice" for r in results[:-1])
    assert results[-1].reason == reason and results[-1].detail


def test_forged_and_unknown_notices(core: RoutingCore) -> None:
    """A notice from a non-recipient, for an unknown document, or to the wrong agency is refused."""
    doc = letter(G22, (H29,), sent_at=T0)
    send(core, doc)
    assert notify(core, doc, H41, "01", 1).reason == "not_a_recipient"
    assert (
        notify(core, doc, H29, "01", 1, document_id="000.00.00.G22,2024/11/25,999/X-Y").reason
        == "unknown_document"
    )
    assert notify(core, doc, H29, "01", 1, to=G12).reason == "wrong_addressee"
    assert notify(core, doc, H41, "13", 1, from_agency=H41, to=H29).reason == "not_a_recipient"


def test_a_redelivered_notice_is_not_applied_twice(core: RoutingCore, tracker: Tracker) -> None:
    """The same notice routed again (a retry after a crash) passes without a second history line."""
    doc = letter(G22, (H29,), sent_at=T0)
    send(core, doc)
    send(core, doc)
    first = notify(core, doc, H29, "01", 1)
    again = notify(core, doc, H29, "01", 1)
    assert first.kind == again.kind == "notice"
    tracker.flush()
    (delivery,) = tracker.store.deliveries(doc.document_id)
    assert [h.code for h in delivery.history] == ["01"]


def test_state_survives_a_new_tracker(tmp_path: Path, directory: Directory) -> None:
    """A new tracker on the same store knows the deliveries (its cache starts empty)."""
    doc = letter(G22, (H29,), sent_at=T0)
    first = Tracker(open_store(dsn=None, state_dir=tmp_path))
    core = make_core(directory, first)
    send(core, doc)
    notify(core, doc, H29, "01", 1)
    first.flush()
    first.store.close()
    second = Tracker(open_store(dsn=None, state_dir=tmp_path))
    core.tracker = second
    assert notify(core, doc, H29, "01", 1).kind == "notice"  # recognised as already applied
    assert notify(core, doc, H29, "03", 2).kind == "notice"
    assert notify(core, doc, H29, "01", 3).reason == "impossible_notice"
    second.store.close()


def test_a_small_cache_forgets_the_oldest_deliveries_and_reads_them_back(
    tmp_path: Path, directory: Directory
) -> None:
    """Past its size the cache drops the deliveries routed first; the store answers for them."""
    tracker = Tracker(open_store(dsn=None, state_dir=tmp_path), cache_size=2)
    core = make_core(directory, tracker)
    oldest, middle, newest = (letter(G22, (H29,), number=n, sent_at=T0) for n in (1, 2, 3))
    send(core, oldest)
    assert notify(core, oldest, H29, "01", 1).kind == "notice"
    tracker.flush()
    send(core, middle)
    send(core, newest)
    assert (oldest.document_id, H29) not in tracker._cache  # routed first, forgotten first
    assert notify(core, oldest, H29, "01", 1).kind == "notice"  # a redelivery, from the store
    assert notify(core, oldest, H29, "03", 2).kind == "notice"
    assert notify(core, oldest, H29, "01", 3).reason == "impossible_notice"
    assert notify(core, oldest, H41, "01", 1).reason == "not_a_recipient"
    assert states(tracker, oldest.document_id) == {H29: "03"}
    tracker.store.close()


def test_overdue_deliveries(core: RoutingCore, tracker: Tracker) -> None:
    """Past the deadline, deliveries not yet accepted are listed; accepted ones are not."""
    late = letter(G22, (H29, G12), number=1, sent_at=T0)
    send(core, late)
    notify(core, late, G12, "01", 1)
    notify(core, late, G12, "03", 2)
    tracker.flush()
    assert tracker.overdue(now=T0 + dt.timedelta(hours=1)) == []
    overdue = tracker.overdue(now=T0 + dt.timedelta(days=3))
    assert [(d.document_id, d.recipient) for d in overdue] == [(late.document_id, H29)]
    assert tracker.overdue(now=T0 + dt.timedelta(days=3), agency=G12) == []


def test_lifecycle_on_postgresql(postgres_dsn: str, tmp_path: Path, directory: Directory) -> None:
    """The router's checks work the same with the store on a real PostgreSQL server."""
    store = open_store(dsn=postgres_dsn, state_dir=tmp_path)
    store.clear()
    tracker = Tracker(store)
    core = make_core(directory, tracker)
    doc = letter(G22, (H29,), number=77, sent_at=T0)
    send(core, doc)
    assert notify(core, doc, H29, "01", 1).kind == "notice"
    assert notify(core, doc, H29, "06", 2).kind == "notice"
    assert notify(core, doc, H29, "03", 3).reason == "impossible_notice"
    tracker.flush()
    fresh = Tracker(open_store(dsn=postgres_dsn, state_dir=tmp_path))
    (delivery,) = fresh.store.deliveries(doc.document_id)
    assert delivery.status == "06" and [h.code for h in delivery.history] == ["01", "06"]
    fresh.store.close()
    store.close()


def test_a_reused_document_id_with_other_content_is_refused(core: RoutingCore) -> None:
    """The same bytes again are a redelivery; the same id with other bytes is refused."""
    doc = letter(G22, (H29,), number=77)
    send(core, doc)
    send(core, doc)
    other = dataclasses.replace(doc, subject="Nội dung khác, cùng số hiệu")
    routed = core.route(Record(LAYOUT.outbox(G22), Codec().encode(other)))
    assert (routed.kind, routed.reason) == ("dead_letter", "document_id_reused")
    assert doc.document_id in (routed.detail or "")


def test_a_router_with_a_stale_cache_reads_what_another_router_applied(
    directory: Directory, tmp_path: Path
) -> None:
    """Two routers, one store: A routes the document, B the 01, then A the 03. A's cache
    still says "nothing yet"; it reads the store before calling 03 impossible."""
    a, b = (make_core(directory, Tracker(open_store(dsn=None, state_dir=tmp_path))) for _ in "ab")
    doc = letter(G22, (H29,), number=88)
    send(a, doc)
    a.tracker.flush()  # type: ignore[union-attr]
    assert notify(b, doc, H29, "01", 1).kind == "notice"
    b.tracker.flush()  # type: ignore[union-attr]
    accepted = notify(a, doc, H29, "03", 2)
    assert accepted.kind == "notice", accepted.detail
    impossible = notify(a, doc, H29, "01", 3)  # after 03, a fresh 01 is still refused
    assert (impossible.kind, impossible.reason) == ("dead_letter", "impossible_notice")


def test_a_reused_id_is_refused_after_the_cache_forgot_it(
    directory: Directory, tmp_path: Path
) -> None:
    """With a cache of two documents, the first is forgotten after three more; read back
    from the store for the batch (as the router does), its reuse is still refused, by the
    same router and by another one sharing the store, while the same bytes pass."""
    a, b, control = (
        make_core(directory, Tracker(open_store(dsn=None, state_dir=tmp_path), cache_size=2))
        for _ in "abc"
    )
    first = letter(G22, (H29,), number=1)
    for doc in (first, *(letter(G22, (H29,), number=n) for n in (2, 3, 4))):
        send(a, doc)
    a.tracker.flush()  # type: ignore[union-attr]
    other = Record(
        LAYOUT.outbox(G22), Codec().encode(dataclasses.replace(first, subject="Khác hẳn"))
    )
    assert control.route(other).kind == "document"  # what a cache alone lets through
    for core in (a, b):
        core.tracker.recall_documents([first.document_id])  # type: ignore[union-attr]
        routed = core.route(other)
        assert (routed.kind, routed.reason) == ("dead_letter", "document_id_reused")
        again = core.route(Record(LAYOUT.outbox(G22), Codec().encode(first)))
        assert again.kind == "document", again.detail  # a redelivery of the same bytes


def test_a_delivery_past_the_calendar_has_no_deadline_and_is_counted(
    core: RoutingCore, tracker: Tracker
) -> None:
    """A document sent past the holiday data is routed, counted, never shown overdue."""
    counted: list[int] = []
    tracker.on_unknown_deadline = counted.append
    sent = dt.datetime(2031, 1, 6, 2, 0, tzinfo=dt.UTC)  # past the calendar's last year
    doc = letter(G22, (H29, G12), sent_at=sent)
    send(core, doc)
    send(core, letter(G22, (H29,), number=2, sent_at=T0))  # a covered day: not counted
    tracker.flush()
    assert counted == [2]
    rows = tracker.store.deliveries(doc.document_id)
    assert [row.deadline[:10] for row in rows] == ["9999-12-31", "9999-12-31"]
    overdue = tracker.overdue(now=sent + dt.timedelta(days=30))
    assert [row.document_id for row in overdue] == [
        letter(G22, (H29,), number=2, sent_at=T0).document_id
    ]


def test_a_tracker_off_the_loop_asks_for_store_reads_instead_of_making_them(
    tmp_path: Path, directory: Directory
) -> None:
    """With reads_inline off, a forgotten delivery raises StoreReadNeeded; handed the
    store's rows, the same notice routes, and an unknown document is still refused."""
    tracker = Tracker(open_store(dsn=None, state_dir=tmp_path), cache_size=1)
    core = make_core(directory, tracker)
    oldest, newest = (letter(G22, (H29,), number=n, sent_at=T0) for n in (1, 2))
    send(core, oldest)
    send(core, newest)
    tracker.flush()
    tracker.reads_inline = False
    store_reads = 0

    def routed_with_reads(doc, code: str, second: int):  # type: ignore[no-untyped-def]
        nonlocal store_reads
        while True:
            try:
                return notify(core, doc, H29, code, second)
            except StoreReadNeeded as needed:
                store_reads += 1
                tracker.remember(tracker.read_delivery(needed.key))

    with pytest.raises(StoreReadNeeded):
        notify(core, oldest, H29, "01", 1)
    assert routed_with_reads(oldest, "01", 1).kind == "notice"
    assert store_reads == 1
    stranger = letter(G22, (H29,), number=9, sent_at=T0)
    assert routed_with_reads(stranger, "01", 1).reason == "unknown_document"
    assert store_reads == 2
    tracker.store.close()


def bundle(doc, unit: str, steps: list[tuple[str, int]]) -> StatusNotice:  # type: ignore[no-untyped-def]
    """One notice from ``unit`` carrying ``steps`` ((code, minute), oldest first)."""
    return StatusNotice.together(
        [
            StatusNotice(
                document_id=doc.document_id,
                document_sender=doc.sender,
                from_agency=unit,
                to_agency=doc.sender,
                status_code=code,
                timestamp=T0 + dt.timedelta(minutes=minute),
                description=f"step {code}",
            )
            for code, minute in steps
        ]
    )


def route_bundle(core: RoutingCore, notice: StatusNotice):  # type: ignore[no-untyped-def]
    owner = "000.00.00." + notice.from_agency[-3:]
    return core.route(Record(LAYOUT.outbox(owner), Codec().encode(notice)))


def test_a_notice_carrying_several_steps_is_tracked_step_by_step(
    core: RoutingCore, tracker: Tracker
) -> None:
    """01, 03 and 06 in one record: forwarded once as the bytes it came in, each step in
    the history with its own time and words, and counted as three notices."""
    doc = letter(G22, (H29,), sent_at=T0)
    send(core, doc)
    notice = bundle(doc, H29, [("01", 1), ("03", 2), ("06", 3)])
    routed = route_bundle(core, notice)
    assert routed.kind == "notice" and routed.status_codes == ("01", "03", "06")
    (out,) = routed.outputs
    assert out.value == Codec().encode(notice)
    tracker.flush()
    (delivery,) = tracker.store.deliveries(doc.document_id)
    assert [(h.code, h.at[:16], h.description) for h in delivery.history] == [
        ("01", "2024-11-25T02:01", "step 01"),
        ("03", "2024-11-25T02:02", "step 03"),
        ("06", "2024-11-25T02:03", "step 06"),
    ]
    assert delivery.status == "06"


def test_a_notice_with_one_impossible_step_is_refused_whole_and_applies_nothing(
    core: RoutingCore, tracker: Tracker
) -> None:
    """03 then 01 (backwards): dead-lettered with the reason, and the delivery keeps the
    state it had, so the same steps sent right afterwards apply."""
    doc = letter(G22, (H29,), sent_at=T0)
    send(core, doc)
    refused = route_bundle(core, bundle(doc, H29, [("01", 1), ("03", 2), ("01", 3)]))
    assert refused.kind == "dead_letter" and refused.reason == "impossible_notice"
    assert states(tracker, doc.document_id) == {H29: "delivered"}
    assert route_bundle(core, bundle(doc, H29, [("01", 1), ("03", 2)])).kind == "notice"
    assert states(tracker, doc.document_id) == {H29: "03"}


def test_a_delivery_a_notice_moved_on_is_not_forgotten_before_the_change_is_written(
    tmp_path: Path, directory: Directory
) -> None:
    """The cache holds two deliveries. The older one gets its 01, not yet written (the
    router writes a batch's changes while it routes the next), and a new document comes:
    the delivery routed after it is the one forgotten, and the 03 that follows finds the
    01. Forgotten, it would be read back from a store without the 01 and its 03 refused
    as impossible (seen in a full-scale replay whose answers came minutes late)."""
    tracker = Tracker(open_store(dsn=None, state_dir=tmp_path), cache_size=2)
    core = make_core(directory, tracker)
    first, second, third = (letter(G22, (H29,), number=n, sent_at=T0) for n in (1, 2, 3))
    send(core, first)
    send(core, second)
    tracker.flush()
    assert notify(core, first, H29, "01", 1).kind == "notice"  # pending, not written
    send(core, third)
    assert (second.document_id, H29) not in tracker._cache
    accepted = notify(core, first, H29, "03", 2)
    assert accepted.kind == "notice", accepted.detail
    tracker.flush()
    assert states(tracker, first.document_id) == {H29: "03"}
    tracker.store.close()
