"""The seeds' log processor's CPU path, as its design documents describe it (log_processor.py):
download the object, gunzip it whole, parse Vector's records (NDJSON, or one JSON array), keep
each record's message, and hand the messages on for CloudWatch Logs. Here they are handed to an
in-memory sink in PutLogEvents-sized batches instead of the seeds' Vector subprocess, so this is
faster than the seeds' processor, not slower: a generous baseline.

    python3 bench/seeds_processor.py FILE.ndjson.gz   -> one JSON line: events, seconds, mb
"""

import gzip
import json
import sys
import time

MAX_BATCH_BYTES = 1_048_576
MAX_BATCH_EVENTS = 10_000
EVENT_OVERHEAD = 26


def main(path: str) -> None:
    started = time.perf_counter()
    with open(path, "rb") as f:
        raw = gzip.decompress(f.read())
    text = raw.decode("utf-8")
    stripped = text.lstrip()
    records = json.loads(stripped) if stripped.startswith("[") else (json.loads(line) for line in text.splitlines() if line)
    batches = 0
    events = 0
    batch_bytes = 0
    batch = []
    for record in records:
        message = record.get("message")
        if not isinstance(message, str):
            message = json.dumps(record)
        size = len(message.encode("utf-8")) + EVENT_OVERHEAD
        if batch and (batch_bytes + size > MAX_BATCH_BYTES or len(batch) >= MAX_BATCH_EVENTS):
            batches += 1
            batch = []
            batch_bytes = 0
        batch.append((record.get("timestamp"), message))
        batch_bytes += size
        events += 1
    if batch:
        batches += 1
    seconds = time.perf_counter() - started
    print(json.dumps({"events": events, "batches": batches, "seconds": seconds, "mb": len(raw) / 1_000_000}))


if __name__ == "__main__":
    main(sys.argv[1])
