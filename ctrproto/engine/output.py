"""Shaping container output (attach, exec, export, archives) into what docker-py callers expect.

The endpoints hand us ``(stream, payload)`` frames or raw body pieces; docker-py's callers want
one ``bytes``, a ``(stdout, stderr)`` tuple, or a generator of either - and export/archive callers
want pieces of a fixed ``chunk_size``.  These are the decisions, without I/O; both clients loop
over them.  Whole outputs are gathered by a demux Collector, each payload byte copied once into
the result (never grown with ``+=``, which is quadratic for large outputs).
"""

from __future__ import annotations

from typing import Union

from ..protocol import demux

#: One frame of demultiplexed output: the payload on its side, ``None`` on the other.
DemuxedChunk = tuple[Union[bytes, None], Union[bytes, None]]
#: One frame: the stream number (:data:`~ctrproto.protocol.demux.STDOUT` ...) and its payload.
Frame = tuple[int, bytes]


def collector(tty: bool, demux_: bool) -> demux.Collector:
    """Gathers a whole output for a non-stream result: each payload byte is copied once, into
    the bytes returned, where joining streamed frames would copy it three times."""
    return demux.Collector(merge=not demux_, framed=not tty)


def collected(sink: demux.Collector, demux_: bool) -> bytes | tuple[bytes, bytes]:
    out, err = sink.close()
    return (out, err) if demux_ else out


def demuxed_chunk(stream: int, payload: bytes) -> DemuxedChunk:
    """One streamed frame in docker-py's demux shape: ``None`` on the silent side."""
    return (None, payload) if stream == demux.STDERR else (payload, None)


class Rechunker:
    """Re-cuts a byte stream into ``chunk_size`` pieces (the last may be shorter), without I/O.

    Feed it the pieces as they arrive; it holds at most one chunk plus one piece in memory,
    whatever the stream's size.  A ``chunk_size`` of ``None`` or below 1 passes non-empty pieces
    through as they arrive.
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
