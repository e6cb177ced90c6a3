"""A whole year replayed at full scale, span by span, over as many sittings as it takes.

A full-scale replay of 2024 takes hours on two cores (BENCHMARKS.md), longer than one
sitting. ``docbus replay --segments N --only-span K`` replays one span of the year on a
bus of its own. This script runs the spans that a ledger does not hold yet, as many as
fit in the time given, and appends each result to the ledger (JSON lines, one per
span). ``summary`` adds up the ledger; once every span is in, that is the year's result.
All lines of a ledger share one year, scale, seed and number of spans; each such model
has a ledger of its own under results/ unless ``--ledger`` names one.

    python benchmarks/year_in_spans.py run [--segments N] [--budget-min M] [--span K]
    python benchmarks/year_in_spans.py run --largest-first   # the likeliest to miss first
    python benchmarks/year_in_spans.py summary [--markdown] [--ledger F]
    python benchmarks/year_in_spans.py add REPLAY_JSON --span K   # a span run by hand
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from docbus.directory import Directory
from producers.simulation import YearWorkload
from shell import day_spans

RESULTS = Path(__file__).parent / "results"
MODEL_KEYS = ("year", "scale", "seed", "segments")
#: docs/s assumed for the budget until the ledger has a span (span 24 ran at 309).
FIRST_GUESS_DOCS_PER_S = 250.0
SUMMED = (
    "documents",
    "deliveries",
    "status_notices",
    "deliveries_received",
    "status_notices_returned",
    "lost",
    "duplicates_delivered",
    "dead_letters",
    "elapsed_s",
)


def default_ledger(model: dict[str, Any]) -> Path:
    """Where a model's spans are kept unless ``--ledger`` says otherwise: one file per
    year, scale and number of spans (``replay-2024-full-scale-24-spans.jsonl``)."""
    scale = "full-scale" if model["scale"] == 1 else f"scale-{model['scale']:g}"
    return RESULTS / f"replay-{model['year']}-{scale}-{model['segments']}-spans.jsonl"


def largest_first(documents: list[int], spans: list[int]) -> list[int]:
    """``spans`` reordered by how many ``documents`` each holds (``span_documents``), the
    largest first (ties in span order): the spans likeliest to miss a target go first."""
    return sorted(spans, key=lambda span: (-documents[span - 1], span))


def span_documents(model: dict[str, Any]) -> list[int]:
    """How many documents each span of the model holds, first span first."""
    workload = YearWorkload(
        model["year"], directory=Directory.load(), scale=model["scale"], seed=model["seed"]
    )
    days = workload.days
    return [sum(days[d] for d in span) for span in day_spans(list(days), model["segments"])]


def read_ledger(path: Path, model: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """The ledger's lines by span (a span run twice: the later line), checked against ``model``."""
    lines: dict[int, dict[str, Any]] = {}
    if not path.exists():
        return lines
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = json.loads(text)
        theirs = {k: line[k] for k in MODEL_KEYS}
        if theirs != model:
            raise SystemExit(f"{path}:{number} replays {theirs}, not {model}")
        lines[line["span"]] = line
    return lines


def passed(summary: dict[str, Any]) -> bool:
    """A span's replay summary counts once it completed with nothing lost and nothing
    delivered twice."""
    return (
        bool(summary["completed"]) and not summary["lost"] and not summary["duplicates_delivered"]
    )


def summarise(path: Path, model: dict[str, Any]) -> dict[str, Any]:
    """The ledger added up: the year's totals over the spans that passed, and what is missing."""
    lines = read_ledger(path, model)
    expected = span_documents(model)
    good = {span: line["summary"] for span, line in lines.items() if passed(line["summary"])}
    totals = {key: round(sum(s[key] for s in good.values()), 3) for key in SUMMED}
    express = {span: s["express_inbox_latency_ms"]["p99"] for span, s in good.items()}
    matching = all(s["documents"] == expected[span - 1] for span, s in good.items())
    return {
        **model,
        "ledger": str(path),
        "spans_passed": sorted(good),
        "spans_failed": sorted(set(lines) - set(good)),
        "spans_missing": [i for i in range(1, len(expected) + 1) if i not in good],
        "model_documents": sum(expected),
        "model_documents_by_span": expected,
        "documents_matching_model": matching,
        "complete": len(good) == len(expected) and matching,
        **totals,
        "docs_per_s": round(totals["documents"] / totals["elapsed_s"], 1) if good else None,
        "broker_peak_rss_bytes": max(
            (s["broker_peak_rss_bytes"] or 0 for s in good.values()), default=None
        ),
        "express_inbox_p99_ms_by_span": express,
    }


def markdown_table(path: Path, model: dict[str, Any]) -> str:
    """The ledger span by span as a markdown table (BENCHMARKS.md's): speed, the express
    lane's latency, the broker's peak memory, and the commit each span ran at."""
    rows = [
        "| span | documents | docs/s | express p50 | p99 | p99 until routed | broker peak "
        "| commit; recorded (UTC) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for span, line in sorted(read_ledger(path, model).items()):
        summary = line["summary"]
        express = summary["express_inbox_latency_ms"]
        cells = [
            str(span) if passed(summary) else f"{span} (failed)",
            f"{summary['documents']:,}",
            f"{summary['docs_per_s']:.0f}",
            _ms(express["p50"]),
            _ms(express["p99"]),
            _ms(express["until_routed"]["p99"]),
            f"{(summary['broker_peak_rss_bytes'] or 0) / 2**30:.2f} GiB",
            f"{(line['commit'] or '?')[:7]}; {line['recorded_at'][5:16].replace('T', ' ')}",
        ]
        rows.append(f"| {' | '.join(cells)} |")
    return "\n".join(rows)


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} ms"


