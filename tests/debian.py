"""Real operator tools from Debian's archive for the tests: found, or installed when missing."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

__all__ = ["debian_tool", "require_debian_tool"]


def _apt_install(package: str) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", package]
    if subprocess.run(install, capture_output=True, timeout=600, env=env).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], capture_output=True, timeout=300, env=env)
        subprocess.run(install, capture_output=True, timeout=600, env=env)


def debian_tool(package: str, find: Callable[[], Path | None]) -> Path | None:
    """``find()``, after installing ``package`` with apt-get when it finds nothing (as root).

    The pytest workers take turns (a lock file): two apt-get runs at once would fight over
    dpkg's lock, and the loser would skip its tests.
    """
    found = find()
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        with open(Path(tempfile.gettempdir()) / "docbus-tests-apt.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            found = find()  # another worker may have installed it meanwhile
            if found is None:
                _apt_install(package)
                found = find()
    return found


def require_debian_tool(package: str, command: str) -> Path:
    """The path of ``command`` from Debian's ``package``; the test is skipped, saying why,
    only where it can be neither found nor installed."""

    def which() -> Path | None:
        path = shutil.which(command)
        return Path(path) if path else None

    found = debian_tool(package, which)
    if found is None:
        pytest.skip(f"{command} (Debian package {package}) cannot be installed here")
    return found
