"""A keep-alive pool of async streams to one daemon, for one event loop.

The same rules as the sync pool: only streams whose exchange ended cleanly come back, and an idle
one is checked before reuse.  No lock is needed: nothing here awaits between looking at the idle
list and changing it, so no other task can run in between.
"""

from __future__ import annotations

from collections import deque

from ..errors import DockerConnectionError
from .base import AsyncStream, AsyncTransport


class AsyncConnectionPool:
    def __init__(self, transport: AsyncTransport, max_idle: int = 10) -> None:
        self.transport = transport
        self.max_idle = max_idle
        self._idle: deque[AsyncStream] = deque()
        self._closed = False
        #: Streams opened over the pool's life (tests read it to prove reuse and non-reuse).
        self.opened = 0

    async def acquire(self) -> tuple[AsyncStream, bool]:
        """A stream for one exchange, and whether it is a reused (kept-alive) one."""
        while self._idle:
            stream = self._idle.pop()
            if stream.idle_ok():
                return stream, True
            stream.close()
        if self._closed:
            raise DockerConnectionError("the client has been closed")
        stream = await self.transport.connect()
        self.opened += 1
        if self._closed:  # closed while we connected
            stream.close()
            raise DockerConnectionError("the client has been closed")
        return stream, False

    def release(self, stream: AsyncStream) -> None:
        """Give back a stream whose exchange completed and may carry another."""
        if not self._closed and not stream.closed and len(self._idle) < self.max_idle:
            self._idle.append(stream)
            return
        stream.close()

    @property
    def idle_count(self) -> int:
        return len(self._idle)

    def idle_streams(self) -> list[AsyncStream]:
        return list(self._idle)

    def close(self) -> None:
        self._closed = True
        idle, self._idle = list(self._idle), deque()
        for stream in idle:
            stream.close()
        self.transport.close()
