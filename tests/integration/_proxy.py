"""A loopback TCP proxy for fault injection: forward to a database, cut the socket on cue.

Test utility only. It listens on 127.0.0.1 (an ephemeral port), forwards every accepted
connection to one loopback upstream (PostgreSQL, MariaDB), and can:

* ``cut_after(pattern)``: forward the next client chunk containing ``pattern`` (``b"COMMIT"``)
  to the server, then close both sockets at once, so the server receives and executes the
  statement but the client never sees the reply (the "lost COMMIT reply" fault);
* ``cut_before(pattern)``: close both sockets instead of forwarding the next client chunk
  containing ``pattern``: the statement never reaches the server (a drop before a write);
* ``cut_all()``: close every open connection now;
* ``fail_over(host, port)``, or ``fail_over=(host, port)`` on a cut: send new connections to
  another loopback upstream (a load balancer failing over between cluster nodes); with a
  cut, the switch happens before the sockets close, so the client's next connection,
  however soon, reaches the new upstream.

Everything is bounded: sockets have timeouts, threads are daemons, ``close()`` joins them
with a deadline, and the upstream must be a loopback address. Use plaintext connections
(``sslmode=disable`` for PostgreSQL), or the proxy cannot see the statements.
"""

from __future__ import annotations

import contextlib
import ipaddress
import select
import socket
import threading
import time
from dataclasses import dataclass, field

__all__ = ["CutEvent", "LoopbackProxy"]

_CHUNK = 65536


@dataclass
class CutEvent:
    """One injected fault: what triggered it and what was forwarded just before."""

    reason: str
    forwarded: bytes
    at: float = field(default_factory=time.monotonic)


class _Pair:
    def __init__(self, client: socket.socket, server: socket.socket) -> None:
        self.client = client
        self.server = server
        self.closed = False
        self.lock = threading.Lock()

    def close(self) -> None:
        with self.lock:
            if self.closed:
                return
            self.closed = True
        for s in (self.client, self.server):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()


class LoopbackProxy:
    """Forward 127.0.0.1:<port> to a loopback upstream, cutting connections on request."""

    def __init__(self, upstream_host: str, upstream_port: int):
        if not ipaddress.ip_address(socket.gethostbyname(upstream_host)).is_loopback:
            raise ValueError(f"the proxy only forwards to loopback, not {upstream_host!r}")
        self.upstream = (upstream_host, upstream_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        self._pairs: list[_Pair] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._armed: bytes | None = None
        self._forward = True
        self._then: tuple[str, int] | None = None
        self._armed_event = threading.Event()
        self.cuts: list[CutEvent] = []
        self.connections = 0
        self._accept_thread = threading.Thread(target=self._accept, daemon=True)
        self._accept_thread.start()

    # -- control ---------------------------------------------------------------------

    def cut_after(self, pattern: bytes, *, fail_over: tuple[str, int] | None = None) -> None:
        """Arm a one-shot cut: after forwarding a client chunk holding ``pattern``."""
        self._arm(pattern, forward=True, fail_over=fail_over)

    def cut_before(self, pattern: bytes, *, fail_over: tuple[str, int] | None = None) -> None:
        """Arm a one-shot cut: drop the client chunk holding ``pattern`` and close."""
        self._arm(pattern, forward=False, fail_over=fail_over)

    def fail_over(self, host: str, port: int) -> None:
        """New connections go to ``host:port`` (loopback only); open ones are left alone."""
        if not ipaddress.ip_address(socket.gethostbyname(host)).is_loopback:
            raise ValueError(f"the proxy only forwards to loopback, not {host!r}")
        with self._lock:
            self.upstream = (host, port)

    def _arm(
        self, pattern: bytes, *, forward: bool, fail_over: tuple[str, int] | None = None
    ) -> None:
        if (
            fail_over is not None
            and not ipaddress.ip_address(socket.gethostbyname(fail_over[0])).is_loopback
        ):
            raise ValueError(f"the proxy only forwards to loopback, not {fail_over[0]!r}")
        with self._lock:
            self._armed = pattern.upper()
            self._forward = forward
            self._then = fail_over
            self._armed_event.clear()

    def disarm(self) -> None:
        with self._lock:
            self._armed = None

    def wait_cut(self, timeout: float) -> bool:
        """Wait until the armed cut happened."""
        return self._armed_event.wait(timeout)

    def cut_all(self, reason: str = "cut_all") -> int:
        """Close every open connection now; returns how many were open."""
        with self._lock:
            pairs = [p for p in self._pairs if not p.closed]
        for p in pairs:
            p.close()
        self.cuts.append(CutEvent(reason, b""))
        return len(pairs)

    def close(self) -> None:
        self._stop.set()
        self.cut_all("close")
        self._listener.close()
        deadline = time.monotonic() + 5
        for t in [self._accept_thread, *self._threads]:
            t.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> LoopbackProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- forwarding --------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                upstream = self.upstream
            try:
                server = socket.create_connection(upstream, timeout=5)
            except OSError:
                client.close()
                continue
            pair = _Pair(client, server)
            with self._lock:
                self._pairs.append(pair)
                self.connections += 1
            t = threading.Thread(target=self._pump, args=(pair,), daemon=True)
            self._threads.append(t)
            t.start()

    def _pump(self, pair: _Pair) -> None:
        tail = b""
        try:
            while not pair.closed and not self._stop.is_set():
                ready, _, _ = select.select([pair.client, pair.server], [], [], 0.2)
                if not ready:
                    continue
                for sock in ready:
                    data = sock.recv(_CHUNK)
                    if not data:
                        pair.close()
                        return
                    if sock is pair.client:
                        window = (tail + data).upper()
                        tail = data[-32:]
                        with self._lock:
                            armed, forward = self._armed, self._forward
                            hit = armed is not None and armed in window
                            if hit:
                                self._armed = None
                                if self._then is not None:  # fail over before the cut
                                    self.upstream, self._then = self._then, None
                        if not hit or forward:
                            pair.server.sendall(data)
                        if hit:
                            # After: the server got the statement (TCP delivers it before the
                            # FIN) and the client never sees the reply. Before: nobody sees it.
                            pair.close()
                            where = "after forwarding" if forward else "instead of forwarding"
                            self.cuts.append(CutEvent(f"cut {where} {armed!r}", data))
                            self._armed_event.set()
                            return
                    else:
                        pair.client.sendall(data)
        except OSError:
            pair.close()
