"""An edXML status message as a :class:`StatusNotice`, in either shape real systems write.

The national SDK's samples write a status as a ``MessageHeader`` carrying ``StatusCode``,
``ResponseFor`` and ``Timestamp``; other systems write a ``Status`` element with the same
children. Both are read the same way. A recall request (13) comes from the document's own
sender and names the recipient it asks in ``To`` or, as the SDK's sample does, in
``ResponseFor/OrganId``.
"""

from __future__ import annotations

from docbus._exceptions import EdxmlError
from docbus.edxml._dates import parse_date, parse_timestamp
from docbus.edxml._extensions import ExtensionsBuilder
from docbus.edxml._reading import STAFF_FIELDS, check_rules, code, staff, text, value
from docbus.edxml._tree import Element
from schemas import StatusCode, StatusNotice, notice_problems

__all__ = ["EDXML_STATUS_CODES", "STATUS_FIELDS", "read_status"]

#: The status codes an edXML status message may carry (90 is docbus's own).
EDXML_STATUS_CODES = frozenset(c.value for c in StatusCode if c is not StatusCode.REDIRECTED)
#: The children of a status element the bus models.
STATUS_FIELDS = ("ResponseFor", "From", "To", "StaffInfo", "StatusCode", "Description", "Timestamp")
_RESPONSE_FOR_FIELDS = ("OrganId", "Code", "PromulgationDate", "DocumentId")


def read_status(status: Element) -> StatusNotice:
    """The notice in ``status`` (a ``Status`` element or a status ``MessageHeader``)."""
    response_for = status.child("ResponseFor")
    if response_for is None:
        raise EdxmlError("required element is missing", element=f"{status.path}/ResponseFor")
    responded_organ = text(response_for, "OrganId", required=True)
    from_agency = text(status, "From", "OrganId", required=True)
    status_code = _status_code(status)
    named_recipient = text(status, "To", "OrganId")
    if status_code is StatusCode.RECALL_REQUESTED:
        document_sender = from_agency
        to_agency = named_recipient or (responded_organ if responded_organ != from_agency else "")
        if not to_agency:
            raise EdxmlError(
                "a recall (13) comes from the document's sender and must name the recipient it "
                "asks, in To or ResponseFor/OrganId",
                element=status.where(),
            )
    else:
        document_sender = responded_organ
        to_agency = named_recipient or document_sender
        if to_agency == from_agency:
            raise EdxmlError(
                "a status from the document's own sender must name its recipient in To",
                element=status.where(),
            )
    timestamp = value(status, "Timestamp", parse_timestamp, None)
    if timestamp is None:
        raise EdxmlError("required element is missing or empty", element=f"{status.path}/Timestamp")
    kept = ExtensionsBuilder()
    kept.keep("Status", status, STATUS_FIELDS)
    kept.keep("Status/ResponseFor", response_for, _RESPONSE_FOR_FIELDS)
    kept.keep("Status/From", status.child("From"), ("OrganId",))
    kept.keep("Status/StaffInfo", status.child("StaffInfo"), STAFF_FIELDS)
    notice = StatusNotice(
        document_id=text(response_for, "DocumentId", required=True),
        document_sender=document_sender,
        document_code=text(response_for, "Code"),
        promulgation_date=value(response_for, "PromulgationDate", parse_date, None),
        from_agency=from_agency,
        to_agency=to_agency,
        status_code=status_code,
        description=text(status, "Description"),
        timestamp=timestamp,
        staff=staff(status.child("StaffInfo")),
        extensions=kept.result(),
    )
    check_rules(notice_problems(notice), "status", status)
    return notice


def _status_code(status: Element) -> StatusCode:
    raw = text(status, "StatusCode", required=True)
    raw = raw.zfill(2) if raw.isdigit() else raw
    if raw not in EDXML_STATUS_CODES:
        raise EdxmlError(
            f"{raw!r} is not an edXML status code ({', '.join(sorted(EDXML_STATUS_CODES))})",
            element=f"{status.path}/StatusCode",
        )
    return code(StatusCode, raw, "status code", status)
