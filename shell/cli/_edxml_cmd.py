"""``docbus edxml import|export``: agency systems' edXML files in and out of the bus."""

from __future__ import annotations

import contextlib
import json
import re
import sys
from pathlib import Path
from typing import Any

import click

from consumers import Receiver
from docbus import BlobStore, DocbusError, Settings
from docbus.edxml import (
    ImportedDocument,
    ImportedMessage,
    import_edxml,
    write_document,
    write_status,
)
from producers import Sender
from schemas import Document, SchemaRegistry, StatusNotice, from_json, to_json
from shell._runtime import bus_settings
from shell.cli._common import (
    answer_all,
    bus_options,
    emit_json,
    received_batches,
    receiving_options,
    run_async,
    settings_from,
)

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@click.group()
def edxml() -> None:
    """Read and write edXML (QCVN 102:2016) document and status messages."""


@edxml.command("import")
@bus_options
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print each Document or notice as JSON.")
@click.option("--send", is_flag=True, help="Send each through the bus as its sender.")
@click.option(
    "--blob-dir", type=click.Path(path_type=Path), help="Blob store (env DOCBUS_BLOB_DIR)."
)
def import_command(
    files: tuple[Path, ...], as_json: bool, send: bool, blob_dir: Path | None, **flags: Any
) -> None:
    """Import edXML FILES: documents and status messages, recognised by their header.

    Attachments are decoded into the blob store and referenced by SHA-256. A file that
    cannot be imported is reported with its reason and the others go on; the exit status
    is 1 if any failed.
    """
    settings = settings_from(blob_dir=blob_dir, **flags)
    blobs = BlobStore(settings.blob_root)
    registry = SchemaRegistry.load() if as_json else None  # once, not a load a file
    imported: list[ImportedMessage] = []
    failed = 0
    for path in files:
        try:
            message = import_edxml(path, blobs=blobs)
        except DocbusError as exc:
            failed += 1
            click.echo(f"error: {path}: {exc}", err=True)
            continue
        imported.append(message)
        click.echo(_describe(message), err=as_json)
        if as_json:
            emit_json(to_json(_value(message), registry))
    if send and imported:
        receipts = run_async(_send_all(settings, [_value(m) for m in imported]))
        for message, topic in zip(imported, receipts, strict=True):
            click.echo(f"sent {_value(message).document_id} to {topic}", err=as_json)
    if failed:
        sys.exit(1)


def _value(message: ImportedMessage) -> Document | StatusNotice:
    return message.document if isinstance(message, ImportedDocument) else message.notice


def _describe(message: ImportedMessage) -> str:
    check = message.signature
    signature = f"signature {check.status}" + (f" ({check.detail})" if check.detail else "")
    if check.certificate_subject:
        signature += f", signed by {check.certificate_subject}"
    if isinstance(message, ImportedDocument):
        d = message.document
        return (
            f"{message.source}: document {d.document_id} from {d.sender} to "
            f"{len(d.recipients)} recipient(s), {len(d.attachments)} attachment(s); {signature}"
        )
    n = message.notice
    return (
        f"{message.source}: status {n.status_code} for {n.document_id} from {n.from_agency} "
        f"to {n.to_agency}; {signature}"
    )


async def _send_all(settings: Settings, values: list[Document | StatusNotice]) -> list[str]:
    """Send each value as its author (one Sender an agency); where each landed, in order."""
    topics = []
    async with bus_settings(settings) as (live, _), contextlib.AsyncExitStack() as senders:
        by_agency: dict[str, Sender] = {}
        for value in values:
            agency = value.sender if isinstance(value, Document) else value.from_agency
            if agency not in by_agency:
                by_agency[agency] = await senders.enter_async_context(
                    Sender(agency=agency, settings=live)
                )
            sender = by_agency[agency]
            if isinstance(value, Document):
                receipt = await sender.send(value)
            else:
                receipt = await sender.notify(value)
            topics.append(f"{receipt.topic}/{receipt.partition}@{receipt.offset}")
    return topics


