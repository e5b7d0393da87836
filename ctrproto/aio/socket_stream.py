"""An :class:`~ctrproto.aio.base.AsyncStream` over asyncio's streams (Unix, TCP, TLS).

asyncio's ``StreamReader`` stops reading the socket once its buffer holds twice its limit, so a
consumer that does not ask for more bytes slows the daemon down instead of filling memory: the
backpressure a follow stream needs comes for free as long as each read takes one chunk.  OS and
TLS failures become ctrproto errors through the sync transport's own translation.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from ..errors import DockerConnectionError
from ..protocol.body import Buffer
from ..transport.socket_stream import translate_errors
from ..transport.tls import TLSConfig, explain_stream_error

#: How much the reader buffers before it stops reading the socket (asyncio pauses at twice this).
READER_LIMIT = 128 * 1024
#: How long a half-close may wait for already written bytes to leave the TLS layer.
FLUSH_LIMIT = 30.0


class AsyncSocketStream:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, where: str):
        self._reader = reader
        self._writer = writer
        self._where = where
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def _fail(self, err: DockerConnectionError) -> DockerConnectionError:
        """Hook for subclasses that can name a better cause."""
        return err

    async def send_all(self, data: Buffer) -> None:
        if self._closed:
            raise DockerConnectionError(f"the connection to {self._where} is closed")
        try:
            with translate_errors(self._where):
                self._writer.write(data)
                await self._writer.drain()
        except DockerConnectionError as err:
            raise self._fail(err) from None

    async def recv(self, size: int) -> bytes:
        try:
            with translate_errors(self._where):
                return await self._reader.read(size)
        except DockerConnectionError as err:
            raise self._fail(err) from None

    async def shutdown_write(self) -> None:
        with translate_errors(self._where):
            if self._writer.can_write_eof():
                self._writer.write_eof()
                return
            # TLS has no half-close of its own: once what we wrote has left the TLS layer, shut
            # down the TCP write side, which still gives the daemon its EOF (attach stdin).
            await self._writer.drain()
            transport = self._writer.transport
            loop = asyncio.get_running_loop()
            give_up = loop.time() + FLUSH_LIMIT
            while transport.get_write_buffer_size() and loop.time() < give_up:
                await asyncio.sleep(0.001)
            sock: Any = self._writer.get_extra_info("socket")
            sock.shutdown(socket.SHUT_WR)

    def idle_ok(self) -> bool:
        if self._closed or self._writer.is_closing() or self._reader.exception() is not None:
            return False
        # An idle keep-alive connection holds data only when the peer closed it (EOF) or sent
        # bytes nobody asked for; either way it must not carry another request.
        buffered = getattr(self._reader, "_buffer", b"")
        return not buffered and not self._reader.at_eof() and not _eof_seen(self._reader)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        # abort(), not close(): nothing of ours is left to flush, and a cancelled stream must
        # give its socket back now rather than after a graceful shutdown.
        self._writer.transport.abort()

    def __repr__(self) -> str:
        return f"<AsyncSocketStream {self._where} {'closed' if self._closed else 'open'}>"


def _eof_seen(reader: asyncio.StreamReader) -> bool:
    return bool(getattr(reader, "_eof", False))


class AsyncTLSStream(AsyncSocketStream):
    """TLS errors on reads and writes say which side's material is wrong, as the sync stream's."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        where: str,
        config: TLSConfig,
        host: str,
    ) -> None:
        super().__init__(reader, writer, where)
        self._config = config
        self._host = host
        self._received = False

    def _fail(self, err: DockerConnectionError) -> DockerConnectionError:
        return explain_stream_error(err, self._where, self._config, self._host, self._received)

    async def recv(self, size: int) -> bytes:
        data = await super().recv(size)
        self._received = self._received or bool(data)
        return data
