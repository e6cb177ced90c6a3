"""Shared fixtures: one embedded broker per test session, isolated topics per test."""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from docbus import Settings, reset_logging
from shell import EmbeddedBroker, delete_prefixed_topics, free_port
from tests.debian import debian_tool, require_debian_tool
from tests.isolation import isolate_state, new_in_tree, release_state, tree_entries

_REPO = Path(__file__).resolve().parent.parent
_TREE_BEFORE = pytest.StashKey[set[str] | None]()


def pytest_configure(config: pytest.Config) -> None:
    isolate_state(config)
    if not hasattr(config, "workerinput"):
        config.stash[_TREE_BEFORE] = tree_entries(_REPO)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when the tests wrote anything into the working tree."""
    before = session.config.stash.get(_TREE_BEFORE, None)
    after = tree_entries(_REPO) if before is not None else None
    written = new_in_tree(before, after) if before is not None and after is not None else []
    if written:
        session.config.get_terminal_writer().line(
            f"the tests wrote into the working tree: {', '.join(written)}", red=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_unconfigure(config: pytest.Config) -> None:
    release_state(config)


@pytest.fixture(scope="session")
async def broker() -> AsyncIterator[EmbeddedBroker]:
    """The embedded Tansu broker, started once for the whole run and always stopped."""
    async with EmbeddedBroker() as embedded:
        yield embedded


@pytest.fixture(scope="session")
def prefixes() -> Iterator[str]:
    """Distinct topic prefixes, so tests sharing the broker never see each other's records."""
    return (f"t{n}" for n in itertools.count())


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A keystore with a signing key for the bus and every agency the directory has ever had."""
    from docbus import Keystore
    from docbus.directory import Directory
    from schemas import BUS_AGENCY

    root = tmp_path_factory.mktemp("keys")
    Keystore(root).ensure([BUS_AGENCY, *Directory.load().codes()])
    return root


@pytest.fixture
def settings(
    broker: EmbeddedBroker, prefixes: Iterator[str], tmp_path: Path, keys_dir: Path
) -> Iterator[Settings]:
    """Settings on the session broker, with this test's own topic prefix and state folder,
    and the session's keystore; the test's topics are deleted after it.

    Tansu holds a group join for half the session timeout, so tests use a short one. The
    topics go because a broker holding thousands slows every pattern subscription and
    metadata request: a replay of 2,440 documents took 20 s on a fresh broker and 53 s
    beside 4,000 other topics.
    """
    settings = Settings(
        topic_prefix=next(prefixes),
        home=tmp_path / "state",
        session_timeout_ms=1500,
        keys_dir=keys_dir,
    ).for_embedded(broker.bootstrap_servers)
    yield settings
    with concurrent.futures.ThreadPoolExecutor(1) as thread:  # outside the test's event loop
        thread.submit(asyncio.run, delete_prefixed_topics(settings)).result(timeout=60)


@pytest.fixture(autouse=True)
def _structlog_defaults() -> Iterator[None]:
    yield
    reset_logging()


def _postgres_bindir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


@pytest.fixture(scope="session")
def promtool() -> Path:
    """Debian's promtool (package prometheus), installed if missing."""
    return require_debian_tool("prometheus", "promtool")


@pytest.fixture(scope="session")
def prometheus_bin() -> Path:
    """Debian's Prometheus server binary, installed if missing."""
    return require_debian_tool("prometheus", "prometheus")


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """A real PostgreSQL server on 127.0.0.1 for this run (Debian's package, installed if missing)."""
    import os
    import shutil
    import subprocess
    import tempfile

    bindir = debian_tool("postgresql", _postgres_bindir)
    if bindir is None:
        pytest.skip(
            "PostgreSQL server cannot be installed here (no /usr/lib/postgresql/*/bin/initdb)"
        )
    root = Path(tempfile.mkdtemp(prefix="docbus-pg-"))  # pytest's own tmp is closed to others
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    subprocess.run(
        [
            *as_postgres,
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "docbus",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [
            *as_postgres,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-w",
            "-l",
            str(root / "log"),
            "start",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    try:
        yield f"postgresql://docbus@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_postgres, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=120,
        )
        shutil.rmtree(root, ignore_errors=True)
