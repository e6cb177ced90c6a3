"""Read an edXML file into a small element tree, streaming attachments into the blob store.

Parsing is expat through defusedxml: a DTD's entity declarations and external references
are refused with :class:`UnsafeXmlError` and nothing is ever fetched. The base64 text of
each ``ContentTransferEncoded`` element (``AttachmentData`` in some gateways' files) is
decoded chunk by chunk as the parser delivers it and written to the blob store, so a 50 MB
attachment never sits in memory whole. Every other element keeps its text, up to
:data:`MAX_ELEMENT_TEXT` characters.

The national SDK's own sample message writes ``xlink:href`` on its manifest references
without declaring the ``xlink`` prefix, and an ``edXML:AttachmentEncoded`` outside the
envelope that declares ``edXML``; systems built from it do the same. A file refused for
an unbound prefix is read once more with those two prefixes declared on its root element
(where it does not declare them itself). Any other unbound prefix is still malformed XML.
"""

from __future__ import annotations

import binascii
import io
import re
import xml.sax
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from xml.sax.handler import ContentHandler, feature_external_ges, feature_external_pes
from xml.sax.xmlreader import AttributesNSImpl, Locator

import defusedxml
import defusedxml.expatreader

from docbus._blobs import BlobStore, BlobWriter, StoredBlob
from docbus._exceptions import EdxmlError, UnsafeXmlError

__all__ = ["MAX_ELEMENTS", "MAX_ELEMENT_TEXT", "Element", "read_tree", "with_usual_prefixes"]

#: Text longer than this in any element but an attachment's content is refused.
MAX_ELEMENT_TEXT = 1 << 20
#: A file with more elements than this is refused (a real message has a few hundred).
MAX_ELEMENTS = 1_000_000
_ENCODED_CONTENT = frozenset({"ContentTransferEncoded", "AttachmentData"})
#: Prefixes real files use without declaring them, and the namespaces they mean.
_USUAL_PREFIXES = {
    b"xlink": b"http://www.w3.org/1999/xlink",
    b"edXML": b"http://www.mic.gov.vn/TBT/QCVN_102_2016",
}
_ROOT_START = re.compile(rb"<(?![?!])[A-Za-z_][\w.:-]*(?P<attributes>[^>]*)")
_WHITESPACE = str.maketrans("", "", " \t\r\n")


@dataclass(slots=True, eq=False)
class Element:
    """An XML element: local name, namespace, attributes (by local name), text, children."""

    name: str
    namespace: str
    line: int
    path: str
    attributes: dict[str, str] = field(default_factory=dict)
    children: list[Element] = field(default_factory=list)
    text_parts: list[str] = field(default_factory=list)
    #: For a ``ContentTransferEncoded`` (or ``AttachmentData``) element: the bytes, stored.
    blob: StoredBlob | None = None

    @property
    def text(self) -> str:
        """The element's own text, stripped of surrounding whitespace."""
        return "".join(self.text_parts).strip()

    def child(self, *names: str) -> Element | None:
        """The first child whose local name is one of ``names``."""
        for c in self.children:
            if c.name in names:
                return c
        return None

    def all(self, name: str) -> list[Element]:
        """Every child named ``name``, in document order."""
        return [c for c in self.children if c.name == name]

    def find(self, name: str) -> Element | None:
        """The first descendant (depth first, self included) named ``name``."""
        if self.name == name:
            return self
        for c in self.children:
            found = c.find(name)
            if found is not None:
                return found
        return None

    def where(self) -> str:
        """``path (line N)``, for error messages."""
        return f"{self.path} (line {self.line})"


class _Base64Sink:
    """Decodes base64 text arriving in pieces (expat hands it over a line at a time)."""

    _BATCH_CHARS = 1 << 18

    def __init__(self, writer: BlobWriter, element: Element) -> None:
        self._writer = writer
        self._element = element
        self._pieces: list[str] = []
        self._size = 0
        self._pending = ""
        self._padded = False

    def feed(self, text: str) -> None:
        self._pieces.append(text)
        self._size += len(text)
        if self._size >= self._BATCH_CHARS:
            self._flush()

    def finish(self) -> StoredBlob:
        self._flush()
        if self._pending:
            raise EdxmlError(
                "bad base64: the encoded length is not a multiple of 4 (truncated?)",
                element=self._element.where(),
            )
        return self._writer.commit()

    def _flush(self) -> None:
        text = self._pending + "".join(self._pieces).translate(_WHITESPACE)
        self._pieces.clear()
        self._size = 0
        usable = len(text) - len(text) % 4
        self._pending = text[usable:]
        if not usable:
            return
        if self._padded:
            raise EdxmlError("bad base64: data after the padding", element=self._element.where())
        quads = text[:usable]
        if "=" in quads[:-2]:
            raise EdxmlError("bad base64: padding before the end", element=self._element.where())
        try:
            self._writer.write(binascii.a2b_base64(quads.encode("ascii"), strict_mode=True))
        except (binascii.Error, UnicodeEncodeError) as exc:
            raise EdxmlError(f"bad base64: {exc}", element=self._element.where()) from None
        self._padded = quads.endswith("=")


