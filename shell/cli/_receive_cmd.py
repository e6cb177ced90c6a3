"""``docbus receive``: receive an agency's documents and answer each with a status."""

from __future__ import annotations

import contextlib
from typing import Any

import click

from consumers import ReceivedDocument, Receiver
from docbus import MetricsServer
from shell._runtime import bus_settings
from shell.cli._common import (
    answer_all,
    bus_options,
    emit_json,
    metrics_options,
    received_batches,
    receiving_options,
    run_async,
    settings_from,
)


@click.command()
@bus_options
@metrics_options
@click.option("--agency", required=True, help="Receiving agency code.")
@receiving_options
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
            async for batch in received_batches(
                r, max_documents=max_documents, timeout_s=timeout_s
            ):
                await answer_all(r, batch, status)
                count += len(batch)
                for received in batch:
                    _show(received, status, as_json=as_json)
        return count

    count = run_async(main())
    if not as_json:
        click.echo(f"{count} document{'' if count == 1 else 's'} received", err=True)


def _show(received: ReceivedDocument, status: str | None, *, as_json: bool) -> None:
    """One line for a received document: JSON, or its id, type and subject."""
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
