"""The top-level group's commands, each imported when it is run, not when ``docbus`` starts.

Every ``docbus`` invocation and every process a command spawns (its children re-import the
``docbus`` entry point) would otherwise import every command's dependencies: the gateway's
alone (FastAPI, uvicorn, Jinja2) cost 0.22 s of CPU of the 0.62 s ``import shell.cli`` took.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

import click

from shell.cli._errors import OneLineErrors

__all__ = ["LazyCommands"]


class LazyCommands(OneLineErrors):
    """A group whose ``commands`` maps each name to ``"module:attribute"``, imported on use."""

    def __init__(self, *args: object, lazy: Mapping[str, str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command's name, sorted (``--help`` imports them all to show their help)."""
        return sorted({*super().list_commands(ctx), *self._lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command ``cmd_name``, imported now if it was not yet."""
        where = self._lazy.get(cmd_name)
        if where is None:
            return super().get_command(ctx, cmd_name)
        module, _, attribute = where.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{where} is not a click command")
        return command
