"""The ``docbus`` command: it parses arguments, sets up logging and calls the services."""

from __future__ import annotations

import os
from pathlib import Path

import click

from docbus import __version__, default_home
from shell.cli._bench_cmd import bench
from shell.cli._broker_cmd import broker
from shell.cli._demo_cmd import demo
from shell.cli._directory_cmd import directory
from shell.cli._edxml_cmd import edxml
from shell.cli._errors import OneLineErrors
from shell.cli._gateway_cmd import gateway
from shell.cli._keys_cmd import keys
from shell.cli._receive_cmd import receive
from shell.cli._replay_cmd import replay
from shell.cli._router_cmd import router
from shell.cli._send_cmd import send
from shell.cli._topics_cmd import topics
from shell.cli._track_cmd import track

__all__ = ["main"]


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="docbus")
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of keys, tracking, deduplication and blobs (env DOCBUS_HOME; "
    f"default {default_home()}).",
)
def main(home: Path | None) -> None:
    """docbus: ministries and provinces exchange official documents over Kafka."""
    if home is not None:  # the environment carries it to the processes a command starts
        os.environ["DOCBUS_HOME"] = str(home.expanduser().resolve())


for command in (
    bench,
    broker,
    demo,
    directory,
    edxml,
    gateway,
    keys,
    receive,
    replay,
    router,
    send,
    topics,
    track,
):
    main.add_command(command)
