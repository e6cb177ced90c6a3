"""The README's Python examples are files under examples/, run here as a user runs them:
``python examples/<name>.py`` from another folder, against a broker and a router."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from docbus import Settings
from router import Router
from tests.helpers import G22, H29, cli_env, ensure_topics

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
README = EXAMPLES.parent / "README.md"


async def _run(script: str, *args: str, env: dict[str, str], cwd: Path) -> str:
    """Run an example to its end; its standard output (a failure shows stderr)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLES / script),
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()
    return out.decode()


async def test_send_receive_and_track_run_as_written(settings: Settings, tmp_path: Path) -> None:
    """send.py sends; receive.py gets both documents and accepts them, then stops by itself;
    track.py returns once H29 has accepted its letter."""
    await ensure_topics(settings, [G22, H29])
    env = cli_env(settings)
    async with Router(settings=settings):
        sent = await _run("send.py", env=env, cwd=tmp_path)
        receiving = asyncio.ensure_future(_run("receive.py", "4", env=env, cwd=tmp_path))
        tracked = await _run("track.py", env=env, cwd=tmp_path)
        received = await receiving
    (first,) = [line.removeprefix("sent ") for line in sent.splitlines()]
    assert first.startswith(f"{G22},") and "TB-VPCP" in first
    assert f"received {first}:" in received
    assert "CV-VPCP" in received and len(received.splitlines()) == 2
    assert tracked.strip().endswith(f"{H29} is at status 03"), tracked


def test_the_readme_shows_each_example_as_it_is() -> None:
    readme = README.read_text("utf-8")
    for example in sorted(EXAMPLES.glob("*.py")):
        assert example.read_text("utf-8").strip() in readme, example.name