@edxml.command("export")
@bus_options
@click.argument("json_files", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Directory to write the .edxml files in.",
)
@click.option("--agency", help="Receive AGENCY's documents and notices from the bus instead.")
@receiving_options
@click.option(
    "--blob-dir", type=click.Path(path_type=Path), help="Blob store (env DOCBUS_BLOB_DIR)."
)
@click.option("--json", "as_json", is_flag=True, help="Print each file written as JSON.")
def export_command(
    json_files: tuple[Path, ...],
    out_dir: Path,
    agency: str | None,
    max_documents: int | None,
    timeout_s: float,
    status: str | None,
    blob_dir: Path | None,
    as_json: bool,
    **flags: Any,
) -> None:
    """Write documents and notices as edXML files, attachments inline again.

    From JSON_FILES (what `docbus edxml import --json` prints: one JSON object a line,
    `-` for standard input), or with --agency from the bus: each document delivered to
    AGENCY and each status notice about AGENCY's own documents.
    """
    if bool(json_files) == bool(agency):
        raise click.UsageError("give JSON files or --agency, not both and not neither")
    settings = settings_from(blob_dir=blob_dir, **flags)
    exporter = _Exporter(out_dir, BlobStore(settings.blob_root), as_json)
    registry = SchemaRegistry.load()
    if agency is not None:
        run_async(_export_received(settings, agency, exporter, max_documents, timeout_s, status))
    else:
        for path in json_files:
            text = sys.stdin.read() if str(path) == "-" else path.read_text("utf-8")
            for line in filter(str.strip, text.splitlines()):
                try:
                    message = from_json(json.loads(line), registry)
                    # a status file for each step a notice carries
                    for value in (
                        message.steps() if isinstance(message, StatusNotice) else [message]
                    ):
                        exporter.write(value)
                except (DocbusError, ValueError) as exc:
                    click.echo(f"error: {path}: {exc}", err=True)
                    exporter.failed += 1
    click.echo(exporter.summary(), err=True)
    if exporter.failed:
        sys.exit(1)


class _Exporter:
    """Writes each value as ``<out>/<document id>[.<from>.<code>].edxml``."""

    def __init__(self, out_dir: Path, blobs: BlobStore, as_json: bool) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        self.out_dir = out_dir
        self.blobs = blobs
        self.as_json = as_json
        self.failed = 0
        self.documents = 0
        self.notices = 0

    def summary(self) -> str:
        """What was written, said even when it is nothing."""
        text = (
            f"{self.documents} document{'' if self.documents == 1 else 's'} and "
            f"{self.notices} status notice{'' if self.notices == 1 else 's'} exported"
        )
        return text + (f" to {self.out_dir}" if self.documents or self.notices else "")

    def write(self, value: Document | StatusNotice, recipient: str | None = None) -> Path:
        stem = _UNSAFE_NAME.sub("_", value.document_id)
        if isinstance(value, StatusNotice):
            stem += f".{value.from_agency}.{value.status_code}"
        elif recipient is not None and recipient != value.sender:
            stem += f".{recipient}"
        path = self.out_dir / f"{stem}.edxml"
        temp = path.with_suffix(".edxml.part")
        try:
            with temp.open("w", encoding="utf-8") as out:
                if isinstance(value, Document):
                    write_document(value, out, blobs=self.blobs)
                else:
                    write_status(value, out)
            temp.replace(path)
        finally:
            temp.unlink(missing_ok=True)
        if isinstance(value, Document):
            self.documents += 1
        else:
            self.notices += 1
        if self.as_json:
            kind = "document" if isinstance(value, Document) else "status"
            emit_json({"file": str(path), "kind": kind, "document_id": value.document_id})
        else:
            click.echo(str(path))
        return path


async def _export_received(
    settings: Settings,
    agency: str,
    exporter: _Exporter,
    max_documents: int | None,
    timeout_s: float,
    status: str | None,
) -> None:
    async def on_notice(notice: StatusNotice) -> None:
        exporter.write(notice)

    async with (
        bus_settings(settings) as (live, _),
        Receiver(agency=agency, settings=live, on_notice=on_notice) as receiver,
    ):
        async for batch in received_batches(
            receiver, max_documents=max_documents, timeout_s=timeout_s
        ):
            written = []
            for received in batch:
                try:
                    exporter.write(received.document, received.recipient)
                except DocbusError as exc:  # e.g. a blob this machine does not have
                    # stop without answering it: it and the rest of the batch are
                    # delivered again on the next run
                    click.echo(f"error: {received.document.document_id}: {exc}", err=True)
                    exporter.failed += 1
                    break
                written.append(received)
            await answer_all(receiver, written, status)
            if len(written) < len(batch):
                break
