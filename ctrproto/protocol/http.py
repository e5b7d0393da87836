"""One HTTP/1.1 request/response exchange as a sans-IO state machine.

A :class:`ClientCycle` turns a :class:`~ctrproto.protocol.request.Request` into bytes to send, and
bytes received into events.  It never touches a socket, a thread or a clock: the sync driver, the
asyncio driver and the unit tests all feed it the same way.

Requests are written, and plain response heads read, by :mod:`ctrproto.protocol.wire`; any
head it does not vouch for (informational answers, unusual framing, odd bytes, a head cut short
or too long) goes to h11, whose parse or error is final - status lines and headers are where
HTTP's corner cases live.  The body is framed by :mod:`ctrproto.protocol.body`.  A connection
carries one cycle at a time; keep-alive reuse means starting a new cycle on the same connection
once the previous one reports :class:`ResponseComplete` with ``reusable=True``.

Hijacking (attach, exec start): the request carries ``Connection: Upgrade`` / ``Upgrade: tcp``;
the daemon answers ``101`` and from then on the connection is a raw byte stream.  Older daemons
answer ``200`` with ``Content-Type: application/vnd.docker.raw-stream`` and hijack all the same.
Either way the cycle emits :class:`Upgraded` with every byte already received after the head, so
the stream reader loses nothing h11 had buffered.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, List, Union

if TYPE_CHECKING:
    import h11

from ..errors import IncompleteResponse, ProtocolError
from .body import BodyDecoder, body_decoder
from .buffer import Buffer
from .request import Request, iter_header_bytes
from .wire import LAST_CHUNK, ResponseHead, chunk, plain_response_head, request_head

__all__ = [
    "RAW_STREAM_TYPES",
    "BodyData",
    "ClientCycle",
    "CycleState",
    "Event",
    "ResponseComplete",
    "ResponseHead",
    "ResponseHeadView",
    "ResponseStarted",
    "Upgraded",
]

RAW_STREAM_TYPES = (
    "application/vnd.docker.raw-stream",
    "application/vnd.docker.multiplexed-stream",
)
MAX_HEAD_SIZE = 64 * 1024


class ResponseHeadView:
    """Read access to a received head: what the sync and asyncio response objects share."""

    head: ResponseHead

    @property
    def status_code(self) -> int:
        return self.head.status_code

    @property
    def reason(self) -> str:
        return self.head.reason

    @property
    def headers(self) -> dict[str, str]:
        return self.head.headers


@dataclass(frozen=True)
class ResponseStarted:
    head: ResponseHead


class BodyData:
    """A piece of the body.  A plain slotted class rather than a frozen dataclass: one is made
    per socket read of a log stream, where a frozen dataclass's ``__init__`` is a visible cost."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __eq__(self, other: object) -> bool:
        return type(other) is BodyData and other.data == self.data

    def __hash__(self) -> int:
        return hash(self.data)

    def __repr__(self) -> str:
        return f"BodyData(data={self.data!r})"


@dataclass(frozen=True)
class ResponseComplete:
    """The body ended.  ``reusable`` says whether the connection may carry another cycle."""

    reusable: bool


@dataclass(frozen=True)
class Upgraded:
    """The daemon hijacked the connection; ``trailing`` are the raw bytes read past the head."""

    head: ResponseHead
    trailing: bytes


Event = Union[ResponseStarted, BodyData, ResponseComplete, Upgraded]


class CycleState(enum.Enum):
    SENDING_BODY = "sending body"
    AWAITING_HEAD = "awaiting head"
    RECEIVING_BODY = "receiving body"
    COMPLETE = "complete"
    UPGRADED = "upgraded"
    FAILED = "failed"


def _head_from_h11(event: Union[h11.Response, h11.InformationalResponse]) -> ResponseHead:
    headers: dict[str, str] = {}
    for name, value in event.headers:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return ResponseHead(
        status_code=event.status_code,
        reason=event.reason.decode("latin-1"),
        headers=headers,
        http_version=event.http_version.decode("ascii"),
    )


