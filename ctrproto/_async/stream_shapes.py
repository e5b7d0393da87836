"""Streams of body pieces turned into what the client methods promise: frames, payloads,
docker-py's demux tuples, JSON values, fixed-size chunks.

Each is a thin loop around a shared sans-IO decoder (the demuxer, the JSON-stream decoder, the
:class:`~ctrproto.engine.output.Rechunker`); none decodes anything itself.  Every one is a
generator over the one below, so a consumer's next step reaches down to at most one network read
(backpressure), and closing the top closes the connection at the bottom.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable
from typing import Any

from ..engine.output import DemuxedChunk, Frame, Rechunker, demuxed_chunk
from ..protocol import demux
from ..protocol.buffer import Buffer
from ..protocol.jsonstream import JSONStreamDecoder


async def frames_of(
    pieces: AsyncIterable[Buffer], join: bool = True
) -> AsyncGenerator[Frame, None]:
    """A multiplexed byte stream as ``(stream, payload)`` pairs, in the order written.

    At a bad frame (or an in-band error) the frames decoded before it are handed out first, then
    the error is raised: no complete output is lost.
    """
    demuxer = demux.Demuxer(join=join)
    async for piece in pieces:
        if not piece:
            continue
        frames, error = demux.feed_frames(demuxer, piece)
        for frame in frames:
            yield frame
        if error is not None:
            raise error
    demuxer.close()


async def as_stdout(pieces: AsyncIterable[bytes]) -> AsyncGenerator[Frame, None]:
    """A TTY's raw output as frames: a TTY has one stream, reported as stdout."""
    async for piece in pieces:
        yield demux.STDOUT, piece


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


async def collect(chunks: AsyncIterable[bytes]) -> bytes:
    return b"".join([chunk async for chunk in chunks])


async def no_pieces() -> AsyncGenerator[bytes, None]:
    """An empty streamed body."""
    nothing: tuple[bytes, ...] = ()
    for piece in nothing:
        yield piece
