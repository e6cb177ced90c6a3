"""``docbus receive``: receive an agency's documents and answer each with a status."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import click

from consumers import Receiver
from docbus._metrics import MetricsServer
from docbus._runtime import bus_settings
from docbus.cli._common import bus_options, emit_json, metrics_options, run_async, settings_from
from schemas import StatusCode

_CODES = [c.value for c in StatusCode]


@click.command()
@bus_options
@metrics_options
@click.option("--agency", required=True, help="Receiving agency code.")
@click.option("--max", "max_documents", type=int, help="Stop after this many documents.")
@click.option(
    "--timeout",
    "timeout_s",
    type=float,
    default=10.0,
    show_default=True,
    help="Stop when no document arrives for this many seconds.",
)
@click.option(
    "--status", type=click.Choice(_CODES), help="Status to send back for each (01 is automatic)."
)
@click.option("--json", "as_json", is_flag=True, help="Print each document as a JSON line.")
def receive(
    agency: str,
    max_documents: int | None,
    timeout_s: float,
    status: str | None,
    as_json: bool,
    **flags: Any,
) -> None:
    """Print each document for AGENCY once, and send STATUS back for it."""
    settings = settings_from(**flags)

    async def main() -> int:
        count = 0
        async with (
            bus_settings(settings) as (live, _),
            Receiver(agency=agency, settings=live) as r,
            contextlib.AsyncExitStack() as serving,
        ):
            if settings.metrics_port is not None:
                await serving.enter_async_context(
                    MetricsServer(
                        r.metrics.registry, port=settings.metrics_port, host=settings.metrics_host
                    )
                )
            while max_documents is None or count < max_documents:
                try:
                    received = await asyncio.wait_for(anext(r), timeout_s)
                except TimeoutError:
                    break
                if status is not None:
                    await received.notify(status)
                else:
                    received.ack()
                count += 1
                doc = received.document
                if as_json:
                    emit_json(
                        {
                            "document_id": doc.document_id,
                            "recipient": received.recipient,
                            "sender": doc.sender,
                            "subject": doc.subject,
                            "priority": doc.priority,
                            "type": doc.document_type.type_name,
                            "sent_at": doc.sent_at,
                            "status_sent": status,
                        }
                    )
                else:
                    click.echo(f"{doc.document_id}  {doc.document_type.type_name}  {doc.subject}")
        return count

    count = run_async(main())
    if not as_json:
        click.echo(f"{count} documents received", err=True)
