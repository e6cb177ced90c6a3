"""The ``docbus`` command: it parses arguments, sets up logging and calls the services."""

from __future__ import annotations

import os
from pathlib import Path
from types import MappingProxyType

import click

from docbus import __version__, default_home
from shell.cli._lazy import LazyCommands

__all__ = ["main"]

#: Each command and where it lives, imported when it runs (:class:`LazyCommands`).
_COMMANDS = MappingProxyType(
    {
        name: f"shell.cli._{name}_cmd:{name}"
        for name in (
            "bench",
            "broker",
            "demo",
            "directory",
            "edxml",
            "gateway",
            "keys",
            "receive",
            "replay",
            "router",
            "send",
            "topics",
            "track",
        )
    }
)


@click.group(
    cls=LazyCommands,
    lazy=_COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
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
