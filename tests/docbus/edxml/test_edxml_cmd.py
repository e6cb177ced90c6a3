"""Tests for ``docbus edxml import|export``: files in, through the bus, files out."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from docbus import BlobStore, Settings
from docbus.edxml import ImportedDocument, ImportedStatus, import_edxml
from producers import Sender
from router import Router
from schemas import Attachment, Codec, Document, StatusNotice, TopicLayout, from_json
from tests.docbus.edxml.conftest import sample
from tests.helpers import G22, ensure_topics, letter, read_topic
from tests.shell.test_cli import docbus

G12, H29, H41 = "000.00.00.G12", "000.00.00.H29", "000.00.00.H41"
REAL = Path(__file__).parents[2] / "data" / "edxml" / "real"
DOCUMENT_ID = "000.00.00.G22,2025/10/15,7816/VPCP-KTTH"


async def test_import_prints_the_document_as_json(settings: Settings) -> None:
    """--json prints the Document with the schema's field names; a bad file fails alone."""
    bad = settings.home / "bad.edxml"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_text("<edXML><oops></edXML>", "utf-8")
    run = await docbus(
        settings,
        "edxml",
        "import",
        str(sample("new_multicast.edxml")),
        str(bad),
        str(sample("status_03.edxml")),
        "--json",
    )
    assert run.returncode == 1  # one file failed
    assert f"error: {bad}: malformed XML at line 1" in run.stderr
    assert "signature absent" in run.stderr
    document, notice = (json.loads(line) for line in run.stdout.splitlines())
    assert document["document_id"] == DOCUMENT_ID
    assert document["recipients"] == [G12, H29, H41]
    assert document["attachments"][0]["blob_ref"].startswith("sha256:")
    assert notice["status_code"] == "03" and notice["document_id"] == DOCUMENT_ID
    parsed = from_json(document)
    assert isinstance(parsed, Document) and parsed.subject.startswith("V/v triển khai")
    stored = BlobStore(settings.blob_root)
    assert parsed.attachments[0].blob_ref in stored


async def test_export_from_json_round_trips(settings: Settings, tmp_path: Path) -> None:
    """What import --json prints, export writes back as edXML that imports to the same value."""
    imported = await docbus(
        settings,
        "edxml",
        "import",
        "--json",
        *(str(sample(n)) for n in ("replace.edxml", "status_13.edxml")),
    )
    assert imported.returncode == 0, imported.stderr
    json_file = tmp_path / "values.jsonl"
    json_file.write_text(imported.stdout, "utf-8")
    out = tmp_path / "out"
    run = await docbus(settings, "edxml", "export", str(json_file), "--out", str(out), "--json")
    assert run.returncode == 0, run.stderr
    written = [json.loads(line) for line in run.stdout.splitlines()]
    assert [w["kind"] for w in written] == ["document", "status"]
    blobs = BlobStore(settings.blob_root)
    for line, entry in zip(imported.stdout.splitlines(), written, strict=True):
        again = import_edxml(Path(entry["file"]), blobs=blobs)
        value = again.document if isinstance(again, ImportedDocument) else again.notice
        assert value == from_json(json.loads(line))


async def test_edxml_through_the_bus(settings: Settings, tmp_path: Path) -> None:
    """A file imported with --send reaches its recipients, who export it as edXML; the sender
    exports their status notices as edXML status messages."""
    await ensure_topics(settings, [G22, G12, H29, H41])
    blobs = BlobStore(settings.blob_root)
    original = import_edxml(sample("new_multicast.edxml"), blobs=blobs)
    assert isinstance(original, ImportedDocument)
    async with Router(settings=settings):
        sent = await docbus(
            settings, "edxml", "import", "--send", str(sample("new_multicast.edxml"))
        )
        assert sent.returncode == 0, sent.stderr
        assert (
            f"sent {DOCUMENT_ID} to {TopicLayout(settings.topic_prefix).outbox(G22)}" in sent.stdout
        )

        inbox = tmp_path / "h29"
        received = await docbus(
            settings,
            "edxml",
            "export",
            "--agency",
            H29,
            "--out",
            str(inbox),
            "--max",
            "1",
            "--status",
            "03",
            "--json",
        )
        assert received.returncode == 0, received.stderr
        assert f"1 document and 0 status notices exported to {inbox}" in received.stderr
        (entry,) = [json.loads(line) for line in received.stdout.splitlines()]
        assert entry["kind"] == "document" and entry["document_id"] == DOCUMENT_ID
        delivered = import_edxml(Path(entry["file"]), blobs=blobs)
        assert isinstance(delivered, ImportedDocument)
        assert delivered.document == original.document  # the attachment inline again

        notices_dir = tmp_path / "g22"
        answered = await docbus(
            settings,
            "edxml",
            "export",
            "--agency",
            G22,
            "--out",
            str(notices_dir),
            "--timeout",
            "4",
            "--json",
        )
        assert answered.returncode == 0, answered.stderr
        assert "0 documents and 2 status notices exported" in answered.stderr
        nothing = await docbus(
            settings, "edxml", "export", "--agency", H29, "--out", str(inbox), "--timeout", "2"
        )
        assert nothing.returncode == 0 and "0 documents and 0 status notices exported\n" in (
            nothing.stderr
        ), nothing.stderr
    statuses = sorted(
        (n.notice.status_code, n.notice.from_agency)
        for n in (import_edxml(p, blobs=blobs) for p in notices_dir.glob("*.edxml"))
        if isinstance(n, ImportedStatus)
    )
    assert statuses == [("01", H29), ("03", H29)]


