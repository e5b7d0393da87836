"""The streams client methods return over a connection: iterable, and closable from anywhere.

docker-py's ``CancellableStream`` contract, which working code relies on::

    stream = api.logs(container, stream=True, follow=True)
    threading.Timer(1, stream.close).start()
    for line in stream:  # ends quietly once close() ran, even while a read was blocked
        ...

A generator cannot do that: closing one while another thread runs it raises ``ValueError:
generator already executing``.  So a stream is this object around the generator.  ``close()``
never touches a generator that is running: it marks the stream ended and wakes the blocked read
(``abort()``: the socket shut down both ways, the SSH channel closed), and the reading side, seeing
the failure of a closed stream, ends the iteration (no exception) and drops the connection, which
goes back to no pool.  When nothing is reading, ``close()`` releases the connection itself.

Speed: the generator underneath hands out *lists* of items (what one network read completed), so
the per-item path is a list's: in the sync world ``iter()`` gives an ``itertools.chain`` over the
lists, and a ``for`` loop over it runs no Python code between two reads.  Under asyncio "another
thread" is another task (or a thread via ``loop.call_soon_threadsafe(stream.close)``); ``close()``
stays synchronous so that it works from a callback, and ``aclose()`` also finishes the generators.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator
from typing import Any, Protocol, TypeVar

from .._backends import asyncio as backend

T = TypeVar("T")

__all__ = ["AsyncCancellableStream", "Interruptible", "batches_of", "cancellable"]


class Interruptible(Protocol):
    """What a stream reads from: a response or a hijacked socket."""

    def close(self) -> None:
        """Release the connection (from the reading side, or when nothing reads)."""

    def abort(self) -> None:
        """Wake a blocked read from any thread, touching nothing but the OS object."""


class _Reading:
    """A stream's state, apart from the stream object so that what iterates it (the sync
    world's chain) holds no reference to the stream: a stream dropped unclosed is freed at
    once, and its generators close its connection then, as a dropped generator does."""

    __slots__ = ("source", "resource", "lock", "closed", "busy", "released", "current")

    def __init__(self, source: AsyncGenerator[list[Any], None], resource: Interruptible) -> None:
        self.source = source
        self.resource = resource
        self.lock = backend.StateLock()
        self.closed = False
        self.busy = False  # a read (a step of the source) is under way
        self.released = False
        self.current: list[Any] = []  # the batch being handed out

    async def next_batch(self) -> list[Any] | None:
        """The next batch, or ``None`` at the end (the output's, or the close's)."""
        with self.lock:
            if self.closed:
                return None
            self.busy = True
        try:
            batch = self.current = await self.source.__anext__()
            return batch
        except StopAsyncIteration:
            self.closed = True  # the source released its connection on the way out
            return None
        except Exception:
            if self.closed:  # the failure of a read that close() woke: a quiet end
                return None
            raise
        finally:
            with self.lock:
                self.busy = False
                release = self.closed and not self.released
                self.released = self.released or release
            if release:
                await self.source.aclose()
                self.resource.close()

    def close(self) -> None:
        with self.lock:
            if self.closed:
                return
            self.closed = True
            reading = self.busy
            self.released = not reading
            # The rest of the batch being handed out is dropped: a loop that closes its stream
            # gets no further item (the iteration over this list stops at its end, now).
            self.current.clear()
            if not reading:  # nothing runs the source: release here (the lock keeps it so)
                # unasync: sync-only
                # self.source.close()
                # unasync: end
                self.resource.close()
        if reading:
            self.resource.abort()  # the reader releases, on its way out


class AsyncCancellableStream(AsyncGenerator[T, None]):
    """Items read from one connection; ``close()`` ends the iteration from any thread.

    Iterate it once (``for``/``next()``, or ``async for`` under asyncio); items come in order,
    each network read adding at most one batch.  After ``close()``, or once the output ended, it
    yields nothing more.  It is also a context manager that closes it, and a generator as far
    as the type goes (``send(None)`` is ``next()``, ``throw()`` closes it and raises), so code
    typed for the generators these methods returned before keeps checking.
    """

    def __init__(self, batches: AsyncGenerator[list[T], None], resource: Interruptible) -> None:
        self._reading = _Reading(batches, resource)
        # unasync: async-only
        self._items: AsyncGenerator[T, None] = _each(self._reading)
        # unasync: end
        # unasync: sync-only
        # from itertools import chain
        #
        # self._items: Iterator[T] = chain.from_iterable(iter(self._reading.next_batch, None))
        # unasync: end

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran or the output ended."""
        return self._reading.closed

    # unasync: async-only
    def __aiter__(self) -> AsyncIterator[T]:
        """The items, from an async generator over the batches (cheaper per item than a
        coroutine per ``__anext__``); ``__anext__`` shares its position."""
        return self._items

    async def __anext__(self) -> T:
        return await self._items.__anext__()

    async def asend(self, value: None) -> T:
        return await self._items.__anext__()

    async def athrow(self, typ: Any, val: Any = None, tb: Any = None) -> T:
        await self.aclose()
        raise _exception(typ, val)

    # unasync: end
    # unasync: sync-only
    # def send(self, value: None) -> T:
    #     return next(self._items)
    #
    # def throw(self, typ: Any, val: Any = None, tb: Any = None) -> T:
    #     self.close()
    #     raise _exception(typ, val)
    #
    # def __iter__(self) -> Iterator[T]:  # type: ignore[override]
    #     """The items, from a C-level chain over the batches: no Python frame per item (so
    #     not ``self``, as a generator's: the chain is what makes one item per frame cheap)."""
    #     return self._items
    #
    # def __next__(self) -> T:
    #     return next(self._items)
    #
    # next = __next__  # docker-py's CancellableStream has it
    #
    # unasync: end
    def close(self) -> None:
        """End the stream now, from any thread: a read blocked on it wakes, the iteration ends
        without an exception, and the connection is dropped (never reused).  Idempotent.
        Under asyncio: from a task or the loop's thread (another thread:
        ``loop.call_soon_threadsafe(stream.close)``)."""
        self._reading.close()

    # unasync: async-only
    async def aclose(self) -> None:
        """:meth:`close`, then the generators' own clean-up, when no task is reading."""
        self.close()
        reading = self._reading
        if not reading.busy:
            await self._items.aclose()
            await reading.source.aclose()

    # unasync: end
    async def __aenter__(self) -> AsyncCancellableStream[T]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


# unasync: async-only
async def _each(reading: _Reading) -> AsyncGenerator[Any, None]:
    while (batch := await reading.next_batch()) is not None:
        for item in batch:
            yield item


# unasync: end
def _exception(typ: Any, val: Any) -> BaseException:
    """What ``throw(typ, val)`` raises (a generator's calling conventions)."""
    if isinstance(typ, BaseException):
        return typ
    return typ(val) if val is not None and not isinstance(val, BaseException) else (val or typ())


async def batches_of(items: AsyncIterable[T]) -> AsyncGenerator[list[T], None]:
    """One-item batches, for a source that makes its items one at a time (closed with them,
    so that its own clean-up runs now)."""
    try:
        async for item in items:
            yield [item]
    finally:
        close = getattr(items, "aclose", None)
        if close is not None:
            await close()


def cancellable(
    resource: Interruptible, batches: AsyncGenerator[list[T], None]
) -> AsyncCancellableStream[T]:
    """The stream every client method hands out: ``batches`` read from ``resource``."""
    return AsyncCancellableStream(batches, resource)