class _TreeBuilder(ContentHandler):
    def __init__(self, blobs: BlobStore) -> None:
        super().__init__()
        self._blobs = blobs
        self._stack: list[Element] = []
        self._text_sizes: list[int] = []
        self._count = 0
        self._sink: _Base64Sink | None = None
        self._open_writers: list[BlobWriter] = []
        self._locator: Locator | None = None
        self.root: Element | None = None

    def setDocumentLocator(self, locator: Locator) -> None:
        self._locator = locator

    def startElementNS(
        self, name: tuple[str | None, str], qname: str | None, attrs: AttributesNSImpl
    ) -> None:
        namespace, local = name
        parent = self._stack[-1] if self._stack else None
        line = (self._locator.getLineNumber() if self._locator is not None else None) or 0
        self._count += 1
        if self._count > MAX_ELEMENTS:
            raise EdxmlError(f"more than {MAX_ELEMENTS:,} elements", element=f"line {line}")
        element = Element(
            name=local,
            namespace=namespace or "",
            line=line,
            path=f"{parent.path}/{local}" if parent is not None else local,
            attributes={key[1]: value for key, value in attrs.items()},
        )
        if parent is not None:
            parent.children.append(element)
        else:
            self.root = element
        self._stack.append(element)
        self._text_sizes.append(0)
        if local in _ENCODED_CONTENT:
            writer = self._blobs.writer()
            self._open_writers.append(writer)
            self._sink = _Base64Sink(writer, element)

    def endElementNS(self, name: tuple[str | None, str], qname: str | None) -> None:
        element = self._stack.pop()
        self._text_sizes.pop()
        if self._sink is not None and element.name in _ENCODED_CONTENT:
            element.blob = self._sink.finish()
            self._sink = None

    def characters(self, content: str) -> None:
        if self._sink is not None:
            self._sink.feed(content)
            return
        if not self._stack:
            return
        element = self._stack[-1]
        self._text_sizes[-1] += len(content)
        if self._text_sizes[-1] > MAX_ELEMENT_TEXT:
            raise EdxmlError(
                f"more than {MAX_ELEMENT_TEXT:,} characters of text", element=element.where()
            )
        element.text_parts.append(content)

    def discard_open_blobs(self) -> None:
        for writer in self._open_writers:
            writer.discard()


class _Parser(defusedxml.expatreader.DefusedExpatParser):  # type: ignore[misc]
    """defusedxml's expat reader, handing text over in 64 KiB runs rather than line by line."""

    def reset(self) -> None:
        super().reset()
        self._parser.buffer_text = True
        self._parser.buffer_size = 1 << 16


def read_tree(source: Path | bytes, blobs: BlobStore) -> Element:
    """Parse ``source`` (a file, or a message's bytes) into an :class:`Element` tree;
    attachments go to ``blobs``."""
    try:
        return _read_tree(source, blobs, declare_prefixes=False)
    except EdxmlError as exc:
        if "unbound prefix" not in str(exc):
            raise
        return _read_tree(source, blobs, declare_prefixes=True)


def with_usual_prefixes(head: bytes) -> bytes:
    """``head`` (the start of a file) with ``xlink`` and ``edXML`` declared on its root
    element where it does not declare them itself."""
    match = _ROOT_START.search(head)
    if match is None:
        return head
    missing = b"".join(
        b" xmlns:" + prefix + b'="' + uri + b'"'
        for prefix, uri in _USUAL_PREFIXES.items()
        if b"xmlns:" + prefix + b"=" not in match["attributes"]
    )
    return head[: match.end()] + missing + head[match.end() :]


class _DeclaringPrefixes(io.RawIOBase):
    """A byte stream with the usual undeclared prefixes declared on its root start tag."""

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__()
        self._raw = raw
        self._head: bytes | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head is None:
            self._head = with_usual_prefixes(self._raw.read(1 << 16))
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _read_tree(source: Path | bytes, blobs: BlobStore, *, declare_prefixes: bool) -> Element:
    builder = _TreeBuilder(blobs)
    parser = _Parser(
        namespaceHandling=1, forbid_dtd=False, forbid_entities=True, forbid_external=True
    )
    parser.setFeature(feature_external_ges, False)
    parser.setFeature(feature_external_pes, False)
    parser.setContentHandler(builder)
    try:
        if isinstance(source, Path):  # opened here: a missing file is an OSError, not a URL
            with source.open("rb") as stream:
                parser.parse(_declaring(stream) if declare_prefixes else stream)
        else:
            data = io.BytesIO(source)
            parser.parse(_declaring(data) if declare_prefixes else data)
    except defusedxml.EntitiesForbidden as exc:
        builder.discard_open_blobs()
        raise UnsafeXmlError(_entity_message(exc)) from None
    except defusedxml.ExternalReferenceForbidden as exc:
        builder.discard_open_blobs()
        raise UnsafeXmlError(
            f"external reference to {exc.sysid!r} refused (an external DTD or entity: "
            "external-entity attack); nothing was fetched"
        ) from None
    except defusedxml.DefusedXmlException as exc:
        builder.discard_open_blobs()
        raise UnsafeXmlError(f"unsafe XML refused: {exc}") from None
    except xml.sax.SAXParseException as exc:
        builder.discard_open_blobs()
        raise EdxmlError(
            f"malformed XML at line {exc.getLineNumber()}, column {exc.getColumnNumber()}: "
            f"{exc.getMessage()}"
        ) from None
    except EdxmlError:
        builder.discard_open_blobs()
        raise
    except OSError as exc:
        builder.discard_open_blobs()
        raise EdxmlError(f"cannot read {source!s}: {exc.strerror or exc}") from exc
    if builder.root is None:
        raise EdxmlError("empty XML document")
    return builder.root


def _entity_message(exc: Any) -> str:
    where = f" with system id {exc.sysid!r}" if exc.sysid else ""
    kind = "external-entity" if exc.sysid else "entity-expansion"
    return (
        f"entity {exc.name!r} declared{where}: entity declarations are refused "
        f"({kind} attack); nothing was expanded or fetched"
    )


def _declaring(stream: IO[bytes]) -> IO[bytes]:
    return io.BufferedReader(_DeclaringPrefixes(stream))
