"""The HTTP driver: runs :class:`~ctrproto.protocol.http.ClientCycle` over pooled streams.

This is the only place where the client does HTTP I/O.  It owns the rules that keep a pool
healthy: a stream goes back to the pool only after its response completed cleanly; a response
that is closed half-read, fails, times out or is cancelled takes its stream down with it.  All
HTTP knowledge stays in the cycle; this module only moves bytes between it and the stream.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable
from typing import Any

from .._backends import asyncio as backend
from ..engine.defaults import HEAD_READ_SIZE, READ_SIZE
from ..errors import ConnectionClosed, IncompleteResponse, ReadTimeout
from ..protocol.http import (
    BodyData,
    ClientCycle,
    CycleState,
    ResponseComplete,
    ResponseHead,
    ResponseStarted,
    Upgraded,
)
from ..protocol.request import Request
from ..protocol.response import ResponseState
from ..transport.base import AsyncStream
from .connection_pool import AsyncConnectionPool

#: Reads under this make the wait of a gathering body longer, over GATHER_LESS shorter.
GATHER_MORE = 4 * 1024
GATHER_LESS = 16 * 1024

#: What a hijacked exchange gives back: the raw stream, the head, the bytes read past the head.
Hijacked = tuple[AsyncStream, ResponseHead, bytes]


class AsyncResponse(ResponseState[AsyncStream]):
    """A response whose head has arrived; the body is read on demand, one network read at a time.

    Use it as a context manager, or read it to the end: either returns the connection to the pool
    (or closes it when the body was not read completely, since its framing is then unknown).
    """

    _reader: backend.Reader | None = None

    def settimeout(self, timeout: float | None) -> None:
        """Change the read timeout for the rest of the body (long streams wait forever)."""
        if self._stream is not None:
            self._stream.settimeout(timeout)

    async def aiter_raw(self, gather: float = 0.0) -> AsyncGenerator[bytes, None]:
        """Body payload pieces as they arrive, in order, without re-chunking; each step reads
        the network at most once, so a slow consumer holds the daemon back.

        ``gather``: the longest wait, in seconds, between reads that come back short, so that a
        body the daemon writes in small pieces - a followed log - is read in fewer, larger reads
        (a follower of many streams trades milliseconds of delay for much less CPU).  The wait
        adapts: it doubles after a read under 4 KiB, up to ``gather``, and halves after one over
        16 KiB, down to 1/32 of it; a read over 16 KiB (a backlog) is followed at once.
        """
        wait = gather / 32
        short = False
        try:
            while True:
                if self._pending:
                    pieces, self._pending = self._pending, []
                    for piece in pieces:
                        yield piece
                if self._complete:
                    return
                if short and self._stream is not None:
                    await backend.gather_reads(self._stream, wait)
                taken = await self._read_more()
                if gather > 0:
                    short = taken <= GATHER_LESS
                    if taken < GATHER_MORE:
                        wait = min(gather, wait * 2)
                    elif taken > GATHER_LESS:
                        wait = max(gather / 32, wait / 2)
        except BaseException:  # abandoned, failed or cancelled: the framing is now unknown
            self.close()
            raise

    async def _read_more(self) -> int:
        """One read into the cycle; how many bytes it took."""
        stream = self._stream
        if stream is None:
            raise ConnectionClosed("the response was closed before its body was read")
        reader = self._reader
        if reader is None:
            reader = self._reader = backend.Reader(READ_SIZE)
        # The cycle copies what it keeps out of the piece before the buffer is read into again.
        data = await reader.read(stream)
        self._absorb(data)
        return len(data)

    async def read(self) -> bytes:
        return b"".join([piece async for piece in self.aiter_raw()])

    async def json(self) -> Any:
        return self._decode_json(await self.read())

    async def __aenter__(self) -> AsyncResponse:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


class AsyncHTTPDriver:
    """Performs requests over a pool; one instance per client."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def perform(
        self,
        request: Request,
        *,
        timeout: float | None,
        body: AsyncIterable[bytes] | None = None,
    ) -> AsyncResponse | Hijacked:
        """Send ``request`` and wait for the response head.

        Returns a response, or - when the daemon hijacked the connection - the raw stream with
        the head and the bytes already read past it.  A request that fails on a reused
        keep-alive stream before any response byte arrived is retried once on a fresh stream
        (the daemon closed the idle connection; it never saw the request); one with a streamed
        ``body`` never is, since the body cannot be replayed.

        ``timeout`` is a deadline for connecting, sending and receiving the whole head (a daemon
        that drips its answer byte by byte cannot stretch it); afterwards it bounds each read of
        the body separately (an idle timeout), so a long body that keeps flowing is not cut.
        """
        retry_allowed = body is None
        deadline = None if timeout is None else backend.monotonic() + timeout
        while True:
            stream, reused = await self.pool.acquire(timeout)
            cycle = ClientCycle(request)
            try:
                return await self._exchange(stream, cycle, request, timeout, deadline, body)
            except (ConnectionClosed, IncompleteResponse):
                stream.close()
                if reused and retry_allowed and cycle.bytes_received == 0:
                    retry_allowed = False
                    continue
                raise
            except BaseException:
                stream.close()
                raise

    async def _exchange(
        self,
        stream: AsyncStream,
        cycle: ClientCycle,
        request: Request,
        timeout: float | None,
        deadline: float | None,
        body: AsyncIterable[bytes] | None,
    ) -> AsyncResponse | Hijacked:
        stream.settimeout(timeout)
        await stream.send_all(cycle.start())
        if request.streamed_body:
            if body is not None:
                async for piece in body:
                    if piece:
                        await stream.send_all(cycle.send_body(piece))
            await stream.send_all(cycle.end_body())
        pending: list[bytes] = []
        while True:
            if deadline is not None:
                remaining = deadline - backend.monotonic()
                if remaining <= 0:
                    raise ReadTimeout(
                        f"no complete response head to {request.method} {request.target} "
                        f"within {timeout:g} s"
                    )
                stream.settimeout(remaining)
            try:
                data = await stream.recv(HEAD_READ_SIZE)
            except ReadTimeout as exc:
                raise ReadTimeout(
                    f"{exc}: no complete response head to {request.method} {request.target} "
                    f"within {timeout:g} s"
                ) from exc
            complete = False
            reusable = False
            head: ResponseHead | None = None
            for event in cycle.receive(data):
                if isinstance(event, Upgraded):
                    return stream, event.head, event.trailing
                if isinstance(event, ResponseStarted):
                    head = event.head
                elif type(event) is BodyData:
                    pending.append(event.data)
                elif isinstance(event, ResponseComplete):
                    complete, reusable = True, event.reusable
            if head is not None or cycle.state in (CycleState.RECEIVING_BODY, CycleState.COMPLETE):
                if deadline is not None and not complete:
                    stream.settimeout(timeout)  # the body: each read bounded on its own
                return AsyncResponse(
                    self.pool, stream, cycle, pending, complete, reusable, request.target
                )
