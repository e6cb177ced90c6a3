"""The check that fails a run which wrote into the working tree."""

from __future__ import annotations

from tests.isolation import new_in_tree


def test_new_untracked_or_ignored_entries_are_what_the_suite_wrote() -> None:
    before = {"!! .venv/", "!! .mypy_cache/"}
    after = before | {
        " M README.md",  # someone editing meanwhile
        "?? .docbus/",
        "!! keys.sqlite",
        "!! tests/__pycache__/",
        "!! .pytest_cache/",
    }
    assert new_in_tree(before, after) == ["!! keys.sqlite", "?? .docbus/"]
