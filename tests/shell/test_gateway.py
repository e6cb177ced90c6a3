"""Tests for ``docbus gateway``: agency systems send and track documents over HTTP, driven
with curl (a client that is not Python) against a real uvicorn server and the bus."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sqlite3
from pathlib import Path

from docbus import MetricsServer, Settings
from router import Router
from shell.gateway import GatewayLimits, GatewayMetrics, TokenStore
from tests.helpers import G22, H29, ensure_topics, eventually, run_docbus
from tests.shell.gateway_support import PROBLEM, Answer, bearer, curl, post_json, serving

REAL = Path(__file__).parents[1] / "data" / "edxml" / "real"


async def test_a_token_is_printed_once_and_only_its_hash_kept(tmp_path: Path) -> None:
    """`gateway token` prints the token as its last word; the store holds its hash only;
    `--revoke` ends it; a party the directory does not have gets none."""
    env = {**os.environ, "DOCBUS_HOME": str(tmp_path)}
    issued = await run_docbus("gateway", "token", "--agency", G22, env=env)
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.split()[-1]
    assert token.startswith("dbg_") and len(token) > 40
    stored = (tmp_path / "gateway-tokens.sqlite").read_bytes()
    assert token.encode() not in stored
    rows = sqlite3.connect(tmp_path / "gateway-tokens.sqlite").execute("SELECT agency FROM tokens")
    assert [r[0] for r in rows] == [G22]
    assert TokenStore(tmp_path / "gateway-tokens.sqlite").caller(token) is not None
    revoked = await run_docbus("gateway", "token", "--revoke", token, env=env)
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    assert TokenStore(tmp_path / "gateway-tokens.sqlite").caller(token) is None
    unknown = await run_docbus("gateway", "token", "--agency", "000.00.00.Z99", env=env)
    assert unknown.returncode == 2 and "not a party of the directory" in unknown.stderr


async def test_send_and_track_with_curl(settings: Settings, tmp_path: Path) -> None:
    """A system without Python sends JSON with only sender, recipients and subject, and
    tracks it; the recipient's system can read the same document's state."""
    await ensure_topics(settings, [G22, H29])
    tokens = TokenStore(tmp_path / "tokens.sqlite")
    g22, h29 = tokens.issue(G22), tokens.issue(H29)
    body = {"sender": G22, "recipients": [H29], "subject": "V/v thử cổng HTTP"}
    async with Router(settings=settings), serving(settings, tokens) as url:
        sent = await post_json(f"{url}/v1/documents", g22, body)
        assert sent.status == 202, sent.body
        document_id = sent.json()["document_id"]
        assert document_id.startswith(f"{G22},")

        async def tracked() -> Answer:
            return await curl(f"{url}/v1/documents/{document_id}", *bearer(g22))

        answer = await tracked()
        for _ in range(100):
            if answer.status == 200:
                break
            await asyncio.sleep(0.1)
            answer = await tracked()
        assert answer.status == 200, answer.body
        state = answer.json()
        assert state["subject"] == body["subject"]
        assert [r["code"] for r in state["recipients"]] == [H29]
        by_recipient = await curl(f"{url}/v1/documents/{document_id}", *bearer(h29))
        assert by_recipient.status == 200


async def test_an_edxml_file_from_a_hosted_tenant(settings: Settings, tmp_path: Path) -> None:
    """A real edXML message posted as application/xml is sent as its tenant, its UUID
    document id kept."""
    await ensure_topics(settings, ["vxp.saas.03", "vxp.saas.02"])
    tokens = TokenStore(tmp_path / "tokens.sqlite")
    tenant = tokens.issue("vxp.saas.03")
    message = REAL / "api-gateway-ioffice/bdb98a62-a2be-4c25-9075-8dcdbcdb1402.edxml"
    async with serving(settings, tokens) as url:
        sent = await curl(
            f"{url}/v1/documents", "-X", "POST", *bearer(tenant),
            "-H", "Content-Type: application/xml", "--data-binary", f"@{message}",
        )  # fmt: skip
    assert sent.status == 202, sent.body
    assert sent.json()["document_id"] == "bdb98a62-a2be-4c25-9075-8dcdbcdb1402"


async def test_every_refusal_is_a_problem(settings: Settings, tmp_path: Path) -> None:
    """401 without or with a bad or revoked token, 403 for another agency's sending or
    document, 404, 413, 415, 422 and 429: each problem+json with its type."""
    await ensure_topics(settings, [G22, H29])
    tokens = TokenStore(tmp_path / "tokens.sqlite")
    g22, h29, gone = tokens.issue(G22), tokens.issue(H29), tokens.issue(G22)
    operator = tokens.issue("docbus", role="operator")
    tokens.revoke(gone)
    json_type = ("-H", "Content-Type: application/json")

    def letter(**fields: object) -> tuple[str, ...]:
        body = {"sender": G22, "recipients": [H29], "subject": "Thử", **fields}
        return ("-X", "POST", *json_type, "--data-binary", json.dumps(body))

    limits = GatewayLimits(max_body_bytes=4096, requests_per_second=1, burst=12)
    async with serving(settings, tokens, limits) as url:
        documents = f"{url}/v1/documents"
        cases = [
            (await curl(documents, *letter()), 401, "unauthorized"),
            (await curl(documents, *letter(), "-H", "Authorization: Bearer nope"), 401, None),
            (await curl(documents, *letter(), *bearer(gone)), 401, "unauthorized"),
            (await curl(documents, *letter(), *bearer(h29)), 403, "forbidden"),
            (await curl(documents, *letter(subject="x" * 501), *bearer(g22)), 422, None),
            (await curl(documents, *letter(recipients=["vxp.saas.99"]), *bearer(g22)), 422, None),
            (
                await curl(documents, "-X", "POST", *bearer(g22), "--data-binary", "x",
                           "-H", "Content-Type: text/plain"),
                415, "unsupported-media-type",
            ),
            (await curl(documents, *letter(content="x" * 5000), *bearer(g22)), 413, "too-large"),
            (await curl(f"{url}/v1/documents/nothing-like-it", *bearer(g22)), 404, "not-found"),
            (await curl(f"{url}/v1/inbox"), 401, "unauthorized"),
            (await curl(f"{url}/v1/inbox", *bearer(operator)), 403, "forbidden"),
            (await curl(f"{url}/v1/inbox/0123", *bearer(g22)), 404, "not-found"),
            (await curl(documents, *letter(sender="k\x89u bad"), *bearer(g22)), 422, None),
            (await curl(documents, *letter(recipients=H29), *bearer(g22)), 422, None),
        ]  # fmt: skip
        for answer, status, kind in cases:
            assert answer.status == status, (status, answer.body)
            assert answer.content_type == PROBLEM, answer
            problem = answer.json()
            assert problem["status"] == status and problem["detail"]
            if kind is not None:
                assert problem["type"] == f"/problems/{kind}"
        assert cases[4][0].json()["type"] == "/problems/invalid-document"
        assert "vxp.saas.99" in cases[5][0].json()["detail"]
        statuses = [(await curl(f"{url}/v1/agencies", *bearer(h29))).status for _ in range(14)]
        assert statuses[0] == 200 and statuses[-1] == 429


async def test_the_openapi_document_is_the_contract(settings: Settings, tmp_path: Path) -> None:
    """OpenAPI 3.1 at /openapi.json lists every route with its problem responses; the
    agencies route answers the directory, aliases included."""
    tokens = TokenStore(tmp_path / "tokens.sqlite")
    async with serving(settings, tokens) as url:
        spec = (await curl(f"{url}/openapi.json")).json()
        listed = await curl(f"{url}/v1/agencies?at=2025-10-13", *bearer(tokens.issue(G22)))
    assert spec["openapi"].startswith("3.1")
    assert {
        "/v1/documents",
        "/v1/documents/{document_id}",
        "/v1/agencies",
        "/v1/inbox",
        "/v1/inbox/{delivery}",
        "/v1/inbox/{delivery}/status",
    } <= set(spec["paths"])
    post = spec["paths"]["/v1/documents"]["post"]
    assert {"application/json", "application/xml"} <= set(post["requestBody"]["content"])
    assert PROBLEM in post["responses"]["403"]["content"]
    agencies = {a["code"]: a for a in listed.json()["agencies"]}
    assert agencies["000.00.00.G12"]["aliases"] == ["G12"] and "vxp.saas.03" in agencies


async def test_the_inbox_with_curl(settings: Settings, tmp_path: Path) -> None:
    """send → inbox (long poll) → the delivery as JSON, as edXML and its attachment →
    status 03, after which it is never handed out again → the sender tracks 03."""
    await ensure_topics(settings, [G22, H29])
    tokens = TokenStore(tmp_path / "tokens.sqlite")
    g22, h29 = tokens.issue(G22), tokens.issue(H29)
    async with Router(settings=settings), serving(settings, tokens) as url:
        empty = await curl(f"{url}/v1/inbox?wait=0", *bearer(h29))
        assert empty.status == 200 and empty.json() == {"items": []}
        sent = await post_json(
            f"{url}/v1/documents",
            g22,
            {"sender": G22, "recipients": [H29], "subject": "V/v hộp thư qua HTTP"},
        )
        assert sent.status == 202, sent.body
        listed = await curl(f"{url}/v1/inbox?wait=20", *bearer(h29))
        (item,) = listed.json()["items"]
        assert item["document_id"] == sent.json()["document_id"] and item["recipient"] == H29
        delivery = item["delivery_id"]
        as_json = await curl(f"{url}/v1/inbox/{delivery}", *bearer(h29))
        assert as_json.json()["document"]["subject"] == "V/v hộp thư qua HTTP"
        as_xml = await curl(
            f"{url}/v1/inbox/{delivery}", *bearer(h29), "-H", "Accept: application/xml"
        )
        assert as_xml.content_type.startswith("application/xml")
        assert "V/v hộp thư qua HTTP" in as_xml.body
        not_mine = await curl(f"{url}/v1/inbox/{delivery}", *bearer(g22))
        assert not_mine.status == 404
        bad_code = await post_json(f"{url}/v1/inbox/{delivery}/status", h29, {"status_code": "13"})
        assert bad_code.status == 422 and bad_code.content_type == PROBLEM
        answered = await post_json(
            f"{url}/v1/inbox/{delivery}/status",
            h29,
            {"status_code": "03", "description": "Đã vào sổ"},
        )
        assert answered.status == 200, answered.body
        again = await curl(f"{url}/v1/inbox?wait=1", *bearer(h29))
        assert again.json() == {"items": []}
        twice = await post_json(f"{url}/v1/inbox/{delivery}/status", h29, {"status_code": "05"})
        assert twice.status == 404

        async def status_seen() -> bool:
            state = await curl(f"{url}/v1/documents/{item['document_id']}", *bearer(g22))
            return state.status == 200 and state.json()["recipients"][0]["status"] == "03"

        for _ in range(100):
            if await status_seen():
                break
            await asyncio.sleep(0.1)
        assert await status_seen()


async def test_a_delivery_handed_out_survives_a_gateway_restart(
    settings: Settings, tmp_path: Path
) -> None:
    """A gateway that stops between hand-out and status hands the delivery out again after
    its restart; once answered, no restart hands it out again."""
    await ensure_topics(settings, [G22, H29])
    tokens = TokenStore(tmp_path / "tokens.sqlite")
    g22, h29 = tokens.issue(G22), tokens.issue(H29)
    async with Router(settings=settings):
        async with serving(settings, tokens) as url:
            sent = await post_json(
                f"{url}/v1/documents",
                g22,
                {"sender": G22, "recipients": [H29], "subject": "V/v khởi động lại"},
            )
            assert sent.status == 202
            (first,) = (await curl(f"{url}/v1/inbox?wait=20", *bearer(h29))).json()["items"]
        async with serving(settings, tokens) as url:  # the gateway comes back
            (again,) = (await curl(f"{url}/v1/inbox?wait=20", *bearer(h29))).json()["items"]
            assert again["delivery_id"] == first["delivery_id"]
            answered = await post_json(
                f"{url}/v1/inbox/{again['delivery_id']}/status", h29, {"status_code": "03"}
            )
            assert answered.status == 200
        async with serving(settings, tokens) as url:
            assert (await curl(f"{url}/v1/inbox?wait=2", *bearer(h29))).json() == {"items": []}


async def test_the_gateway_counts_what_it_answers(settings: Settings, tmp_path: Path) -> None:
    """Requests by route template and code, their latency and the long polls waiting, on
    the metrics server the router uses (scraped with curl)."""
    tokens = TokenStore(tmp_path / "tokens.sqlite")
    h29 = tokens.issue(H29)
    metrics = GatewayMetrics()
    served = MetricsServer(metrics.registry, port=0)
    async with served, serving(settings, tokens, metrics=metrics) as url:
        waiting = asyncio.create_task(curl(f"{url}/v1/inbox?wait=3", *bearer(h29)))
        waiting_now = "docbus_gateway_long_polls_waiting"
        await eventually(lambda: metrics.registry.get_sample_value(waiting_now) == 1, timeout_s=10)
        assert (await curl(f"{url}/v1/agencies")).status == 401
        assert (await waiting).status == 200
        text = (await curl(served.url)).body
    assert 'docbus_gateway_requests_total{code="401",method="GET",route="/v1/agencies"} 1.0' in text
    assert 'docbus_gateway_requests_total{code="200",method="GET",route="/v1/inbox"} 1.0' in text
    assert 'docbus_gateway_request_seconds_count{method="GET",route="/v1/inbox"} 1.0' in text
    assert "docbus_gateway_long_polls_waiting 0.0" in text


async def test_a_large_attachment_is_streamed_through(settings: Settings, tmp_path: Path) -> None:
    """An attachment far over the JSON body limit is uploaded on its own (streamed into the
    blob store), referenced by its blob_ref, and fetched by the recipient byte for byte;
    one over the attachment limit is 413, an unknown reference 422."""
    await ensure_topics(settings, [G22, H29])
    tokens = TokenStore(tmp_path / "tokens.sqlite")
    g22, h29 = tokens.issue(G22), tokens.issue(H29)
    scan = tmp_path / "to-trinh.pdf"
    scan.write_bytes(os.urandom(3 << 20))
    limits = GatewayLimits(max_body_bytes=64 << 10, max_attachment_bytes=4 << 20)
    json_type = ("-H", "Content-Type: application/json")
    async with Router(settings=settings), serving(settings, tokens, limits) as url:
        uploaded = await curl(
            f"{url}/v1/attachments", "-X", "POST", *bearer(g22),
            "-H", "Content-Type: application/pdf", "--data-binary", f"@{scan}",
        )  # fmt: skip
        assert uploaded.status == 201, uploaded.body
        stored = uploaded.json()
        assert stored["size_bytes"] == 3 << 20
        assert stored["sha256"] == hashlib.sha256(scan.read_bytes()).hexdigest()
        attachment = {"blob_ref": stored["blob_ref"], "name": "Tờ trình.pdf"}
        body = {
            "sender": G22,
            "recipients": [H29],
            "subject": "V/v tờ trình kèm bản quét",
            "attachments": [{**attachment, "content_type": "application/pdf"}],
        }
        sent = await curl(
            f"{url}/v1/documents", "-X", "POST", *bearer(g22), *json_type,
            "--data-binary", json.dumps(body),
        )  # fmt: skip
        assert sent.status == 202, sent.body
        (item,) = (await curl(f"{url}/v1/inbox?wait=20", *bearer(h29))).json()["items"]
        listed = (await curl(f"{url}/v1/inbox/{item['delivery_id']}", *bearer(h29))).json()
        (link,) = listed["attachments"]
        assert link["name"] == "Tờ trình.pdf" and link["size_bytes"] == 3 << 20
        fetched = tmp_path / "fetched.pdf"
        got = await curl(f"{url}{link['href']}", *bearer(h29), save_to=fetched)
        assert got.status == 200 and fetched.read_bytes() == scan.read_bytes()

        big = tmp_path / "big.bin"
        big.write_bytes(b"\0" * (5 << 20))
        too_big = await curl(
            f"{url}/v1/attachments", "-X", "POST", *bearer(g22), "--data-binary", f"@{big}"
        )
        assert too_big.status == 413 and too_big.content_type == PROBLEM
        unknown = {**body, "attachments": [{**attachment, "blob_ref": "sha256:" + "0" * 64}]}
        refused = await curl(
            f"{url}/v1/documents", "-X", "POST", *bearer(g22), *json_type,
            "--data-binary", json.dumps(unknown),
        )  # fmt: skip
        assert refused.status == 422 and refused.json()["type"] == "/problems/unknown-attachment"


async def test_an_unanswered_delivery_holds_nothing_back(
    settings: Settings, tmp_path: Path
) -> None:
    """A system that leaves one delivery unanswered still gets the next ones; answered in
    any order, none comes back, and the unanswered one stays handed out."""
    await ensure_topics(settings, [G22, H29])
    tokens = TokenStore(tmp_path / "tokens.sqlite")
    g22, h29 = tokens.issue(G22), tokens.issue(H29)

    async def send(subject: str) -> str:
        sent = await post_json(
            f"{url}/v1/documents", g22, {"sender": G22, "recipients": [H29], "subject": subject}
        )
        assert sent.status == 202, sent.body
        return str(sent.json()["document_id"])

    async def inbox_until(count: int) -> dict[str, str]:
        for _ in range(100):
            items = (await curl(f"{url}/v1/inbox?wait=1", *bearer(h29))).json()["items"]
            if len(items) >= count:
                return {i["document_id"]: i["delivery_id"] for i in items}
        raise AssertionError(f"fewer than {count} deliveries: {items}")

    async with Router(settings=settings), serving(settings, tokens) as url:
        first, second = await send("V/v thứ nhất"), await send("V/v thứ hai")
        waiting = await inbox_until(2)
        answered = await post_json(
            f"{url}/v1/inbox/{waiting[second]}/status", h29, {"status_code": "03"}
        )
        assert answered.status == 200
        third = await send("V/v thứ ba")
        now = await inbox_until(2)
        assert set(now) == {first, third}
