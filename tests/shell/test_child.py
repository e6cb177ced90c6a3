"""Tests for shell._child: helpers forked from a fork server, never outliving their run."""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import subprocess
import sys
import textwrap
import time
from multiprocessing.connection import Connection
from pathlib import Path

from shell._child import HelperProcess, Ready, run_child, stop_fork_server
from tests.shell.test_broker import wait_for_exit


def _report(conn: Connection, parent_pid: int, burn_s: float, hang: bool = False) -> None:
    """A helper that says who its parent is and whether docbus's layers were loaded before
    it started, then burns ``burn_s`` of CPU once told to stop and returns its own pid;
    with ``hang``, it blocks its event loop instead (deaf to its pipe)."""
    preloaded = "router" in sys.modules and "producers.simulation" in sys.modules

    async def main(ready: Ready, stop: asyncio.Event) -> object:
        ready((os.getppid(), preloaded))
        if hang:
            time.sleep(600)  # noqa: ASYNC251 - deaf to its pipe, on purpose
        await stop.wait()
        until = time.process_time() + burn_s
        while time.process_time() < until:
            pass
        return os.getpid()

    run_child(conn, parent_pid, main)


def _reaped_children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def test_a_helper_starts_with_docbus_loaded_and_its_cpu_counts_once_the_server_ends() -> None:
    """The helper is forked by the fork server (not this process), with the layers below
    the shell already imported; its CPU joins this process's reaped children when the
    server is stopped, and not before."""
    stop_fork_server()  # this test's own server, whatever ran before
    helper = HelperProcess(_report, (0.3,), name="docbus-test-helper")
    parent, preloaded = await helper.start()  # type: ignore[misc]
    assert parent != os.getpid()
    assert preloaded
    before = _reaped_children_cpu_s()
    assert isinstance(await helper.stop(), int)
    assert helper.cpu_s is not None and helper.cpu_s >= 0.3
    assert _reaped_children_cpu_s() - before < 0.3  # the server reaped it, not this process
    stop_fork_server()
    assert _reaped_children_cpu_s() - before >= helper.cpu_s


def test_a_helper_dies_with_the_process_that_started_it(tmp_path: Path) -> None:
    """The process that started a helper is killed (SIGKILL, no clean-up) while the
    helper hangs, deaf to its pipe: the helper is killed too (the fork server, its
    parent, lives on while it runs, so the kernel's parent-death signal alone would not)."""
    script = tmp_path / "starter.py"
    script.write_text(
        textwrap.dedent(
            """
            import asyncio, sys
            from shell._child import HelperProcess
            from tests.shell.test_child import _report

            async def main():
                helper = HelperProcess(_report, (0.0, True), name="docbus-test-orphan")
                await helper.start()
                print(helper.pid, flush=True)
                await asyncio.sleep(600)

            if __name__ == "__main__":
                asyncio.run(main())
            """
        )
    )
    root = Path(__file__).resolve().parents[2]
    starter = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    try:
        assert starter.stdout is not None
        helper_pid = int(starter.stdout.readline())
        os.kill(helper_pid, 0)  # running
        starter.send_signal(signal.SIGKILL)
        starter.wait(10)
        assert wait_for_exit(helper_pid, 10), "the helper outlived the process that started it"
    finally:
        starter.kill()
        starter.wait()
        if starter.stdout is not None:
            starter.stdout.close()
