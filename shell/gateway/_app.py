"""The HTTP gateway: agencies without Python send and track documents over HTTP.

The gateway holds the agencies' signing keys (the keystore of its docbus home), knows the
calling system by its bearer token, and sends as that token's agency through the same
sender SDK the CLI uses. Every answer that is not a success is ``application/problem+json``.
"""

import datetime as dt
import io
import json
import time
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from consumers import ReceivedDocument
from docbus import BlobStore, BrokerError, DocbusError, Settings, StoredBlob, __version__
from docbus.directory import Directory
from docbus.edxml import ImportedDocument, import_edxml, write_document
from producers import official_letter
from schemas import (
    VN_TIME,
    Codec,
    Document,
    ImpossibleTransition,
    SchemaRegistry,
    check_document,
    from_json,
    to_json,
    top_level_of,
)
from shell._tracked import document_json
from shell.gateway._console import console_routes
from shell.gateway._deadlines import UploadDeadline
from shell.gateway._inbox import AgencyInbox
from shell.gateway._metrics import GatewayMetrics
from shell.gateway._problems import Problem, install_problem_handlers, problem_schema
from shell.gateway._protocol import SCOPE_KEY as CERTIFICATE_AGENCY
from shell.gateway._state import GatewayLimits, GatewayState
from shell.gateway._tokens import Caller, TokenStore

__all__ = ["StatusAnswer", "create_app"]

_XML_TYPES = ("application/xml", "text/xml")


