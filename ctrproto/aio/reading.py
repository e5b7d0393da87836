"""Reading answers as the client methods promise: frames, JSON values, docker-py output shapes.

Each helper is a thin async loop around a shared sans-IO decoder (the demuxer, the JSON-stream
decoder) or a shared shaping function of :mod:`ctrproto.api.output`; none decodes anything
itself.  Every one is an async generator over the one below, so a consumer's ``__anext__``
reaches down to at most one network read (backpressure), and closing or cancelling the top
closes the connection at the bottom.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable, Iterable
from typing import Any, Union

from ..api.output import (
    DemuxedChunk,
    Rechunker,
    body_piece,
    collected,
    collector,
    demuxed_chunk,
    iter_body,
)
from ..protocol.jsonstream import JSONStreamDecoder
from .hijack import AsyncHijackedSocket, Frame, frames_of

Output = Union[
    bytes,
    tuple[bytes, bytes],
    AsyncGenerator[bytes, None],
    AsyncGenerator[DemuxedChunk, None],
]


__all__ = [
    "collect",
    "demuxed",
    "frames_of",
    "json_values",
    "payloads",
    "rechunked",
    "shape_socket_output",
    "upload_pieces",
]


async def payloads(frames: AsyncIterable[Frame]) -> AsyncGenerator[bytes, None]:
    async for _, payload in frames:
        yield payload


async def demuxed(frames: AsyncIterable[Frame]) -> AsyncGenerator[DemuxedChunk, None]:
    async for stream, payload in frames:
        yield demuxed_chunk(stream, payload)


async def json_values(
    pieces: AsyncIterable[bytes], raise_on_error: bool = False
) -> AsyncGenerator[Any, None]:
    decoder = JSONStreamDecoder(raise_on_error=raise_on_error)
    async for piece in pieces:
        for value in decoder.feed(piece):
            yield value
    for value in decoder.close():
        yield value


async def checked_progress(pieces: AsyncIterable[bytes]) -> AsyncGenerator[bytes, None]:
    """Raw pull progress passed through while the decoder watches it for an in-band error."""
    decoder = JSONStreamDecoder(raise_on_error=True)
    async for piece in pieces:
        decoder.feed(piece)
        yield piece
    decoder.close()


async def socket_frames(sock: AsyncHijackedSocket) -> AsyncGenerator[Frame, None]:
    """The socket's frames; the socket is closed when they end or the generator is closed."""
    try:
        async for frame in sock.iter_frames():
            yield frame
    finally:
        sock.close()


async def collect(chunks: AsyncIterable[bytes]) -> bytes:
    return b"".join([chunk async for chunk in chunks])


async def shape_socket_output(sock: AsyncHijackedSocket, stream: bool, demux_: bool) -> Output:
    """As the sync client's :func:`~ctrproto.api.output.shape_socket_output`: a generator for
    ``stream``, otherwise the whole output gathered by the same :func:`collector`."""
    if stream:
        frames = socket_frames(sock)
        return demuxed(frames) if demux_ else payloads(frames)
    sink = collector(sock.tty, demux_)
    try:
        while piece := await sock.recv():
            sink.feed(piece)
    finally:
        sock.close()
    return collected(sink, demux_)


async def rechunked(
    pieces: AsyncIterable[bytes], chunk_size: int | None
) -> AsyncGenerator[bytes, None]:
    """Export/archive bytes in ``chunk_size`` pieces, cut by the shared :class:`Rechunker`."""
    rechunker = Rechunker(chunk_size)
    async for piece in pieces:
        for chunk in rechunker.feed(piece):
            yield chunk
    for chunk in rechunker.flush():
        yield chunk


def upload_pieces(data: object, chunk_size: int) -> AsyncIterable[bytes]:
    """An upload body from bytes, a binary file, or a sync or async iterable of bytes.

    Anything but an async iterable goes through the sync client's :func:`iter_body`, so a wrong
    argument is a ``TypeError`` before the request starts (an async iterable's pieces can only be
    checked as they come).  A file is read in the event loop: pass an async iterable to read it
    elsewhere.
    """
    if isinstance(data, AsyncIterable):
        return _checked_pieces(data)
    return _from_sync(iter_body(data, chunk_size))


async def _checked_pieces(data: AsyncIterable[object]) -> AsyncGenerator[bytes, None]:
    async for piece in data:
        yield body_piece(piece)


async def _from_sync(pieces: Iterable[bytes]) -> AsyncGenerator[bytes, None]:
    for piece in pieces:
        yield piece
