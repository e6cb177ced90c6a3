"""The attachment blob store: content-addressed files, referenced as ``sha256:<hex>``.

A large attachment travels by reference: its bytes live here, written once under their
SHA-256, and the document carries ``blob_ref``. Writes stream through a temporary file
renamed into place, so a reader never sees half a blob and storing the same bytes twice
is harmless. Reads check the digest as they stream.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from docbus._exceptions import BlobError, BlobNotFoundError

__all__ = ["BLOB_REF_PREFIX", "BlobStore", "BlobWriter", "StoredBlob"]

BLOB_REF_PREFIX = "sha256:"
_REF = re.compile(r"^sha256:([0-9a-f]{64})\Z")
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class StoredBlob:
    """What the store holds under ``ref``: ``size_bytes`` bytes with digest ``sha256``."""

    ref: str
    sha256: str
    size_bytes: int


class BlobWriter:
    """Streams one blob into the store; :meth:`commit` names it by its digest."""

    def __init__(self, store: BlobStore) -> None:
        self._store = store
        fd, name = tempfile.mkstemp(dir=store.root / "tmp", prefix="blob-")
        self._file: BinaryIO = os.fdopen(fd, "wb")
        self._temp = Path(name)
        self._digest = hashlib.sha256()
        self._size = 0
        self._done = False

    def write(self, data: bytes) -> None:
        """Append ``data`` to the blob."""
        self._file.write(data)
        self._digest.update(data)
        self._size += len(data)

    def commit(self) -> StoredBlob:
        """Finish the blob and move it to its content address (a no-op if already there)."""
        self._file.close()
        sha256 = self._digest.hexdigest()
        final = self._store.path(BLOB_REF_PREFIX + sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._temp, final)
        self._done = True
        return StoredBlob(ref=BLOB_REF_PREFIX + sha256, sha256=sha256, size_bytes=self._size)

    def discard(self) -> None:
        """Drop what was written (safe to call twice, and after commit)."""
        if not self._done:
            self._file.close()
            self._temp.unlink(missing_ok=True)
            self._done = True

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.discard()


class BlobStore:
    """A directory of blobs, ``<root>/sha256/<ab>/<hex>``; shared by an agency's tools."""

    def __init__(self, root: Path) -> None:
        self.root = root
        try:
            (root / "tmp").mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BlobError(f"cannot use {root} as a blob store: {exc}") from exc

    def writer(self) -> BlobWriter:
        """A writer for a new blob; use it as a context manager and call ``commit()``."""
        return BlobWriter(self)

    def put(self, data: bytes) -> StoredBlob:
        """Store ``data`` whole."""
        with self.writer() as writer:
            writer.write(data)
            return writer.commit()

    def path(self, ref: str) -> Path:
        """Where the blob ``ref`` lives (whether or not it is there)."""
        match = _REF.match(ref)
        if match is None:
            raise BlobError(f"{ref!r} is not a blob reference of the form sha256:<64 hex digits>")
        digest = match[1]
        return self.root / "sha256" / digest[:2] / digest

    def chunks(self, ref: str, chunk_size: int = _CHUNK) -> Iterator[bytes]:
        """The blob's bytes in chunks; :class:`BlobError` at the end if they do not match."""
        path = self.path(ref)
        digest = hashlib.sha256()
        try:
            with path.open("rb") as file:
                while chunk := file.read(chunk_size):
                    digest.update(chunk)
                    yield chunk
        except FileNotFoundError:
            raise BlobNotFoundError(f"no blob {ref} in {self.root}") from None
        if BLOB_REF_PREFIX + digest.hexdigest() != ref:
            raise BlobError(f"blob {ref} in {self.root} is corrupt: its bytes hash differently")

    def read(self, ref: str) -> bytes:
        """The whole blob (for small ones)."""
        return b"".join(self.chunks(ref))

    def __contains__(self, ref: object) -> bool:
        return isinstance(ref, str) and _REF.match(ref) is not None and self.path(ref).is_file()

    def __repr__(self) -> str:
        return f"<BlobStore {self.root}>"