def create_app(
    settings: Settings,
    *,
    tokens: TokenStore,
    directory: Directory | None = None,
    limits: GatewayLimits | None = None,
    metrics: GatewayMetrics | None = None,
) -> FastAPI:
    """The gateway's ASGI application for the bus ``settings`` point at; ``metrics``
    (default: new ones) count what it answers."""
    gateway = GatewayState(
        settings=settings,
        tokens=tokens,
        directory=directory if directory is not None else Directory.load(),
        limits=limits or GatewayLimits(),
        blobs=BlobStore(settings.blob_root),
        metrics=metrics if metrics is not None else GatewayMetrics(),
    )
    app = FastAPI(
        title="docbus gateway",
        version=__version__,
        description="Send and track official documents on the docbus for systems without "
        "the Python SDK. Authenticate with `Authorization: Bearer <token>` "
        "(`docbus gateway token --agency CODE`).",
        lifespan=gateway.lifespan,
        responses={code: problem_schema() for code in (400, 401, 403, 408, 422, 429)},
    )
    install_problem_handlers(app)
    app.add_middleware(
        UploadDeadline,
        grace_seconds=gateway.limits.upload_grace_seconds,
        min_bytes_per_second=gateway.limits.min_upload_bytes_per_second,
        max_body_bytes=max(gateway.limits.max_body_bytes, gateway.limits.max_attachment_bytes),
    )
    app.include_router(console_routes(gateway))

    @app.middleware("http")
    async def measure(request: Request, call_next: Any) -> Response:
        started = time.perf_counter()
        response: Response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        gateway.metrics.requests.labels(route, request.method, str(response.status_code)).inc()
        gateway.metrics.latency.labels(route, request.method).observe(time.perf_counter() - started)
        return response

    async def caller(request: Request) -> Caller:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        challenge = {"WWW-Authenticate": 'Bearer realm="docbus"'}
        certified = request.scope.get(CERTIFICATE_AGENCY)
        if certified is not None and not token.strip():  # mutual TLS, verified by uvicorn
            if certified not in gateway.directory:
                raise Problem(
                    403, "forbidden", f"the certificate names {certified}, no directory party"
                )
            gateway.admit(f"certificate {certified}")
            return Caller(certified, "agency")
        if scheme.lower() != "bearer" or not token.strip():
            raise Problem(
                401, "unauthorized", "send Authorization: Bearer <token>", headers=challenge
            )
        found = tokens.caller(token.strip())
        if found is None:
            raise Problem(401, "unauthorized", "the token is unknown or revoked", headers=challenge)
        gateway.admit(token.strip())
        return found

    @app.get("/v1/agencies", summary="The directory: every party open on a day")
    async def agencies(
        _: Annotated[Caller, Depends(caller)],
        at: Annotated[
            dt.date | None, Query(description="The day (default: today, Vietnam time).")
        ] = None,
    ) -> dict[str, Any]:
        day = at or dt.datetime.now(VN_TIME).date()
        return {
            "version": gateway.directory.version,
            "at": day.isoformat(),
            "agencies": [
                {
                    "code": a.code,
                    "name": a.name,
                    "name_en": a.name_en,
                    "kind": a.kind,
                    "aliases": list(a.aliases),
                }
                for a in gateway.directory.open_at(day)
            ],
        }

    @app.post(
        "/v1/documents",
        status_code=202,
        summary="Send a document as the token's agency",
        responses={413: problem_schema(), 415: problem_schema(), 503: problem_schema()},
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["sender", "recipients", "subject"],
                            "properties": {
                                "sender": {"type": "string"},
                                "recipients": {"type": "array", "items": {"type": "string"}},
                                "subject": {"type": "string"},
                            },
                            "additionalProperties": True,
                        }
                    },
                    "application/xml": {"schema": {"type": "string"}},
                },
            }
        },
    )
    async def send_document(
        request: Request, who: Annotated[Caller, Depends(caller)]
    ) -> JSONResponse:
        body = await _read_limited(request, gateway.limits.max_body_bytes)
        document = _document_of(
            request.headers.get("content-type", ""), body, gateway.blobs, gateway.registry
        )
        try:
            check_document(document)
            owner = top_level_of(document.sender)
        except DocbusError as exc:
            raise Problem(422, _kind(exc), str(exc)) from exc
        if owner != who.agency:
            raise Problem(
                403, "forbidden", f"this token sends as {who.agency}, not as {document.sender}"
            )
        try:
            gateway.directory.check_recipients(
                document.recipients, document.sent_at.astimezone(VN_TIME).date()
            )
            sender = await gateway.sender(who.agency)
            receipt = await sender.send(document)
            gateway.metrics.documents_sent.labels(who.agency).inc()
        except BrokerError as exc:
            raise Problem(503, "bus-unavailable", str(exc)) from exc
        except DocbusError as exc:
            raise Problem(422, _kind(exc), str(exc)) from exc
        return JSONResponse(
            {
                "document_id": receipt.document_id,
                "topic": receipt.topic,
                "partition": receipt.partition,
                "offset": receipt.offset,
            },
            status_code=202,
        )

    @app.post(
        "/v1/attachments",
        status_code=201,
        summary="Upload an attachment's bytes, streamed to the blob store; reference it from a "
        "document's attachments by its blob_ref",
        responses={413: problem_schema()},
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
            }
        },
    )
    async def upload_attachment(
        request: Request, who: Annotated[Caller, Depends(caller)]
    ) -> JSONResponse:
        stored = await _stream_to_blobs(request, gateway.blobs, gateway.limits.max_attachment_bytes)
        return JSONResponse(
            {"blob_ref": stored.ref, "sha256": stored.sha256, "size_bytes": stored.size_bytes},
            status_code=201,
        )

    @app.get(
        "/v1/documents/{document_id:path}",
        summary="A document's state with each recipient",
        responses={404: problem_schema()},
    )
    async def document_state(
        document_id: str, who: Annotated[Caller, Depends(caller)]
    ) -> dict[str, Any]:
        assert gateway.tracker is not None
        state = document_json(gateway.tracker, document_id, dt.datetime.now(dt.UTC))
        if state is None:
            raise Problem(404, "not-found", f"no document {document_id} is tracked")
        parties = {top_level_of(state["sender"]), *(r["agency"] for r in state["recipients"])}
        if who.role != "operator" and who.agency not in parties:
            raise Problem(403, "forbidden", f"{who.agency} neither sent nor received {document_id}")
        return state

    async def agency_inbox(who: Caller) -> AgencyInbox:
        if who.role != "agency":
            raise Problem(403, "forbidden", "an operator's token has no inbox")
        try:
            return await gateway.inbox(who.agency)
        except DocbusError as exc:
            raise Problem(503, "bus-unavailable", str(exc)) from exc

    def pending_one(inbox: AgencyInbox, delivery: str) -> ReceivedDocument:
        received = inbox.get(delivery)
        if received is None:
            raise Problem(404, "not-found", f"no delivery {delivery} is waiting for {inbox.agency}")
        return received

    @app.get("/v1/inbox", summary="Deliveries to the token's agency not yet answered")
    async def inbox_list(
        who: Annotated[Caller, Depends(caller)],
        wait: Annotated[float, Query(ge=0, le=60, description="Seconds to wait for one.")] = 0,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> dict[str, Any]:
        inbox = await agency_inbox(who)
        try:
            with gateway.metrics.long_polls.track_inprogress():
                pending = await inbox.pending(min(wait, gateway.limits.longest_poll_seconds), limit)
        except DocbusError as exc:
            raise Problem(503, "bus-unavailable", str(exc)) from exc
        return {"items": [_summary(delivery, received) for delivery, received in pending]}

    @app.get(
        "/v1/inbox/{delivery}",
        summary="One delivery, as JSON or (Accept: application/xml) edXML",
        responses={404: problem_schema(), 200: {"content": {"application/xml": {}}}},
    )
    async def inbox_item(
        delivery: str, request: Request, who: Annotated[Caller, Depends(caller)]
    ) -> Response:
        received = pending_one(await agency_inbox(who), delivery)
        if "xml" in request.headers.get("accept", ""):
            out = io.StringIO()
            write_document(received.document, out, blobs=gateway.blobs)
            return Response(out.getvalue(), media_type="application/xml")
        return JSONResponse(
            {
                **_summary(delivery, received),
                "document": to_json(received.document, gateway.registry),
                "attachments": [
                    {
                        "content_id": a.content_id,
                        "name": a.name,
                        "content_type": a.content_type,
                        "size_bytes": a.size_bytes,
                        "href": f"/v1/inbox/{delivery}/attachments/{a.content_id}",
                    }
                    for a in received.document.attachments
                ],
            }
        )

    @app.get(
        "/v1/inbox/{delivery}/attachments/{content_id}",
        summary="An attachment of a delivery, its bytes",
        responses={404: problem_schema()},
    )
    async def inbox_attachment(
        delivery: str, content_id: str, who: Annotated[Caller, Depends(caller)]
    ) -> Response:
        received = pending_one(await agency_inbox(who), delivery)
        found = next((a for a in received.document.attachments if a.content_id == content_id), None)
        if found is None:
            raise Problem(404, "not-found", f"no attachment {content_id} in {delivery}")
        if found.content is not None:
            return Response(found.content, media_type=found.content_type)
        assert found.blob_ref is not None
        return FileResponse(gateway.blobs.path(found.blob_ref), media_type=found.content_type)

    @app.post(
        "/v1/inbox/{delivery}/status",
        summary="Answer a delivery with a status; it is then never handed out again",
        responses={404: problem_schema(), 409: problem_schema()},
    )
    async def inbox_status(
        delivery: str, answer: StatusAnswer, who: Annotated[Caller, Depends(caller)]
    ) -> dict[str, str]:
        inbox = await agency_inbox(who)
        pending_one(inbox, delivery)
        try:
            await inbox.answer(delivery, answer.status_code, answer.description)
            gateway.metrics.statuses_posted.labels(answer.status_code).inc()
        except ImpossibleTransition as exc:
            raise Problem(409, "impossible-transition", str(exc)) from exc
        except DocbusError as exc:
            raise Problem(503, "bus-unavailable", str(exc)) from exc
        return {"delivery_id": delivery, "status_code": answer.status_code}

    return app


class StatusAnswer(BaseModel):
    """A recipient's answer to a delivery."""

    status_code: Literal["01", "02", "03", "04", "05", "06", "15", "16"]
    description: str = Field("", max_length=500)


def _summary(delivery: str, received: ReceivedDocument) -> dict[str, Any]:
    document = received.document
    return {
        "delivery_id": delivery,
        "document_id": document.document_id,
        "recipient": received.recipient,
        "sender": document.sender,
        "subject": document.subject,
        "priority": int(document.priority),
        "sent_at": document.sent_at.isoformat(),
        "attachments": len(document.attachments),
    }


def _kind(exc: DocbusError) -> str:
    """The problem type of an SDK refusal: its bounded kind, hyphenated."""
    kind = getattr(exc, "kind", "") or "refused"
    return str(kind).replace("_", "-")


async def _read_limited(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 past ``limit`` bytes (announced or streamed)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Problem(413, "too-large", f"the body is over {limit:,} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Problem(413, "too-large", f"the body is over {limit:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _document_of(
    content_type: str, body: bytes, blobs: BlobStore, registry: SchemaRegistry
) -> Document:
    """The document a request carries, as JSON (the schema's field names) or edXML."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media in _XML_TYPES:
        try:
            imported = import_edxml(body, blobs=blobs)
        except DocbusError as exc:
            raise Problem(422, "invalid-edxml", str(exc)) from exc
        if not isinstance(imported, ImportedDocument):
            raise Problem(422, "not-a-document", "this edXML is a status message, not a document")
        return imported.document
    if media != "application/json":
        raise Problem(415, "unsupported-media-type", "send application/json or application/xml")
    try:
        given = json.loads(body)
    except ValueError as exc:
        raise Problem(400, "malformed-json", f"the body is not JSON: {exc}") from None
    return _document_from_json(given, registry, blobs)


def _document_from_json(given: Any, registry: SchemaRegistry, blobs: BlobStore) -> Document:
    """A document from the fields given, the rest filled as ``docbus send`` fills them."""
    if not isinstance(given, dict):
        raise Problem(422, "invalid-document", "the body must be a JSON object")
    missing = [f for f in ("sender", "recipients", "subject") if not given.get(f)]
    if missing:
        raise Problem(422, "invalid-document", f"required: {', '.join(missing)}")
    recipients = given["recipients"]
    if not (
        isinstance(given["sender"], str)
        and isinstance(given["subject"], str)
        and isinstance(recipients, list)
        and all(isinstance(r, str) for r in recipients)
    ):
        raise Problem(
            422, "invalid-document", "sender and subject are strings, recipients a list of them"
        )
    if "status_code" in given:
        raise Problem(422, "not-a-document", "a status is sent to /v1/inbox/{delivery}/status")
    if "attachments" in given:
        given = {**given, "attachments": _uploaded_attachments(given["attachments"], blobs)}
    now = dt.datetime.now(dt.UTC)
    try:
        letter = official_letter(
            sender=str(given["sender"]),
            recipients=[str(r) for r in given["recipients"]],
            subject=str(given["subject"]),
            number=str(given.get("code_number") or now.strftime("%H%M%S%f")),
            notation=str(given.get("code_notation") or "VP"),
            priority=given.get("priority", 0),
            sent_at=now,
        )
        document = from_json({**to_json(letter, registry), **given}, registry)
        Codec(registry).encode(document)  # every field of the type the schema says
    except DocbusError as exc:
        raise Problem(422, "invalid-document", str(exc)) from exc
    assert isinstance(document, Document)
    return document


def _uploaded_attachments(given: Any, blobs: BlobStore) -> list[Any]:
    """The attachments as the schema has them: one given as ``{"blob_ref", "name",
    "content_type"}`` (uploaded to /v1/attachments) gets its size and digest from the
    blob store, and a content id if it has none; inline ones pass as they are."""
    if not isinstance(given, list):
        raise Problem(422, "invalid-document", "attachments must be a list")
    filled = []
    for number, attachment in enumerate(given, start=1):
        ref = attachment.get("blob_ref") if isinstance(attachment, dict) else None
        if not isinstance(ref, str) or attachment.get("content") is not None:
            filled.append(attachment)
            continue
        try:
            path = blobs.path(ref)
        except DocbusError as exc:
            raise Problem(422, "invalid-document", str(exc)) from exc
        if not path.is_file():
            raise Problem(
                422, "unknown-attachment", f"no attachment {ref} here: POST it to /v1/attachments"
            )
        filled.append(
            {
                "content_id": f"attachment-{number}",
                "description": "",
                "content": None,
                **attachment,
                "size_bytes": path.stat().st_size,
                "sha256": ref.removeprefix("sha256:"),
            }
        )
    return filled


async def _stream_to_blobs(request: Request, blobs: BlobStore, limit: int) -> StoredBlob:
    """The request body, streamed into the blob store; 413 past ``limit`` bytes (announced
    or streamed), the partial blob dropped."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Problem(413, "too-large", f"the attachment is over {limit:,} bytes")
    with blobs.writer() as writer:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise Problem(413, "too-large", f"the attachment is over {limit:,} bytes")
            writer.write(chunk)
        return writer.commit()
