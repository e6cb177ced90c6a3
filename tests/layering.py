"""The house's floors, read from the code: which package may import which.

Floors, bottom up: the contract (``schemas``), the foundation (``docbus``), the
services (``producers``, ``consumers``, ``router``: siblings), the shell (``shell``).
A module may import its own package, and packages on floors below its own, through
their doors (no ``_private`` part in the imported path).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["FLOORS", "Violation", "violations"]

FLOORS: Mapping[str, int] = {
    "schemas": 0,
    "docbus": 1,
    "producers": 2,
    "consumers": 2,
    "router": 2,
    "shell": 3,
}


@dataclass(frozen=True)
class Violation:
    """One import that breaks the house's rules."""

    path: Path
    line: int
    imported: str
    rule: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}: {self.imported}"


def violations(root: Path, floors: Mapping[str, int] = FLOORS) -> Iterator[Violation]:
    """Every upward, sibling or private cross-package import in the packages under ``root``."""
    for package, floor in floors.items():
        for path in sorted((root / package).rglob("*.py")):
            for line, imported in _imports(path, root):
                top = imported.split(".")[0]
                if top not in floors or top == package:
                    continue
                if floors[top] > floor:
                    yield Violation(path, line, imported, f"upward import from {package}")
                elif floors[top] == floor:
                    yield Violation(path, line, imported, f"sibling import from {package}")
                elif any(part.startswith("_") for part in imported.split(".")[1:]):
                    yield Violation(path, line, imported, "private module of another package")


def _imports(path: Path, root: Path) -> Iterator[tuple[int, str]]:
    """The absolute module paths ``path`` imports (relative imports resolved), with lines."""
    module = path.relative_to(root).with_suffix("").parts
    package = module if module[-1] == "__init__" else module[:-1]
    package = tuple(p for p in package if p != "__init__")
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            yield node.lineno, name
