"""The local daemon's Unix socket: the default transport."""

from __future__ import annotations

import socket
import time

from ..errors import ConnectTimeout, InvalidAddress
from .socket_stream import SocketStream, connect_error

DEFAULT_UNIX_SOCKET = "/var/run/docker.sock"


class UnixTransport:
    host_header = "localhost"

    def __init__(self, path: str) -> None:
        if not path:
            raise InvalidAddress("unix:// address without a socket path")
        if "\x00" in path:
            raise InvalidAddress(f"unix socket path {path!r} contains a NUL byte")
        self.path = path

    def describe(self) -> str:
        return f"unix://{self.path}"

    def connect(self, timeout: float | None) -> SocketStream:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            sock.settimeout(timeout)
            while True:
                try:
                    sock.connect(self.path)
                    break
                except BlockingIOError:
                    # With a timeout the socket is non-blocking, and a Unix socket whose accept
                    # backlog is full (a busy daemon) says EAGAIN at once instead of waiting:
                    # wait for room until the connect timeout, as a TCP connect would.
                    if deadline is not None and time.monotonic() >= deadline:
                        raise TimeoutError("accept backlog full") from None
                    time.sleep(0.005)
        except TimeoutError as exc:
            sock.close()
            raise ConnectTimeout(
                f"timed out connecting to the Docker daemon at {self.describe()}"
            ) from exc
        except OSError as exc:
            sock.close()
            raise connect_error(self.describe(), exc) from exc
        return SocketStream(sock, self.describe())

    def close(self) -> None:
        """Nothing shared to release: each stream is its own socket."""

    def __repr__(self) -> str:
        return f"UnixTransport({self.path!r})"
