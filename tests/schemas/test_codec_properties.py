"""Property-based tests of the codec (hypothesis), and the decoder fuzz run."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from docbus import CodecError, ValidationError
from schemas import (
    DOCUMENT_SCHEMA,
    MARKER,
    NOTICE_SCHEMA,
    Attachment,
    Codec,
    Priority,
    StatusCode,
    StatusNotice,
    SteeringType,
)
from tests.helpers import G12, G22, H29, H41, letter

CODEC = Codec()
ROOT = Path(__file__).resolve().parents[2]
#: Text that UTF-8 can carry (no lone surrogates), Vietnamese included.
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)
MOMENTS = st.datetimes(
    min_value=dt.datetime(1970, 1, 2), max_value=dt.datetime(2200, 1, 1), timezones=st.just(dt.UTC)
)
UNITS = st.sampled_from([G22, G12, H29, H41, "000.00.05.H29", "000.01.07.G12"])
FINGERPRINTS = [
    v.fingerprint
    for name in (DOCUMENT_SCHEMA, NOTICE_SCHEMA)
    for v in CODEC.registry.versions(name)
]

attachments = st.builds(
    Attachment,
    content_id=TEXT,
    name=TEXT,
    content_type=st.sampled_from(["application/pdf", "text/plain"]),
    size_bytes=st.integers(-(2**63), 2**63 - 1),
    sha256=st.text("0123456789abcdef", min_size=64, max_size=64),
    description=TEXT,
    content=st.none() | st.binary(max_size=200),
    blob_ref=st.none() | TEXT,
)


@st.composite
def documents(draw: st.DrawFn):  # type: ignore[no-untyped-def]
    """Documents whose every free field hypothesis chooses."""
    base = letter(G22, tuple(draw(st.lists(UNITS, min_size=1, max_size=5))), sent_at=draw(MOMENTS))
    return dataclasses.replace(
        base,
        subject=draw(TEXT),
        content=draw(TEXT),
        priority=draw(st.sampled_from(Priority)),
        steering_type=draw(st.sampled_from(SteeringType)),
        code_number=draw(TEXT),
        attachments=tuple(draw(st.lists(attachments, max_size=3))),
        due_date=draw(st.none() | st.dates(dt.date(1970, 1, 1), dt.date(2200, 1, 1))),
    )


@st.composite
def notices(draw: st.DrawFn) -> StatusNotice:
    return StatusNotice(
        document_id=draw(TEXT),
        document_sender=draw(UNITS),
        from_agency=draw(UNITS),
        to_agency=draw(UNITS),
        status_code=draw(st.sampled_from(StatusCode)),
        description=draw(TEXT),
        timestamp=draw(MOMENTS),
    )


@given(documents())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_document_survives_encoding(doc) -> None:  # type: ignore[no-untyped-def]
    """decode(encode(d)) == d, whatever the text, sizes, dates and code-list values."""
    assert CODEC.decode(CODEC.encode(doc)) == doc


@given(notices())
@settings(max_examples=150, deadline=None)
def test_every_notice_survives_encoding(notice: StatusNotice) -> None:
    """decode(encode(n)) == n."""
    assert CODEC.decode(CODEC.encode(notice)) == notice


@given(st.binary(max_size=600))
@settings(max_examples=300, deadline=None)
def test_arbitrary_bytes_raise_only_codec_errors(data: bytes) -> None:
    """Any bytes at all: a message, or a CodecError, never anything else."""
    with contextlib.suppress(CodecError, ValidationError):
        CODEC.decode(data)


@given(st.sampled_from(FINGERPRINTS), st.binary(max_size=600))
@settings(max_examples=500, deadline=None)
def test_a_valid_header_with_any_body_raises_only_codec_errors(
    fingerprint: bytes, body: bytes
) -> None:
    """A known schema's header followed by anything: the body is where the decoder must hold
    (a body that decodes to a value outside a code list is a ValidationError)."""
    with contextlib.suppress(CodecError, ValidationError):
        CODEC.decode(MARKER + fingerprint + body)


@given(documents(), st.data())
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_changed_byte_never_escapes_the_codec(doc, data: st.DataObject) -> None:  # type: ignore[no-untyped-def]
    """One byte of a valid record changed to any value: a message, a CodecError, or a
    ValidationError where the byte moved a code-list value out of its list."""
    encoded = bytearray(CODEC.encode(doc))
    at = data.draw(st.integers(0, len(encoded) - 1))
    encoded[at] = data.draw(st.integers(0, 255))
    with contextlib.suppress(CodecError, ValidationError):
        CODEC.decode(bytes(encoded))


def test_fuzz_run_of_the_decoder_lets_nothing_else_escape() -> None:
    """benchmarks/fuzz_decoder.py over 30,000 mutated records: nothing escaped, and the
    mutations reached every failure the codec knows (so the run tests something)."""
    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "fuzz_decoder.py"), "--iterations", "30000"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    result = json.loads(run.stdout)
    assert run.returncode == 0 and result["escaped"] == 0, result["escaped_examples"]
    assert {"bad_marker", "unknown_schema", "malformed", "decoded"} <= set(result["outcomes"])
    assert sum(result["outcomes"].values()) == 30_000
