"""``docbus track``: where a document stands with each recipient, and what is overdue."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from docbus import Settings
from docbus.directory import Directory
from router.tracking import DeliveryRow, Tracker, open_store, rebuild_tracking
from schemas import DeliveryState
from shell._runtime import bus_settings
from shell._tracked import delivery_json, document_json, is_overdue
from shell.cli._common import bus_options, emit_json, run_async, settings_from


@click.command()
@bus_options
@click.argument("document_id", required=False)
@click.option("--overdue", is_flag=True, help="List deliveries past their acceptance deadline.")
@click.option("--agency", help="With --overdue: only deliveries to this agency.")
@click.option("--rebuild", is_flag=True, help="Rebuild the tracking store from the topics first.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def track(
    document_id: str | None,
    overdue: bool,
    agency: str | None,
    rebuild: bool,
    as_json: bool,
    **flags: Any,
) -> None:
    """Show each recipient's state, history and deadline for DOCUMENT_ID, or what is overdue.

    Reads the tracking store the router writes (DOCBUS_TRACKING_DSN, or SQLite in
    DOCBUS_HOME).
    """
    settings = settings_from(**flags)
    if not (document_id or overdue or rebuild):
        raise click.UsageError("give a DOCUMENT_ID, --overdue or --rebuild")
    tracker = Tracker(open_store(dsn=settings.tracking_dsn, state_dir=settings.home))
    try:
        if rebuild:
            report = run_async(_rebuild(settings, tracker))
            if not as_json:
                click.echo(
                    f"rebuilt from {report.records_read} records: {report.documents} documents, "
                    f"{report.deliveries} deliveries, {report.notices_applied} notices",
                    err=True,
                )
        now = dt.datetime.now(dt.UTC)
        if overdue:
            late = tracker.overdue(now, agency)
            if as_json:
                emit_json(
                    {"overdue": len(late), "deliveries": [delivery_json(d, now) for d in late]}
                )
            else:
                _print_deliveries(f"{len(late)} overdue deliveries", late, now)
        if document_id:
            _show_document(tracker, document_id, now, as_json)
    finally:
        tracker.store.close()


async def _rebuild(settings: Settings, tracker: Tracker) -> Any:
    async with bus_settings(settings) as (live, _):
        return await rebuild_tracking(live, tracker, Directory.load().codes())


def _show_document(tracker: Tracker, document_id: str, now: dt.datetime, as_json: bool) -> None:
    state = document_json(tracker, document_id, now)
    if state is None:
        raise click.ClickException(f"no document {document_id} is tracked")
    if as_json:
        emit_json(state)
        return
    effect = state["effect"]
    note = f"  ({effect['kind']} by {effect['by']})" if effect else ""
    deliveries = tracker.store.deliveries(document_id)
    _print_deliveries(f"{document_id}: {state['subject']}{note}", deliveries, now)


def _print_deliveries(title: str, deliveries: list[DeliveryRow], now: dt.datetime) -> None:
    table = Table(title=title)
    for column in ("document", "recipient", "state", "deadline", "overdue", "history"):
        table.add_column(column)
    for d in deliveries:
        history = " → ".join(h.code for h in d.history) or "-"
        table.add_row(
            d.document_id,
            d.recipient,
            DeliveryState(d.status, d.recall).label,
            d.deadline,
            "yes" if is_overdue(d, now) else "",
            history,
        )
    Console().print(table)
