"""The async socket-like object of ``attach_socket`` and ``exec_start(socket=True)``.

The twin of :class:`ctrproto.api.hijack.HijackedSocket`: the bytes the HTTP layer read past the
response head are served first, then the raw stream.  A read cancelled while it waits closes the
connection (the container sees its attach end), so an abandoned attach never leaks a socket.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable

from ..api.hijack import READ_SIZE, feed_frames
from ..protocol import demux
from ..protocol.body import Buffer
from ..protocol.http import ResponseHead
from .base import AsyncStream

Frame = tuple[int, bytes]


async def frames_of(pieces: AsyncIterable[bytes]) -> AsyncGenerator[Frame, None]:
    """A multiplexed byte stream as ``(stream, payload)`` pairs, in the order written."""
    demuxer = demux.Demuxer()
    async for piece in pieces:
        frames, error = feed_frames(demuxer, piece)
        for frame in frames:
            yield frame
        if error is not None:
            raise error
    demuxer.close()


async def _as_stdout(pieces: AsyncIterable[bytes]) -> AsyncGenerator[Frame, None]:
    async for piece in pieces:
        yield demux.STDOUT, piece


class AsyncHijackedSocket:
    def __init__(self, stream: AsyncStream, head: ResponseHead, trailing: bytes, tty: bool):
        self._stream = stream
        self.head = head
        self._pending = trailing
        #: Whether the output is a raw TTY stream (True) or multiplexed frames (False).
        self.tty = tty

    # -------------------------------------------------------------- reading

    async def recv(self, size: int = READ_SIZE) -> bytes:
        """At most ``size`` bytes; ``b""`` at the end of the output."""
        if self._pending:
            data, self._pending = self._pending[:size], self._pending[size:]
            return data
        try:
            return await self._stream.recv(size)
        except BaseException:
            self.close()
            raise

    async def read(self, size: int = -1) -> bytes:
        """``size`` bytes (fewer only at the end); ``-1`` reads to the end."""
        parts: list[bytes] = []
        remaining = size
        while size < 0 or remaining > 0:
            data = await self.recv(READ_SIZE if size < 0 else min(remaining, READ_SIZE))
            if not data:
                break
            parts.append(data)
            remaining -= len(data)
        return b"".join(parts)

    async def iter_raw(self) -> AsyncGenerator[bytes, None]:
        while data := await self.recv(READ_SIZE):
            yield data

    def iter_frames(self) -> AsyncGenerator[Frame, None]:
        """``(stream, payload)`` pairs, decoded by the shared demuxer; TTY output is stdout."""
        if self.tty:
            return _as_stdout(self.iter_raw())
        return frames_of(self.iter_raw())

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

    def close(self) -> None:
        self._stream.close()

    async def aclose(self) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._stream.closed

    async def __aenter__(self) -> AsyncHijackedSocket:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()
