"""``python -m docbus.cli``: the same as the ``docbus`` command."""

from docbus.cli import main

main()
