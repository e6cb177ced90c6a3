"""The edXML rules a document and a status notice must keep.

A sender checks all of them before it signs; the router checks a document's envelope
(:func:`check_envelope`: its id, sender, recipients and priority, what routing depends
on) and a notice whole; a receiver checks the whole document before its application
sees it.
"""

from __future__ import annotations

import hashlib
import re

from schemas._agency_code import AgencyCode, is_party_id
from schemas._envelope import DocumentEnvelope
from schemas._errors import InvalidDocumentError, InvalidNoticeError
from schemas._models import (
    Attachment,
    BusinessType,
    Document,
    Priority,
    StatusCode,
    StatusNotice,
    SteeringType,
    code_list_problem,
)

__all__ = [
    "MAX_ATTACHMENT_NAME",
    "MAX_NOTICE_STEPS",
    "MAX_RECIPIENTS",
    "MAX_TEXT",
    "check_document",
    "check_envelope",
    "check_notice",
    "document_problems",
    "notice_problems",
]

MAX_TEXT = 500
MAX_ATTACHMENT_NAME = 200
MAX_RECIPIENTS = 1000
MAX_DOCUMENT_ID = 200
#: Steps one notice may carry (its own and those before it): a delivery's whole lifecycle.
MAX_NOTICE_STEPS = 8
#: ``<sender code>,<yyyy/MM/dd>,<number>/<notation>``, the national form. The number and
#: notation may hold spaces as clerks type them, never a control character (a newline).
_NATIONAL_DOCUMENT_ID = re.compile(
    r"^[^,\s]+,\d{4}/\d{2}/\d{2},[^,\x00-\x1f\x7f]+/[^,\x00-\x1f\x7f]+\Z"
)
#: Other ids real systems give documents: UUIDs, ``GW-20251014073327634-773``.
_OPAQUE_DOCUMENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]*\Z")
_SHA256 = re.compile(r"^[0-9a-f]{64}\Z")


def envelope_problems(doc: Document | DocumentEnvelope) -> list[str]:
    """The rules of ``doc``'s routing envelope it breaks: id, sender, recipients, priority."""
    problems: list[str] = []
    _check_id(doc.document_id, problems)
    _check_code("sender", doc.sender, problems)
    _check_recipients(doc.recipients, problems)
    problem = code_list_problem(Priority, doc.priority, "priority")
    if problem is not None:
        problems.append(problem)
    return problems


def document_problems(doc: Document) -> list[str]:
    """Every edXML rule ``doc`` breaks, in words; empty when it keeps them all."""
    problems = envelope_problems(doc)
    problem = code_list_problem(SteeringType, doc.steering_type, "steering_type")
    if problem is not None:
        problems.append(problem)
    if not doc.subject.strip():
        problems.append("subject is empty")
    _check_length("subject", doc.subject, MAX_TEXT, problems)
    _check_length("content", doc.content, MAX_TEXT, problems)
    if not doc.code_number or not doc.code_notation:
        problems.append("code number and notation are required")
    _check_business(doc, problems)
    for attachment in doc.attachments:
        _check_attachment(attachment, problems)
    return problems


def notice_problems(notice: StatusNotice) -> list[str]:
    """Every edXML rule ``notice`` breaks, in words; empty when it keeps them all."""
    problems: list[str] = []
    problem = code_list_problem(StatusCode, notice.status_code, "status code")
    if problem is not None:
        problems.append(problem)
    if not notice.document_id:
        problems.append("document_id is empty")
    _check_length("document_id", notice.document_id, MAX_DOCUMENT_ID, problems)
    _check_code("document_sender", notice.document_sender, problems)
    _check_code("from_agency", notice.from_agency, problems)
    _check_code("to_agency", notice.to_agency, problems)
    _check_length("description", notice.description, MAX_TEXT, problems)
    if len(notice.earlier) + 1 > MAX_NOTICE_STEPS:
        problems.append(
            f"{len(notice.earlier) + 1} steps in one notice; at most {MAX_NOTICE_STEPS}"
        )
    later = notice.timestamp
    for n, step in reversed(list(enumerate(notice.earlier, 1))):
        problem = code_list_problem(StatusCode, step.status_code, f"step {n}'s status code")
        if problem is not None:
            problems.append(problem)
        _check_length(f"step {n}'s description", step.description, MAX_TEXT, problems)
        if step.timestamp > later:
            problems.append(f"step {n} is stamped after the step that follows it")
        later = step.timestamp
    return problems


