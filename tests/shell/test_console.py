"""The gateway's web console in headless Chromium (Debian's, driven by Playwright): a
clerk signs in, opens the inbox and accepts a document, and the sender's page changes;
an operator sees the bus's figures. Screenshots are kept as the run's artefacts in
``$DOCBUS_TEST_ARTIFACTS/console`` (default: ``docbus-test-artifacts`` in the temporary
directory; never in the working tree, which the suite checks stays clean)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser, Locator, Page, async_playwright

from docbus import Settings
from router import Router
from shell.gateway import TokenStore
from tests.debian import require_debian_tool
from tests.helpers import G22, H29, ensure_topics, produce_raw
from tests.shell.gateway_support import curl, post_json, serving

ARTIFACTS = (
    Path(
        os.environ.get("DOCBUS_TEST_ARTIFACTS")
        or Path(tempfile.gettempdir()) / "docbus-test-artifacts"
    )
    / "console"
)
#: Chromium as root on a closed network: no sandbox, no calls home.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SUBJECT = "V/v kiểm tra bảng điều khiển: Hỏa tốc đến Ủy ban nhân dân tỉnh"


@pytest.fixture(scope="module")
def chromium() -> Path:
    return require_debian_tool("chromium", "chromium")


async def reload_until(page: Page, check: Callable[[], Awaitable[bool]], tries: int = 60) -> None:
    """Reload ``page`` until ``check`` holds (the console is server-rendered, no push)."""
    for _ in range(tries):
        if await check():
            return
        await page.wait_for_timeout(250)
        await page.reload()
    raise AssertionError(
        f"{page.url} never showed what was expected:\n{await page.inner_text('main')}"
    )


async def signed_in(browser: Browser, url: str, token: str, *, phone: bool = False) -> Page:
    """A new browser session signed in with ``token`` through the sign-in form."""
    viewport = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 900}
    page = await (await browser.new_context(viewport=viewport, locale="vi-VN")).new_page()
    await page.goto(f"{url}/console")
    assert page.url.endswith("/console/sign-in")  # sent to sign in first
    await page.fill("#token", token)
    await page.click("button:has-text('Đăng nhập')")
    await page.wait_for_url(f"{url}/console")
    return page


async def test_a_clerk_accepts_and_the_sender_sees_it(
    settings: Settings, tmp_path: Path, chromium: Path
) -> None:
    await ensure_topics(settings, [G22, H29])
    tokens = TokenStore(tmp_path / "tokens.sqlite")
    g22, h29, operator = (
        tokens.issue(G22),
        tokens.issue(H29),
        tokens.issue("docbus", role="operator"),
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with Router(settings=settings), serving(settings, tokens) as url, async_playwright() as p:
        body = {"sender": G22, "recipients": [H29], "subject": SUBJECT, "priority": 3}
        sent = await post_json(f"{url}/v1/documents", g22, body)
        assert sent.status == 202, sent.body
        document_id = sent.json()["document_id"]
        outbox = f"{settings.topic_prefix}.outbox.{G22}"
        await produce_raw(settings, outbox, [b"\x00 not avro"], key=b"broken-1")

        browser = await p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            wrong = await (await browser.new_context()).new_page()
            await wrong.goto(f"{url}/console/sign-in")
            await wrong.fill("#token", "dbg_not-a-token")
            async with wrong.expect_navigation():
                await wrong.click("button:has-text('Đăng nhập')")
            assert "Mã truy cập không đúng" in await wrong.inner_text("main")

            clerk = await signed_in(browser, url, h29, phone=True)
            row = clerk.locator("#inbox tr", has_text=SUBJECT)
            await reload_until(clerk, lambda: _has(row))
            assert "Hỏa tốc" in await row.inner_text()
            assert await clerk.evaluate("document.documentElement.scrollWidth <= innerWidth")
            accept = row.locator("button:has-text('Tiếp nhận')")
            box = await accept.bounding_box()
            assert box is not None and box["x"] + box["width"] <= 390  # on the phone's screen
            await clerk.screenshot(path=ARTIFACTS / "1-clerk-inbox-phone.png", full_page=True)

            sender = await signed_in(browser, url, g22)
            state = sender.locator(f'#sent tr[data-document="{document_id}"] .state')
            await reload_until(sender, lambda: _has(state))
            before = await state.inner_text()
            assert before in ("Đang chuyển", "Đã đến"), before
            await sender.screenshot(path=ARTIFACTS / "2-sender-before.png", full_page=True)

            await accept.click()
            await clerk.wait_for_url(f"{url}/console")
            assert await row.count() == 0  # answered: never handed out again
            await clerk.screenshot(path=ARTIFACTS / "3-clerk-after.png", full_page=True)

            async def accepted() -> bool:
                return await _has(state) and await state.inner_text() == "Đã tiếp nhận"

            await reload_until(sender, accepted)
            await sender.screenshot(path=ARTIFACTS / "4-sender-after.png", full_page=True)
            await sender.click(f"text={SUBJECT}")
            timeline = await sender.inner_text("main")
            assert "Đã tiếp nhận" in timeline and "Đã gửi" in timeline
            await sender.screenshot(path=ARTIFACTS / "5-sender-timeline.png", full_page=True)

            other = await signed_in(browser, url, operator)
            dead = other.locator("#dead-letters tr[data-reason]")
            await reload_until(other, lambda: _has(dead))
            text = await other.inner_text("main")
            assert "broken-1" in text and "bad_marker" in text and "2025-07-01" in text
            assert "Không đọc được" not in text, text  # the lag and dead letters were read
            per_minute = await other.locator("#throughput .figure b").first.inner_text()
            assert float(per_minute) > 0
            await other.screenshot(path=ARTIFACTS / "6-operator.png", full_page=True)
        finally:
            await browser.close()


async def _has(locator: Locator) -> bool:
    return bool(await locator.count())


async def test_a_clerks_wrong_answers_are_refused_with_a_page(
    settings: Settings, tmp_path: Path
) -> None:
    """Without a browser: a refusal without a reason is 422, a delivery not waiting 404,
    a page without signing in goes to the sign-in form; each a page, nothing sent."""
    tokens = TokenStore(tmp_path / "tokens.sqlite")
    h29 = tokens.issue(H29)
    jar = str(tmp_path / "cookies")
    async with serving(settings, tokens) as url:
        signed = await curl(f"{url}/console/sign-in", "-c", jar, "--data-urlencode", f"token={h29}")
        assert signed.status == 303
        no_reason = await curl(
            f"{url}/console/inbox/0123/status", "-b", jar, "--data", "status_code=02"
        )
        assert no_reason.status == 422 and "lý do" in no_reason.body
        gone = await curl(f"{url}/console/inbox/0123/status", "-b", jar, "--data", "status_code=03")
        assert gone.status == 404 and "không còn chờ" in gone.body
        anonymous = await curl(f"{url}/console/inbox/0123/status", "--data", "status_code=03")
        assert anonymous.status == 303
