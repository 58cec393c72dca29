"""Field scenario 2: create_logger() adds one more handler to the root logger
on every job run.

A job runner calls create_logger() at the start of every run, as the job's
"logging setup". create_logger() builds a StreamHandler and adds it to the
ROOT logger, which keeps it (root.handlers, plus logging's module-level
weak-reference list _handlerList). Nothing ever removes it, so every run adds
one handler: memory grows and every log line is written once per run so far
(in the field, the symptom was duplicated log lines).

Leaking line: the one marked "# LEAK" in create_logger(): it builds the
handler (object, attribute dict, lock, filter list, weakref in _handlerList)
that root.addHandler() keeps. The formatter is shared, as it usually is.

Prints "ready PID" once set up, then runs a job every PERIOD seconds until
killed. Standard library only; runs on CPython 3.8 to 3.13.
"""

import logging
import os
import sys
import time

PERIOD = 0.03  # seconds between job runs
LOG_EVERY = 10  # runs between two progress lines

# The log file; /dev/null so that the duplicated lines cost no disk.
_LOG_STREAM = open(os.devnull, "w")
_FORMATTER = logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s")


def create_logger(name):
    """Logging setup done at the start of each job run (the bug: every call
    adds a handler to the root logger)."""
    logger = logging.getLogger(name)
    handler = logging.StreamHandler(_LOG_STREAM)  # LEAK
    handler.setFormatter(_FORMATTER)
    logging.getLogger().addHandler(handler)
    return logger


def run_job(run):
    log = create_logger("jobs.report")
    rows = [{"n": i, "square": i * i} for i in range(50)]
    total = sum(r["square"] for r in rows)
    if run % LOG_EVERY == 0:
        log.info("run %d: %d rows, total %d", run, len(rows), total)
    return total


def main():
    logging.getLogger().setLevel(logging.INFO)
    run = 0
    run_job(run)
    run += 1
    print("ready", os.getpid(), flush=True)
    while True:
        run_job(run)
        run += 1
        time.sleep(PERIOD)


if __name__ == "__main__":
    sys.exit(main())
