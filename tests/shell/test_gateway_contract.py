"""The gateway against its own contract: schemathesis generates requests from
``/openapi.json`` (valid and invalid) and checks every answer against it."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from docbus import Settings
from router import Router
from shell.gateway import GatewayLimits, TokenStore
from tests.helpers import G22, H29, ensure_topics
from tests.shell.gateway_support import serving

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)


async def test_no_generated_request_breaks_the_contract(settings: Settings, tmp_path: Path) -> None:
    """No 5xx, no undocumented status or media type, no answer outside its schema, for
    any request schemathesis makes of every route (an agency's token, a fixed seed)."""
    await ensure_topics(settings, [G22, H29])
    tokens = TokenStore(tmp_path / "tokens.sqlite")
    token = tokens.issue(G22)
    limits = GatewayLimits(requests_per_second=1000, burst=1000, longest_poll_seconds=0.2)
    report = tmp_path / "schemathesis"
    async with Router(settings=settings), serving(settings, tokens, limits) as url:
        run = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "schemathesis.cli", "run", f"{url}/openapi.json",
            "--checks", ",".join(CHECKS), "-H", f"Authorization: Bearer {token}",
            "--max-examples", "40", "--seed", "2026", "--workers", "1",
            "--phases", "examples,coverage,fuzzing", "--request-timeout", "10",
            "--generation-database", "none", "--no-color",
            "--report", "junit", "--report-dir", str(report),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            cwd=tmp_path,  # its cache of crashes stays out of the tree
        )  # fmt: skip
        out, _ = await run.communicate()
    text = out.decode()
    assert run.returncode == 0, text[-6000:]
    assert "/v1/documents" in text and "/v1/inbox" in text  # every route was exercised
