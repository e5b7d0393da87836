"""Pure-Python demuxer for Docker's multiplexed stdout/stderr stream.

This is the twin of the compiled ``ctrproto.protocol._demux``: same API, same output, same
exceptions with the same messages.  It exists so that ctrproto works where no C compiler was
available at install time, and as an executable specification the tests hold the compiled module
against.  Import :mod:`ctrproto.protocol.demux` rather than this module: it picks the fast one.

The format, as the daemon writes it for a container without a TTY::

    [stream: 1 byte][0 0 0][length: big-endian uint32][payload: length bytes] ...

Stream 0 (stdin) is reported as stdout, as the Docker CLI does; stream 3 carries an error message
from the daemon itself and is raised as :class:`~ctrproto.errors.StreamError`.

Error contract, shared by both implementations:

* every exception raised by :meth:`Demuxer.feed` carries ``frames``: what the call decoded before
  the error (shaped like the return value), so that output preceding an in-band error is not lost;
* :class:`~ctrproto.errors.TruncatedFrameError` carries ``partial``: ``(stream, bytes received)``
  of the interrupted frame, or ``None`` when the stream ended inside a header;
* after an error the :class:`Demuxer` is poisoned: every later ``feed()`` or ``close()`` raises a
  new exception of the same class with the same message (``frames`` empty, ``partial`` kept),
  because the frame boundaries are lost and resynchronising would invent data; ``offset`` is
  left at the offending frame's header and ``buffered`` at 0;
* messages give absolute stream offsets, so the error (class and text) and the bytes delivered
  before it do not depend on how the stream was cut into ``feed()`` calls, and
  :func:`demux_buffer` raises the very error ``feed(all)`` + ``close()`` would.

Performance notes: the compiled module scans headers in C and copies each payload byte once.
This module is close to it on large frames (16 KiB) but pays the interpreter per frame, so it
is about ten times slower on log-line-sized ones (100 bytes).
"""

from __future__ import annotations

import operator
import struct

from ctrproto.errors import (
    FrameError,
    FrameTooLargeError,
    InvalidArgument,
    MalformedFrameError,
    StreamError,
    TruncatedFrameError,
)

__all__ = ["DEFAULT_MAX_FRAME_SIZE", "STDERR", "STDOUT", "Collector", "Demuxer", "demux_buffer"]

STDOUT: int = 1
STDERR: int = 2
STREAM_ERROR: int = 3
DEFAULT_MAX_FRAME_SIZE: int = 64 * 1024 * 1024

HEADER_SIZE = 8
# Payloads below this size are gathered into a bytearray (a second copy, but in cache) rather
# than kept as one memoryview each until the final b"".join().
_SMALL_PAYLOAD = 2048
_HEADER = struct.Struct(">II")
_EMPTY = b""

Frame = tuple[int, bytes]
Buffer = bytes | bytearray | memoryview


def _check_max(max_frame_size: int) -> int:
    value = operator.index(max_frame_size)
    if value < 0:
        raise InvalidArgument(f"max_frame_size must be >= 0, got {value}")
    return value


def _view(data: Buffer) -> memoryview:
    """A flat unsigned-byte view, because slicing and ``struct`` must see bytes, not items."""
    view = memoryview(data)
    if view.format == "B" and view.ndim == 1 and view.c_contiguous:
        return view
    if not view.c_contiguous:
        raise TypeError("data must be a C-contiguous buffer")
    return view.cast("B")


def _malformed(offset: int, header: Buffer) -> MalformedFrameError:
    raw = bytes(header)
    if raw[0] > STREAM_ERROR:
        reason = f"stream id {raw[0]} is not 0, 1, 2 or 3"
    else:
        reason = "bytes 1-3 must be zero"
    return MalformedFrameError(
        f"malformed frame header at stream offset {offset}: {raw.hex(' ')} ({reason})"
    )


def _too_large(offset: int, length: int, max_frame_size: int) -> FrameTooLargeError:
    return FrameTooLargeError(
        f"frame at stream offset {offset} announces {length} bytes of payload, more than the "
        f"maximum of {max_frame_size} bytes"
    )


#: Everything the demuxer raises on bad input.
DemuxError = FrameError | StreamError


def _stream_error(payload: Buffer) -> StreamError:
    return StreamError(bytes(payload).decode("utf-8", "replace"))


def _truncated_header(offset: int, received: int) -> TruncatedFrameError:
    err = TruncatedFrameError(
        f"stream ended inside the frame header at stream offset {offset}: expected "
        f"{HEADER_SIZE} header bytes, received {received}"
    )
    err.partial = None
    return err


def _truncated_payload(
    offset: int, stream: int, length: int, received: bytes
) -> TruncatedFrameError:
    err = TruncatedFrameError(
        f"stream ended inside the payload of the frame at stream offset {offset}: expected "
        f"{length} payload bytes, received {len(received)}"
    )
    err.partial = (stream, received)
    return err


