"""The asyncio world's backend: event-loop streams, tasks, the loop's clock (see the package
docstring)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
)
from typing import Any, TypeVar

from ..engine.upload import body_piece, iter_body
from ..protocol.buffer import Buffer
from ..transport.asyncio_streams import make_async_transport
from ..transport.base import AsyncStream

T = TypeVar("T")
R = TypeVar("R")

make_transport = make_async_transport
Lock = asyncio.Lock
#: One event loop runs every task, and nothing awaits inside these sections: no lock needed.
StateLock = contextlib.nullcontext
monotonic = time.monotonic
sleep = asyncio.sleep


class Reader:
    """One read at a time of up to ``size`` bytes.  asyncio's reader hands out fresh bytes, so
    there is no buffer to reuse: copying them into one would only add a copy."""

    __slots__ = ("size",)

    def __init__(self, size: int) -> None:
        self.size = size

    async def read(self, stream: AsyncStream) -> Buffer:
        return await stream.recv(self.size)


async def gather_reads(stream: AsyncStream, seconds: float) -> None:
    """Wait before the next read so that it takes more at once (a stream that cannot hold its
    reads back, such as an SSH channel buffered by its own thread, simply waits)."""
    hold = getattr(stream, "gather", None)
    if hold is None:
        await asyncio.sleep(seconds)
    else:
        await hold(seconds)


async def run_concurrently(
    func: Callable[[T], Awaitable[R]], items: Iterable[T], limit: int
) -> list[R]:
    gate = asyncio.Semaphore(limit)

    async def gated(item: T) -> R:
        async with gate:
            return await func(item)

    return list(await asyncio.gather(*(gated(item) for item in items)))


def deferred(opener: Callable[[], Awaitable[Any]]) -> DeferredStream:
    return DeferredStream(opener)


class DeferredStream(AsyncIterator[Any]):
    """A facade stream under asyncio: opened by its first ``__anext__`` (a method like
    ``container.logs(stream=True)`` cannot await), then the client's stream, whose ``close()``
    (from another task, or a thread through ``loop.call_soon_threadsafe``) ends an iteration
    blocked on a read.  Closed before it opened, it never opens."""

    def __init__(self, opener: Callable[[], Awaitable[Any]]) -> None:
        self._opener: Callable[[], Awaitable[Any]] | None = opener
        self._stream: Any = None
        self._closed = False

    def __aiter__(self) -> DeferredStream:
        return self

    async def __anext__(self) -> Any:
        if self._stream is None:
            opener, self._opener = self._opener, None
            if self._closed or opener is None:
                raise StopAsyncIteration
            stream = await opener()
            if self._closed:  # closed while it opened
                await _aclose(stream)
                raise StopAsyncIteration
            self._stream = stream
        return await self._stream.__anext__()

    def close(self) -> None:
        self._closed = True
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()

    async def aclose(self) -> None:
        self._closed = True
        if self._stream is not None:
            await _aclose(self._stream)


async def _aclose(stream: Any) -> None:
    close = getattr(stream, "aclose", None)
    if close is not None:
        await close()


def upload_body(data: object, chunk_size: int) -> AsyncIterator[bytes]:
    """As the sync world's, and an async iterable too (its pieces checked as they come).  A file
    is read in the event loop: pass an async iterable to read it elsewhere."""
    if isinstance(data, AsyncIterable):
        return _checked(data)
    return _from_sync(iter_body(data, chunk_size))


async def _checked(data: AsyncIterable[object]) -> AsyncGenerator[bytes, None]:
    async for piece in data:
        yield body_piece(piece)


async def _from_sync(pieces: Iterable[bytes]) -> AsyncGenerator[bytes, None]:
    for piece in pieces:
        yield piece
