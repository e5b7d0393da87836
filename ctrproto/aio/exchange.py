"""The asyncio driver: runs :class:`~ctrproto.protocol.http.ClientCycle` over pooled async streams.

The twin of :mod:`ctrproto.api.exchange`, with the same pool rules - a stream goes back only after
its response completed cleanly; a response closed half-read, failed, timed out or *cancelled*
takes its stream down with it - and the same timeout meaning: one deadline for connecting,
sending and the response head, then a bound on each body read.  All HTTP knowledge stays in the
cycle; this module only moves bytes between it and the stream.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable
from typing import Any

from ..api.response_state import ResponseState
from ..errors import (
    ConnectionClosed,
    ConnectTimeout,
    IncompleteResponse,
    ReadTimeout,
)
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
from .base import AsyncStream, bounded
from .pool import AsyncConnectionPool

READ_SIZE = 256 * 1024

Hijacked = tuple[AsyncStream, ResponseHead, bytes]


class AsyncResponse(ResponseState[AsyncStream]):
    """A response whose head has arrived; the body is read on demand, one network read at a time.

    Reading it to the end returns the stream to the pool; ``close()`` (or leaving ``async with``,
    or a cancellation while reading) before the end closes the stream, since its framing is then
    unknown.
    """

    def __init__(
        self,
        pool: AsyncConnectionPool,
        stream: AsyncStream,
        cycle: ClientCycle,
        pending: list[bytes],
        complete: bool,
        reusable: bool,
        url: str,
        read_timeout: float | None,
    ) -> None:
        self.read_timeout = read_timeout
        super().__init__(pool, stream, cycle, pending, complete, reusable, url)

    async def next_piece(self) -> bytes | None:
        """The next body piece, reading the network at most once; ``None`` at the end."""
        try:
            while not self._pending:
                if self._complete:
                    return None
                await self._read_more()
        except BaseException:  # cancellation included: the stream's framing is now unknown
            self.close()
            raise
        return self._pending.pop(0)

    async def aiter_raw(self) -> AsyncGenerator[bytes, None]:
        """Body pieces as they arrive, in order; the connection is released at the end."""
        try:
            while (piece := await self.next_piece()) is not None:
                yield piece
        finally:
            self.close()

    async def _read_more(self) -> None:
        stream = self._stream
        if stream is None:
            raise ConnectionClosed("the response was closed before its body was read")
        try:
            data = await bounded(stream.recv(READ_SIZE), self.read_timeout)
        except TimeoutError as exc:
            raise ReadTimeout(
                f"no data from the daemon for {self.read_timeout:g} s reading {self.url}"
            ) from exc
        self._absorb(data)

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
        """Send ``request`` and wait for the response head (see the sync ``HTTPDriver``).

        A request that fails on a reused keep-alive stream before any response byte arrived is
        retried once on a fresh stream: the daemon had closed the idle connection and never saw
        it.  A streamed body (``request.streamed_body``) is read from ``body`` and framed by the
        cycle as it goes; such a request is never retried, since ``body`` cannot be replayed.
        As in the sync driver, ``timeout`` covers sending it too.
        """
        retry_allowed = body is None
        while True:
            try:
                stream, reused = await bounded(self.pool.acquire(), timeout)
            except TimeoutError as exc:
                raise ConnectTimeout(
                    f"timed out connecting to the Docker daemon at {self.pool.transport.describe()}"
                ) from exc
            cycle = ClientCycle(request)
            try:
                exchange = self._exchange(stream, cycle, request, timeout, body)
                return await bounded(exchange, timeout)
            except TimeoutError as exc:
                stream.close()
                raise ReadTimeout(
                    f"no complete response head to {request.method} {request.target} "
                    f"within {timeout:g} s"
                ) from exc
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
        body: AsyncIterable[bytes] | None,
    ) -> AsyncResponse | Hijacked:
        await stream.send_all(cycle.start())
        if request.streamed_body:
            if body is not None:
                async for piece in body:
                    if piece:
                        await stream.send_all(cycle.send_body(piece))
            await stream.send_all(cycle.end_body())
        pending: list[bytes] = []
        while True:
            data = await stream.recv(READ_SIZE)
            complete = False
            reusable = False
            started = False
            for event in cycle.receive(data):
                if isinstance(event, Upgraded):
                    return stream, event.head, event.trailing
                if isinstance(event, ResponseStarted):
                    started = True
                elif type(event) is BodyData:
                    pending.append(event.data)
                elif isinstance(event, ResponseComplete):
                    complete, reusable = True, event.reusable
            if started or cycle.state in (CycleState.RECEIVING_BODY, CycleState.COMPLETE):
                return AsyncResponse(
                    self.pool, stream, cycle, pending, complete, reusable, request.target, timeout
                )
