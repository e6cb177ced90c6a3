"""Signed documents end to end on the embedded broker: the router and the receivers verify."""

from __future__ import annotations

import datetime as dt

from consumers import Receiver
from docbus import Keystore, Settings
from docbus.directory import Directory
from producers import Sender
from router import Router, publish_directory
from schemas import (
    BUS_AGENCY,
    HEADER_ERROR,
    HEADER_ERROR_CLASS,
    HEADER_KEY_ID,
    HEADER_PROOF,
    HEADER_RECIPIENT,
    HEADER_SIGNATURE,
    Codec,
    StatusCode,
    StatusNotice,
    today_vn,
)
from tests.helpers import (
    G12,
    G22,
    H29,
    NoticeCollector,
    drain,
    ensure_topics,
    eventually,
    in_background,
    letter,
    produce_raw,
    read_topic,
    registry_samples,
    take,
)


async def test_rejected_signatures_are_dead_lettered_with_their_reason(
    settings: Settings,
) -> None:
    """Unsigned, spoofed, tampered and unknown-key records in G22's outbox: each a dead
    letter with its reason, G22 told each time, and the signed document after them delivered."""
    layout = await ensure_topics(settings, [G22, H29, G12])
    codec = Codec()
    keystore = Keystore(settings.keys_root)
    value = codec.encode(letter(G22, (H29,), number=1))
    h29_signature = keystore.signer(H29).headers(value)
    g22_signature = keystore.signer(G22).headers(value)
    tampered = bytearray(value)
    tampered[-3] ^= 0x20
    cases = [
        ("unsigned", value, []),
        ("key_not_owner", value, h29_signature),
        ("bad_signature", bytes(tampered), g22_signature),
        (
            "unknown_key",
            value,
            [(HEADER_KEY_ID, b"000.00.00.G22/20990101-deadbeef"), g22_signature[1]],
        ),
        ("bad_signature", value, [g22_signature[0], (HEADER_SIGNATURE, b"\1" * 64)]),
    ]
    for _, record_value, headers in cases:
        await produce_raw(
            settings, layout.outbox(G22), [record_value], signed=False, headers=headers
        )
    good = letter(G22, (H29,), number=2)
    rejections = NoticeCollector()
    async with (
        Router(settings=settings) as router,
        Sender(agency=G22, settings=settings) as sender,
        Receiver(agency=G22, settings=settings, on_notice=rejections) as g22,
        Receiver(agency=H29, settings=settings) as h29,
        in_background(drain(g22)),
    ):
        await sender.send(good)
        (received,) = await take(h29, 1)
        assert received.document == good
        dead = await read_topic(settings, layout.deadletter, len(cases))

        def bus_rejections() -> list[StatusNotice]:
            return [n for n in rejections.notices if n.from_agency == BUS_AGENCY]

        told = await eventually(lambda: len(bus_rejections()) == len(cases) and bus_rejections())
        assert router.stats.dead_letters == {
            "unsigned": 1,
            "key_not_owner": 1,
            "bad_signature": 2,
            "unknown_key": 1,
        }
    reasons = [dict(r.headers)[HEADER_ERROR_CLASS].decode() for r in dead]
    assert sorted(reasons) == sorted(kind for kind, _, _ in cases)
    spoofed = next(r for r in dead if dict(r.headers)[HEADER_ERROR_CLASS] == b"key_not_owner")
    assert f"{H29}'s key" in dict(spoofed.headers)[HEADER_ERROR].decode()
    assert all(n.status_code == StatusCode.REJECTED for n in told)
    assert {n.description.split(")")[0] for n in told} == {
        f"rejected by docbus ({kind}" for kind, _, _ in cases
    }


async def test_a_sender_cannot_set_the_headers_the_bus_vouches_for(settings: Settings) -> None:
    """A docbus-recipient header written by the sender is dropped; the router's own is the one."""
    layout = await ensure_topics(settings, [G22, H29])
    doc = letter(G22, (H29,))
    await produce_raw(
        settings,
        layout.outbox(G22),
        [Codec().encode(doc)],
        key=doc.document_id.encode(),
        headers=[(HEADER_RECIPIENT, b"000.00.09.H29"), ("trace-id", b"abc")],
    )
    async with Router(settings=settings):
        (delivery,) = await read_topic(settings, layout.inbox(H29), 1)
    names = [name for name, _ in delivery.headers]
    assert names.count(HEADER_RECIPIENT) == 1
    assert dict(delivery.headers)[HEADER_RECIPIENT] == H29.encode()
    assert dict(delivery.headers)["trace-id"] == b"abc"  # the sender's own headers travel


async def test_receiver_refuses_a_delivery_forged_inside_the_inbox(settings: Settings) -> None:
    """A record written straight into H29's inbox under G22's name but signed by G12 (no
    router would pass it) is not handed over; the next genuine one is."""
    layout = await ensure_topics(settings, [G22, H29, G12])
    codec = Codec()
    forged, genuine = letter(G22, (H29,), number=1), letter(G22, (H29,), number=2)
    await produce_raw(settings, layout.inbox(H29), [codec.encode(forged)], sign_as=G12)
    await produce_raw(settings, layout.inbox(H29), [codec.encode(genuine)], sign_as=G22)
    async with Receiver(agency=H29, settings=settings) as h29:
        (received,) = await take(h29, 1)
        assert received.document == genuine
        samples = registry_samples(h29.metrics.registry)
    rejected = (
        "docbus_client_records_rejected_total",
        frozenset({("agency", H29), ("reason", "key_not_owner")}),
    )
    assert samples[rejected] == 1


