"""benchmarks/year_in_spans.py: a year replayed span by span into a ledger, added up."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).parents[1] / "benchmarks" / "year_in_spans.py"
SMALL = ["--scale", "0.0001", "--segments", "2", "--seed", "11"]


def _script(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_span_runs_into_the_ledger_and_the_summary_says_what_is_missing(
    tmp_path: Path,
) -> None:
    """One span of two really replayed: the ledger holds its result, the summary counts it
    against the model and names the span still missing; a span added under the wrong
    number is caught, and a replay of another model is refused."""
    ledger = tmp_path / "ledger.jsonl"
    ran = _script("run", *SMALL, "--span", "2", "--ledger", ledger, "--budget-min", "10")
    assert ran.returncode == 0, ran.stderr
    summary: dict[str, Any] = json.loads(ran.stdout)
    assert summary["spans_passed"] == [2] and summary["spans_missing"] == [1]
    assert not summary["complete"] and summary["documents_matching_model"]
    assert summary["documents"] == summary["model_documents_by_span"][1] > 0
    assert sum(summary["model_documents_by_span"]) == summary["model_documents"] == 1220
    assert summary["lost"] == 0 and summary["duplicates_delivered"] == 0
    assert summary["deliveries_received"] == summary["deliveries"] > 0
    (line,) = [json.loads(text) for text in ledger.read_text().splitlines()]
    assert line["span"] == 2 and line["commit"] and line["summary"]["completed"]
    table = _script("summary", "--markdown", *SMALL, "--ledger", ledger)
    assert table.returncode == 0, table.stderr
    header, rule, row = table.stdout.splitlines()
    assert header.startswith("| span | documents | docs/s |") and set(rule) == {"|", "-"}
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[:2] == ["2", f"{summary['documents']:,}"] and cells[-1].startswith(line["commit"])

    replay_json = tmp_path / "span2.json"
    replay_json.write_text(json.dumps(line["summary"]))
    misfiled = _script("add", replay_json, *SMALL, "--span", "1", "--ledger", ledger)
    assert misfiled.returncode == 0, misfiled.stderr
    summary = json.loads(misfiled.stdout)
    assert summary["spans_missing"] == [] and not summary["documents_matching_model"]
    assert not summary["complete"]

    other = _script("add", replay_json, "--scale", "0.5", "--span", "1", "--ledger", ledger)
    assert other.returncode != 0 and "not of" in other.stderr


def test_largest_first_orders_the_spans_by_documents_and_each_model_has_its_own_ledger(
    tmp_path: Path,
) -> None:
    """With no time to run any span, ``run --largest-first`` names the spans in the order it
    would run them, most documents first; without ``--ledger`` the summary names a ledger
    of the model's own (scale and number of spans in its name)."""
    model = ["--scale", "0.0001", "--segments", "5", "--seed", "11"]
    ledger = tmp_path / "ledger.jsonl"
    ran = _script("run", *model, "--largest-first", "--budget-min", "0", "--ledger", ledger)
    assert ran.returncode == 0, ran.stderr
    by_span = json.loads(ran.stdout)["model_documents_by_span"]
    order = [int(line.split()[1].rstrip(":")) for line in ran.stderr.splitlines()]
    assert sorted(order) == [1, 2, 3, 4, 5]
    assert [by_span[span - 1] for span in order] == sorted(by_span, reverse=True)
    assert not ledger.exists()

    summary = _script("summary", *model)
    assert summary.returncode == 0, summary.stderr
    assert (
        Path(json.loads(summary.stdout)["ledger"]).name == "replay-2024-scale-0.0001-5-spans.jsonl"
    )
