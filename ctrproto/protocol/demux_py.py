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

Shape, as in Go's ``stdcopy``: one frame loop (:meth:`Demuxer._scan`) reads a header, then its
payload, and hands complete payloads, in runs of one stream, to a sink.  The demuxer's own sink
makes the ``(stream, payload)`` items; :class:`Collector` and :func:`demux_buffer` are the same
loop with a sink that gathers whole outputs.

Performance notes: the compiled module scans headers in C and copies each payload byte once.
This module is close to it on large frames (16 KiB) but pays the interpreter per frame, so it
is about ten times slower on log-line-sized ones (100 bytes).
"""

from __future__ import annotations

import operator
import struct
from typing import Any

from ctrproto.errors import (
    FrameError,
    FrameTooLargeError,
    InvalidArgument,
    MalformedFrameError,
    StreamError,
    TruncatedFrameError,
)
from ctrproto.protocol.buffer import Buffer

__all__ = ["DEFAULT_MAX_FRAME_SIZE", "STDERR", "STDOUT", "Collector", "Demuxer", "demux_buffer"]

STDOUT: int = 1
STDERR: int = 2
STREAM_ERROR: int = 3
DEFAULT_MAX_FRAME_SIZE: int = 64 * 1024 * 1024

HEADER_SIZE = 8
# Payloads below this size are gathered into a bytearray (a second copy, but in cache) rather
# than kept as one memoryview each (bigger than the payload, and tracked by the garbage
# collector) until the run's b"".join().
_SMALL_PAYLOAD = 2048
_HEADER = struct.Struct(">II")
# demux_buffer's reads of its input (as in the compiled twin).
_BUFFER_SLICE = 256 * 1024
# The stream a valid header's first word reports (None for an invalid one): the stream id, with
# 0 (stdin) as stdout, and bytes 1-3 zero.
_stream_of = {0: STDOUT, 1 << 24: STDOUT, 2 << 24: STDERR, 3 << 24: STREAM_ERROR}.get

Frame = tuple[int, bytes]
#: What ``Demuxer.feed`` hands out: frames, or with ``tagged=False`` bare payloads (typed
#: ``Any`` so that a caller of either kind reads its own shape without a cast).
Item = Any
#: Consecutive payloads of one stream, as the frame loop found them (views of its input).
Run = tuple[int, list[Buffer]]

#: Everything the demuxer raises on bad input.
DemuxError = FrameError | StreamError


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


class _Frames:
    """The demuxer's own sink: one ``(stream, payload)`` item per run, or with ``tagged`` off
    the payload alone.

    A sink's ``take()`` gets the runs of one ``feed()``, in order (their views of the input die
    with the call), and returns its items.
    """

    __slots__ = ("_tagged",)

    def __init__(self, tagged: bool = True) -> None:
        self._tagged = tagged

    def take(self, runs: list[Run]) -> list[Item]:
        items: list[Item] = []  # (a loop: cheaper than a comprehension for the few runs of a read)
        if self._tagged:
            for stream, pieces in runs:
                items.append((stream, b"".join(pieces)))
        else:
            for _, pieces in runs:
                items.append(b"".join(pieces))
        return items


class _Outputs:
    """The collector's sink: every payload into the output of its stream (the first one for both
    when merged), as pieces that ``result()`` joins.

    A run is copied out (joined) as it arrives, since the caller may reuse the buffer it views;
    with ``borrow`` the input outlives the collection, so its views are kept as they are and
    each byte is copied once, by ``result()`` (what :func:`demux_buffer` wants).
    """

    __slots__ = ("_borrow", "_parts", "_into")

    def __init__(self, merge: bool = False, borrow: bool = False) -> None:
        self._borrow = borrow
        self._parts: tuple[list[Buffer], list[Buffer]] = ([], [])
        out, err = self._parts
        self._into = {STDOUT: out, STDERR: out if merge else err}

    def take(self, runs: list[Run]) -> list[Item]:
        into = self._into
        if self._borrow:
            for stream, pieces in runs:
                into[stream].extend(pieces)
        else:
            for stream, pieces in runs:
                into[stream].append(b"".join(pieces))
        return []

    def result(self) -> tuple[bytes, bytes]:
        out, err = self._parts
        return b"".join(out), b"".join(err)


class Demuxer:
    """Incremental demuxer: bytes in as they arrive, complete frames out.

    ``offset`` is the stream position just past the last complete frame; ``buffered`` counts the
    bytes received after it and held until their frame is complete.  Only the one frame that
    straddles two ``feed()`` calls is ever copied into the internal buffer.  ``close()`` at a
    frame boundary is a no-op (feeding may even go on after it): it exists to turn a partial
    frame at the end of the stream into :class:`~ctrproto.errors.TruncatedFrameError`.
    """

    __slots__ = (
        "_max", "_join", "_tagged", "_sink", "_offset", "_header", "_length", "_held", "_error"
    )

    def __init__(
        self, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE, join: bool = True, tagged: bool = True
    ) -> None:
        self._max = _check_max(max_frame_size)
        self._join = bool(join)
        self._tagged = bool(tagged)
        self._sink: _Frames | _Outputs = _Frames(self._tagged)
        self._offset = 0
        # The frame cut by a read boundary: its header as received so far (all 8 bytes, checked,
        # once its payload is arriving), the length that announces, and its payload so far.
        self._header = bytearray()
        self._length = 0
        self._held = bytearray()
        self._error: DemuxError | None = None

    @property
    def offset(self) -> int:
        return self._offset

    @property
    def buffered(self) -> int:
        return len(self._header) + len(self._held)

    def _poisoned(self) -> DemuxError:
        assert self._error is not None
        err = type(self._error)(*self._error.args)
        if isinstance(err, TruncatedFrameError):
            err.partial = getattr(self._error, "partial", None)
        err.frames = []
        return err

    def _fail(self, err: DemuxError, frames: list[Item]) -> DemuxError:
        """Poison the demuxer; ``offset`` stays at the offending frame."""
        err.frames = frames
        self._error = err
        self._header.clear()
        self._held = bytearray()
        return err

    def feed(self, data: Buffer) -> list[Any]:
        """Consume ``data``; return the frames it completed as ``(stream, payload)``.

        With ``join`` (the default), consecutive payloads of one stream within this call come out
        as one item and empty frames are dropped, which is what a reader copying to a file or a
        terminal wants: few large writes.  Without it there is one item per frame.

        With ``tagged=False`` the items are the payloads alone (``bytes``, no tuple): what a
        reader of the merged output wants, one object per item.  Then ``join`` joins every
        consecutive payload, whatever its stream, and without ``join`` empty frames are dropped
        (an untagged empty item would say nothing).
        """
        if self._error is not None:
            raise self._poisoned()
        runs: list[Run] = []
        frames: list[Item] = []  # without join, the loop makes the items itself
        failure = self._scan(_view(data), runs, frames)
        if runs:
            frames = self._sink.take(runs)
        if failure is not None:
            raise self._fail(failure, frames)
        return frames

    def _scan(self, view: memoryview, runs: list[Run], frames: list[Item]) -> DemuxError | None:
        """The frame loop: a header, then its payload, for each frame in ``view``.

        A frame is read where it lies; the one cut by a read boundary is gathered in ``_header``
        and ``_held`` until a later call completes it (its header is checked as soon as it is
        whole, so a bad one fails before its payload is awaited).  With ``join``, complete
        payloads are gathered in ``runs`` for the sink: consecutive payloads of one stream, empty
        ones dropped; without, each frame goes to ``frames`` as it is (the demuxer's own items:
        no sink wants frames apart).  Returns the error of a bad frame, which ends the loop.
        """
        size = len(view)
        pos = 0
        last = size - HEADER_SIZE  # a header that starts after this is cut
        header = self._header
        cut = bool(header)  # reading the frame cut by a read boundary
        # The stream offset of view[0]: past what has been received of the cut frame.
        base = self._offset + len(header) + len(self._held) if cut else self._offset
        unpack, stream_of, max_size, join = _HEADER.unpack_from, _stream_of, self._max, self._join
        tagged = self._tagged
        add_run, add_frame = runs.append, frames.append
        # The run being gathered: its stream (0: none yet), its pieces for one b"".join(), and
        # the bytearray ``tail`` among them that small payloads are gathered in.
        run_stream = 0
        pieces: list[Buffer] = []
        tail: bytearray | None = None
        failure: DemuxError | None = None
        stream: int | None
        payload: Buffer
        while pos < size:
            if cut or pos > last:
                # The frame cut by a read boundary: gathered until whole.
                cut = True
                if len(header) < HEADER_SIZE:
                    had = len(header)
                    header += view[pos : pos + HEADER_SIZE - had]  # (a slice stops at the end)
                    pos += len(header) - had
                    if len(header) < HEADER_SIZE:
                        break
                    first, length = _HEADER.unpack(header)
                    if stream_of(first) is None or length > max_size:
                        at = base + pos - HEADER_SIZE
                        failure = _header_error(at, first, length, max_size, header)
                        break
                    self._length = length
                held = self._held
                length = self._length
                had = len(held)
                held += view[pos : pos + length - had]
                pos += len(held) - had
                if len(held) < length:
                    break
                stream = header[0] or STDOUT
                if stream == STREAM_ERROR:
                    failure = _stream_error(held)
                    break
                payload = held
                header.clear()
                self._held = bytearray()  # ``held`` is handed out
                cut = False
            else:
                first, length = unpack(view, pos)
                stream = stream_of(first)
                if stream is None or length > max_size:
                    bad = view[pos : pos + HEADER_SIZE]
                    failure = _header_error(base + pos, first, length, max_size, bad)
                    break
                end = pos + HEADER_SIZE + length
                if end > size:
                    cut = True  # from here on, by the branch above
                    continue
                if stream == STREAM_ERROR:
                    failure = _stream_error(view[pos + HEADER_SIZE : end])
                    break
                payload = view[pos + HEADER_SIZE : end]
                pos = end
            # A whole frame of stdout or stderr: into the run.
            if not join:
                if tagged:
                    add_frame((stream, bytes(payload)))
                elif length:
                    add_frame(bytes(payload))
            elif length:
                if not tagged:
                    stream = STDOUT  # one run, whatever the streams
                if stream != run_stream:
                    run_stream, pieces, tail = stream, [], None
                    add_run((stream, pieces))
                if length >= _SMALL_PAYLOAD:
                    pieces.append(payload)
                    tail = None
                elif tail is None:
                    tail = bytearray(payload)
                    pieces.append(tail)
                else:
                    tail += payload
        # The frame being read starts before what has been received of it.
        self._offset = base + pos - (len(header) + len(self._held) if cut else 0)
        return failure

    def close(self) -> None:
        """Declare the end of the stream: a frame still incomplete is an error, not dropped data.

        Closing on a frame boundary changes nothing, so it may be called more than once.
        """
        if self._error is not None:
            raise self._poisoned()
        header = self._header
        if not header:
            return
        if len(header) == HEADER_SIZE:
            received = bytes(self._held)
            err = _truncated_payload(self._offset, header[0] or STDOUT, self._length, received)
        else:
            err = _truncated_header(self._offset, len(header))
        raise self._fail(err, [])


class Collector:
    """Gathers a whole stream, fed piece by piece, into ``(stdout, stderr)`` bytes.

    For the non-stream results (``logs()``, ``exec_run(demux=True)``, ``attach()``) that hold
    the whole output anyway: the caller can read into one reused buffer and feed views of it.
    It is a :class:`Demuxer` whose sink gathers outputs instead of making items (in the
    compiled twin each payload byte is copied once, into its output).  ``merge`` puts both
    streams into the first output in the order written (``logs()``); ``framed=False`` takes the
    bytes as they come (a TTY's output).  Errors are exactly those :class:`Demuxer` raises for
    the same bytes, with ``frames`` always empty: nothing is handed out before ``close()``.
    """

    __slots__ = ("_demuxer", "_outputs", "_framed", "_closed")

    def __init__(
        self,
        merge: bool = False,
        framed: bool = True,
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
    ) -> None:
        self._outputs = _Outputs(merge)
        self._demuxer = Demuxer(max_frame_size)
        self._demuxer._sink = self._outputs
        self._framed = framed
        self._closed = False

    def feed(self, data: Buffer) -> None:
        if self._closed:
            raise ValueError("feed() on a closed Collector")
        if self._framed:
            self._demuxer.feed(data)
        else:
            self._outputs.take([(STDOUT, [_view(data)])])

    def close(self) -> tuple[bytes, bytes]:
        """``(stdout, stderr)`` (``(both, b"")`` when merged); an unfinished frame raises."""
        if self._closed:
            raise ValueError("close() on a closed Collector")
        self._demuxer.close()
        self._closed = True
        return self._outputs.result()


def demux_buffer(data: Buffer, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE) -> tuple[bytes, bytes]:
    """Split a complete stream into ``(stdout, stderr)`` in one call.

    For callers that already hold the whole body (``logs(stream=False)``, a finished attach):
    the frame loop with a collector's sink that may keep views of ``data``, so each payload
    byte is copied once; errors are those of ``Demuxer.feed(data)`` + ``close()``, raised before
    any output is built.  ``data`` is fed in slices, which bounds what a ``feed()`` gathers
    (objects the garbage collector would otherwise traverse again and again).
    """
    demuxer = Demuxer(max_frame_size)
    outputs = _Outputs(borrow=True)
    demuxer._sink = outputs
    view = _view(data)
    for start in range(0, len(view), _BUFFER_SLICE):
        demuxer.feed(view[start : start + _BUFFER_SLICE])
    demuxer.close()
    return outputs.result()
