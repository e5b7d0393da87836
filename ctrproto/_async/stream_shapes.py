"""Streams of body pieces turned into what the client methods promise: frames, payloads,
docker-py's demux tuples, JSON values, fixed-size chunks.

Each is a thin loop around a shared sans-IO decoder (the demuxer, the JSON-stream decoder, the
:class:`~ctrproto.engine.output.Rechunker`); none decodes anything itself.  Every one is a
generator over the one below, so a consumer's next step reaches down to at most one network read
(backpressure), and closing the top closes the connection at the bottom.

The ``*_batches`` shapes hand out a *list* per network read (what that read completed): the
:class:`~ctrproto._async.cancellable.AsyncCancellableStream` a client method returns serves the
items from those lists, which keeps the per-item cost of one item per frame (millions of log
lines) at a list's.  :func:`stream_of` wraps any item generator the same way, for the streams
that are not on a hot path.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable
from typing import Any, Protocol, TypeVar

from ..engine.output import DemuxedChunk, Frame, Rechunker, demuxed_chunk
from ..protocol import demux
from ..protocol.buffer import Buffer
from ..protocol.jsonstream import JSONStreamDecoder
from .cancellable import AsyncCancellableStream, Interruptible, batches_of, cancellable

T = TypeVar("T")

#: Every one-byte ``bytes``, by value: a TTY log stream's items (docker-py's).
_BYTES = [bytes((value,)) for value in range(256)]


def stream_of(resource: Interruptible, items: AsyncGenerator[T, None]) -> AsyncCancellableStream[T]:
    """A client method's stream of ``items`` read from ``resource`` (a response or a hijacked
    socket): iterable, and closable from another thread (see :mod:`.cancellable`)."""
    return cancellable(resource, batches_of(items))


async def frame_batches(
    pieces: AsyncIterable[Buffer], join: bool = False, tagged: bool = True
) -> AsyncGenerator[list[Any], None]:
    """A multiplexed byte stream as one list per piece of what the piece completed: frames as
    :class:`~ctrproto.protocol.demux.Demuxer` makes them with ``join``/``tagged`` (``tagged=False``:
    bare payloads, empty ones dropped).  Pieces that complete nothing add no list.

    At a bad frame (or an in-band error) the items decoded before it are handed out first, then
    the error is raised: no complete output is lost.
    """
    demuxer = demux.Demuxer(join=join, tagged=tagged)
    async for piece in pieces:
        if not piece:
            continue
        items, error = demux.feed_frames(demuxer, piece)
        if items:
            yield items
        if error is not None:
            raise error
    demuxer.close()


async def frames_of(
    pieces: AsyncIterable[Buffer], join: bool = True
) -> AsyncGenerator[Frame, None]:
    """A multiplexed byte stream as ``(stream, payload)`` pairs, in the order written (errors
    as :func:`frame_batches`)."""
    async for batch in frame_batches(pieces, join):
        for frame in batch:
            yield frame


async def demuxed_batches(
    batches: AsyncIterable[list[Frame]],
) -> AsyncGenerator[list[DemuxedChunk], None]:
    """Frames in docker-py's demux shape, empty ones dropped (docker-py yields none for them)."""
    async for batch in batches:
        chunks = [demuxed_chunk(stream, payload) for stream, payload in batch if payload]
        if chunks:
            yield chunks


async def byte_batches(pieces: AsyncIterable[Buffer]) -> AsyncGenerator[list[bytes], None]:
    """A raw (TTY) body one byte per item, as docker-py's ``logs(stream=True)`` hands it out
    (it reads a TTY's log stream with ``iter_content(1)``)."""
    lookup = _BYTES.__getitem__
    async for piece in pieces:
        if piece:
            yield list(map(lookup, memoryview(piece).cast("B")))


async def piece_batches(
    pieces: AsyncIterable[Buffer], wrap: bool = False
) -> AsyncGenerator[list[Any], None]:
    """Raw pieces as they were read, one per batch (as ``(piece, None)`` with ``wrap``: a TTY's
    output in docker-py's demux shape)."""
    async for piece in pieces:
        if piece:
            data = bytes(piece)
            yield [(data, None)] if wrap else [data]


class Decoder(Protocol[T]):
    """A sans-IO decoder fed piece by piece: what each piece completed, and the rest at the end."""

    def feed(self, data: bytes) -> list[T]: ...

    def close(self) -> list[T]: ...


async def decoded_batches(
    decoder: Decoder[T], pieces: AsyncIterable[bytes]
) -> AsyncGenerator[list[T], None]:
    """What ``decoder`` completes, one list per piece that completed something."""
    async for piece in pieces:
        values = decoder.feed(piece)
        if values:
            yield values
    values = decoder.close()
    if values:
        yield values


def json_batches(
    pieces: AsyncIterable[bytes], raise_on_error: bool = False
) -> AsyncGenerator[list[Any], None]:
    """:func:`json_values`, one list per piece of the values it completed."""
    return decoded_batches(JSONStreamDecoder(raise_on_error=raise_on_error), pieces)


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
