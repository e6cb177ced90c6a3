"""Tests that the packages import only downwards, and only through each other's doors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.layering import violations

ROOT = Path(__file__).resolve().parent.parent


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_the_project_keeps_its_floors() -> None:
    """No library module imports upwards, sideways, or another package's private module."""
    found = [str(v) for v in violations(ROOT)]
    assert found == []


@pytest.mark.parametrize(
    ("files", "rule"),
    [
        ({"schemas/_codec.py": "from docbus._exceptions import CodecError\n"}, "upward"),
        ({"docbus/_kafka.py": "import router\n"}, "upward"),
        ({"router/_service.py": "from shell import cli\n"}, "upward"),
        ({"consumers/_receiver.py": "from producers import Sender\n"}, "sibling"),
        ({"router/_service.py": "from docbus._kafka import make_producer\n"}, "private"),
        ({"shell/_demo.py": "from producers.simulation._mix import DocumentMix\n"}, "private"),
        ({"router/tracking/_writer.py": "from docbus.process._heap import tune\n"}, "private"),
    ],
)
def test_a_broken_rule_is_found(tmp_path: Path, files: dict[str, str], rule: str) -> None:
    """Each kind of bad import in a small fixture tree is reported with its rule."""
    found = list(violations(_tree(tmp_path, files)))
    assert len(found) == 1
    assert rule in found[0].rule


def test_downward_door_and_own_private_imports_pass(tmp_path: Path) -> None:
    """Imports through a lower floor's door, and of one's own private modules, are fine."""
    tree = _tree(
        tmp_path,
        {
            "router/_service.py": "from docbus import Settings\nfrom router._lanes import LANES\n",
            "router/tracking/_store.py": "from .. import _lanes\nfrom . import _tracker\n",
            "shell/_demo.py": "from producers.simulation import DocumentMix\nimport schemas\n",
            "schemas/_codec.py": "import fastavro\nfrom schemas._models import Document\n",
        },
    )
    assert list(violations(tree)) == []
