"""What a response being read owes its connection, whatever drives the reads (sync or asyncio).

Feeding received bytes to the cycle, collecting body pieces, and deciding at the end whether the
stream goes back to the pool or is closed are the same rules in both drivers; only how the bytes
are read differs.  Keeping the rules here means the two drivers cannot disagree about when a
connection is safe to reuse.
"""

from __future__ import annotations

import json
from typing import Any, Generic, Protocol, TypeVar

from ..errors import ProtocolError
from .buffer import Buffer
from .http import BodyData, ClientCycle, ResponseComplete, ResponseHeadView


class _Closable(Protocol):
    def close(self) -> None: ...

    def abort(self) -> None: ...


StreamT = TypeVar("StreamT", bound=_Closable)
_StreamIn = TypeVar("_StreamIn", bound=_Closable, contravariant=True)


class _Pool(Protocol[_StreamIn]):
    def release(self, stream: _StreamIn) -> None: ...


class ResponseState(ResponseHeadView, Generic[StreamT]):
    def __init__(
        self,
        pool: _Pool[StreamT],
        stream: StreamT,
        cycle: ClientCycle,
        pending: list[bytes],
        complete: bool,
        reusable: bool,
        url: str,
    ) -> None:
        assert cycle.head is not None
        self._pool = pool
        self._stream: StreamT | None = stream
        self._cycle = cycle
        self.head = cycle.head
        self._pending = pending
        self._complete = complete
        self._reusable = reusable
        self.url = url
        self._aborted = False
        if complete:
            self._finish()

    @property
    def complete(self) -> bool:
        return self._complete

    def _absorb(self, data: Buffer) -> None:
        """Feed bytes read from the stream (``b""`` at end of file) to the cycle."""
        for event in self._cycle.receive(data):
            if type(event) is BodyData:
                self._pending.append(event.data)
            elif isinstance(event, ResponseComplete):
                self._complete = True
                self._reusable = event.reusable
                self._finish()

    def _decode_json(self, body: bytes) -> Any:
        try:
            return json.loads(body)
        except ValueError as exc:
            raise ProtocolError(
                f"the daemon's answer to {self.url} is not JSON: {body[:80]!r}"
            ) from exc

    def _finish(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        # ``_aborted`` is read after the stream was taken: see abort().
        if self._complete and self._reusable and not self._aborted:
            self._pool.release(stream)
        else:
            stream.close()

    def abort(self) -> None:
        """Wake a read blocked on this response from another thread; the reader then fails and
        closes it.  The flag is set before the stream is looked at, and ``_finish`` reads it
        after taking the stream, so a stream this shuts down is never given back to the pool
        (no lock needed: each side's two steps are ordered)."""
        self._aborted = True
        stream = self._stream
        if stream is not None:
            stream.abort()

    def close(self) -> None:
        """Stop reading.  An incomplete body means the stream cannot be reused."""
        if not self._complete:
            self._cycle.fail()
        self._finish()
