"""The socket-like object handed out by ``attach_socket`` and ``exec_start(socket=True)``.

After the daemon hijacks a connection it is a plain byte pipe: the container's stdin one way, its
(possibly multiplexed) output the other.  The bytes the HTTP layer had already read past the
response head are served first, so nothing the daemon sent early is lost.  A read interrupted by
cancellation (or Ctrl-C) closes the connection, so an abandoned attach never leaks a socket.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import Any, Union

from .._backends import asyncio as backend
from ..engine.defaults import READ_SIZE
from ..engine.output import DemuxedChunk, Frame, collected, collector
from ..errors import ConnectionClosed
from ..protocol.buffer import Buffer
from ..protocol.http import ResponseHead
from ..transport.base import AsyncStream
from .cancellable import cancellable
from .stream_shapes import (
    as_stdout,
    demuxed_batches,
    frame_batches,
    frames_of,
    piece_batches,
)

#: What ``attach``/``exec_start`` return, depending on ``stream`` and ``demux`` (a stream is an
#: :class:`AsyncCancellableStream`, typed by its generator base).
Output = Union[
    bytes,
    tuple[bytes, bytes],
    AsyncGenerator[bytes, None],
    AsyncGenerator[DemuxedChunk, None],
]

#: docker-py's read size for a TTY's output (``docker.utils.socket.read``): a streamed TTY
#: attach hands out what each read of at most this many bytes returned, as it does.
TTY_READ_SIZE = 4096


class AsyncHijackedSocket:
    def __init__(self, stream: AsyncStream, head: ResponseHead, trailing: bytes, tty: bool):
        self._stream = stream
        self.head = head
        self._pending = trailing
        self._aborted = False
        #: Whether the output is a raw TTY stream (True) or multiplexed frames (False).
        self.tty = tty
        # unasync: async-only
        # The descriptor must stay one to wait on until close(), even where the event loop
        # closes its socket at the daemon's end of output (TLS).
        keep = getattr(stream, "keep_fileno", None)
        if keep is not None:
            keep()
        # unasync: end

    # -------------------------------------------------------------- reading

    async def recv(self, size: int = READ_SIZE) -> bytes:
        """At most ``size`` bytes; ``b""`` at the end of the output."""
        if self._pending:
            data, self._pending = self._pending[:size], self._pending[size:]
            return data
        try:
            data = await self._stream.recv(size)
        except Exception:
            raise
        except BaseException:
            self.close()
            raise
        if not data and self._aborted:
            raise self._cut()
        return data

    async def recv_into(self, buffer: bytearray | memoryview) -> int:
        if self._pending:
            n = min(len(buffer), len(self._pending))
            buffer[:n] = self._pending[:n]
            self._pending = self._pending[n:]
            return n
        return await self._stream.recv_into(buffer)

    async def read(self, size: int = -1) -> bytes:
        """Read ``size`` bytes (fewer only at end of stream); ``-1`` reads to the end."""
        parts: list[bytes] = []
        remaining = size
        while size < 0 or remaining > 0:
            data = await self.recv(READ_SIZE if size < 0 else min(remaining, READ_SIZE))
            if not data:
                break
            parts.append(data)
            remaining -= len(data)
        return b"".join(parts)

    async def read_into(self, sink: Callable[[Buffer], object]) -> None:
        """Hand everything up to the end of the output to ``sink``, one read at a time.

        Each piece is valid only during the call (the sync twin reads into one reused buffer):
        ``sink`` copies what it keeps, as a :class:`~ctrproto.protocol.demux.Collector` copies
        payloads straight into its result.
        """
        async for piece in self.iter_pieces():
            sink(piece)

    async def iter_raw(self, size: int = READ_SIZE) -> AsyncGenerator[bytes, None]:
        while data := await self.recv(size):
            yield data

    async def iter_pieces(self) -> AsyncGenerator[Buffer, None]:
        """Reads for a decoder that copies what it keeps: no new object per read where the
        world allows (on an exec or attach stream the client's main cost)."""
        if self._pending:
            pending, self._pending = self._pending, b""
            yield memoryview(pending)
        reader = backend.Reader(READ_SIZE)
        while piece := await reader.read(self._stream):
            yield piece
        if self._aborted:
            raise self._cut()

    def _cut(self) -> ConnectionClosed:
        """The end of a read that :meth:`abort` woke: not the output's end, which would tell a
        reader the container finished."""
        return ConnectionClosed("the attach connection was closed by close()")

    def iter_frames(self, join: bool = True) -> AsyncGenerator[Frame, None]:
        """``(stream, payload)`` pairs, decoded by the shared demuxer; TTY output is stdout."""
        if self.tty:
            return as_stdout(self.iter_raw())
        return frames_of(self.iter_pieces(), join)

    # -------------------------------------------------------------- writing

    async def sendall(self, data: Buffer) -> None:
        await self._stream.send_all(data)

    async def send(self, data: Buffer) -> int:
        await self._stream.send_all(data)
        return len(data)

    write = send

    async def shutdown_write(self) -> None:
        """Close the container's stdin (it sees EOF); output can still be read."""
        await self._stream.shutdown_write()

    close_stdin = shutdown_write

    def settimeout(self, timeout: float | None) -> None:
        self._stream.settimeout(timeout)

    def fileno(self) -> int:
        """The connection's file descriptor, for ``select``/``poll``/``selectors``: readable when
        the container wrote (or the output ended).  Bytes this object already holds are not
        signalled there: :meth:`pending` counts them (those the daemon sent with its answer's
        head, which a first read returns).  Over TLS the TLS layer may hold decrypted bytes
        too, as with any TLS socket; over SSH this is paramiko's channel pipe, readable with
        the channel.  Under asyncio the event loop reads ahead of the caller: :meth:`pending`
        counts what it already read, so check that first, then wait on the descriptor before
        the loop runs again.  ``-1`` once closed."""
        return self._stream.fileno()

    def pending(self) -> int:
        """Bytes already received and not yet read (a read returns them without waiting):
        under asyncio those the event loop read from the socket too."""
        held = len(self._pending)
        # unasync: async-only
        buffered = getattr(self._stream, "buffered", None)
        if buffered is not None:
            held += buffered()
        # unasync: end
        return held

    def abort(self) -> None:
        """Wake a read blocked on this socket, from any thread: it raises ``ConnectionClosed``
        (a stream over it ends quietly)."""
        self._aborted = True
        self._stream.abort()

    def close(self) -> None:
        self._stream.close()

    # unasync: async-only
    async def aclose(self) -> None:
        self.close()

    # unasync: end
    @property
    def closed(self) -> bool:
        return self._stream.closed

    async def __aenter__(self) -> AsyncHijackedSocket:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


async def socket_frames(
    sock: AsyncHijackedSocket, join: bool = True
) -> AsyncGenerator[Frame, None]:
    """The socket's frames; the socket is closed when they end or the generator is closed."""
    async with sock:
        async for frame in sock.iter_frames(join):
            yield frame


async def output_batches(
    sock: AsyncHijackedSocket, demux_: bool, chunks: bool
) -> AsyncGenerator[list[Any], None]:
    """A streamed attach/exec output in docker-py's items, one list per read; the socket is
    closed when they end or the generator is closed.

    docker-py's items: one per frame, empty frames dropped (``(stdout, None)`` /
    ``(None, stderr)`` tuples with ``demux``); a TTY's output as each read of at most
    :data:`TTY_READ_SIZE` bytes returned it.  ``chunks`` (ctrproto's bulk shape): what each
    read completed, a frame's neighbours of the same stream joined (all streams joined without
    ``demux``), a TTY's read as large as the client's.
    """
    async with sock:
        if sock.tty:
            pieces = sock.iter_raw(READ_SIZE if chunks else TTY_READ_SIZE)
            async for batch in piece_batches(pieces, wrap=demux_):
                yield batch
        elif demux_:
            frames = frame_batches(sock.iter_pieces(), join=chunks)
            async for chunk_batch in demuxed_batches(frames):
                yield chunk_batch
        else:
            async for batch in frame_batches(sock.iter_pieces(), join=chunks, tagged=False):
                yield batch


async def shape_socket_output(
    sock: AsyncHijackedSocket, stream: bool, demux_: bool, chunks: bool = False
) -> Output:
    """docker-py's shape of a hijacked socket's output for ``stream``/``demux``: a stream of
    chunks (or of per-frame tuples) that another thread can close, or the whole output
    gathered by a :func:`collector`.  ``chunks``: the bulk items of :func:`output_batches`."""
    if stream:
        return cancellable(sock, output_batches(sock, demux_, chunks))
    sink = collector(sock.tty, demux_)
    async with sock:
        await sock.read_into(sink.feed)
    return collected(sink, demux_)
