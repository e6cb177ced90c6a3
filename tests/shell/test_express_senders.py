"""Tests for shell._express_senders: the replay's express documents, sent by a helper process."""

from __future__ import annotations

import pytest

from docbus import Settings
from schemas import EXPRESS_PARTITION, HEADER_SIGNATURE, Codec
from shell._child import ChildFailed
from shell._express_senders import ExpressSenders
from tests.helpers import G22, H29, ensure_topics, letter, read_topic


async def test_express_documents_handed_over_are_in_the_express_lane_when_it_ends(
    settings: Settings,
) -> None:
    """Three express letters handed to the process: on leaving, all three are acknowledged
    and sit in partition 0 of G22's outbox, signed as G22's."""
    layout = await ensure_topics(settings, [G22, H29])
    documents = [letter(G22, (H29,), number=n, priority=3) for n in range(3)]
    async with ExpressSenders(settings, [G22, H29]) as express:
        express.send(documents[:1])
        express.send(documents[1:])
    assert express.sent == 3
    records = await read_topic(settings, layout.outbox(G22), 3)
    assert {r.partition for r in records} == {EXPRESS_PARTITION}
    assert sorted(Codec().decode(r.value).document_id for r in records) == sorted(
        d.document_id for d in documents
    )
    assert all(any(k == HEADER_SIGNATURE for k, _ in r.headers) for r in records)


async def test_a_send_that_fails_in_the_process_is_raised_on_leaving(settings: Settings) -> None:
    """A document from an agency the process has no sender for: ChildFailed names it."""
    await ensure_topics(settings, [G22, H29])
    with pytest.raises(ChildFailed, match="express sends failed"):
        async with ExpressSenders(settings, [H29]) as express:
            express.send([letter(G22, (H29,), priority=4)])
