"""Field scenario 1: a periodic sync job whose module-level dict accumulates.

Every run "fetches" a batch of customer records from an upstream (simulated:
JSON text decoded into dicts), pushes the changed ones downstream, and
remembers a summary of every record it synced in the module-level dict
_SYNCED, "so that the next run can skip records it already pushed". Record ids
are new on every run, so nothing is ever skipped and nothing is ever removed:
the dict grows by BATCH summaries per run, forever.

Leaking line: the one marked "# LEAK" in sync_once(): summarize() builds the
summary dict and its strings there and the dict store keeps them (the store
also resizes _SYNCED's table from that line).

Prints "ready PID" once set up, then runs every PERIOD seconds until killed.
Standard library only; runs on CPython 3.8 to 3.13.
"""

import json
import os
import sys
import time
import zlib

PERIOD = 0.02  # seconds between runs
BATCH = 8  # records per run

_SYNCED = {}  # record id -> summary of what was pushed (never pruned)


def fetch_batch(run):
    """Simulated upstream call: a page of records as parsed JSON (transient)."""
    first = run * BATCH
    rows = [
        {
            "id": first + i,
            "name": "customer-%06d" % (first + i),
            "email": "customer%d@example.test" % (first + i),
            "balance": ((first + i) * 37 % 100000) / 100.0,
            "tags": ["retail", "eu" if i % 2 else "us", "tier-%d" % (i % 3)],
        }
        for i in range(BATCH)
    ]
    return json.loads(json.dumps(rows))


def push_downstream(row):
    """Simulated downstream call: serialise and checksum (transient)."""
    body = json.dumps(row, sort_keys=True).encode()
    return zlib.crc32(body)


def summarize(row, checksum):
    return {
        "id": row["id"],
        "name": row["name"].title(),
        "email": row["email"].lower(),
        "page": "page-%d" % (row["id"] // BATCH),
        "checksum": "%08x" % checksum,
        "synced_at": time.time(),
        "source": "upstream page %d: %s <%s> %s" % (
            row["id"] // BATCH, row["name"], row["email"], ",".join(row["tags"])),
    }


def sync_once(run):
    pushed = 0
    for row in fetch_batch(run):
        if row["id"] in _SYNCED:
            continue
        checksum = push_downstream(row)
        _SYNCED[row["id"]] = summarize(row, checksum)  # LEAK
        pushed += 1
    return pushed


def main():
    run = 0
    sync_once(run)
    run += 1
    print("ready", os.getpid(), flush=True)
    while True:
        sync_once(run)
        run += 1
        time.sleep(PERIOD)


if __name__ == "__main__":
    sys.exit(main())
