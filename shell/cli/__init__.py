"""The ``docbus`` command: it parses arguments, sets up logging and calls the services."""

from __future__ import annotations

import click

from docbus import __version__
from shell.cli._bench_cmd import bench
from shell.cli._broker_cmd import broker
from shell.cli._demo_cmd import demo
from shell.cli._directory_cmd import directory
from shell.cli._edxml_cmd import edxml
from shell.cli._keys_cmd import keys
from shell.cli._receive_cmd import receive
from shell.cli._replay_cmd import replay
from shell.cli._router_cmd import router
from shell.cli._send_cmd import send
from shell.cli._topics_cmd import topics
from shell.cli._track_cmd import track

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="docbus")
def main() -> None:
    """docbus: ministries and provinces exchange official documents over Kafka."""


for command in (
    bench,
    broker,
    demo,
    directory,
    edxml,
    keys,
    receive,
    replay,
    router,
    send,
    topics,
    track,
):
    main.add_command(command)
