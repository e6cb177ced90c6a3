"""Every way a command can fail on a user's mistake, said in one line: ``error: ...``.

A usage error, a docbus error (bad settings, a missing key, an unreachable broker, a bad
document) and an operating-system error on a file the user named end the command with
one line on stderr and a non-zero status; only a bug shows a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from docbus import DocbusError

__all__ = ["OneLineErrors"]

_USAGE_STATUS = 2


class OneLineErrors(click.Group):
    """The top-level group: it runs a command and turns user mistakes into one line."""

    def main(  # type: ignore[override]
        self, args: Sequence[str] | None = None, prog_name: str | None = None, **extra: Any
    ) -> NoReturn:
        try:
            super().main(args, prog_name, standalone_mode=False, **extra)
        except click.exceptions.Exit as done:  # --help, --version
            sys.exit(done.exit_code)
        except click.Abort:
            _fail("interrupted", 130)
        except click.UsageError as exc:
            hint = f" (see {exc.ctx.command_path} --help)" if exc.ctx is not None else ""
            _fail(f"{exc.format_message()}{hint}", _USAGE_STATUS)
        except click.ClickException as exc:
            _fail(exc.format_message(), exc.exit_code)
        except DocbusError as exc:
            _fail(str(exc), 1)
        except OSError as exc:
            _fail(_os_error(exc), 1)
        sys.exit(0)


def _os_error(exc: OSError) -> str:
    """``No such file or directory: 'x.edxml'`` rather than errno's tuple."""
    if exc.filename is not None and exc.strerror:
        return f"{exc.strerror}: {exc.filename!s}"
    return str(exc)


def _fail(message: str, status: int) -> NoReturn:
    click.echo(f"error: {' '.join(message.split())}", err=True)
    sys.exit(status)
