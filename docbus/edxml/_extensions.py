"""The elements of a real edXML file that the bus does not model, kept to be written back.

An import records, for each parent element it reads (``MessageHeader`` and its ``From``,
each ``To`` and ``ResponseFor``, ``Code``, ``PromulgationInfo``, ``DocumentType``,
``SignerInfo``, ``OtherInfo``; ``TraceHeaderList``, each ``TraceHeader``, ``Bussiness``
and its ``StaffInfo``; ``edXMLHeader``, ``edXMLBody``, ``edXMLEnvelope``; each
``Attachment``; a status's header, ``From``, ``ResponseFor`` and ``StaffInfo``), the
children it does not turn into a field, as XML text in file order:
``OtherInfo/Direction``, a ``Bussiness/DocumentId`` on a new document,
``BussinessDocumentInfo`` and ``ReplacementInfoList`` whole (the bus reads what it routes
on from them, but keeps their exact wording), an ``edXMLBody/Content``, a
``TraceHeader`` with no timestamp. The export writes each parent's kept elements back at
the end of that parent, so import → export → import gives the same value.

The XML text is canonical (edXML elements with the ``edXML:`` prefix, attributes by local
name, sorted, whitespace-only text dropped), so reading it back gives the same text.

Not kept: attributes of the modelled elements (``TraceHeaderList id=…``), the children
of manifest ``Reference`` elements beyond the attachment's fields, comments, and the
whitespace and order of the modelled elements, which the export writes in the SDK's
layout. A ``<ResponseFor />`` with nothing in it is read as absent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from xml.sax.saxutils import escape, quoteattr

from docbus.edxml._tree import Element

__all__ = ["ExtensionsBuilder", "element_xml", "kept_names", "kept_xml"]

EDXML_NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
_TAG = re.compile(r"<(/?)(?:edXML:)?([A-Za-z_][\w.-]*)")


def element_xml(element: Element) -> str:
    """``element`` and its descendants as canonical XML text."""
    if element.namespace == EDXML_NS:
        tag, declaration = f"edXML:{element.name}", ""
    elif element.namespace:
        tag, declaration = element.name, f" xmlns={quoteattr(element.namespace)}"
    else:
        tag, declaration = element.name, ""
    attributes = "".join(f" {k}={quoteattr(v)}" for k, v in sorted(element.attributes.items()))
    inner = "".join(element_xml(c) for c in element.children) if element.children else ""
    text = escape(element.text)
    return f"<{tag}{declaration}{attributes}>{text}{inner}</{tag}>"


class ExtensionsBuilder:
    """Collects the unmodelled children of the parents an import reads."""

    def __init__(self) -> None:
        self._kept: dict[str, str] = {}

    def keep(self, key: str, parent: Element | None, modelled: Iterable[str]) -> None:
        """Keep ``parent``'s children not named in ``modelled`` under ``key``."""
        if parent is None:
            return
        names = set(modelled)
        self.keep_elements(key, (c for c in parent.children if c.name not in names))

    def keep_elements(self, key: str, elements: Iterable[Element]) -> None:
        """Keep ``elements`` under ``key``, after what is already kept there."""
        text = "".join(element_xml(e) for e in elements)
        if text:
            self._kept[key] = self._kept.get(key, "") + text

    def result(self) -> tuple[tuple[str, str], ...]:
        """What was kept, as a Document's or notice's ``extensions``."""
        return tuple(self._kept.items())


def kept_xml(extensions: Iterable[tuple[str, str]], key: str) -> str:
    """The XML text kept under ``key`` ('' if none)."""
    return dict(extensions).get(key, "")


def kept_names(extensions: Iterable[tuple[str, str]], key: str) -> frozenset[str]:
    """The local names of the elements kept under ``key``: the export writes these back
    rather than making its own."""
    names, depth = set(), 0
    for closing, name in _TAG.findall(kept_xml(extensions, key)):
        if closing:
            depth -= 1
            continue
        if depth == 0:
            names.add(name)
        depth += 1
    return frozenset(names)
