"""Field scenario 3: one logger per connection, kept forever by logging's
manager.

A connection manager gives each connection its own logger named
"Connection.<id>" so that its lines can be told apart. logging.getLogger()
never forgets a logger: the manager's loggerDict (and the "Connection"
placeholder's loggerMap) keeps every one of them, with its attribute dict,
handler and filter lists and level cache, long after the connection closed.
Connection ids only grow, so memory grows with every connection.

Leaking line: the one marked "# LEAK" in Connection.__init__(): the
getLogger() call there creates the Logger (and its name string) that the
manager keeps.

Prints "ready PID" once set up, then handles CONNS_PER_TICK simulated
connections every PERIOD seconds until killed. Standard library only; runs on
CPython 3.8 to 3.13.
"""

import logging
import os
import sys
import time

PERIOD = 0.02
CONNS_PER_TICK = 3


class Connection:
    def __init__(self, conn_id, peer):
        self.id = conn_id
        self.peer = peer
        self.log = logging.getLogger("Connection.%d" % conn_id)  # LEAK
        self.sent = 0

    def handle(self, request):
        self.log.debug("request from %s: %r", self.peer, request[:20])
        reply = ("HTTP/1.0 200 OK\r\nX-Conn: %d\r\n\r\n" % self.id).encode() + request[::-1]
        self.sent += len(reply)
        return reply

    def close(self):
        self.log.debug("closed after %d bytes", self.sent)


class ConnectionManager:
    def __init__(self):
        self.next_id = 1
        self.active = {}

    def accept(self, peer):
        conn = Connection(self.next_id, peer)
        self.next_id += 1
        self.active[conn.id] = conn
        return conn

    def release(self, conn):
        conn.close()
        del self.active[conn.id]


def main():
    logging.basicConfig(level=logging.WARNING)
    manager = ConnectionManager()
    print("ready", os.getpid(), flush=True)
    n = 0
    while True:
        for _ in range(CONNS_PER_TICK):
            conn = manager.accept(("10.0.%d.%d" % (n // 250 % 250, n % 250), 40000 + n % 20000))
            conn.handle(b"GET /item/%d HTTP/1.0\r\n\r\n" % n)
            manager.release(conn)
            n += 1
        time.sleep(PERIOD)


if __name__ == "__main__":
    sys.exit(main())
