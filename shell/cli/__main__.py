"""``python -m shell.cli``: the same as the ``docbus`` command."""

from shell.cli import main

main()
