"""Records no sender SDK would write, for the demo's and the benchmark's dead-letter path.

Five kinds, in turn: garbage bytes, a truncated document, an unknown schema fingerprint
(each signed by the outbox's owner, so they reach the decoder), a document signed with
the bus's own key (posing as another), and one not signed at all. The full catalogue of
hostile input is in ``tests/router/test_hostile_input.py``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from docbus import Keystore, RecordHeaders, Settings, Signers
from docbus.directory import Directory
from producers.simulation._mix import DocumentMix
from schemas import BUS_AGENCY, Codec, TopicLayout

__all__ = ["BAD_RECORD_KINDS", "BadRecord", "bad_records"]

#: What each bad record is, in the order they are made.
BAD_RECORD_KINDS = ("garbage", "truncated", "unknown_fingerprint", "posing_as_the_bus", "unsigned")

#: (outbox topic, key, value, headers)
BadRecord = tuple[str, bytes, bytes, RecordHeaders]


def bad_records(
    settings: Settings, directory: Directory, owners: Sequence[str], codec: Codec, count: int
) -> Iterator[BadRecord]:
    """``count`` bad records, the kinds in turn, in the outboxes of ``owners`` in turn."""
    layout = TopicLayout(settings.topic_prefix)
    signers = Signers(Keystore(settings.keys_root))
    sample = codec.encode(next(DocumentMix(directory, seed=0).documents(1)))
    owner_signs = ""
    kinds: list[tuple[bytes, str | None]] = [  # the value, and who signs it (None: nobody)
        (b"this is not an Avro record", owner_signs),
        (sample[: len(sample) // 2], owner_signs),
        (sample[:2] + b"\xde\xad\xbe\xef" * 2 + sample[10:], owner_signs),
        (sample, BUS_AGENCY),
        (sample, None),
    ]
    for i in range(count):
        owner = owners[i % len(owners)]
        value, signer = kinds[i % len(kinds)]
        headers = [] if signer is None else signers(signer or owner).headers(value)
        yield layout.outbox(owner), f"bad-{i}".encode(), value, headers