async def test_a_rotated_key_reaches_the_router_through_the_directory(settings: Settings) -> None:
    """G22 rolls its key over; once the directory with the new key is published, the router
    accepts documents signed with it, and those signed with the old key through the overlap."""
    keys = settings.keys_root.parent / "own-keys"
    own = settings.replace(keys_dir=keys)
    keystore = Keystore(keys)
    directory = Directory.load()
    keystore.ensure([BUS_AGENCY, G22, H29])
    layout = await ensure_topics(own, [G22, H29])
    old_signer = keystore.signer(G22)
    async with Router(settings=own) as router, Receiver(agency=H29, settings=own) as h29:
        new_key = keystore.rotate(G22, starts=today_vn(), overlap_days=3)
        published = directory.with_keys(keystore.keyring())
        published = Directory.from_json({**published.to_json(), "version": "rotated"})
        await publish_directory(own, published)
        await router.wait_for_directory("rotated")
        async with Sender(agency=G22, settings=own) as sender:
            assert sender._writer.signer.key == new_key
            with_new = letter(G22, (H29,), number=1)
            await sender.send(with_new)
        with_old = letter(G22, (H29,), number=2)
        value = Codec().encode(with_old)
        await produce_raw(
            own, layout.outbox(G22), [value], signed=False, headers=old_signer.headers(value)
        )
        got = await take(h29, 2)
        assert {d.document.document_id for d in got} == {with_new.document_id, with_old.document_id}
        assert router.stats.dead_lettered == 0
    old = keystore.keyring().get(old_signer.key.key_id)
    assert old is not None and old.valid_to == today_vn() + dt.timedelta(days=3)


async def test_the_router_will_not_start_without_the_bus_key(settings: Settings) -> None:
    """Its own notices must be signed: no bus key, a clear error naming the command."""
    import pytest

    from docbus import ConfigurationError

    empty = settings.replace(keys_dir=settings.keys_root.parent / "empty-keys")
    with pytest.raises(ConfigurationError, match="docbus keys generate --agency docbus"):
        Router(settings=empty)


async def test_metrics_count_nothing_rejected_for_good_traffic(settings: Settings) -> None:
    """Signed traffic both ways: nothing rejected at the receivers, every notice verified."""
    await ensure_topics(settings, [G22, H29])
    notices = NoticeCollector()
    async with (
        Router(settings=settings),
        Sender(agency=G22, settings=settings) as sender,
        Receiver(agency=G22, settings=settings, on_notice=notices) as g22,
        Receiver(agency=H29, settings=settings) as h29,
        in_background(drain(g22)),
    ):
        await sender.send(letter(G22, (H29,)))
        (doc,) = await take(h29, 1)
        await doc.notify(StatusCode.ACCEPTED)
        await notices.wait_for(2)
        for receiver in (g22, h29):
            samples = registry_samples(receiver.metrics.registry)
            assert not any(
                name == "docbus_client_records_rejected_total" and value
                for (name, _), value in samples.items()
            )


async def test_a_tampered_record_of_a_signed_batch_is_refused_alone(settings: Settings) -> None:
    """Six documents signed under one root, one changed after signing: that one is a dead
    letter (bad_signature); the other five reach H29 with the bytes G22 signed, their
    proofs forwarded, and H29's receiver checks each alone."""
    layout = await ensure_topics(settings, [G22, H29])
    codec = Codec()
    docs = [letter(G22, (H29,), number=n) for n in range(6)]
    values = [codec.encode(d) for d in docs]
    signed = Keystore(settings.keys_root).signer(G22).batch_headers(values)
    tampered = bytearray(values[2])
    tampered[-5] ^= 0x01
    for n, (value, headers) in enumerate(zip(values, signed, strict=True)):
        sent = bytes(tampered) if n == 2 else value
        await produce_raw(
            settings,
            layout.outbox(G22),
            [sent],
            key=docs[n].document_id.encode(),
            signed=False,
            headers=headers,
        )
    async with Router(settings=settings) as router:
        deliveries = await read_topic(settings, layout.inbox(H29), 5)
        (dead,) = await read_topic(settings, layout.deadletter, 1)
        assert router.stats.dead_letters == {"bad_signature": 1}
    assert dict(dead.headers)[HEADER_ERROR_CLASS] == b"bad_signature"
    assert dead.value == bytes(tampered)
    by_key = {d.key.split(b"|")[1]: d for d in deliveries}
    for n, value in enumerate(values):
        if n == 2:
            continue
        delivery = by_key[docs[n].document_id.encode()]
        assert delivery.value == value  # forwarded unchanged
        assert dict(delivery.headers)[HEADER_PROOF] == dict(signed[n])[HEADER_PROOF]
    async with Receiver(agency=H29, settings=settings) as h29:
        received = await take(h29, 5)
    assert sorted(r.document.document_id for r in received) == sorted(
        d.document_id for n, d in enumerate(docs) if n != 2
    )