def run_span(model: dict[str, Any], span: int, timeout_s: float) -> dict[str, Any]:
    """``docbus replay --only-span`` for one span; its JSON summary."""
    command = [
        sys.executable,
        "-m",
        "shell.cli",
        "replay",
        "--json",
        "--year",
        str(model["year"]),
        "--scale",
        f"{model['scale']:g}",
        "--seed",
        str(model["seed"]),
        "--segments",
        str(model["segments"]),
        "--only-span",
        str(span),
        "--timeout",
        f"{timeout_s:g}",
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if not done.stdout.strip():  # it failed before it could summarise
        raise SystemExit(f"span {span}: docbus replay failed: {done.stderr[-2000:]}")
    summary: dict[str, Any] = json.loads(done.stdout)
    return summary


def head_commit() -> str:
    """The checked-out commit, short ('' outside a git tree)."""
    return subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()


def append(
    path: Path, model: dict[str, Any], span: int, summary: dict[str, Any], commit: str | None
) -> None:
    """Add one span's result to the ledger, with when and from which commit (HEAD's if None)."""
    theirs = {k: summary[k] for k in ("year", "scale", "seed")}
    if theirs != {k: model[k] for k in theirs}:
        raise SystemExit(f"that replay is of {theirs}, not of {model}")
    if commit is None:
        commit = head_commit()
    line = {
        **model,
        "span": span,
        "recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "commit": commit or None,
        "summary": summary,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as ledger:
        ledger.write(json.dumps(line, ensure_ascii=False) + "\n")


def run(args: argparse.Namespace, model: dict[str, Any]) -> None:
    """Run the missing spans (or ``--span``) in order (or largest first), each only if it
    fits in the budget."""
    lines = read_ledger(args.ledger, model)
    expected = span_documents(model)
    todo = (
        [args.span]
        if args.span
        else [
            i
            for i in range(1, len(expected) + 1)
            if i not in lines or not passed(lines[i]["summary"])
        ]
    )
    if args.largest_first:
        todo = largest_first(expected, todo)
    rates = [line["summary"]["docs_per_s"] for line in lines.values() if passed(line["summary"])]
    rate = min(rates) if rates else FIRST_GUESS_DOCS_PER_S  # the slowest seen: no overrun
    deadline = time.monotonic() + args.budget_min * 60
    for span in todo:
        guess_s = expected[span - 1] / rate
        if time.monotonic() + guess_s > deadline:
            print(f"span {span}: about {guess_s / 60:.0f} min, over the budget", file=sys.stderr)
            continue
        print(
            f"span {span}: {expected[span - 1]:,} documents, about {guess_s / 60:.0f} min",
            file=sys.stderr,
        )
        commit = head_commit()  # at the start: a commit made while the span runs is not its
        summary = run_span(model, span, timeout_s=max(3 * guess_s, 600.0))
        append(args.ledger, model, span, summary, commit=commit)
        if passed(summary):  # a slow hour slows the next spans' guesses too
            rate = min(rate, summary["docs_per_s"])
        print(json.dumps({"span": span, **{k: summary[k] for k in SUMMED}}), file=sys.stderr)
    print(json.dumps(summarise(args.ledger, model), indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("run", "summary", "add"))
    parser.add_argument("replay_json", nargs="?", type=Path, help="for add: its JSON output")
    parser.add_argument(
        "--ledger", type=Path, help="default: results/replay-YEAR-SCALE-SEGMENTS-spans.jsonl"
    )
    parser.add_argument("--year", type=int, default=2024)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--segments", type=int, default=24)
    parser.add_argument("--span", type=int, help="this span only (run, add)")
    parser.add_argument("--commit", help="add: the commit the span was run at (else HEAD)")
    parser.add_argument(
        "--markdown", action="store_true", help="summary: the spans as a markdown table"
    )
    parser.add_argument(
        "--largest-first", action="store_true", help="run: the spans with most documents first"
    )
    parser.add_argument(
        "--budget-min",
        type=float,
        default=60.0,
        help="run: start no span "
        "that would not end within this many minutes (at the slowest rate seen)",
    )
    args = parser.parse_args()
    model = {"year": args.year, "scale": args.scale, "seed": args.seed, "segments": args.segments}
    if args.ledger is None:
        args.ledger = default_ledger(model)
    if args.command == "run":
        run(args, model)
    elif args.command == "add":
        if args.span is None or args.replay_json is None:
            parser.error("add needs --span K and the replay's JSON output")
        summary = json.loads(args.replay_json.read_text(encoding="utf-8"))
        append(args.ledger, model, args.span, summary, commit=args.commit)
        print(json.dumps(summarise(args.ledger, model), indent=2))
    elif args.markdown:
        print(markdown_table(args.ledger, model))
    else:
        print(json.dumps(summarise(args.ledger, model), indent=2))


if __name__ == "__main__":
    main()