def _header_error(
    offset: int, first: int, length: int, max_frame_size: int, header: Buffer
) -> DemuxError | None:
    """The error a header announces, or None; checked before its payload is awaited."""
    if first & 0xFFFFFF or first >> 24 > STREAM_ERROR:
        return _malformed(offset, header)
    if length > max_frame_size:
        return _too_large(offset, length, max_frame_size)
    return None


class Demuxer:
    """Incremental demuxer: bytes in as they arrive, complete frames out.

    ``offset`` is the stream position just past the last complete frame; ``buffered`` counts the
    bytes received after it and held until their frame is complete.  Only the one frame that
    straddles two ``feed()`` calls is ever copied into the internal buffer.  ``close()`` at a
    frame boundary is a no-op (feeding may even go on after it): it exists to turn a partial
    frame at the end of the stream into :class:`~ctrproto.errors.TruncatedFrameError`.
    """

    __slots__ = (
        "_max",
        "_join",
        "_offset",
        "_header",
        "_in_payload",
        "_stream",
        "_length",
        "_pending",
        "_error",
    )

    def __init__(self, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE, join: bool = True) -> None:
        self._max = _check_max(max_frame_size)
        self._join = bool(join)
        self._offset = 0
        self._header = bytearray()  # a header split across calls (< 8 bytes, or 8 in payload)
        self._in_payload = False
        self._stream = 0
        self._length = 0
        self._pending = bytearray()  # the payload received so far of the straddling frame
        self._error: DemuxError | None = None

    @property
    def offset(self) -> int:
        return self._offset

    @property
    def buffered(self) -> int:
        return len(self._header) + len(self._pending)

    def _poisoned(self) -> DemuxError:
        assert self._error is not None
        err = type(self._error)(*self._error.args)
        if isinstance(err, TruncatedFrameError):
            err.partial = getattr(self._error, "partial", None)
        err.frames = []
        return err

    def _fail(self, err: DemuxError, frames: list[Frame], offset: int) -> DemuxError:
        """Poison the demuxer; ``offset`` becomes the position of the offending frame."""
        err.frames = frames
        self._error = err
        self._offset = offset
        self._header.clear()
        self._pending.clear()
        self._in_payload = False
        return err

    def feed(self, data: Buffer) -> list[Frame]:
        """Consume ``data``; return the frames it completed as ``(stream, payload)``.

        With ``join`` (the default), consecutive payloads of one stream within this call come out
        as one item and empty frames are dropped, which is what a reader copying to a file or a
        terminal wants: few large writes.  Without it there is one item per frame.
        """
        if self._error is not None:
            raise self._poisoned()
        view = _view(data)
        size = len(view)
        out: list[Frame] = []
        if not size:
            return out
        join = self._join
        base = self._offset + len(self._header) + len(self._pending)
        pos = 0
        # The run being joined: its stream (0: none yet) and its pieces for one b"".join().
        # A run of many small frames would make as many memoryviews (each bigger than its
        # payload, and tracked by the garbage collector), so after its first piece, small
        # payloads are gathered in a bytearray ``tail`` that sits in the list: a second copy
        # of those bytes, but a cache-hot one.
        run_stream = 0
        pieces: list[bytes | bytearray | memoryview] = []
        tail: bytearray | None = None

        if self._header:
            # Finish the frame that straddles the previous call.
            if not self._in_payload:
                take = min(HEADER_SIZE - len(self._header), size)
                self._header += view[:take]
                pos = take
                if len(self._header) < HEADER_SIZE:
                    return out
                first, length = _HEADER.unpack_from(self._header)
                err = _header_error(self._offset, first, length, self._max, self._header)
                if err is not None:
                    raise self._fail(err, out, self._offset)
                self._in_payload = True
                self._stream = (first >> 24) or STDOUT
                self._length = length
            take = min(self._length - len(self._pending), size - pos)
            if take:
                self._pending += view[pos : pos + take]
                pos += take
            if len(self._pending) < self._length:
                return out
            payload = bytes(self._pending)
            stream = self._stream
            if stream == STREAM_ERROR:
                raise self._fail(_stream_error(payload), out, self._offset)
            self._header.clear()
            self._pending.clear()
            self._in_payload = False
            self._offset = base + pos
            if not join:
                out.append((stream, payload))
            elif payload:
                run_stream = stream
                pieces = [payload]

        failure: DemuxError | None = None
        unpack = _HEADER.unpack_from
        max_size = self._max
        while size - pos >= HEADER_SIZE:
            first, length = unpack(view, pos)
            if first & 0xFFFFFF or first >> 24 > STREAM_ERROR or length > max_size:
                failure = _header_error(
                    base + pos, first, length, max_size, view[pos : pos + HEADER_SIZE]
                )
                break
            end = pos + HEADER_SIZE + length
            if end > size:
                break
            stream = (first >> 24) or STDOUT
            if stream == STREAM_ERROR:
                failure = _stream_error(view[pos + HEADER_SIZE : end])
                break
            if not join:
                out.append((stream, bytes(view[pos + HEADER_SIZE : end])))
            elif length:
                if stream != run_stream:
                    if pieces:
                        out.append((run_stream, b"".join(pieces)))
                    run_stream = stream
                    pieces = [view[pos + HEADER_SIZE : end]]
                    tail = None
                elif length >= _SMALL_PAYLOAD:
                    pieces.append(view[pos + HEADER_SIZE : end])
                    tail = None
                elif tail is None:
                    tail = bytearray(view[pos + HEADER_SIZE : end])
                    pieces.append(tail)
                else:
                    tail += view[pos + HEADER_SIZE : end]
            pos = end

        if pieces:
            out.append((run_stream, b"".join(pieces)))
        if failure is not None:
            raise self._fail(failure, out, base + pos)
        self._offset = base + pos

        rest = size - pos
        if rest >= HEADER_SIZE:
            # A valid header whose payload has not fully arrived.
            first, length = unpack(view, pos)
            self._header += view[pos : pos + HEADER_SIZE]
            self._in_payload = True
            self._stream = (first >> 24) or STDOUT
            self._length = length
            self._pending += view[pos + HEADER_SIZE :]
        elif rest:
            self._header += view[pos:]
        return out

    def close(self) -> None:
        """Declare the end of the stream: a frame still incomplete is an error, not dropped data.

        Closing on a frame boundary changes nothing, so it may be called more than once.
        """
        if self._error is not None:
            raise self._poisoned()
        if not self._header:
            return
        if self._in_payload:
            err = _truncated_payload(self._offset, self._stream, self._length, bytes(self._pending))
        else:
            err = _truncated_header(self._offset, len(self._header))
        raise self._fail(err, [], self._offset)


