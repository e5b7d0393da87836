"""``docker.utils.socket``: reading the multiplexed attach stream off a socket, docker-py's way.

These work on a real ``socket.socket`` (what docker-py's ``attach_socket`` returns), on ctrproto's
:class:`~ctrproto.api.HijackedSocket` (``APIClient.attach_socket`` here), on a
``socket.SocketIO`` and on anything with ``recv``.  Semantics are docker-py's: ``read`` returns
at most ``n`` bytes (``b""`` at EOF, ``None`` after an interrupted read), ``next_frame_header``
returns ``(-1, -1)`` at EOF, ``frames_iter`` yields ``(stream, bytes)`` pieces (with a TTY,
everything is ``STDOUT``).
"""

from __future__ import annotations

import errno
import os
import select
import socket as _socket
import struct
from collections.abc import Generator, Iterable, Iterator
from typing import Any

from ..errors import DockerException

__all__ = [
    "NPIPE_ENDED",
    "STDERR",
    "STDOUT",
    "SocketError",
    "consume_socket_output",
    "demux_adaptor",
    "frames_iter",
    "frames_iter_no_tty",
    "frames_iter_tty",
    "next_frame_header",
    "read",
    "read_exactly",
]

STDOUT = 1
STDERR = 2
#: The Windows error a named pipe's end reports (docker-py reads it as EOF).
NPIPE_ENDED = 109

_RECOVERABLE = (errno.EINTR, errno.EDEADLK, errno.EWOULDBLOCK)


class SocketError(DockerException):
    """The stream ended before the bytes a frame announced (docker-py's ``SocketError``)."""


def _wait_readable(sock: Any) -> None:
    """A non-blocking real socket is waited on first, as docker-py does; buffered sockets (a
    ``HijackedSocket`` may hold bytes already read) are not, since their fd may be idle."""
    if isinstance(sock, _socket.socket) and sock.gettimeout() == 0.0:
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(sock, select.POLLIN | select.POLLPRI)
            poller.poll()
        else:  # pragma: no cover - Windows
            select.select([sock], [], [])


def read(socket: Any, n: int = 4096) -> bytes | None:
    """At most ``n`` bytes from ``socket``; ``b""`` at EOF, ``None`` if interrupted."""
    _wait_readable(socket)
    try:
        if hasattr(socket, "recv"):
            data: bytes = socket.recv(n)
            return data
        if isinstance(socket, _socket.SocketIO):
            return socket.read(n)
        return os.read(socket.fileno(), n)
    except OSError as exc:
        if exc.errno not in _RECOVERABLE:
            raise
        return None


def read_exactly(socket: Any, n: int) -> bytes:
    """Exactly ``n`` bytes, or :class:`SocketError` if the stream ends first."""
    data = b""
    while len(data) < n:
        more = read(socket, n - len(data))
        if more is None:
            continue
        if not more:
            raise SocketError("Unexpected EOF")
        data += more
    return data


def next_frame_header(socket: Any) -> tuple[int, int]:
    """``(stream, payload size)`` of the next frame, or ``(-1, -1)`` at the end of the stream."""
    try:
        header = read_exactly(socket, 8)
    except SocketError:
        return -1, -1
    stream, size = struct.unpack(">BxxxL", header)
    return stream, size


def frames_iter(socket: Any, tty: bool) -> Iterator[tuple[int, bytes]]:
    """``(stream, bytes)`` pieces of the attach stream; with a TTY all is ``STDOUT``."""
    if tty:
        return ((STDOUT, piece) for piece in frames_iter_tty(socket))
    return frames_iter_no_tty(socket)


def frames_iter_no_tty(socket: Any) -> Generator[tuple[int, bytes], None, None]:
    """The multiplexed stream's payloads, a frame possibly in several pieces."""
    while True:
        stream, left = next_frame_header(socket)
        if left < 0:
            return
        while left > 0:
            piece = read(socket, left)
            if piece is None:
                continue
            if not piece:
                return
            left -= len(piece)
            yield stream, piece


def frames_iter_tty(socket: Any) -> Generator[bytes, None, None]:
    """A TTY stream's raw pieces, until EOF."""
    while True:
        piece = read(socket)
        if piece is None:
            continue
        if not piece:
            return
        yield piece


def consume_socket_output(
    frames: Iterable[Any], demux: bool = False
) -> bytes | tuple[bytes | None, bytes | None]:
    """Join the pieces: one ``bytes``, or with ``demux`` a ``(stdout, stderr)`` pair whose
    sides are ``None`` when that stream sent nothing (docker-py's shape)."""
    if not demux:
        return b"".join(frames)
    out: list[bytes | None] = [None, None]
    for stdout, stderr in frames:
        index, data = (0, stdout) if stdout is not None else (1, stderr)
        out[index] = data if out[index] is None else out[index] + data
    return out[0], out[1]


def demux_adaptor(stream_id: int, data: bytes) -> tuple[bytes | None, bytes | None]:
    """A frame as a ``(stdout, stderr)`` pair with the other side ``None``."""
    if stream_id == STDOUT:
        return data, None
    if stream_id == STDERR:
        return None, data
    raise ValueError(f"{stream_id} is not a valid stream")
