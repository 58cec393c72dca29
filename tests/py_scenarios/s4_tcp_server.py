"""Field scenario 4: a TCP server that keeps every connection object.

A small request/response server (loopback only, ephemeral port) wraps each
accepted socket in a ClientConnection holding the peer address, the raw
request, its parsed headers and the response, and appends it to the global
list CONNECTIONS "for the status page". Nothing ever removes them: the
socket is closed after the response, but the connection object and
everything it references stay, one per request, forever.

A client thread in the same process plays the load: one request every
CLIENT_PERIOD seconds, at most MAX_CLIENT_CONNECTIONS in total (bounded so
that a forgotten process cannot run forever at full speed).

Leaking line: the one marked "# LEAK" in serve_forever(): the accept and the
handling (request bytes from recv, header dict, response) happen under that
line, and the append keeps the result.

Prints "ready PID" once the server listens and the client runs; then serves
until killed. Standard library only; runs on CPython 3.8 to 3.13.
"""

import os
import socket
import sys
import threading
import time

CLIENT_PERIOD = 0.02
MAX_CLIENT_CONNECTIONS = 200000
BODY_SIZE = 1500

CONNECTIONS = []  # every connection ever served (the leak)


class ClientConnection:
    def __init__(self, sock, addr):
        self.sock = sock
        self.addr = addr
        self.opened = time.time()
        self.request = b""
        self.headers = {}
        self.response = b""

    def read_request(self):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        want = int(self.headers.get("Content-Length", "0"))
        while len(body) < want:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            body += chunk
        self.request = head + b"\r\n\r\n" + body

    def respond(self):
        self.response = b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (
            len(self.request) % 1000, b"k" * (len(self.request) % 1000))
        self.sock.sendall(self.response)
        self.sock.close()


def handle(sock, addr):
    conn = ClientConnection(sock, addr)
    conn.read_request()
    conn.respond()
    return conn


def serve_forever(srv):
    while True:
        CONNECTIONS.append(handle(*srv.accept()))  # LEAK


def client(port):
    for n in range(MAX_CLIENT_CONNECTIONS):
        body = (b"item=%d&payload=" % n) + b"x" * BODY_SIZE
        req = (b"POST /upload HTTP/1.0\r\nHost: 127.0.0.1\r\nUser-Agent: scenario-4\r\n"
               b"X-Request-Id: %d\r\nContent-Length: %d\r\n\r\n" % (n, len(body))) + body
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(req)
            while s.recv(65536):
                pass
        time.sleep(CLIENT_PERIOD)


def main():
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    port = srv.getsockname()[1]
    threading.Thread(target=client, args=(port,), daemon=True, name="client").start()
    print("ready", os.getpid(), port, flush=True)
    serve_forever(srv)


if __name__ == "__main__":
    sys.exit(main())
