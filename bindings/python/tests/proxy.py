"""A loopback TCP relay that records what the client does with its connections.

``Proxy(upstream_url)`` listens on a free port and relays every accepted connection to the
upstream server (ycm-mock), byte for byte. For each connection it records when the client
opened it, how many bytes the client sent, and when the client closed it (EOF or reset), so
a test can tell whether a cancelled call's connection was closed and whether the next call
used a new one. ycm-mock keeps no per-connection counters; this relay is the server-side
view of the connections.
"""

from __future__ import annotations

import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass
from typing import List, Optional


@dataclass
class Connection:
    opened: float
    sent: int = 0
    closed: Optional[float] = None  # when the client closed its side


class Proxy:
    def __init__(self, upstream_url: str) -> None:
        parts = urllib.parse.urlsplit(upstream_url)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.connections: List[Connection] = []
        self._lock = threading.Lock()
        self._closing = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            record = Connection(opened=time.monotonic())
            with self._lock:
                self.connections.append(record)
            upstream = socket.create_connection(self._upstream)
            threading.Thread(target=self._pump, args=(client, upstream, record), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, None), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, record: Optional[Connection]) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if record is not None:
                    record.sent += len(data)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            if record is not None:
                record.closed = time.monotonic()
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def snapshot(self) -> List[Connection]:
        with self._lock:
            return [Connection(c.opened, c.sent, c.closed) for c in self.connections]

    def wait_closed(self, index: int, timeout: float = 10.0) -> Optional[float]:
        """When the client closed connection ``index``; None if not within ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                closed = self.connections[index].closed
            if closed is not None:
                return closed
            time.sleep(0.01)
        return None

    def close(self) -> None:
        self._closing = True
        self._listener.close()
