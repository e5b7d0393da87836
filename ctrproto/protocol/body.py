"""Response body framing: Content-Length, chunked and close-delimited.

h11 parses the status line and headers; the body is framed here instead, because the log and
attach streams this client exists for are long runs of tiny chunks (one per write in the
container), and a framing loop that hands out payload slices without re-buffering everything is
where a log pipeline's CPU goes.  Each decoder takes bytes as they arrive and returns the payload
pieces found, plus - once the body is complete - whatever bytes followed it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import List, Tuple

from ..errors import IncompleteResponse, ProtocolError
from .buffer import Buffer
from .demux import pure_requested

#: Payload pieces and, when the body ended inside this input, the bytes that followed it.
Decoded = Tuple[List[bytes], bytes | None]

MAX_CHUNK_LINE = 4096


def _load_scan() -> Callable[..., tuple[bytes, int, int, int, int, int]] | None:
    """The compiled fast path of chunked framing, unless absent or ruled out by the environment."""
    if pure_requested():
        return None
    try:
        from ._chunked import scan
    except ImportError:
        return None
    return scan  # type: ignore[no-any-return]


#: ``ctrproto.protocol._chunked.scan`` when it was built (``CTRPROTO_PURE_PYTHON`` rules it out).
SCAN = _load_scan()


class BodyDecoder:
    """Base of the three framings; ``done`` turns true when the body is complete."""

    done: bool = False
    #: Whether the connection may carry another request after this body.
    reusable: bool = True

    def feed(self, data: Buffer) -> Decoded:
        raise NotImplementedError

    def eof(self) -> None:
        """The peer closed the connection; raises if the body was not complete."""
        if not self.done:
            raise IncompleteResponse("connection closed before the response body was complete")


class EmptyBody(BodyDecoder):
    """HEAD responses, 204 and 304 carry no body whatever their headers say."""

    done = True

    def feed(self, data: Buffer) -> Decoded:
        return [], bytes(data)


class LengthBody(BodyDecoder):
    def __init__(self, length: int) -> None:
        if length < 0:
            raise ProtocolError(f"negative Content-Length {length}")
        self.length = length
        self.remaining = length
        self.done = length == 0

    def feed(self, data: Buffer) -> Decoded:
        if self.done:
            return [], bytes(data)
        n = len(data)
        if n <= self.remaining:
            self.remaining -= n
            self.done = self.remaining == 0
            return ([bytes(data)] if n else []), (b"" if self.done else None)
        view = memoryview(data)
        piece = bytes(view[: self.remaining])
        rest = bytes(view[self.remaining :])
        self.remaining = 0
        self.done = True
        return [piece], rest

    def eof(self) -> None:
        if not self.done:
            raise IncompleteResponse(
                f"connection closed after {self.length - self.remaining} of {self.length} "
                "body bytes"
            )


class CloseDelimitedBody(BodyDecoder):
    """No length and not chunked: the body runs until the peer closes (HTTP/1.0 style)."""

    reusable = False

    def feed(self, data: Buffer) -> Decoded:
        return ([bytes(data)] if len(data) else []), None

    def eof(self) -> None:
        self.done = True


_SIZE, _DATA, _DATA_END, _TRAILER = range(4)


class ChunkedBody(BodyDecoder):
    """``Transfer-Encoding: chunked`` as a small explicit state machine.

    Only the chunk-size lines and the CRLFs after each chunk are buffered; payload bytes go straight
    from the input to the output.  When the compiled ``scan`` is available it frames the common,
    well-formed runs of chunks in C and hands back to this machine at anything else, so the edge
    cases and every error message exist once, here.  Each ``feed`` returns at most one joined
    payload piece: a log body is one chunk per line, and per-line objects are what a pipeline
    cannot afford.
    """

    def __init__(self) -> None:
        self._scan = SCAN
        self._state = _SIZE
        self._line = bytearray()
        self._chunk_left = 0
        self._received = 0
        self._chunks = 0

    def _take_line(self, buf: bytes, pos: int) -> tuple[bytes | None, int]:
        """Collect one LF-terminated line across feeds; ``None`` while it is incomplete.

        A line may take ``MAX_CHUNK_LINE + 2`` bytes, its CRLF included, however it was cut:
        a partial line is refused only once no LF could still end it within that.
        """
        limit = MAX_CHUNK_LINE + 2 - len(self._line)
        end = buf.find(b"\n", pos, pos + limit)
        if end < 0:
            self._line += buf[pos : pos + limit]
            if len(self._line) > MAX_CHUNK_LINE + 1:
                raise ProtocolError(
                    f"chunk-size line longer than {MAX_CHUNK_LINE} bytes "
                    f"(starts {bytes(self._line[:32])!r})"
                )
            return None, len(buf)
        if self._line:
            self._line += buf[pos : end + 1]
            line = bytes(self._line)
            self._line.clear()
        else:
            line = buf[pos : end + 1]
        return line, end + 1

    def feed(self, data: Buffer) -> Decoded:
        if self.done:
            return [], bytes(data)
        out: List[bytes] = []
        pos = 0
        scan = self._scan
        if scan is not None and not self._line and self._state != _TRAILER:
            # The compiled scan reads any buffer in place (a reused read buffer included).
            payload, pos, self._state, self._chunk_left, chunks, got = scan(
                data, 0, self._state, self._chunk_left
            )
            if got:
                out.append(payload)
                self._received += got
            self._chunks += chunks
            if pos >= len(data):
                return out, None
        # The rest - an edge case, a partial line or a malformed byte - as bytes for the machine.
        view = data if isinstance(data, bytes) and pos == 0 else bytes(memoryview(data)[pos:])
        more, rest = self._frame(view)
        out.extend(more)
        if len(out) > 1:
            out = [b"".join(out)]
        return out, rest

    def _frame(self, view: bytes) -> Decoded:
        n = len(view)
        pos = 0
        out: List[bytes] = []
        scan = self._scan
        while pos < n:
            if scan is not None and not self._line and self._state != _TRAILER:
                payload, pos, self._state, self._chunk_left, chunks, got = scan(
                    view, pos, self._state, self._chunk_left
                )
                if got:
                    out.append(payload)
                    self._received += got
                self._chunks += chunks
                if pos >= n:
                    break
            state = self._state
            if state == _DATA:
                take = min(self._chunk_left, n - pos)
                out.append(view[pos : pos + take])
                pos += take
                self._chunk_left -= take
                self._received += take
                if self._chunk_left == 0:
                    self._state = _DATA_END
            elif state == _SIZE:
                line, pos = self._take_line(view, pos)
                if line is None:
                    break
                self._chunk_left = self._parse_size(line)
                self._chunks += 1
                self._state = _DATA if self._chunk_left else _TRAILER
            elif state == _DATA_END:
                # Exactly CRLF (or a bare LF) must follow a chunk: anything else is refused at
                # once rather than after waiting for a line end that may never come.
                byte = view[pos]
                if byte == 0x0A:
                    self._line.clear()
                    self._state = _SIZE
                elif byte == 0x0D and not self._line:
                    self._line += b"\r"
                else:
                    raise ProtocolError(
                        f"chunk {self._chunks} is followed by "
                        f"{bytes(self._line) + view[pos : pos + 32]!r} instead of CRLF"
                    )
                pos += 1
            else:  # trailer section: header lines until an empty line
                line, pos = self._take_line(view, pos)
                if line is None:
                    break
                if not line.strip(b"\r\n"):
                    self.done = True
                    return out, view[pos:]
        return out, None

    def _parse_size(self, line: bytes) -> int:
        text = line.split(b";", 1)[0].strip()
        if not text or len(text) > 16 or text.strip(b"0123456789abcdefABCDEF"):
            raise ProtocolError(f"invalid chunk size line {line[:40]!r} (chunk {self._chunks + 1})")
        return int(text, 16)

    def eof(self) -> None:
        if not self.done:
            where = {
                _SIZE: "before a chunk-size line",
                _DATA: f"inside chunk {self._chunks} with {self._chunk_left} bytes missing",
                _DATA_END: f"after chunk {self._chunks}, before its CRLF",
                _TRAILER: "inside the trailer",
            }[self._state]
            raise IncompleteResponse(
                f"chunked body cut off {where} ({self._received} payload bytes received)"
            )


def body_decoder(
    method: str, status_code: int, headers: dict[str, str], http_version: str
) -> BodyDecoder:
    """Choose the framing RFC 9112 section 6.3 prescribes for this response."""
    encoding = headers.get("transfer-encoding")
    if method == "HEAD" or status_code in (204, 304) or 100 <= status_code < 200:
        # No body, but the connection rule below still holds: "Connection: close" on a 204
        # means the daemon closes, whatever the framing.
        decoder: BodyDecoder = EmptyBody()
    elif encoding is not None:
        codings = [c.strip().lower() for c in encoding.split(",")]
        decoder = ChunkedBody() if codings[-1] == "chunked" else CloseDelimitedBody()
    elif "content-length" in headers:
        raw = headers["content-length"].split(",")[0].strip()
        if not raw.isdigit() or len(raw) > 19:
            raise ProtocolError(f"invalid Content-Length {headers['content-length']!r}")
        decoder = LengthBody(int(raw))
    else:
        decoder = CloseDelimitedBody()
    # Keep-alive is the default from HTTP/1.1 on; h11 (whose heads say "0.9" as readily as
    # "1.0") draws the line the same way.  Versions are one digit each side: "d.d" compares.
    if "close" in headers.get("connection", "").lower() or http_version < "1.1":
        decoder.reusable = False
    return decoder
