"""A keep-alive pool of streams to one daemon.

Only streams whose last exchange ended cleanly come back here (the driver decides that); before
one is handed out again it is checked with ``idle_ok``, so a connection the daemon closed while
it sat idle is dropped instead of failing the next request.  The sync twin is shared by threads,
so the idle list is guarded by the backend's ``StateLock``.
"""

from __future__ import annotations

from collections import deque

from .._backends import asyncio as backend
from ..errors import DockerConnectionError
from ..transport.base import AsyncStream, AsyncTransport


class AsyncConnectionPool:
    def __init__(self, transport: AsyncTransport, max_idle: int = 10) -> None:
        self.transport = transport
        self.max_idle = max_idle
        self._idle: deque[AsyncStream] = deque()
        self._lock = backend.StateLock()
        self._closed = False
        #: Streams opened over the pool's life (the reliability tests and benchmarks read it).
        self.opened = 0

    async def acquire(self, timeout: float | None) -> tuple[AsyncStream, bool]:
        """A stream for one exchange, and whether it is a reused (kept-alive) one."""
        while True:
            with self._lock:
                self._check_open()
                stream = self._idle.pop() if self._idle else None
            if stream is None:
                break
            if stream.idle_ok():
                return stream, True
            stream.close()
        stream = await self.transport.connect(timeout)
        with self._lock:
            self.opened += 1
            closed = self._closed
        if closed:  # closed while we connected: nothing may use the new stream
            stream.close()
            self._check_open()
        return stream, False

    def _check_open(self) -> None:
        if self._closed:
            raise DockerConnectionError("the client has been closed")

    def release(self, stream: AsyncStream) -> None:
        """Give back a stream whose exchange completed and may carry another."""
        with self._lock:
            if not self._closed and not stream.closed and len(self._idle) < self.max_idle:
                self._idle.append(stream)
                return
        stream.close()

    @property
    def idle_count(self) -> int:
        with self._lock:
            return len(self._idle)

    def idle_streams(self) -> list[AsyncStream]:
        with self._lock:
            return list(self._idle)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = list(self._idle), deque()
        for stream in idle:
            stream.close()
        self.transport.close()
