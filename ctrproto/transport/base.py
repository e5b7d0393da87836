"""What the clients need from a transport: a way to open byte streams to one daemon.

Every transport (Unix socket, TCP, TLS, SSH) reduces to the same two small interfaces, so the
HTTP driver, the pool and the hijacked attach/exec sockets work over all of them unchanged.
Transports raise ctrproto errors only (``DockerConnectionError``, ``Timeout`` ...): the layers
above never see ``OSError``, ``ssl.SSLError`` or paramiko exceptions.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ..protocol.buffer import Buffer


@runtime_checkable
class Stream(Protocol):
    """A connected, bidirectional byte stream."""

    def send_all(self, data: Buffer) -> None:
        """Send every byte or raise."""

    def recv_into(self, buffer: bytearray | memoryview) -> int:
        """Read at most ``len(buffer)`` bytes into it; 0 means the peer closed its side."""

    def recv(self, size: int) -> bytes:
        """Read at most ``size`` bytes; ``b""`` means the peer closed its side."""

    def shutdown_write(self) -> None:
        """Half-close: the peer sees end-of-file, we can still read its answer."""

    def settimeout(self, timeout: float | None) -> None:
        """Bound each subsequent send/receive; ``None`` waits forever (long streams)."""

    def idle_ok(self) -> bool:
        """For an idle pooled stream: True when the peer has neither closed it nor sent bytes.

        Must not block.  Keep-alive connections may be closed by the daemon at any time; this
        check keeps the pool from handing out a stream that is already dead.
        """

    def close(self) -> None:
        """Release the stream; idempotent."""

    def abort(self) -> None:
        """Wake a read blocked on this stream, from any thread, and fail every later one.

        Touches nothing but the OS object (a socket shut down both ways, an SSH channel closed),
        so it is safe while another thread reads; the reader still calls :meth:`close`.  This
        is how a stream handed to a caller is cancelled from outside its loop.
        """

    def fileno(self) -> int:
        """The file descriptor to wait on with ``select``/``poll`` (readable when bytes or EOF
        arrived); ``-1`` when closed."""

    @property
    def closed(self) -> bool: ...


@runtime_checkable
class Transport(Protocol):
    """Opens streams to one daemon endpoint."""

    #: Value for the HTTP Host header (what the daemon sees; it does not route on it).
    host_header: str

    def connect(self, timeout: float | None) -> Stream:
        """Open a new stream, raising ``DockerConnectionError`` / ``ConnectTimeout``."""

    def close(self) -> None:
        """Release shared resources (an SSH session, for example)."""

    def describe(self) -> str:
        """The address in a form safe to put in error messages (no secrets)."""


@runtime_checkable
class AsyncStream(Protocol):
    """:class:`Stream` for asyncio: the calls that may wait are awaitable, the others are not.

    ``close`` stays synchronous on purpose: it must work from a cancellation handler or a
    ``finally`` block without awaiting, and take effect at once (a cancelled follow stream gives
    its socket back to the OS before the cancellation has finished propagating).  ``settimeout``
    bounds each later send and receive, as a socket timeout does (a limit cancels the wait).
    """

    async def send_all(self, data: Buffer) -> None: ...

    async def recv_into(self, buffer: bytearray | memoryview) -> int: ...

    async def recv(self, size: int) -> bytes: ...

    async def shutdown_write(self) -> None: ...

    def settimeout(self, timeout: float | None) -> None: ...

    def idle_ok(self) -> bool: ...

    def close(self) -> None: ...

    def abort(self) -> None: ...

    def fileno(self) -> int: ...

    @property
    def closed(self) -> bool: ...


@runtime_checkable
class AsyncTransport(Protocol):
    """:class:`Transport` for asyncio; ``connect`` is awaited."""

    host_header: str

    async def connect(self, timeout: float | None) -> AsyncStream: ...

    def close(self) -> None: ...

    def describe(self) -> str: ...
