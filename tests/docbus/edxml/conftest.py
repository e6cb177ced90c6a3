"""Fixtures for the edXML tests: the sample files and a blob store per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from docbus import BlobStore

FILES = Path(__file__).parent / "files"


@pytest.fixture
def blobs(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


def sample(name: str) -> Path:
    """The sample edXML file ``name``."""
    return FILES / name
