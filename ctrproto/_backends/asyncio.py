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


async def run_concurrently(
    func: Callable[[T], Awaitable[R]], items: Iterable[T], limit: int
) -> list[R]:
    gate = asyncio.Semaphore(limit)

    async def gated(item: T) -> R:
        async with gate:
            return await func(item)

    return list(await asyncio.gather(*(gated(item) for item in items)))


async def deferred(opener: Callable[[], Awaitable[Any]]) -> AsyncGenerator[Any, None]:
    stream = await opener()
    try:
        async for item in stream:
            yield item
    finally:
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
