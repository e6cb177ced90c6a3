"""Documents and notices as JSON with the schema's field names, and back.

The conversion follows the newest Avro schema: dates and times become ISO 8601 strings,
bytes become base64, everything else is as the record has it. ``from_json`` reverses it,
so ``docbus edxml import --json`` output can be fed to ``docbus edxml export``.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from schemas._codec import DOCUMENT_SCHEMA, NOTICE_SCHEMA
from schemas._errors import ValidationError
from schemas._models import Document, StatusNotice
from schemas._registry import SchemaRegistry

__all__ = ["from_json", "to_json"]

Json = dict[str, Any]


def to_json(value: Document | StatusNotice, registry: SchemaRegistry | None = None) -> Json:
    """``value``'s Avro record as JSON-ready values."""
    schema = _schema_of(type(value), registry)
    converted: Json = _convert(schema, value.to_record(), _out)
    return converted


def from_json(data: Json, registry: SchemaRegistry | None = None) -> Document | StatusNotice:
    """A document, or a notice when ``data`` has a ``status_code``, from :func:`to_json` output."""
    kind: type[Document] | type[StatusNotice] = StatusNotice if "status_code" in data else Document
    schema = _schema_of(kind, registry)
    try:
        record = _convert(schema, data, _in)
        return kind.from_record(record)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValidationError([f"not a docbus {kind.__name__} in JSON: {exc!r}"]) from exc


def _schema_of(kind: type, registry: SchemaRegistry | None) -> Any:
    registry = registry if registry is not None else SchemaRegistry.load()
    return registry.latest(NOTICE_SCHEMA if kind is StatusNotice else DOCUMENT_SCHEMA).parsed


def _out(logical: str | None, base: str, value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def _in(logical: str | None, base: str, value: Any) -> Any:
    if logical == "date":
        return dt.date.fromisoformat(value)
    if logical and logical.startswith("timestamp"):
        return dt.datetime.fromisoformat(value)
    if base == "bytes":
        return base64.b64decode(value, validate=True)
    return value


def _convert(schema: Any, value: Any, leaf: Any) -> Any:
    if value is None:
        return None
    if isinstance(schema, list):  # a union: the first branch that is not null
        branch = next(s for s in schema if s != "null")
        return _convert(branch, value, leaf)
    if isinstance(schema, dict):
        kind = schema["type"]
        if kind == "record":
            return {
                f["name"]: _convert(f["type"], value[f["name"]], leaf)
                for f in schema["fields"]
                if f["name"] in value or "default" not in f
            }
        if kind == "array":
            return [_convert(schema["items"], v, leaf) for v in value]
        return leaf(schema.get("logicalType"), kind, value)
    return leaf(None, schema, value)