def demux_buffer(data: Buffer, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE) -> tuple[bytes, bytes]:
    """Split a complete stream into ``(stdout, stderr)`` in one call.

    For callers that already hold the whole body (``logs(stream=False)``, a finished attach):
    it validates every frame first, so an error is raised before any output is built, exactly as
    ``Demuxer.feed(data)`` followed by ``close()`` would report it.
    """
    max_size = _check_max(max_frame_size)
    view = _view(data)
    size = len(view)
    pos = 0
    # Per stream: pieces for one b"".join(), small payloads gathered in a trailing bytearray
    # (see Demuxer.feed for why); a large payload goes in as a view, copied once.
    parts: tuple[list[bytearray | memoryview], list[bytearray | memoryview]] = ([], [])
    tails: list[bytearray | None] = [None, None]
    unpack = _HEADER.unpack_from
    while size - pos >= HEADER_SIZE:
        first, length = unpack(view, pos)
        if first & 0xFFFFFF or first >> 24 > STREAM_ERROR or length > max_size:
            err = _header_error(pos, first, length, max_size, view[pos : pos + HEADER_SIZE])
            assert err is not None
            raise err
        start = pos + HEADER_SIZE
        end = start + length
        stream = (first >> 24) or STDOUT
        if end > size:
            raise _truncated_payload(pos, stream, length, bytes(view[start:]))
        if stream == STREAM_ERROR:
            raise _stream_error(view[start:end])
        index = stream - 1
        if length >= _SMALL_PAYLOAD:
            parts[index].append(view[start:end])
            tails[index] = None
        elif length:
            tail = tails[index]
            if tail is None:
                tail = tails[index] = bytearray()
                parts[index].append(tail)
            tail += view[start:end]
        pos = end
    if pos < size:
        raise _truncated_header(pos, size - pos)
    return b"".join(parts[0]), b"".join(parts[1])


class Collector:
    """Gathers a whole stream, fed piece by piece, into ``(stdout, stderr)`` bytes.

    For the non-stream results (``logs()``, ``exec_run(demux=True)``, ``attach()``) that hold
    the whole output anyway: the caller can read into one reused buffer and feed views of it,
    and each payload byte is copied once, into its output.  ``merge`` puts both streams into
    the first output in the order written (``logs()``); ``framed=False`` takes the bytes as
    they come (a TTY's output).  Errors are exactly those :class:`Demuxer` raises for the same
    bytes, with ``frames`` always empty: nothing is handed out before ``close()``.
    """

    def __init__(
        self,
        merge: bool = False,
        framed: bool = True,
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
    ) -> None:
        self._demuxer = Demuxer(max_frame_size) if framed else None
        self._merge = merge
        self._outputs = (bytearray(), bytearray())
        self._closed = False

    def feed(self, data: Buffer) -> None:
        if self._closed:
            raise ValueError("feed() on a closed Collector")
        if self._demuxer is None:
            self._outputs[0].extend(data)
            return
        try:
            frames = self._demuxer.feed(data)
        except (FrameError, StreamError) as exc:
            exc.frames = []
            raise
        outputs, merge = self._outputs, self._merge
        for stream, payload in frames:
            outputs[1 if stream == STDERR and not merge else 0].extend(payload)

    def close(self) -> tuple[bytes, bytes]:
        """``(stdout, stderr)`` (``(both, b"")`` when merged); an unfinished frame raises."""
        if self._closed:
            raise ValueError("close() on a closed Collector")
        if self._demuxer is not None:
            self._demuxer.close()
        self._closed = True
        out, err = self._outputs
        return bytes(out), bytes(err)