def check_document(doc: Document) -> None:
    """Raise :class:`InvalidDocumentError` listing every rule ``doc`` breaks."""
    problems = document_problems(doc)
    if problems:
        raise InvalidDocumentError(problems)


def check_envelope(envelope: DocumentEnvelope) -> None:
    """Raise :class:`InvalidDocumentError` listing every envelope rule ``envelope`` breaks."""
    problems = envelope_problems(envelope)
    if problems:
        raise InvalidDocumentError(problems)


def check_notice(notice: StatusNotice) -> None:
    """Raise :class:`InvalidNoticeError` listing every rule ``notice`` breaks."""
    problems = notice_problems(notice)
    if problems:
        raise InvalidNoticeError(problems)


def _check_id(document_id: str, problems: list[str]) -> None:
    """A document id is kept as given: the national form, or an opaque id (UUID and the
    like). Its agency part is not checked against the sender: gateways relay documents
    under the id their originating organisation gave them."""
    if len(document_id) > MAX_DOCUMENT_ID:
        problems.append(f"document_id is longer than {MAX_DOCUMENT_ID} characters")
    elif not (_NATIONAL_DOCUMENT_ID.match(document_id) or _OPAQUE_DOCUMENT_ID.match(document_id)):
        problems.append(
            f"document_id {document_id!r} is neither '<sender code>,<yyyy/MM/dd>,<number>/"
            "<notation>' nor an opaque id (letters, digits, '.', '_', ':', '-')"
        )


def _check_code(field_name: str, code: str, problems: list[str]) -> None:
    if not is_party_id(code):
        problems.append(
            f"{field_name} {code!r} is not an agency code of the form 000.00.00.G22 "
            "or a party id like vxp.saas.03"
        )


def _check_recipients(recipients: tuple[str, ...], problems: list[str]) -> None:
    if not recipients:
        problems.append("no recipients")
        return
    if len(recipients) > MAX_RECIPIENTS:
        problems.append(f"{len(recipients)} recipients, more than the {MAX_RECIPIENTS} allowed")
        return
    seen: set[str] = set()
    for code in recipients:
        if code in seen:
            problems.append(f"recipient {code!r} appears more than once")
        seen.add(code)
        if not AgencyCode.is_group(code):
            _check_code("recipient", code, problems)


def _check_length(field_name: str, text: str, limit: int, problems: list[str]) -> None:
    if len(text) > limit:
        problems.append(f"{field_name} has {len(text)} characters, more than {limit}")


def _check_business(doc: Document, problems: list[str]) -> None:
    business = doc.business
    if business.business_type not in tuple(BusinessType):
        problems.append(f"business_type must be 0-3, got {business.business_type}")
    elif business.business_type != BusinessType.NEW and not business.related_document_id:
        name = BusinessType(business.business_type).name.lower()
        problems.append(f"a {name} document must name the document it changes")
    for change in business.receiver_changes:
        if change.change_type not in (0, 1):
            problems.append(f"receiver change type must be 0 or 1, got {change.change_type}")
        _check_code("receiver change", change.organ_id, problems)


def _check_attachment(attachment: Attachment, problems: list[str]) -> None:
    name = attachment.name
    if not name:
        problems.append(f"attachment {attachment.content_id!r} has no name")
    _check_length(f"attachment name {name[:40]!r}", name, MAX_ATTACHMENT_NAME, problems)
    if attachment.size_bytes < 0:
        problems.append(f"attachment {name[:40]!r} has a negative size")
    if not _SHA256.match(attachment.sha256):
        problems.append(f"attachment {name[:40]!r} has no valid SHA-256")
    if (attachment.content is None) == (attachment.blob_ref is None):
        problems.append(
            f"attachment {name[:40]!r} must have exactly one of inline content or blob_ref"
        )
    elif attachment.content is not None:
        if len(attachment.content) != attachment.size_bytes:
            problems.append(f"attachment {name[:40]!r} size does not match its content")
        elif hashlib.sha256(attachment.content).hexdigest() != attachment.sha256:
            problems.append(f"attachment {name[:40]!r} SHA-256 does not match its content")
