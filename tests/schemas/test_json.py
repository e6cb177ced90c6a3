"""Tests for schemas._json: documents and notices as JSON with the schema's field names."""

from __future__ import annotations

import json

import pytest

from docbus import ValidationError
from schemas import Document, StatusNotice, from_json, to_json
from tests.helpers import G22, H29, letter
from tests.schemas.test_codec import full_document, notice


def test_document_round_trip() -> None:
    """Every field of the newest schema survives to_json, json text and from_json."""
    doc = full_document()
    data = json.loads(json.dumps(to_json(doc)))
    assert data["document_id"] == doc.document_id
    assert data["promulgation_date"] == doc.promulgation_date.isoformat()
    assert data["business"]["staff"]["full_name"] == doc.business.staff.full_name
    assert isinstance(data["attachments"][0]["content"], str)  # base64
    assert from_json(data) == doc


def test_notice_round_trip() -> None:
    """A notice is recognised by its status_code and comes back equal."""
    n = notice()
    back = from_json(json.loads(json.dumps(to_json(n))))
    assert isinstance(back, StatusNotice) and back == n


def test_fields_left_out_take_their_defaults() -> None:
    """JSON without the newer optional fields still reads (schema defaults)."""
    data = to_json(letter(G22, (H29,)))
    del data["signature"], data["to_places"]
    back = from_json(data)
    assert isinstance(back, Document) and back.signature is None and back.to_places == ()


def test_missing_required_field_is_a_validation_error() -> None:
    """JSON without a required field says so instead of raising KeyError."""
    data = to_json(letter(G22, (H29,)))
    del data["subject"]
    with pytest.raises(ValidationError, match="subject"):
        from_json(data)
