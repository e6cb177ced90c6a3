"""The shell, the top floor: the CLI, the demo, the replay, the router benchmark, the embedded
broker, and the orchestration of simulated agencies. Nothing below imports it.

What this door offers is listed in ``__init__.pyi``; each part loads on first use
(``lazy_loader``, SPEC 1): every helper process and command imports the door, and
loading every part behind it cost each 0.2 s of CPU at its start.
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