class ClientCycle:
    """Drive one request/response; see the module docstring."""

    def __init__(self, request: Request, max_head_size: int = MAX_HEAD_SIZE) -> None:
        self.request = request
        self._max_head_size = max_head_size
        # Bytes of a head not yet complete; h11 is only brought in for heads the plain parser
        # of :mod:`ctrproto.protocol.wire` does not vouch for.
        self._head_bytes = bytearray()
        self._h11: h11.Connection | None = None
        self._decoder: BodyDecoder | None = None
        self.head: ResponseHead | None = None
        self.state = CycleState.AWAITING_HEAD
        self._request_done = not request.streamed_body
        self._bytes_received = 0

    @property
    def state(self) -> CycleState:
        return self._state

    @state.setter
    def state(self, value: CycleState) -> None:
        # The body flag spares the per-read path an enum comparison (an attribute lookup on
        # the enum class each time); it changes only here, with the state.
        self._state = value
        self._in_body = value is CycleState.RECEIVING_BODY

    # ------------------------------------------------------------------ sending

    def start(self) -> bytes:
        """The request head, plus the whole body when it was given up front."""
        req = self.request
        try:
            out = request_head(req)
        except ProtocolError:
            self.state = CycleState.FAILED
            raise
        if req.body:
            out += req.body
        if req.streamed_body:
            self.state = CycleState.SENDING_BODY
        return out

    def send_body(self, data: Buffer) -> bytes:
        """Frame one piece of a streamed (chunked) request body."""
        if not data:
            return b""
        return chunk(bytes(data))

    def end_body(self) -> bytes:
        self._request_done = True
        if self.state is CycleState.SENDING_BODY:
            self.state = CycleState.AWAITING_HEAD
        return LAST_CHUNK

    # ------------------------------------------------------------------ receiving

    @property
    def bytes_received(self) -> int:
        return self._bytes_received

    def receive(self, data: Buffer) -> List[Event]:
        """Feed bytes read from the connection; ``b""`` means the peer closed it."""
        self._bytes_received += len(data)
        if self._in_body:
            # The hot path is _feed_body: one call per read of a long body.
            return self._feed_body(data) if data else self._body_eof()
        if self.state in (CycleState.AWAITING_HEAD, CycleState.SENDING_BODY):
            return self._receive_head(data)
        if self.state is CycleState.COMPLETE:
            if data:
                raise ProtocolError(
                    f"{len(data)} unexpected bytes after the response to {self.request.target}: "
                    f"{bytes(data[:32])!r}"
                )
            return []
        raise ProtocolError(f"cycle is {self.state.value}; it cannot receive data")

    def _receive_head(self, data: Buffer) -> List[Event]:
        if self._h11 is not None:
            return self._receive_head_h11(data)
        buffer = self._head_bytes
        if not data:
            return self._hand_to_h11(eof=True)
        buffer += data
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            # A blank line made with a bare LF ends the head too (h11 takes LF for CRLF): left
            # waiting for a CRLF CRLF, the cycle would hang on a complete answer.
            if len(buffer) > self._max_head_size or b"\n\n" in buffer or b"\n\r\n" in buffer:
                return self._hand_to_h11(eof=False)
            return []
        head = bytes(buffer[:end])
        parsed = None
        if end <= self._max_head_size and head.count(b"\n") == head.count(b"\r\n"):
            parsed = plain_response_head(head)
        if parsed is None:
            return self._hand_to_h11(eof=False)
        trailing = bytes(buffer[end + 4 :])
        buffer.clear()
        return self._started(parsed, trailing, closed=False)

    def _hand_to_h11(self, eof: bool) -> List[Event]:
        """Give the head received so far to h11, told of the request as if it had sent it.

        h11 is imported here, on this rare path, rather than by every ``import ctrproto``."""
        import h11

        req = self.request
        conn = self._h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=self._max_head_size)
        conn.send(h11.Request(method=req.method, target=req.target,
                              headers=iter_header_bytes(req.headers)))
        if req.body:
            conn.send(h11.Data(data=req.body))
        if self._request_done:
            conn.send(h11.EndOfMessage())
        received = bytes(self._head_bytes)
        self._head_bytes.clear()
        events = self._receive_head_h11(received) if received else []
        if eof and not events and self.state is not CycleState.FAILED:
            events = self._receive_head_h11(b"")
        return events

    def _receive_head_h11(self, data: Buffer) -> List[Event]:
        import h11

        conn = self._h11
        assert conn is not None
        try:
            conn.receive_data(bytes(data))
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    if not data:
                        self.state = CycleState.FAILED
                        raise IncompleteResponse(
                            "connection closed before a complete response head to "
                            f"{self.request.method} {self.request.target}"
                        )
                    return []
                if isinstance(event, h11.InformationalResponse):
                    if event.status_code == 101:
                        return self._upgraded(_head_from_h11(event), conn.trailing_data[0])
                    continue  # 100 Continue and friends carry nothing for us
                if isinstance(event, h11.Response):
                    trailing, closed = conn.trailing_data
                    return self._started(_head_from_h11(event), trailing, closed)
                if isinstance(event, h11.ConnectionClosed):
                    self.state = CycleState.FAILED
                    raise IncompleteResponse(
                        f"connection closed before the response to {self.request.target}"
                    )
                raise ProtocolError(f"unexpected HTTP event {type(event).__name__}")
        except h11.RemoteProtocolError as exc:
            self.state = CycleState.FAILED
            if not data:
                raise IncompleteResponse(
                    "connection closed before a complete response head to "
                    f"{self.request.method} {self.request.target}"
                ) from exc
            raise ProtocolError(
                f"malformed response head from the daemon ({exc}); "
                f"first bytes: {bytes(conn.trailing_data[0][:40])!r}"
            ) from exc

    def _upgraded(self, head: ResponseHead, trailing: bytes) -> List[Event]:
        self.head = head
        self.state = CycleState.UPGRADED
        return [Upgraded(head, trailing)]

    def _started(self, head: ResponseHead, trailing: bytes, closed: bool) -> List[Event]:
        self.head = head
        if (
            self.request.upgrade
            and head.status_code == 200
            and head.content_type in RAW_STREAM_TYPES
            and "content-length" not in head.headers
            and "transfer-encoding" not in head.headers
        ):
            return self._upgraded(head, trailing)
        try:
            self._decoder = body_decoder(
                self.request.method, head.status_code, head.headers, head.http_version
            )
        except ProtocolError:
            # An unframeable body (a Content-Length no decoder takes) ends the cycle like any
            # other bad byte: left awaiting a head, it would read what follows as a new response.
            self.state = CycleState.FAILED
            raise
        self.state = CycleState.RECEIVING_BODY
        events: List[Event] = [ResponseStarted(head)]
        if trailing or self._decoder.done:
            events.extend(self._feed_body(trailing))
        if closed and self.state is CycleState.RECEIVING_BODY:
            events.extend(self._body_eof())
        return events

    def _feed_body(self, data: Buffer) -> List[Event]:
        """Frame body bytes (``data`` may be empty only once the decoder is done)."""
        try:
            pieces, rest = self._decoder.feed(data)  # type: ignore[union-attr]
        except ProtocolError:
            self.state = CycleState.FAILED
            raise
        if rest is None:
            return [BodyData(piece) for piece in pieces]
        return self._body_ended(pieces, rest)

    def _body_eof(self) -> List[Event]:
        """The peer closed the connection while the body was being received."""
        decoder = self._decoder
        assert decoder is not None
        if not decoder.done:
            try:
                decoder.eof()
            except IncompleteResponse as exc:
                self.state = CycleState.FAILED
                raise IncompleteResponse(
                    f"{exc} (response to {self.request.method} {self.request.target})"
                ) from None
        self.state = CycleState.COMPLETE
        return [ResponseComplete(reusable=False)] if decoder.done else []

    def _body_ended(self, pieces: List[bytes], rest: bytes) -> List[Event]:
        """The decoder found the body's end; ``rest`` is what followed it in the same read."""
        decoder = self._decoder
        assert decoder is not None
        events: List[Event] = [BodyData(p) for p in pieces]
        self.state = CycleState.COMPLETE
        # Bytes after the body cannot belong to any request of ours: keep what was received,
        # but never reuse a connection whose framing is in doubt.
        reusable = decoder.reusable and self._request_done and not rest
        events.append(ResponseComplete(reusable=reusable))
        return events

    def fail(self) -> None:
        """Mark the cycle broken (the driver gave up on it); the connection must be closed."""
        if self.state is not CycleState.COMPLETE:
            self.state = CycleState.FAILED

