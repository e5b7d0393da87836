"""Shaping container output (attach, exec, export, archives) into what docker-py callers expect.

The endpoints hand us ``(stream, payload)`` frames or raw body pieces; docker-py's callers want
one ``bytes``, a ``(stdout, stderr)`` tuple, or a generator of either - and export/archive callers
want pieces of a fixed ``chunk_size``.  Keeping these shapes in one place means attach and exec
cannot drift apart, and whole outputs are gathered by a demux Collector, each payload byte
copied once into the result (never grown with ``+=``, which is quadratic for large outputs).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from typing import Union

from ..protocol import demux
from .hijack import HijackedSocket

#: One frame of demultiplexed output: the payload on its side, ``None`` on the other.
DemuxedChunk = tuple[Union[bytes, None], Union[bytes, None]]

#: What ``attach``/``exec_start`` return, depending on ``stream`` and ``demux``.
Output = Union[
    bytes, tuple[bytes, bytes], Generator[bytes, None, None], Generator[DemuxedChunk, None, None]
]

Frames = Iterable[tuple[int, bytes]]


def socket_frames(sock: HijackedSocket) -> Generator[tuple[int, bytes], None, None]:
    """The socket's frames; the socket is closed when they end or the generator is dropped."""
    with sock:
        yield from sock.iter_frames()


def collector(tty: bool, demux_: bool) -> demux.Collector:
    """Gathers a whole output for a non-stream result: each payload byte is copied once, into
    the bytes returned, where joining streamed frames would copy it three times."""
    return demux.Collector(merge=not demux_, framed=not tty)


def collected(sink: demux.Collector, demux_: bool) -> bytes | tuple[bytes, bytes]:
    out, err = sink.close()
    return (out, err) if demux_ else out


def shape_socket_output(sock: HijackedSocket, stream: bool, demux_: bool) -> Output:
    """docker-py's shape of a hijacked socket's output for ``stream``/``demux``: a generator of
    chunks (or of per-frame tuples), or the whole output gathered by a :func:`collector`."""
    if stream:
        frames = socket_frames(sock)
        return stream_demuxed(frames) if demux_ else stream_output(frames)
    sink = collector(sock.tty, demux_)
    with sock:
        sock.read_into(sink.feed)
    return collected(sink, demux_)


def stream_output(frames: Frames) -> Generator[bytes, None, None]:
    for _, payload in frames:
        yield payload


def demuxed_chunk(stream: int, payload: bytes) -> DemuxedChunk:
    """One streamed frame in docker-py's demux shape: ``None`` on the silent side."""
    return (None, payload) if stream == demux.STDERR else (payload, None)


def stream_demuxed(frames: Frames) -> Generator[DemuxedChunk, None, None]:
    for stream, payload in frames:
        yield demuxed_chunk(stream, payload)


class Rechunker:
    """Re-cuts a byte stream into ``chunk_size`` pieces (the last may be shorter), without I/O.

    Feed it the pieces as they arrive; it holds at most one chunk plus one piece in memory,
    whatever the stream's size, and the sync and async clients share it.  A ``chunk_size`` of
    ``None`` or below 1 passes non-empty pieces through as they arrive.
    """

    def __init__(self, chunk_size: int | None) -> None:
        self.chunk_size = chunk_size if chunk_size is not None and chunk_size >= 1 else 0
        self._buffer = bytearray()

    def feed(self, piece: bytes) -> list[bytes]:
        """The whole chunks completed by ``piece``."""
        size = self.chunk_size
        if not size:
            return [piece] if piece else []
        buffer = self._buffer
        if not buffer and len(piece) == size:
            return [piece]
        buffer += piece
        out: list[bytes] = []
        while len(buffer) >= size:
            out.append(bytes(buffer[:size]))
            del buffer[:size]  # CPython drops a bytearray's head without copying the rest
        return out

    def flush(self) -> list[bytes]:
        """What is left at the end of the stream (at most one short chunk)."""
        if not self._buffer:
            return []
        rest = bytes(self._buffer)
        self._buffer.clear()
        return [rest]


def rechunk(pieces: Iterable[bytes], chunk_size: int | None) -> Generator[bytes, None, None]:
    """``pieces`` re-cut by a :class:`Rechunker`."""
    rechunker = Rechunker(chunk_size)
    for piece in pieces:
        yield from rechunker.feed(piece)
    yield from rechunker.flush()


def iter_body(data: object, chunk_size: int) -> Generator[bytes, None, None]:
    """Upload body pieces from bytes, a binary file-like object or an iterable of bytes.

    The type is checked here, before the request starts, so that a wrong argument is a plain
    ``TypeError`` rather than a connection torn down halfway through sending.
    """
    if isinstance(data, (bytes, bytearray, memoryview)):
        return _slices(memoryview(data), chunk_size)
    read = getattr(data, "read", None)
    if callable(read):
        return _reads(read, chunk_size)
    if isinstance(data, str) or not isinstance(data, Iterable):
        raise TypeError(
            "the data must be bytes, a binary file or an iterable of bytes, "
            f"not {type(data).__name__}"
        )
    return _pieces(data)


def _slices(view: memoryview, chunk_size: int) -> Generator[bytes, None, None]:
    for start in range(0, len(view), chunk_size):
        yield bytes(view[start : start + chunk_size])


def _reads(read: Callable[[int], object], chunk_size: int) -> Generator[bytes, None, None]:
    while True:
        piece = read(chunk_size)
        if not piece:
            return
        if not isinstance(piece, (bytes, bytearray, memoryview)):
            raise TypeError(f"the file must be opened in binary mode; read() gave {piece!r:.40}")
        yield bytes(piece)


def _pieces(data: Iterable[object]) -> Generator[bytes, None, None]:
    for piece in data:
        yield body_piece(piece)


def body_piece(piece: object) -> bytes:
    """One piece of an iterable upload body, checked: bytes-like or a ``TypeError``."""
    if not isinstance(piece, (bytes, bytearray, memoryview)):
        raise TypeError(f"the data yielded {type(piece).__name__}, not bytes")
    return bytes(piece)
