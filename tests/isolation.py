"""The suite keeps its state out of the user's home and the working tree.

At start-up the controller gives the whole run (its workers and every process they
start) a temporary docbus home and data folder; at the end it fails the run if the
working tree holds anything new besides Python's bytecode caches.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

__all__ = ["isolate_state", "new_in_tree", "tree_entries"]

#: What running Python code writes beside itself by design: not the suite's state.
_BYTECODE = ("__pycache__/", ".pytest_cache/")


def isolate_state(config: pytest.Config) -> None:
    """Point DOCBUS_HOME, XDG_DATA_HOME and Hypothesis' storage at one temporary folder."""
    if hasattr(config, "workerinput"):  # a worker inherits the controller's environment
        return
    root = Path(tempfile.mkdtemp(prefix="docbus-test-home-"))
    os.environ["DOCBUS_HOME"] = str(root / "docbus")
    os.environ["XDG_DATA_HOME"] = str(root / "xdg-data")
    os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = str(root / "hypothesis")  # not ./.hypothesis
    config.stash[_ROOT] = root


def release_state(config: pytest.Config) -> None:
    """Remove the run's temporary folder."""
    root = config.stash.get(_ROOT, None)
    if root is not None:
        shutil.rmtree(root, ignore_errors=True)


def tree_entries(repo: Path) -> set[str] | None:
    """``git status --ignored --porcelain`` of ``repo`` as a set (None outside a git tree)."""
    try:
        shown = subprocess.run(
            ["git", "status", "--ignored", "--porcelain"],
            cwd=repo,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return set(shown.stdout.splitlines())


def new_in_tree(before: set[str], after: set[str]) -> list[str]:
    """New untracked or ignored entries of ``after`` (``??``, ``!!``), bytecode caches aside
    (a tracked file changed meanwhile is someone editing, not the suite)."""
    return sorted(
        e for e in after - before if e.startswith(("??", "!!")) and not e.endswith(_BYTECODE)
    )


_ROOT = pytest.StashKey[Path]()
