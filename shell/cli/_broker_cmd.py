"""``docbus broker``: run the embedded broker until interrupted."""

from __future__ import annotations

import click

from docbus import configure_logging
from shell._broker import EmbeddedBroker
from shell.cli._common import run_async, stop_on_signals


@click.command()
@click.option("--port", type=int, help="Port on 127.0.0.1 (default: a free one).")
def broker(port: int | None) -> None:
    """Run the embedded Tansu broker on 127.0.0.1 and print its bootstrap address."""
    configure_logging()

    async def serve() -> None:
        stop = stop_on_signals()
        async with EmbeddedBroker(port=port) as embedded:
            click.echo(embedded.bootstrap_servers)
            click.echo(
                f"export DOCBUS_BOOTSTRAP_SERVERS={embedded.bootstrap_servers} "
                "DOCBUS_BROKER_KIND=embedded  # Ctrl-C stops the broker",
                err=True,
            )
            await stop.wait()

    run_async(serve())
