"""Benchmark: what tracking costs per record, step by step, without a broker.

Prints one JSON object. Usage:
    python benchmarks/tracker_costs.py [--documents N] [--batch-records B]
Documents from the workload mix and their 01 and 03 notices are decoded as the router
decodes them, then timed through each step: Tracker.on_document and apply_notice (the
router's event loop), pickling the pending changes (the router, on their way to the
writer process), unpickling them and write_changes into SQLite (the writer process).
Then the writer's work again the way the router hands it over (``writer_batched_*``): a
fresh store, documents in batches of B, then their notices in batches of B, each batch
its own transaction, as when a router drains a backlog.
"""

from __future__ import annotations

import argparse
import json
import pickle
import tempfile
import time
from pathlib import Path

from docbus.directory import Directory
from docbus.process import tune_service_heap
from producers.simulation import DocumentMix
from router.tracking import Tracker, open_store
from router.tracking._tracker import PendingChanges, write_changes
from schemas import Codec, DocumentEnvelope, StatusNotice


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--batch-records", type=int, default=5000)
    args = parser.parse_args()

    codec = Codec()
    mix = DocumentMix(Directory.load(), seed=args.seed).documents(args.documents)
    docs = [codec.decode(codec.encode(d)) for d in mix]
    deliveries = [[(r, r) for r in d.recipients if not r.startswith("group:")] for d in docs]
    notices = [
        codec.decode(
            codec.encode(
                StatusNotice.about(doc, from_agency=r, to_agency=doc.sender, status_code=code)
            )
        )
        for doc, pairs in zip(docs, deliveries, strict=True)
        for r, _ in pairs
        for code in ("01", "03")
    ]
    with tempfile.TemporaryDirectory() as state:
        store = open_store(dsn=None, state_dir=Path(state))
        tracker = Tracker(store)
        tune_service_heap()  # as the router process does once started
        t0 = time.perf_counter()
        for doc, pairs in zip(docs, deliveries, strict=True):
            tracker.on_document(DocumentEnvelope.of(doc), pairs)
        t1 = time.perf_counter()
        doc_changes = tracker.take_changes()
        doc_blob = pickle.dumps(doc_changes, protocol=pickle.HIGHEST_PROTOCOL)
        t2 = time.perf_counter()
        for notice in notices:
            tracker.apply_notice(notice)
        t3 = time.perf_counter()
        notice_changes = tracker.take_changes()
        notice_blob = pickle.dumps(notice_changes, protocol=pickle.HIGHEST_PROTOCOL)
        t4 = time.perf_counter()
        pickle.loads(doc_blob)
        pickle.loads(notice_blob)
        t5 = time.perf_counter()
        write_changes(store, tracker.calendar, doc_changes)
        t6 = time.perf_counter()
        write_changes(store, tracker.calendar, notice_changes)
        t7 = time.perf_counter()
        store.close()

        batched = open_store(dsn=None, state_dir=Path(state) / "batched")
        size = args.batch_records

        def in_batches(rows: list, field: str) -> None:  # type: ignore[type-arg]
            for start in range(0, len(rows), size):
                part = PendingChanges(**{field: rows[start : start + size]})
                write_changes(batched, tracker.calendar, part)

        t8 = time.perf_counter()
        in_batches(doc_changes.documents, "documents")
        t9 = time.perf_counter()
        in_batches(notice_changes.notices, "notices")
        t10 = time.perf_counter()
        batched.close()

    def per(seconds: float, count: int) -> float:
        return round(seconds / count * 1e6, 2)

    n, m = len(docs), len(notices)
    print(
        json.dumps(
            {
                "benchmark": "tracker_costs",
                "documents": n,
                "notices": m,
                "router_on_document_us": per(t1 - t0, n),
                "router_pickle_document_us": per(t2 - t1, n),
                "router_apply_notice_us": per(t3 - t2, m),
                "router_pickle_notice_us": per(t4 - t3, m),
                "writer_unpickle_us_per_record": per(t5 - t4, n + m),
                "writer_write_document_us": per(t6 - t5, n),
                "writer_write_notice_us": per(t7 - t6, m),
                "batch_records": size,
                "writer_batched_document_us": per(t9 - t8, n),
                "writer_batched_notice_us": per(t10 - t9, m),
            }
        )
    )


if __name__ == "__main__":
    main()
