"""The socket-like object handed out by ``attach_socket`` and ``exec_run(socket=True)``.

After the daemon hijacks a connection it is a plain byte pipe: the container's stdin one way, its
(possibly multiplexed) output the other.  The bytes the HTTP layer had already read past the
response head are served first, so nothing the daemon sent early is lost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from ..errors import FrameError, StreamError
from ..protocol import demux
from ..protocol.body import Buffer
from ..protocol.http import ResponseHead
from ..transport.base import Stream

READ_SIZE = 256 * 1024


def feed_frames(
    demuxer: demux.Demuxer, piece: Buffer
) -> tuple[list[tuple[int, bytes]], FrameError | StreamError | None]:
    """The frames completed by ``piece``, and the error of a bad frame (or in-band error) in it.

    On an error the frames decoded before it are returned with it, and its ``frames`` emptied
    since the caller hands those out first: no complete output is lost.  Shared by the sync and
    asyncio readers, so both deliver exactly the same frames before an error.
    """
    try:
        return demuxer.feed(piece), None
    except (FrameError, StreamError) as exc:
        earlier, exc.frames = list(exc.frames), []
        return earlier, exc


def demux_pieces(pieces: Iterable[Buffer], join: bool = True) -> Iterator[tuple[int, bytes]]:
    """Demultiplex a byte stream into ``(stream, payload)`` frames, in order (see
    :func:`feed_frames` for what happens at a bad frame)."""
    demuxer = demux.Demuxer(join=join)
    for piece in pieces:
        if not piece:
            continue
        frames, error = feed_frames(demuxer, piece)
        yield from frames
        if error is not None:
            raise error
    demuxer.close()


class HijackedSocket:
    def __init__(self, stream: Stream, head: ResponseHead, trailing: bytes, tty: bool) -> None:
        self._stream = stream
        self.head = head
        self._pending = trailing
        #: Whether the output is a raw TTY stream (True) or multiplexed frames (False).
        self.tty = tty

    # -------------------------------------------------------------- reading

    def recv(self, size: int = READ_SIZE) -> bytes:
        if self._pending:
            data, self._pending = self._pending[:size], self._pending[size:]
            return data
        return self._stream.recv(size)

    def recv_into(self, buffer: bytearray | memoryview) -> int:
        if self._pending:
            n = min(len(buffer), len(self._pending))
            buffer[:n] = self._pending[:n]
            self._pending = self._pending[n:]
            return n
        return self._stream.recv_into(buffer)

    def read(self, size: int = -1) -> bytes:
        """Read ``size`` bytes (fewer only at end of stream); ``-1`` reads to the end."""
        if size < 0:
            return b"".join(self.iter_raw())
        parts: list[bytes] = []
        remaining = size
        while remaining > 0:
            data = self.recv(min(remaining, READ_SIZE))
            if not data:
                break
            parts.append(data)
            remaining -= len(data)
        return b"".join(parts)

    def read_into(self, sink: Callable[[memoryview], object]) -> None:
        """Hand everything up to the end of the output to ``sink``, read into one reused buffer.

        Each view is valid only during the call: ``sink`` copies what it keeps (a
        :class:`~ctrproto.protocol.demux.Collector` copies payloads straight into its result).
        """
        if self._pending:
            pending, self._pending = self._pending, b""
            sink(memoryview(pending))
        buffer = bytearray(READ_SIZE)
        view = memoryview(buffer)
        while n := self._stream.recv_into(buffer):
            sink(view[:n])

    def iter_raw(self) -> Iterator[bytes]:
        while True:
            data = self.recv(READ_SIZE)
            if not data:
                return
            yield data

    def _iter_views(self) -> Iterator[memoryview]:
        """Reads into one reused buffer: each view is valid only until the next is asked for.

        For the demuxer, which copies what it keeps, this saves allocating (and copying into) a
        new object per read - on an exec or attach stream the client's main cost.
        """
        if self._pending:
            pending, self._pending = self._pending, b""
            yield memoryview(pending)
        buffer = bytearray(READ_SIZE)
        view = memoryview(buffer)
        while True:
            n = self._stream.recv_into(buffer)
            if not n:
                return
            yield view[:n]

    def iter_frames(self, join: bool = True) -> Iterator[tuple[int, bytes]]:
        """``(stream, payload)`` pairs; a TTY stream is reported as stdout."""
        if self.tty:
            for data in self.iter_raw():
                yield demux.STDOUT, data
            return
        yield from demux_pieces(self._iter_views(), join)

    # -------------------------------------------------------------- writing

    def sendall(self, data: Buffer) -> None:
        self._stream.send_all(data)

    def send(self, data: Buffer) -> int:
        self._stream.send_all(data)
        return len(data)

    write = send

    def shutdown_write(self) -> None:
        """Close the container's stdin (it sees EOF); output can still be read."""
        self._stream.shutdown_write()

    close_stdin = shutdown_write

    def settimeout(self, timeout: float | None) -> None:
        self._stream.settimeout(timeout)

    def close(self) -> None:
        self._stream.close()

    @property
    def closed(self) -> bool:
        return self._stream.closed

    def __enter__(self) -> HijackedSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
