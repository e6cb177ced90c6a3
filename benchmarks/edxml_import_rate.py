"""Benchmark: how many edXML messages a second one process imports.

Prints one JSON object. Usage:
    python benchmarks/edxml_import_rate.py [--rounds 3] [--seconds 3]

Two real messages from ``tests/data/edxml/real``: a status message as the national SDK
writes it (about 2 KB), and the Government Office's revoke message with its attachment
replaced by 1 MB of random bytes (base64 in 76-character lines). Each is imported over and
over for ``--seconds`` per round into a blob store on disk (the attachment decoded, hashed
and stored, as ``docbus edxml import`` does); the figures are the median round's messages
per second and CPU milliseconds per message.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from docbus import BlobStore
from docbus.edxml import import_edxml

REAL = Path(__file__).parent.parent / "tests/data/edxml/real"
STATUS = REAL / "tltvbqn/status_rejection_02.edxml"
DOCUMENT = REAL / "tltvbqn/edoc_revocation.edxml"
_ENCODED = '<edXML:ContentTransferEncoded xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016">'


def with_attachment(size_bytes: int) -> bytes:
    """The revoke message with a ``size_bytes`` attachment of random bytes."""
    head, rest = DOCUMENT.read_bytes().decode("utf-8").split(_ENCODED, 1)
    _, tail = rest.split("</edXML:ContentTransferEncoded>", 1)
    body = base64.encodebytes(os.urandom(size_bytes)).decode("ascii")
    return f"{head}{_ENCODED}{body}</edXML:ContentTransferEncoded>{tail}".encode()


def rate(message: bytes, blobs: BlobStore, seconds: float) -> dict[str, float]:
    """Import ``message`` repeatedly for ``seconds``: messages/s and CPU ms a message."""
    count = 0
    wall, cpu = time.perf_counter(), time.process_time()
    while time.perf_counter() - wall < seconds:
        import_edxml(message, blobs=blobs)
        count += 1
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"messages_per_s": count / wall, "cpu_ms_per_message": 1000 * cpu / count}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    messages = {"status_2kb": STATUS.read_bytes(), "document_1mb": with_attachment(1 << 20)}
    result: dict[str, object] = {
        "python": platform.python_version(),
        "rounds": args.rounds,
        "bytes": {k: len(v) for k, v in messages.items()},
    }
    with tempfile.TemporaryDirectory() as tmp:
        blobs = BlobStore(Path(tmp))
        for name, message in messages.items():
            rounds = [rate(message, blobs, args.seconds) for _ in range(args.rounds)]
            median = statistics.median(r["messages_per_s"] for r in rounds)
            middle = next(r for r in rounds if r["messages_per_s"] == median)
            result[name] = {
                "messages_per_s": round(middle["messages_per_s"], 1),
                "cpu_ms_per_message": round(middle["cpu_ms_per_message"], 3),
                "all_rounds_per_s": [round(r["messages_per_s"], 1) for r in rounds],
            }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
