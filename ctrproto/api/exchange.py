"""The sync driver: runs :class:`~ctrproto.protocol.http.ClientCycle` over pooled streams.

This is the only place where the sync client does HTTP I/O.  It owns the rules that keep a pool
healthy: a stream goes back to the pool only after its response completed cleanly; a response
that is closed half-read, fails, or times out takes its stream down with it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any

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
from ..transport.base import Stream
from .pool import ConnectionPool
from .response_state import ResponseState

#: First read of an exchange: holds the head and most whole answers, and stays below the size
#: where the allocator maps fresh pages for every read.
HEAD_READ_SIZE = 64 * 1024
#: Body reads go into one buffer per response, reused: no allocation (or page faults) per read.
BODY_READ_SIZE = 256 * 1024


class Response(ResponseState[Stream]):
    """A response whose head has arrived; the body is read on demand.

    Use it as a context manager, or read it to the end: either returns the connection to the pool
    (or closes it when the body was not read completely, since its framing is then unknown).
    """

    _view: memoryview | None = None

    def settimeout(self, timeout: float | None) -> None:
        """Change the read timeout for the rest of the body (long streams wait forever)."""
        if self._stream is not None:
            self._stream.settimeout(timeout)

    def iter_raw(self) -> Iterator[bytes]:
        """Body payload pieces as they arrive, in order, without re-chunking."""
        try:
            while True:
                if self._pending:
                    pieces, self._pending = self._pending, []
                    yield from pieces
                if self._complete:
                    return
                self._read_more()
        except GeneratorExit:
            self.close()
            raise
        except BaseException:
            self.close()
            raise

    def _read_more(self) -> None:
        stream = self._stream
        if stream is None:
            raise ConnectionClosed("the response was closed before its body was read")
        view = self._view
        if view is None:
            view = self._view = memoryview(bytearray(BODY_READ_SIZE))
        n = stream.recv_into(view)
        # The cycle copies what it keeps out of the view before the buffer is read into again.
        self._absorb(view[:n] if n else b"")

    def read(self) -> bytes:
        return b"".join(self.iter_raw())

    def json(self) -> Any:
        return self._decode_json(self.read())

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class HTTPDriver:
    """Performs requests over a pool; one instance per client."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    def perform(
        self,
        request: Request,
        *,
        timeout: float | None,
        body: Iterable[bytes] | None = None,
    ) -> Response | tuple[Stream, ResponseHead, bytes]:
        """Send ``request`` and wait for the response head.

        Returns a :class:`Response`, or - when the daemon hijacked the connection - the raw stream
        with the head and the bytes already read past it.  A request that fails on a reused
        keep-alive stream before any response byte arrived is retried once on a fresh stream
        (the daemon closed the idle connection; it never saw the request).

        ``timeout`` is a deadline for connecting, sending and receiving the whole head (a daemon
        that drips its answer byte by byte cannot stretch it); afterwards it bounds each read of
        the body separately (an idle timeout), so a long body that keeps flowing is not cut.
        """
        retry_allowed = body is None
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            stream, reused = self.pool.acquire(timeout)
            cycle = ClientCycle(request)
            try:
                return self._exchange(stream, cycle, request, timeout, deadline, body)
            except (ConnectionClosed, IncompleteResponse):
                stream.close()
                if reused and retry_allowed and cycle.bytes_received == 0:
                    retry_allowed = False
                    continue
                raise
            except BaseException:
                stream.close()
                raise

    def _exchange(
        self,
        stream: Stream,
        cycle: ClientCycle,
        request: Request,
        timeout: float | None,
        deadline: float | None,
        body: Iterable[bytes] | None,
    ) -> Response | tuple[Stream, ResponseHead, bytes]:
        stream.settimeout(timeout)
        stream.send_all(cycle.start())
        if request.streamed_body:
            for piece in body or ():
                if piece:
                    stream.send_all(cycle.send_body(piece))
            stream.send_all(cycle.end_body())
        pending: list[bytes] = []
        while True:
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ReadTimeout(
                        f"no complete response head to {request.method} {request.target} "
                        f"within {timeout:g} s"
                    )
                stream.settimeout(remaining)
            try:
                data = stream.recv(HEAD_READ_SIZE)
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
                assert cycle.head is not None
                if deadline is not None and not complete:
                    stream.settimeout(timeout)  # the body: each read bounded on its own
                return Response(
                    self.pool, stream, cycle, pending, complete, reusable, request.target
                )