async def test_import_send_status_message(settings: Settings) -> None:
    """A status message file is sent into its author's outbox as a StatusNotice."""
    await ensure_topics(settings, [H29])
    run = await docbus(settings, "edxml", "import", "--send", str(sample("status_05.edxml")))
    assert run.returncode == 0, run.stderr
    (record,) = await read_topic(settings, TopicLayout(settings.topic_prefix).outbox(H29), 1)
    notice = Codec().decode(record.value)
    assert isinstance(notice, StatusNotice)
    assert (notice.status_code, notice.from_agency, notice.to_agency) == ("05", H29, G22)


async def test_export_of_a_missing_blob_stops_and_loses_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    """A document whose attachment blob is missing is reported and not acknowledged: once the
    blob is there, the next export run writes it."""
    await ensure_topics(settings, [G22, H29])
    content = b"%PDF-1.4 scan"
    stored = BlobStore(tmp_path / "elsewhere").put(content)
    doc = dataclasses.replace(
        letter(G22, (H29,)),
        attachments=(
            Attachment(
                content_id="scan",
                name="scan.pdf",
                content_type="application/pdf",
                size_bytes=stored.size_bytes,
                sha256=stored.sha256,
                blob_ref=stored.ref,
            ),
        ),
    )
    async with Router(settings=settings), Sender(agency=G22, settings=settings) as sender:
        await sender.send(doc)
        out = tmp_path / "out"
        export = ("edxml", "export", "--agency", H29, "--out", str(out), "--max", "1")
        failed = await docbus(settings, *export)
        assert failed.returncode == 1
        assert f"error: {doc.document_id}: no blob {stored.ref}" in failed.stderr
        assert list(out.glob("*.edxml")) == []
        BlobStore(settings.blob_root).put(content)
        again = await docbus(settings, *export)
        assert again.returncode == 0, again.stderr
    (written,) = out.glob("*.edxml")
    imported = import_edxml(written, blobs=BlobStore(settings.blob_root))
    assert isinstance(imported, ImportedDocument)
    assert imported.document.document_id == doc.document_id


async def test_real_files_from_parties_outside_the_scheme(
    settings: Settings, tmp_path: Path
) -> None:
    """A hosted tenant's message (vxp.saas.03 to vxp.saas.02, a UUID id) and an enterprise's
    (by tax code, to the Ministry of Finance as both G12 and 000.00.00.G12) are routed,
    tracked and exported back under the ids they came with; alias and code make one delivery."""
    tenant_file = REAL / "api-gateway-ioffice/bdb98a62-a2be-4c25-9075-8dcdbcdb1402.edxml"
    enterprise_file = REAL / "api-gateway-ioffice/knobstick.edxml"
    await ensure_topics(settings, ["vxp.saas.03", "vxp.saas.02", "020100107370", G12])
    blobs = BlobStore(settings.blob_root)
    tenant = import_edxml(tenant_file, blobs=blobs)
    enterprise = import_edxml(enterprise_file, blobs=blobs)
    assert isinstance(tenant, ImportedDocument) and isinstance(enterprise, ImportedDocument)
    async with Router(settings=settings):
        sent = await docbus(
            settings, "edxml", "import", "--send", str(tenant_file), str(enterprise_file)
        )
        assert sent.returncode == 0, sent.stderr
        exports = {}
        for agency in ("vxp.saas.02", G12):
            run = await docbus(
                settings, "edxml", "export", "--agency", agency, "--out",
                str(tmp_path / agency), "--max", "1", "--json",
            )  # fmt: skip
            assert run.returncode == 0, run.stderr
            (entry,) = [json.loads(line) for line in run.stdout.splitlines()]
            exports[agency] = import_edxml(Path(entry["file"]), blobs=blobs)
        again = await docbus(
            settings, "edxml", "export", "--agency", G12, "--out", str(tmp_path / "again"),
            "--timeout", "2",
        )  # fmt: skip
        assert "0 documents and 0 status notices exported" in again.stderr, again.stderr
        tracked = await docbus(settings, "track", tenant.document.document_id, "--json")
        tracked_g12 = await docbus(settings, "track", enterprise.document.document_id, "--json")
    for agency, original in (("vxp.saas.02", tenant), (G12, enterprise)):
        delivered = exports[agency]
        assert isinstance(delivered, ImportedDocument)
        assert delivered.document == original.document  # ids, aliases and extensions as given
    assert enterprise.document.recipients == ("G12", G12)
    assert [r["code"] for r in json.loads(tracked.stdout)["recipients"]] == ["vxp.saas.02"]
    assert [r["code"] for r in json.loads(tracked_g12.stdout)["recipients"]] == [G12]
