"""Mutual TLS as the alternative to tokens: an agency system presents a client
certificate from the gateway's CA (issued with `docbus gateway certificate`), and curl
sends and tracks with it over HTTPS."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from docbus import Settings
from router import Router
from shell.gateway import CertificateAuthority, TokenStore, tls_options
from tests.helpers import G22, H29, ensure_topics, run_docbus
from tests.shell.gateway_support import bearer, curl, serving


async def test_a_client_certificate_acts_for_its_agency(settings: Settings, tmp_path: Path) -> None:
    """The certificate's agency sends and tracks; it cannot send as another (403); a
    certificate from another CA is refused at the handshake and the gateway goes on; a
    client without a certificate still uses a token, or gets 401."""
    await ensure_topics(settings, [G22, H29])
    pki = tmp_path / "pki"
    env = {**os.environ, "DOCBUS_HOME": str(tmp_path)}
    for args in (["--agency", G22], ["--server", "127.0.0.1"]):
        issued = await run_docbus("gateway", "certificate", *args, "--ca-dir", str(pki), env=env)
        assert issued.returncode == 0, issued.stderr
    assert (pki / f"{G22}.crt").exists() and (pki / "gateway.crt").exists()
    assert (pki / f"{G22}.key").stat().st_mode & 0o077 == 0  # the key is its owner's only
    foreign = CertificateAuthority(tmp_path / "foreign").client(G22)
    tokens = TokenStore(tmp_path / "tokens.sqlite")
    h29 = tokens.issue(H29)
    tls = tls_options(pki / "gateway.crt", pki / "gateway.key", pki / "ca.crt")
    trust = ("--cacert", str(pki / "ca.crt"))
    as_g22 = (*trust, "--cert", str(pki / f"{G22}.crt"), "--key", str(pki / f"{G22}.key"))

    def letter(sender: str) -> tuple[str, ...]:
        body = {"sender": sender, "recipients": [H29], "subject": "Gửi qua TLS hai chiều"}
        json_type = ("-H", "Content-Type: application/json")
        return ("-X", "POST", *json_type, "--data-binary", json.dumps(body))

    async with Router(settings=settings), serving(settings, tokens, **tls) as url:
        assert url.startswith("https://")
        sent = await curl(f"{url}/v1/documents", *as_g22, *letter(G22))
        assert sent.status == 202, sent.body
        as_other = await curl(f"{url}/v1/documents", *as_g22, *letter(H29))
        assert as_other.status == 403, as_other.body
        refused = await curl(
            f"{url}/v1/agencies", *trust, "--cert", str(foreign.cert), "--key", str(foreign.key),
            check=False,
        )  # fmt: skip
        assert refused.status == 0  # no HTTP answer: the handshake failed
        assert (await curl(f"{url}/v1/agencies", *trust)).status == 401
        assert (await curl(f"{url}/v1/agencies", *trust, *bearer(h29))).status == 200
        state = f"{url}/v1/documents/{sent.json()['document_id']}"

        for _ in range(100):  # 404 until the router has tracked it
            tracked = await curl(state, *as_g22)
            if tracked.status == 200:
                break
            await asyncio.sleep(0.1)
        assert tracked.status == 200 and tracked.json()["sender"] == G22, tracked.body
