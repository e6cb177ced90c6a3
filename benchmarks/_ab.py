"""What the benchmarks that compare this checkout with another commit share."""

from __future__ import annotations

import contextlib
import resource
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

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
