"""Unix, TCP and TLS streams under asyncio: the twins of the socket transports, awaitable.

Each stream keeps the sync stream's contract, timeouts included: ``settimeout`` bounds every
later send and receive (``None``: wait forever), so the one driver written for both worlds sets
deadlines the same way in each.  A limit cancels the awaiting read, and the stream raises the same
``ReadTimeout`` a blocking socket would.

asyncio's ``StreamReader`` stops reading the socket once its buffer holds twice its limit, so a
consumer that does not ask for more bytes slows the daemon down instead of filling memory: the
backpressure a follow stream needs comes for free as long as each read takes one chunk.  OS and
TLS failures become ctrproto errors through the sync transport's own translation.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import sys
from collections.abc import Awaitable
from typing import Any, TypeVar

from ..errors import ConnectTimeout, DockerConnectionError, TLSError
from ..protocol.buffer import Buffer
from .base import AsyncTransport
from .factory import make_transport
from .socket_stream import connect_error, translate_errors
from .tcp import TCPTransport
from .tls import TLSConfig, TLSTransport, explain_ssl_error, explain_stream_error
from .unix import UnixTransport

T = TypeVar("T")

#: How much the reader buffers before it stops reading the socket (asyncio pauses at twice this).
READER_LIMIT = 128 * 1024
#: How long a half-close may wait for already written bytes to leave the TLS layer.
FLUSH_LIMIT = 30.0


async def bounded(awaitable: Awaitable[T], seconds: float | None) -> T:
    """Await with a time limit (``None``: none); raises the builtin ``TimeoutError``.

    The limit cancels the awaiting code, so a read cut by it closes its stream through the same
    path as any other cancellation.
    """
    if seconds is None:
        return await awaitable
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(seconds):
            return await awaitable
    try:
        return await asyncio.wait_for(awaitable, seconds)
    except asyncio.TimeoutError as exc:  # not yet the builtin TimeoutError before 3.11
        raise TimeoutError(f"no result within {seconds:g} s") from exc


async def connect_within(
    opening: Awaitable[T], timeout: float | None, where: str
) -> T:
    """``opening`` bounded by the connect timeout: past it, ``ConnectTimeout`` naming ``where``."""
    try:
        return await bounded(opening, timeout)
    except TimeoutError as exc:
        if isinstance(exc, ConnectTimeout):
            raise
        raise ConnectTimeout(f"timed out connecting to the Docker daemon at {where}") from exc


class AsyncSocketStream:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, where: str):
        self._reader = reader
        self._writer = writer
        self._where = where
        self._closed = False
        self._timeout: float | None = None
        #: A duplicate of the socket's descriptor, for :meth:`fileno` (see :meth:`keep_fileno`).
        self._kept: socket.socket | None = None

    @property
    def closed(self) -> bool:
        return self._closed

    def settimeout(self, timeout: float | None) -> None:
        self._timeout = timeout

    def _fail(self, err: DockerConnectionError) -> DockerConnectionError:
        """Hook for subclasses that can name a better cause."""
        return err

    async def send_all(self, data: Buffer) -> None:
        if self._closed:
            raise DockerConnectionError(f"the connection to {self._where} is closed")
        try:
            with translate_errors(self._where):
                self._writer.write(data)
                await bounded(self._writer.drain(), self._timeout)
        except DockerConnectionError as err:
            raise self._fail(err) from None

    async def recv(self, size: int) -> bytes:
        # translate_errors turns the limit's TimeoutError into the sockets' ReadTimeout.
        try:
            with translate_errors(self._where):
                if self._timeout is None:
                    return await self._reader.read(size)
                return await bounded(self._reader.read(size), self._timeout)
        except DockerConnectionError as err:
            raise self._fail(err) from None

    async def recv_into(self, buffer: bytearray | memoryview) -> int:
        data = await self.recv(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    async def gather(self, seconds: float) -> None:
        """Leave the socket unread for ``seconds``, so that what the peer writes meanwhile is
        taken by one read instead of one per write (the daemon writes a log stream a frame or a
        few at a time, and each read is a wake-up and a system call).  The transport would
        read on its own, so it is paused for the wait - unless its reader paused it already
        (its buffer is full), which is then left to the reader."""
        transport: Any = self._writer.transport
        if self._closed or transport.is_closing() or not transport.is_reading():
            await asyncio.sleep(seconds)
            return
        transport.pause_reading()
        try:
            await asyncio.sleep(seconds)
        finally:
            if not transport.is_closing():
                transport.resume_reading()

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

    def abort(self) -> None:
        # The socket shut down both ways: thread-safe (unlike the transport), and the event loop
        # sees the EOF, which ends a read waiting on it.
        sock: Any = self._writer.get_extra_info("socket")
        for each in (sock, self._kept):  # the kept duplicate too: a select on it wakes now
            if each is not None:
                with contextlib.suppress(OSError):
                    each.shutdown(socket.SHUT_RDWR)

    def buffered(self) -> int:
        """Bytes the event loop already read from the socket, which the next ``recv`` returns
        without waiting: asyncio reads ahead of its caller, so ``select`` on :meth:`fileno`
        does not see them (a hijacked socket's ``pending()`` counts them)."""
        return len(getattr(self._reader, "_buffer", b""))

    def keep_fileno(self) -> None:
        """Keep :meth:`fileno` valid, and readable at the end of the peer's output, until
        :meth:`close` (a hijacked connection, whose descriptor a caller may wait on).  A plain
        socket stays open after the peer's EOF; see the TLS stream's."""

    def fileno(self) -> int:
        if self._closed:
            return -1
        if self._kept is not None:
            return self._kept.fileno()
        sock: Any = self._writer.get_extra_info("socket")
        return -1 if sock is None else int(sock.fileno())

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        # abort(), not close(): nothing of ours is left to flush, and a cancelled stream must
        # give its socket back now rather than after a graceful shutdown.
        self._writer.transport.abort()
        if self._kept is not None:
            self._kept.close()

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
        self._closing: asyncio.Future[None] | None = None

    def _fail(self, err: DockerConnectionError) -> DockerConnectionError:
        return explain_stream_error(err, self._where, self._config, self._host, self._received)

    async def recv(self, size: int) -> bytes:
        data = await super().recv(size)
        self._received = self._received or bool(data)
        return data

    def buffered(self) -> int:
        """Also what asyncio's TLS layer holds: when the reader's buffer is full it stops
        handing decrypted data on, and keeps the rest (decrypted, or still encrypted but off
        the socket) where ``select`` cannot see it either."""
        held = super().buffered()
        protocol: Any = getattr(self._writer.transport, "_ssl_protocol", None)
        with contextlib.suppress(Exception):  # asyncio's internals: a count if they are there
            held += int(protocol._sslobj.pending()) + int(protocol._incoming.pending)
        return held

    def keep_fileno(self) -> None:
        """asyncio's TLS transport closes its socket as soon as the peer ends its side (TLS has
        no half-close), while the rest of the output may still be unread: ``fileno()`` would
        turn ``-1`` (a ``select`` or ``poll`` on it failing) before the caller saw the end.  A
        duplicate of the descriptor, taken now, stays until :meth:`close`; when the transport
        goes, its reading side is shut down, which makes it readable at the end as a plain
        socket is at its EOF (the peer's close_notify, which said so, was consumed by the
        transport)."""
        sock: Any = self._writer.get_extra_info("socket")
        if self._kept is not None or self._closed or sock is None or sock.fileno() < 0:
            return
        self._kept = sock.dup()
        self._closing = asyncio.ensure_future(self._writer.wait_closed())
        self._closing.add_done_callback(self._transport_gone)

    def _transport_gone(self, closing: asyncio.Future[None]) -> None:
        if not closing.cancelled():
            closing.exception()  # retrieved here: a read reports the failure, if any
        if not self._closed and self._kept is not None:
            with contextlib.suppress(OSError):
                self._kept.shutdown(socket.SHUT_RD)


class AsyncUnixTransport:
    host_header = "localhost"

    def __init__(self, path: str) -> None:
        self.path = path

    def describe(self) -> str:
        return f"unix://{self.path}"

    async def connect(self, timeout: float | None) -> AsyncSocketStream:
        opening = asyncio.open_unix_connection(self.path, limit=READER_LIMIT)
        try:
            reader, writer = await connect_within(opening, timeout, self.describe())
        except ConnectTimeout:
            raise
        except OSError as exc:
            raise connect_error(self.describe(), exc) from exc
        return AsyncSocketStream(reader, writer, self.describe())

    def close(self) -> None:
        """Nothing shared to release: each stream is its own socket."""

    def __repr__(self) -> str:
        return f"AsyncUnixTransport({self.path!r})"


class AsyncTCPTransport:
    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.host_header = TCPTransport(host, port).host_header

    def describe(self) -> str:
        return f"tcp://{self.host_header}"

    async def _open(
        self, timeout: float | None, **tls: Any
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        opening = asyncio.open_connection(self.host, self.port, limit=READER_LIMIT, **tls)
        try:
            reader, writer = await connect_within(opening, timeout, self.describe())
        except (ssl.SSLError, ConnectTimeout):
            raise
        except OSError as exc:
            raise connect_error(self.describe(), exc) from exc
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return reader, writer

    async def connect(self, timeout: float | None) -> AsyncSocketStream:
        reader, writer = await self._open(timeout)
        return AsyncSocketStream(reader, writer, self.describe())

    def close(self) -> None:
        """Nothing shared to release."""

    def __repr__(self) -> str:
        return f"AsyncTCPTransport({self.host!r}, {self.port})"


class AsyncTLSTransport(AsyncTCPTransport):
    """TCP plus TLS with the :class:`TLSConfig`'s context, shared by every pooled stream."""

    def __init__(self, host: str, port: int, config: TLSConfig | None = None) -> None:
        super().__init__(host, port)
        self.config = config or TLSConfig()

    def describe(self) -> str:
        return f"tcp://{self.host_header} (TLS)"

    async def connect(self, timeout: float | None) -> AsyncTLSStream:
        context = self.config.context()
        try:
            reader, writer = await self._open(
                timeout, ssl=context, server_hostname=self.config.server_hostname(self.host)
            )
        except ssl.SSLError as exc:
            raise TLSError(
                explain_ssl_error(exc, self.describe(), self.config, self.host)
            ) from None
        except ConnectionError as exc:
            raise DockerConnectionError(
                f"the TLS handshake with {self.describe()} failed: {exc}"
            ) from exc
        return AsyncTLSStream(reader, writer, self.describe(), self.config, self.host)

    def __repr__(self) -> str:
        return f"AsyncTLSTransport({self.host!r}, {self.port}, {self.config!r})"


def make_async_transport(
    base_url: str | None, tls: Any = None, use_ssh_client: bool = False, **options: Any
) -> AsyncTransport:
    """The asyncio transport for ``base_url``; takes the same arguments as ``make_transport``.

    The address and options are parsed and checked by the sync factory, whose transports do no
    I/O when built; each is then turned into its asyncio twin, so both clients accept exactly the
    same addresses and options and fail the same way on bad ones.
    """
    sync = make_transport(base_url, tls=tls, use_ssh_client=use_ssh_client, **options)
    if isinstance(sync, UnixTransport):
        return AsyncUnixTransport(sync.path)
    if isinstance(sync, TLSTransport):
        return AsyncTLSTransport(sync.host, sync.port, sync.config)
    if isinstance(sync, TCPTransport):
        return AsyncTCPTransport(sync.host, sync.port)
    from .asyncio_ssh import AsyncSSHTransport  # paramiko is imported only when SSH is used
    from .ssh import SSHTransport

    if not isinstance(sync, SSHTransport):
        raise TypeError(f"no asyncio twin for {sync!r}")
    return AsyncSSHTransport(sync)
