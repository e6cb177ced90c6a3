"""Tests for shell.cli: the operator commands against the session broker."""

from __future__ import annotations

import json
import subprocess

from docbus import Settings
from docbus.directory import Directory
from router import Router
from schemas import HEADER_SIGNATURE, Codec, StatusCode, TopicLayout
from tests.helpers import (
    G22,
    H29,
    cli_env,
    deliver,
    ensure_topics,
    letter,
    read_all,
    read_topic,
    run_docbus,
    steps_in,
)


async def docbus(
    settings: Settings, *args: str, timeout_s: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run the docbus command against ``settings``' broker and prefix."""
    return await run_docbus(*args, env=cli_env(settings), timeout_s=timeout_s)


async def test_topics_ensure_is_idempotent(settings: Settings) -> None:
    """The first run creates every agency's topics; the second creates none."""
    first = await docbus(settings, "topics", "ensure", "--json")
    second = await docbus(settings, "topics", "ensure", "--json")
    assert first.returncode == 0, first.stderr
    created, again = json.loads(first.stdout), json.loads(second.stdout)
    codes = Directory.load().codes()  # every code ever held: 2024's agencies too
    # An outbox and an inbox each, the dead letters, the directory and the two doorbells.
    assert len(created["created"]) == created["topics"] == 2 * len(codes) + 4
    assert again["created"] == [] and again["topics"] == created["topics"]


async def test_send_then_receive_with_a_status(settings: Settings) -> None:
    """`docbus send` prints the document id; `docbus receive` prints it and answers 03."""
    await ensure_topics(settings, [G22, H29])
    async with Router(settings=settings):
        sent = await docbus(
            settings,
            "send",
            "--from",
            G22,
            "--to",
            H29,
            "--subject",
            "V/v tổ chức hội nghị",
            "--priority",
            "3",
            "--json",
        )
        assert sent.returncode == 0, sent.stderr
        document_id = json.loads(sent.stdout)["document_id"]
        got = await docbus(
            settings, "receive", "--agency", H29, "--max", "1", "--status", "03", "--json"
        )
        assert got.returncode == 0, got.stderr
        line = json.loads(got.stdout.splitlines()[0])
        assert line["document_id"] == document_id and line["priority"] == 3
        assert line["subject"] == "V/v tổ chức hội nghị"
        layout = TopicLayout(settings.topic_prefix)
        (record,) = await read_topic(settings, layout.inbox(G22), 1)
        assert [n.status_code for n in steps_in([record])] == ["01", "03"]  # one record


async def test_receive_answers_what_it_took_together_and_leaves_the_rest(
    settings: Settings,
) -> None:
    """`docbus receive --max 3` answers the three it printed in one signed batch; the two
    it did not take come on the next run, and nothing comes twice."""
    documents = [letter(number=n) for n in range(1, 6)]
    await deliver(settings, documents)
    first = await docbus(
        settings, "receive", "--agency", H29, "--max", "3", "--status", "03", "--json"
    )
    second = await docbus(
        settings, "receive", "--agency", H29, "--status", "03", "--json", "--timeout", "3"
    )
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    printed = [
        [json.loads(line)["document_id"] for line in run.stdout.splitlines()]
        for run in (first, second)
    ]
    assert len(printed[0]) == 3 and len(printed[1]) == 2
    assert sorted(printed[0] + printed[1]) == sorted(d.document_id for d in documents)
    codec = Codec()
    outbox = TopicLayout(settings.topic_prefix).outbox(H29)
    records = await read_all(settings, outbox, 5)  # 01 and 03 for each; a 01 alone for
    # each delivery the first run read but did not take
    accepted = {}
    for record in records:
        notice = codec.decode(record.value)
        if notice.status_code == StatusCode.ACCEPTED:
            accepted[notice.document_id] = dict(record.headers)[HEADER_SIGNATURE]
    assert set(accepted) == {d.document_id for d in documents}
    assert len({accepted[document_id] for document_id in printed[0]}) == 1  # signed together


async def test_bad_send_is_a_clear_error(settings: Settings) -> None:
    """An invalid document exits 1 with the rule it broke, and no traceback."""
    await ensure_topics(settings, [G22])
    run = await docbus(settings, "send", "--from", G22, "--to", "no where", "--subject", "x")
    assert run.returncode == 1
    assert "error:" in run.stderr and "not an agency code" in run.stderr
    assert "Traceback" not in run.stderr
