"""``docbus send``: send one document."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from docbus.directory import Directory
from producers import Sender, SendReceipt, official_letter
from schemas import VN_TIME
from shell._runtime import bus_settings
from shell.cli._common import bus_options, emit_json, run_async, settings_from


@click.command()
@bus_options
@click.option("--from", "sender", required=True, help="Sending agency code, e.g. 000.00.00.G22.")
@click.option("--to", "recipients", required=True, multiple=True, help="Recipient code (repeat).")
@click.option("--subject", required=True, help="Subject (at most 500 characters).")
@click.option(
    "--priority", type=int, default=0, show_default=True, help="0 normal … 4 express at a set time."
)
@click.option("--number", help="Code number (default: from the clock).")
@click.option("--notation", default="VP", show_default=True, help="Code notation, e.g. VPCP-TTĐT.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def send(
    sender: str,
    recipients: tuple[str, ...],
    subject: str,
    priority: int,
    number: str | None,
    notation: str,
    as_json: bool,
    **flags: Any,
) -> None:
    """Send one official letter; print its document id once the broker holds it."""
    settings = settings_from(**flags)
    now = dt.datetime.now(dt.UTC)
    document = official_letter(
        sender=sender,
        recipients=recipients,
        subject=subject,
        number=number or now.strftime("%H%M%S%f"),
        notation=notation,
        priority=priority,
        sent_at=now,
    )

    # Before any connection: a recipient nobody receives for is refused at once.
    directory = Directory.load()
    directory.check_recipients(recipients, now.astimezone(VN_TIME).date())

    async def main() -> SendReceipt:
        async with (
            bus_settings(settings) as (live, _),
            Sender(agency=sender, settings=live, directory=directory) as s,
        ):
            return await s.send(document)

    receipt = run_async(main())
    if as_json:
        emit_json(
            {
                "document_id": receipt.document_id,
                "topic": receipt.topic,
                "partition": receipt.partition,
                "offset": receipt.offset,
            }
        )
    else:  # the id alone on stdout, for `ID=$(docbus send ...)`
        click.echo(receipt.document_id)
        click.echo(f"sent to {receipt.topic}/{receipt.partition}@{receipt.offset}", err=True)
