"""The RAW baseline of ``compare.py``: the same HTTP requests over a plain socket, no client.

Bulk reads go into one reusable buffer with ``recv_into`` and are never parsed: that is the limit
any client can reach on the same daemon.  Request/response workloads need to know where a response
ends to keep the connection alive, so :class:`RawConnection` does the least parsing that allows:
find the head's end, then either count ``Content-Length`` bytes or wait for the chunked terminator.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

READ_SIZE = 256 * 1024
_HEAD_END = b"\r\n\r\n"
_CHUNKED_END = b"\r\n0\r\n\r\n"


def connect(docker_host: str) -> socket.socket:
    """A connected stream socket to a ``unix://`` or ``tcp://`` daemon address."""
    url = urlsplit(docker_host)
    if url.scheme == "unix":
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(url.path)
        return sock
    sock = socket.create_connection((url.hostname or "127.0.0.1", url.port or 2375))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def request_bytes(
    method: str, target: str, body: Any = None, *, close: bool = False, upgrade: bool = False
) -> bytes:
    """One HTTP/1.1 request as bytes; ``body`` (if any) is sent as JSON."""
    payload = b"" if body is None else json.dumps(body).encode()
    lines = [f"{method} {target} HTTP/1.1", "Host: docker"]
    if upgrade:
        lines += ["Connection: Upgrade", "Upgrade: tcp"]
    elif close:
        lines.append("Connection: close")
    if body is not None:
        lines.append("Content-Type: application/json")
    if body is not None or method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(payload)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


def drain(recv_into: Callable[[memoryview], int], buffer: bytearray) -> int:
    """Read until EOF into one reusable buffer; returns the byte count.  No parsing at all."""
    view = memoryview(buffer)
    total = 0
    while True:
        n = recv_into(view)
        if not n:
            return total
        total += n


def drain_recv(recv: Callable[[int], bytes]) -> int:
    """:func:`drain` for channels without ``recv_into`` (paramiko): one ``bytes`` per read."""
    total = 0
    while True:
        data = recv(READ_SIZE)
        if not data:
            return total
        total += len(data)


def read_to_close(docker_host: str, method: str, target: str, body: Any = None) -> int:
    """Send one request with ``Connection: close`` and read the whole response, unparsed."""
    buffer = bytearray(READ_SIZE)
    with connect(docker_host) as sock:
        sock.sendall(request_bytes(method, target, body, close=True))
        return drain(sock.recv_into, buffer)


def read_upgraded(docker_host: str, target: str, body: Any = None) -> int:
    """A hijacked request (attach, exec start) read to EOF, unparsed."""
    buffer = bytearray(READ_SIZE)
    with connect(docker_host) as sock:
        sock.sendall(request_bytes("POST", target, body, upgrade=True))
        return drain(sock.recv_into, buffer)


class RawConnection:
    """A keep-alive connection with the minimum of response parsing (see the module docstring).

    ``recv`` is any ``recv(n) -> bytes`` (a socket's, a paramiko channel's), so the SSH baseline
    uses the same code.
    """

    def __init__(self, send: Callable[[bytes], Any], recv: Callable[[int], bytes]) -> None:
        self._send = send
        self._recv = recv
        self._rest = b""

    def call(self, method: str, target: str, body: Any = None) -> bytes:
        """Send a request and return the raw response body (still chunk-framed if chunked)."""
        self._send(request_bytes(method, target, body))
        data = self._rest
        while _HEAD_END not in data:
            data += self._more()
        head_end = data.index(_HEAD_END) + len(_HEAD_END)
        head = data[:head_end].lower()
        if b"transfer-encoding: chunked" in head:
            while _CHUNKED_END not in data[head_end - 2 :]:
                data += self._more()
            end = data.index(_CHUNKED_END, head_end - 2) + len(_CHUNKED_END)
        else:
            length = _content_length(head)
            while len(data) < head_end + length:
                data += self._more()
            end = head_end + length
        self._rest = data[end:]
        return data[head_end:end]

    def json(self, method: str, target: str, body: Any = None) -> Any:
        """For setup calls (exec create, container create) that need the answer's ``Id``."""
        return json.loads(_unchunk(self.call(method, target, body)))

    def _more(self) -> bytes:
        data = self._recv(READ_SIZE)
        if not data:
            raise ConnectionError("the daemon closed the connection mid-response")
        return data


def _content_length(head: bytes) -> int:
    marker = b"content-length:"
    at = head.find(marker)
    if at < 0:
        return 0
    return int(head[at + len(marker) : head.index(b"\r\n", at)])


def _unchunk(body: bytes) -> bytes:
    """Only for the few setup answers parsed as JSON; never on a timed bulk path."""
    if not body.endswith(b"0\r\n\r\n") or b"\r\n" not in body[:10]:
        return body
    out = bytearray()
    pos = 0
    while True:
        eol = body.index(b"\r\n", pos)
        size = int(body[pos:eol], 16)
        if size == 0:
            return bytes(out)
        out += body[eol + 2 : eol + 2 + size]
        pos = eol + 2 + size + 2


def socket_connection(docker_host: str) -> tuple[socket.socket, RawConnection]:
    sock = connect(docker_host)
    return sock, RawConnection(sock.sendall, sock.recv)
