"""Tests for shell.cli._directory_cmd: the directory commands an operator uses."""

from __future__ import annotations

import json
import subprocess
import sys

from docbus import Settings
from tests.shell.test_cli import docbus


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shell.cli", "directory", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_list_at_a_date_and_by_kind() -> None:
    """`list --at` counts 63 provinces and cities before July 2025, 34 after; --kind filters."""
    for day, expected in [("2025-06-30", 63), ("2025-07-01", 34)]:
        provinces = json.loads(run("list", "--at", day, "--kind", "province", "--json").stdout)
        cities = json.loads(run("list", "--at", day, "--kind", "city", "--json").stdout)
        assert len(provinces) + len(cities) == expected
    ministries = json.loads(
        run("list", "--at", "2025-02-28", "--kind", "ministry", "--json").stdout
    )
    assert len(ministries) == 18


def test_resolve_follows_successors() -> None:
    """`resolve` names the receiving agency with code, name and kind, and the closed one."""
    out = json.loads(run("resolve", "000.00.00.H17", "--at", "2025-07-01", "--json").stdout)
    assert (out["code"], out["name"], out["kind"]) == (
        "000.00.00.H36",
        "Ủy ban nhân dân tỉnh Lâm Đồng",
        "province",
    )
    assert out["redirected_from"][0]["name"] == "Ủy ban nhân dân tỉnh Đắk Nông"
    before = json.loads(run("resolve", "000.00.00.H17", "--at", "2025-06-30", "--json").stdout)
    assert before["code"] == "000.00.00.H17" and before["redirected_from"] == []


def test_show_agency_history_and_unit() -> None:
    """`show` gives a code's holders over time, or a unit's place in the tree."""
    out = json.loads(run("show", "000.00.00.G21", "--json").stdout)
    assert [h["name"] for h in out["history"]] == ["Ủy ban Dân tộc", "Bộ Dân tộc và Tôn giáo"]
    unit = json.loads(run("show", "000.00.01.H29", "--json").stdout)
    assert unit["level"] == 2 and unit["parent"] == "000.00.00.H29"


def test_unknown_codes_are_clear_errors() -> None:
    """An unknown code or group exits non-zero with the reason."""
    missing = run("resolve", "000.00.00.G99")
    assert missing.returncode != 0 and "G99" in missing.stderr
    group = run("resolve", "group:nowhere")
    assert group.returncode != 0 and "nowhere" in group.stderr


async def test_publish_to_the_directory_topic(settings: Settings) -> None:
    """`publish` writes the packaged directory to the compacted topic."""
    result = await docbus(settings, "directory", "publish", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["agencies"] == 92 and out["offset"] == 0
