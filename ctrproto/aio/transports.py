"""asyncio transports for Unix, TCP and TLS, and the factory that picks one for an address.

The address and options are parsed and checked by the sync factory (``make_transport``), whose
transport objects do no I/O when built; this module only turns each into its asyncio twin, so
both clients accept exactly the same addresses and options and fail the same way on bad ones.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from typing import Any

from ..errors import DockerConnectionError, TLSError
from ..transport.factory import make_transport
from ..transport.socket_stream import connect_error
from ..transport.tcp import TCPTransport
from ..transport.tls import TLSConfig, TLSTransport, explain_ssl_error
from ..transport.unix import UnixTransport
from .base import AsyncTransport
from .socket_stream import READER_LIMIT, AsyncSocketStream, AsyncTLSStream


class AsyncUnixTransport:
    host_header = "localhost"

    def __init__(self, path: str) -> None:
        self.path = path

    def describe(self) -> str:
        return f"unix://{self.path}"

    async def connect(self) -> AsyncSocketStream:
        try:
            reader, writer = await asyncio.open_unix_connection(self.path, limit=READER_LIMIT)
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

    async def _open(self, **tls: Any) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            reader, writer = await asyncio.open_connection(
                self.host, self.port, limit=READER_LIMIT, **tls
            )
        except ssl.SSLError:
            raise
        except OSError as exc:
            raise connect_error(self.describe(), exc) from exc
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return reader, writer

    async def connect(self) -> AsyncSocketStream:
        reader, writer = await self._open()
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

    async def connect(self) -> AsyncTLSStream:
        context = self.config.context()
        try:
            reader, writer = await self._open(
                ssl=context, server_hostname=self.config.server_hostname(self.host)
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
    """The asyncio transport for ``base_url``; takes the same arguments as ``make_transport``."""
    sync = make_transport(base_url, tls=tls, use_ssh_client=use_ssh_client, **options)
    if isinstance(sync, UnixTransport):
        return AsyncUnixTransport(sync.path)
    if isinstance(sync, TLSTransport):
        return AsyncTLSTransport(sync.host, sync.port, sync.config)
    if isinstance(sync, TCPTransport):
        return AsyncTCPTransport(sync.host, sync.port)
    from ..transport.ssh import SSHTransport  # paramiko is imported only when SSH is used
    from .ssh import AsyncSSHTransport

    if not isinstance(sync, SSHTransport):
        raise TypeError(f"no asyncio twin for {sync!r}")
    return AsyncSSHTransport(sync)
