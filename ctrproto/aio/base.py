"""What the asyncio client needs from a transport: the async twin of ``transport.base``.

The same two small interfaces as the sync side, with the blocking calls made awaitable.  ``close``
stays synchronous on purpose: it must work from a cancellation handler or a ``finally`` block
without awaiting, and it must take effect at once (a cancelled follow stream gives its socket
back to the OS before the cancellation has finished propagating).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable
from typing import Protocol, TypeVar, runtime_checkable

from ..protocol.body import Buffer

T = TypeVar("T")


@runtime_checkable
class AsyncStream(Protocol):
    """A connected, bidirectional byte stream driven by the running event loop."""

    async def send_all(self, data: Buffer) -> None:
        """Send every byte (waiting while the peer is slow) or raise."""

    async def recv(self, size: int) -> bytes:
        """At most ``size`` bytes; ``b""`` when the peer closed its side."""

    async def shutdown_write(self) -> None:
        """Half-close: the peer sees end-of-file, we can still read its answer."""

    def idle_ok(self) -> bool:
        """For an idle pooled stream: True when the peer has neither closed it nor sent bytes."""

    def close(self) -> None:
        """Release the stream now; idempotent, callable from any state."""

    @property
    def closed(self) -> bool: ...


@runtime_checkable
class AsyncTransport(Protocol):
    """Opens streams to one daemon endpoint."""

    host_header: str

    async def connect(self) -> AsyncStream:
        """A new stream, raising ``DockerConnectionError`` (timeouts are the caller's)."""

    def close(self) -> None:
        """Release shared resources (an SSH session, worker threads)."""

    def describe(self) -> str:
        """The address in a form safe to put in error messages (no secrets)."""


async def bounded(awaitable: Awaitable[T], seconds: float | None) -> T:
    """Await with a time limit (``None``: none); raises the builtin ``TimeoutError``.

    The limit cancels the awaiting code, so a stream read cut by it closes its stream through the
    same path as any other cancellation.
    """
    if seconds is None:
        return await awaitable
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(seconds):
            return await awaitable
    try:
        return await asyncio.wait_for(awaitable, seconds)
    except asyncio.TimeoutError as exc:  # not yet the builtin TimeoutError before 3.11
        raise TimeoutError(f"no result within {seconds:g} s") from exc
