"""What several benchmark scripts share: a worktree of another commit, a child's CPU,
the environment of a ``docbus`` command run as a child."""

from __future__ import annotations

import contextlib
import os
import resource
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from docbus import Settings

#: This checkout's root.
HERE = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def worktree_of(commit: str) -> Iterator[Path]:
    """A git worktree of ``commit`` for as long as the block runs."""
    with tempfile.TemporaryDirectory() as parent:
        tree = Path(parent) / "base"
        subprocess.run(
            ["git", "-C", str(HERE), "worktree", "add", "-q", "--detach", str(tree), commit],
            check=True,
        )
        try:
            yield tree
        finally:
            subprocess.run(
                ["git", "-C", str(HERE), "worktree", "remove", "--force", str(tree)], check=False
            )


def children_cpu_s() -> float:
    """CPU seconds (user and system) of this process's children that have been reaped."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def docbus_env(settings: Settings) -> dict[str, str]:
    """This process's environment with ``settings`` for a ``docbus`` command it starts."""
    return {
        **os.environ,
        "DOCBUS_BOOTSTRAP_SERVERS": settings.bootstrap_servers or "",
        "DOCBUS_BROKER_KIND": "embedded",
        "DOCBUS_TOPIC_PREFIX": settings.topic_prefix,
        "DOCBUS_HOME": str(settings.home),
        "DOCBUS_KEYS_DIR": str(settings.keys_root),
        "DOCBUS_LOG_LEVEL": "WARNING",
    }
