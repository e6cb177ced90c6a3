"""edXML (QCVN 102:2016) in and out, so agency systems connect to docbus as they are.

``import_edxml`` reads a document message into a :class:`~schemas.Document` (attachments
decoded into the blob store) or a status message into a :class:`~schemas.StatusNotice`;
``write_document`` and ``write_status`` write them back as edXML. The shapes real systems
write, and which the bus accepts, are listed in ``docbus.edxml._import``; what the bus
does not model is kept and written back (``docbus.edxml._extensions``).
"""

from docbus.edxml._export import write_document, write_status
from docbus.edxml._import import (
    EDXML_NS,
    ImportedDocument,
    ImportedMessage,
    ImportedStatus,
    import_edxml,
)
from docbus.edxml._signature import SignatureCheck, SignatureStatus

__all__ = [
    "EDXML_NS",
    "ImportedDocument",
    "ImportedMessage",
    "ImportedStatus",
    "SignatureCheck",
    "SignatureStatus",
    "import_edxml",
    "write_document",
    "write_status",
]
