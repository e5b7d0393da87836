"""Plain TCP to a daemon (meant for loopback; a remote daemon belongs behind TLS or SSH)."""

from __future__ import annotations

import socket

from ..errors import ConnectTimeout
from .socket_stream import SocketStream, connect_error


class TCPTransport:
    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.host_header = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    def describe(self) -> str:
        return f"tcp://{self.host_header}"

    def open_socket(self, timeout: float | None) -> socket.socket:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=timeout)
        except TimeoutError as exc:
            raise ConnectTimeout(
                f"timed out connecting to the Docker daemon at {self.describe()}"
            ) from exc
        except OSError as exc:
            raise connect_error(self.describe(), exc) from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def connect(self, timeout: float | None) -> SocketStream:
        return SocketStream(self.open_socket(timeout), self.describe())

    def close(self) -> None:
        """Nothing shared to release."""

    def __repr__(self) -> str:
        return f"TCPTransport({self.host!r}, {self.port})"
