"""Tests for docbus._blobs: the content-addressed attachment store."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from docbus import BlobError, BlobNotFoundError, BlobStore


def test_put_and_read(tmp_path: Path) -> None:
    """Bytes are stored under their SHA-256 and read back whole or in chunks."""
    store = BlobStore(tmp_path)
    data = b"van ban" * 10_000
    stored = store.put(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.ref == f"sha256:{stored.sha256}" and stored.size_bytes == len(data)
    assert store.read(stored.ref) == data
    assert b"".join(store.chunks(stored.ref, chunk_size=1000)) == data
    assert stored.ref in store


def test_same_bytes_twice_is_one_blob(tmp_path: Path) -> None:
    """Storing the same bytes again is harmless and leaves one file."""
    store = BlobStore(tmp_path)
    assert store.put(b"x") == store.put(b"x")
    assert len(list((tmp_path / "sha256").rglob("*"))) == 2  # one folder, one file


def test_discarded_writer_leaves_nothing(tmp_path: Path) -> None:
    """A writer dropped before commit removes its temporary file."""
    store = BlobStore(tmp_path)
    with store.writer() as writer:
        writer.write(b"half")
    assert list((tmp_path / "tmp").iterdir()) == []
    assert not (tmp_path / "sha256").exists()


def test_missing_blob(tmp_path: Path) -> None:
    """A reference the store does not hold is BlobNotFoundError naming it."""
    ref = "sha256:" + "0" * 64
    with pytest.raises(BlobNotFoundError, match=ref):
        BlobStore(tmp_path).read(ref)
    assert ref not in BlobStore(tmp_path)


def test_bad_reference(tmp_path: Path) -> None:
    """A reference that is not sha256:<64 hex> is refused."""
    with pytest.raises(BlobError, match="not a blob reference"):
        BlobStore(tmp_path).read("../../etc/passwd")
    with pytest.raises(BlobError, match="not a blob reference"):
        BlobStore(tmp_path).read("sha256:" + "0" * 64 + "\n")


def test_corrupt_blob_is_detected(tmp_path: Path) -> None:
    """A blob whose bytes changed on disk fails its digest check as it is read."""
    store = BlobStore(tmp_path)
    stored = store.put(b"original")
    store.path(stored.ref).write_bytes(b"tampered")
    with pytest.raises(BlobError, match="corrupt"):
        store.read(stored.ref)
