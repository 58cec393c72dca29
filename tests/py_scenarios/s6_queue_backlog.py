"""Field scenario 6: producers outpace the consumer of an unbounded queue.

Two producer threads each put a job on a queue.Queue() (unbounded) every
PRODUCER_PERIOD seconds; the single consumer takes one every CONSUMER_PERIOD
seconds. The backlog, and the memory of the jobs waiting in it, grows without
limit.

Leaking line: the one marked "# LEAK" in producer(): make_job() builds the
job (dict, strings, payload) and put() stores it in the queue's deque (whose
blocks are also allocated there). The consumer frees the oldest jobs, which
were queued long before any tracer attached.

Prints "ready PID", then produces and consumes until killed. Standard library
only; runs on CPython 3.8 to 3.13.
"""

import os
import queue
import sys
import threading
import time

PRODUCERS = 2
PRODUCER_PERIOD = 0.005
CONSUMER_PERIOD = 0.02

jobs = queue.Queue()


def make_job(worker, seq):
    return {
        "worker": worker,
        "seq": seq,
        "created": time.time(),
        "kind": "thumbnail",
        "path": "/srv/uploads/%d/%08d.jpg" % (worker, seq),
        "params": {"width": 320, "height": 240, "quality": 80 + seq % 10},
        "payload": ("%d:%d;" % (worker, seq)) * 40,
    }


def producer(worker):
    seq = 0
    while True:
        jobs.put(make_job(worker, seq))  # LEAK
        seq += 1
        time.sleep(PRODUCER_PERIOD)


def consumer():
    done = 0
    while True:
        job = jobs.get()
        done += len(job["payload"])
        jobs.task_done()
        time.sleep(CONSUMER_PERIOD)


def main():
    threads = [threading.Thread(target=producer, args=(w,), daemon=True, name="producer-%d" % w)
               for w in range(PRODUCERS)]
    threads.append(threading.Thread(target=consumer, daemon=True, name="consumer"))
    for t in threads:
        t.start()
    print("ready", os.getpid(), flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
