"""Avro single-object encoding: ``C3 01``, the 8-byte CRC-64-AVRO fingerprint, then the body.

A record is read with the writer's schema (found by fingerprint among every version kept
in schemas/) resolved against the reader's (the newest version unless asked otherwise),
so a reader of version N reads what version N+1 wrote, and the reverse.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

from fastavro import parse_schema, schemaless_reader, schemaless_writer

from schemas._envelope import ENVELOPE_FIELDS, DocumentEnvelope
from schemas._errors import BadMarkerError, CodecError, MalformedRecordError
from schemas._models import Document, StatusNotice
from schemas._registry import SchemaRegistry, SchemaVersion

__all__ = ["DOCUMENT_SCHEMA", "MARKER", "NOTICE_SCHEMA", "Codec", "Message"]

MARKER = b"\xc3\x01"
HEADER_SIZE = len(MARKER) + 8
DOCUMENT_SCHEMA = "vn.gov.docbus.Document"
NOTICE_SCHEMA = "vn.gov.docbus.StatusNotice"

#: What travels on the bus: a document or a status notice about one.
Message = Document | StatusNotice

_MODELS: dict[str, type[Document] | type[StatusNotice]] = {
    DOCUMENT_SCHEMA: Document,
    NOTICE_SCHEMA: StatusNotice,
}


class Codec:
    """Encodes and decodes docbus messages against a :class:`SchemaRegistry`."""

    def __init__(self, registry: SchemaRegistry | None = None) -> None:
        self.registry = registry if registry is not None else SchemaRegistry.load()
        #: by fingerprint: a document version's schema cut after its leading envelope
        self._envelopes = {
            v.fingerprint: _leading(v.parsed, len(ENVELOPE_FIELDS))
            for v in self.registry.versions(DOCUMENT_SCHEMA)
            if tuple(f["name"] for f in v.parsed["fields"][: len(ENVELOPE_FIELDS)])
            == ENVELOPE_FIELDS
        }

    def encode(self, message: Message, *, version: int | None = None) -> bytes:
        """Encode ``message`` with the newest schema version, or ``version`` if given."""
        name = DOCUMENT_SCHEMA if isinstance(message, Document) else NOTICE_SCHEMA
        try:
            record = message.to_record()
        except (ValueError, TypeError, AttributeError) as exc:
            raise CodecError(f"cannot encode {type(message).__name__}: {exc}") from exc
        return self.encode_record(name, record, version=version)

    def encode_record(
        self, name: str, record: dict[str, Any], *, version: int | None = None
    ) -> bytes:
        """Encode a plain Avro ``record`` of schema ``name``."""
        schema = (
            self.registry.latest(name) if version is None else self.registry.version(name, version)
        )
        buffer = BytesIO()
        buffer.write(MARKER)
        buffer.write(schema.fingerprint)
        try:
            schemaless_writer(buffer, schema.parsed, record)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            raise CodecError(f"cannot encode {name} v{schema.version}: {exc}") from exc
        return buffer.getvalue()

    def writer_schema(self, data: bytes) -> SchemaVersion:
        """The schema version that wrote ``data``, from its header alone."""
        if data[:2] != MARKER:
            raise BadMarkerError(
                f"record starts with {bytes(data[:2]).hex() or 'nothing'}, "
                "not the single-object marker c301"
            )
        if len(data) < HEADER_SIZE:
            raise MalformedRecordError(
                f"record of {len(data)} bytes is shorter than the {HEADER_SIZE}-byte header"
            )
        return self.registry.by_fingerprint(bytes(data[2:HEADER_SIZE]))

    def decode_record(
        self, data: bytes, *, reader_version: int | None = None
    ) -> tuple[SchemaVersion, dict[str, Any]]:
        """Decode ``data`` to ``(writer schema, record)``, read as ``reader_version`` (newest)."""
        writer = self.writer_schema(data)
        if reader_version is None:
            reader = self.registry.latest(writer.name)
        else:
            reader = self.registry.version(writer.name, reader_version)
        body = BytesIO(data)
        body.seek(HEADER_SIZE)
        try:
            record = schemaless_reader(
                body, writer.parsed, None if reader is writer else reader.parsed
            )
        except Exception as exc:  # fastavro raises many types on corrupt input
            raise MalformedRecordError(
                f"corrupt or truncated {writer.name} v{writer.version} body: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        if body.tell() != len(data):
            raise MalformedRecordError(
                f"{len(data) - body.tell()} stray bytes after the {writer.name} body"
            )
        if not isinstance(record, dict):
            raise MalformedRecordError(f"{writer.name} body is not a record")
        return writer, record

    def decode_envelope(self, data: bytes) -> DocumentEnvelope | StatusNotice:
        """A document's routing envelope, or a whole notice: what a router needs.

        A document written with a schema that leads with the envelope (v4 on) is decoded
        up to the envelope's end and no further, so a fault in the rest of its body is
        not seen here (the receiver's full decode refuses it); an older one is decoded
        whole. Raises as :meth:`decode`.
        """
        writer = self.writer_schema(data)
        envelope_schema = self._envelopes.get(writer.fingerprint)
        if envelope_schema is None:
            message = self.decode(data)
            return DocumentEnvelope.of(message) if isinstance(message, Document) else message
        body = BytesIO(data)
        body.seek(HEADER_SIZE)
        try:
            record = schemaless_reader(body, envelope_schema, None)
        except Exception as exc:  # fastavro raises many types on corrupt input
            raise MalformedRecordError(
                f"corrupt or truncated {writer.name} v{writer.version} envelope: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        if not isinstance(record, dict):
            raise MalformedRecordError(f"{writer.name} envelope is not a record")
        return DocumentEnvelope.from_record(record)

    def decode(self, data: bytes) -> Message:
        """Decode ``data`` to a :class:`Document` or :class:`StatusNotice`.

        :class:`CodecError` for bytes that are not a record; :class:`ValidationError`
        (``InvalidDocumentError``, ``InvalidNoticeError``) for a record whose priority,
        steering type, business type or status code is outside its edXML code list.
        """
        writer, record = self.decode_record(data)
        try:
            return _MODELS[writer.name].from_record(record)
        except KeyError as exc:
            raise MalformedRecordError(f"schema {writer.name} is not a docbus message") from exc


def _leading(parsed: dict[str, Any], count: int) -> Any:
    """A record schema of ``parsed``'s first ``count`` fields, parsed anew: fastavro reads
    a schema it parsed itself faster than a parsed one edited (10 µs against 17.5)."""
    return parse_schema(
        _without_fastavro_keys({**parsed, "fields": parsed["fields"][:count]}), named_schemas={}
    )


def _without_fastavro_keys(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_fastavro_keys(v) for k, v in node.items() if not k.startswith("__")}
    if isinstance(node, list):
        return [_without_fastavro_keys(v) for v in node]
    return node
