"""A slow-connection flood (slowloris) for the receiver tests, run as its own process.

``python tests/support/slow_clients.py HOST PORT COUNT`` keeps COUNT connections open to HOST:PORT,
each sending the start of a request one byte at a time and never finishing its headers; a
connection the server closes is opened again, so the pressure stays. It prints ``ready``
once every connection was attempted, and on SIGTERM one JSON line of counts
(``closed_by_server``: connections the server shed or timed out).

A process of its own: the flood's sockets must not count against the file limit of the
test process, and a soak test can run two of them to pass the 1,024 descriptors of one.
"""

from __future__ import annotations

import json
import resource
import signal
import socket
import sys
import time

REQUEST_START = b"POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


class Flood:
    def __init__(self, host: str, port: int, count: int, interval: float = 0.5) -> None:
        self.address = (host, port)
        self.count = count
        self.interval = interval
        self.sockets: list[tuple[socket.socket, int]] = []  # (socket, bytes sent)
        self.opened = 0
        self.closed_by_server = 0
        self.failed_connects = 0

    def _open(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            sock.connect(self.address)
        except BlockingIOError:
            pass  # completes in the background (or never: the backlog is full)
        except OSError:
            self.failed_connects += 1
            sock.close()
            return
        self.opened += 1
        self.sockets.append((sock, 0))

    def fill(self) -> None:
        while len(self.sockets) < self.count:
            self._open()

    def tick(self) -> None:
        """Send one more byte on every connection; replace those the server closed."""
        alive: list[tuple[socket.socket, int]] = []
        for sock, sent in self.sockets:
            if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                self.failed_connects += 1  # refused or reset before it was accepted
                sock.close()
                continue
            try:
                sock.getpeername()
            except OSError:
                alive.append((sock, sent))  # still connecting (the backlog is full)
                continue
            closed = False
            try:
                if sock.recv(4096) == b"":
                    closed = True
            except BlockingIOError:
                pass
            except OSError:
                closed = True
            if not closed:
                data = REQUEST_START[sent : sent + 1] or b"a"
                try:
                    sock.send(data)
                    sent += 1
                except (BlockingIOError, InterruptedError):
                    pass  # not connected yet, or the server stopped reading
                except OSError:
                    closed = True
            if closed:
                self.closed_by_server += 1
                sock.close()
            else:
                alive.append((sock, sent))
        self.sockets = alive
        self.fill()

    def counts(self) -> dict[str, int]:
        return {
            "open": len(self.sockets),
            "opened": self.opened,
            "closed_by_server": self.closed_by_server,
            "failed_connects": self.failed_connects,
        }


def main(argv: list[str]) -> int:
    host, port, count = argv[0], int(argv[1]), int(argv[2])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = count + 64
    if soft < wanted and (hard == resource.RLIM_INFINITY or hard >= wanted):
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    flood = Flood(host, port, count)
    stop = False

    def on_term(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    flood.fill()
    print("ready", flush=True)
    while not stop:
        flood.tick()
        time.sleep(flood.interval)
    print(json.dumps(flood.counts()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
