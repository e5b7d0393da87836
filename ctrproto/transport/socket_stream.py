"""A :class:`~ctrproto.transport.base.Stream` over a stdlib socket (Unix, TCP, or TLS-wrapped).

All OS-level failures are translated here, once, into ctrproto errors that name the address.
"""

from __future__ import annotations

import errno
import select
import socket
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

from ..errors import (
    ConnectionClosed,
    DockerConnectionError,
    ReadTimeout,
    TLSError,
    TransportError,
)
from ..protocol.buffer import Buffer


def translated(exc: OSError, where: str) -> TransportError:
    """The ctrproto error for a socket/ssl exception (the caller chains ``exc`` to it)."""
    if isinstance(exc, TimeoutError):
        return ReadTimeout(f"timed out waiting for the daemon at {where}")
    if isinstance(exc, ssl.SSLError):
        return TLSError(f"TLS failure talking to {where}: {exc.reason or exc}")
    if isinstance(exc, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
        return ConnectionClosed(f"connection to {where} was closed by the peer ({exc})")
    return DockerConnectionError(f"connection to {where} failed: {exc}")


@contextmanager
def translate_errors(where: str) -> Iterator[None]:
    """Map socket/ssl exceptions raised inside the block to ctrproto errors."""
    try:
        yield
    except OSError as exc:
        raise translated(exc, where) from exc


class SocketStream:
    def __init__(
        self, sock: socket.socket, where: str, on_close: Callable[[], None] | None = None
    ) -> None:
        self._sock = sock
        self._where = where
        self._closed = False
        self._on_close = on_close

    @property
    def socket(self) -> socket.socket:
        return self._sock

    @property
    def closed(self) -> bool:
        return self._closed

    def send_all(self, data: Buffer) -> None:
        with translate_errors(self._where):
            self._sock.sendall(data)

    # The two reads are the hot path (one call per socket read on every stream), so they
    # catch directly instead of entering a context manager each time.
    def recv_into(self, buffer: bytearray | memoryview) -> int:
        try:
            return self._sock.recv_into(buffer)
        except OSError as exc:
            raise translated(exc, self._where) from exc

    def recv(self, size: int) -> bytes:
        try:
            return self._sock.recv(size)
        except OSError as exc:
            raise translated(exc, self._where) from exc

    def shutdown_write(self) -> None:
        with translate_errors(self._where):
            if isinstance(self._sock, ssl.SSLSocket):
                # TLS has no half-close of its own; shutting down the TCP write side still
                # delivers EOF to the daemon, which is what attach/stdin needs.
                socket.socket.shutdown(self._sock, socket.SHUT_WR)
            else:
                self._sock.shutdown(socket.SHUT_WR)

    def settimeout(self, timeout: float | None) -> None:
        if not self._closed:
            self._sock.settimeout(timeout)

    def idle_ok(self) -> bool:
        if self._closed:
            return False
        if isinstance(self._sock, ssl.SSLSocket) and self._sock.pending():
            return False
        try:
            readable, _, _ = select.select([self._sock], [], [], 0)
        except (OSError, ValueError):
            return False
        # An idle keep-alive connection is readable only when the peer closed it (EOF) or
        # sent bytes nobody asked for; either way it must not carry another request.
        return not readable

    def abort(self) -> None:
        # The TCP socket itself, not the TLS layer: SSLSocket.shutdown() would also drop the
        # TLS state a reader in another thread is using.
        with suppress(OSError):
            socket.socket.shutdown(self._sock, socket.SHUT_RDWR)

    def fileno(self) -> int:
        return -1 if self._closed else self._sock.fileno()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._sock.close()
        finally:
            if self._on_close is not None:
                self._on_close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<SocketStream {self._where} {state}>"


def connect_error(where: str, exc: OSError) -> DockerConnectionError:
    """A connect-time error message that tells the user what to check."""
    hints = {
        errno.ENOENT: "no such socket file (is the daemon running?)",
        errno.ECONNREFUSED: "connection refused (is the daemon running and listening there?)",
        errno.EACCES: "permission denied (check the socket's owner and mode)",
        errno.EPERM: "permission denied (check the socket's owner and mode)",
    }
    reason = hints.get(exc.errno or 0, str(exc))
    return DockerConnectionError(f"cannot connect to the Docker daemon at {where}: {reason}")
