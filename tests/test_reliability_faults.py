"""Faults from a scripted fake daemon: timeouts, cuts, resets and bytes the core must refuse.

Each test runs a small loopback HTTP server in a thread (``FakeDaemon``): the first connections
follow the test's script (silence, a slow drip, a truncated or malformed answer ...), every later
one answers ``GET /_ping`` properly.  After each fault the test checks that the SAME client object
works again, i.e. that the pool never handed the broken connection back out.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ctrproto import APIClient
from ctrproto.errors import (
    ConnectTimeout,
    DockerConnectionError,
    DockerException,
    FrameTooLargeError,
    IncompleteResponse,
    MalformedFrameError,
    ProtocolError,
    ReadTimeout,
    Timeout,
    TruncatedFrameError,
)

Handler = Callable[[socket.socket], None]
PING_OK = (
    b"HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Type: text/plain\r\n"
    b"Content-Length: 2\r\n\r\nOK"
)
MARGIN = 0.75  # seconds of slack over a timeout (thread scheduling on a loaded CI box)


def read_request(conn: socket.socket, timeout: float = 5.0) -> bytes:
    """Read one request head (the tests only send bodiless requests)."""
    conn.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        piece = conn.recv(65536)
        if not piece:
            break
        data += piece
    return data


def serve_ping(conn: socket.socket) -> None:
    """A well-behaved daemon: answers every request on the connection until it closes."""
    while True:
        head = read_request(conn)
        if not head:
            return
        conn.sendall(PING_OK)


def serve_until_closed(conn: socket.socket) -> None:
    """serve_ping for a connection the test itself closes under it (EBADF ends it quietly)."""
    with contextlib.suppress(OSError):
        serve_ping(conn)


class FakeDaemon:
    """A loopback HTTP server whose first connections follow a script.

    Bounded and self-stopping: every socket has a timeout, handler threads are daemons, and
    ``stop()`` (called by the fixture) closes the listener and every accepted connection.
    """

    def __init__(self, script: list[Handler], backlog: int = 16) -> None:
        self.script = list(script)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(backlog)
        self.listener.settimeout(0.2)
        self.port: int = self.listener.getsockname()[1]
        self.connections: list[socket.socket] = []
        self.requests: list[bytes] = []
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def _accept_loop(self) -> None:
        deadline = time.monotonic() + 60  # never outlive a test by much
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                conn, _ = self.listener.accept()
            except (TimeoutError, OSError):
                continue
            self.connections.append(conn)
            handler = self.script.pop(0) if self.script else serve_ping
            threading.Thread(target=self._run, args=(handler, conn), daemon=True).start()

    def _run(self, handler: Handler, conn: socket.socket) -> None:
        try:
            handler(conn)
        except OSError:
            pass  # the client went away: expected in most scenarios
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.errors.append(exc)
        finally:
            conn.close()

    def stop(self) -> None:
        self._stop.set()
        self.listener.close()
        for conn in self.connections:
            conn.close()
        self._thread.join(5)


@pytest.fixture
def fake() -> Iterator[Callable[..., FakeDaemon]]:
    servers: list[FakeDaemon] = []

    def start(*script: Handler, backlog: int = 16) -> FakeDaemon:
        server = FakeDaemon(list(script), backlog=backlog)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
    for server in servers:
        assert not server.errors, server.errors


def client_for(server: FakeDaemon, timeout: float = 1.0) -> APIClient:
    # An explicit version: no /version negotiation before the request under test.
    return APIClient(base_url=server.url, version="1.41", timeout=timeout)


def works_again(client: APIClient) -> None:
    """The same client object answers after the fault (fresh connection, nothing stale)."""
    assert client.ping() is True
    assert client.ping() is True


def respond(*parts: bytes, delay: float = 0.0, then: str = "close") -> Handler:
    """A handler that reads the request, sends ``parts`` (``delay`` between), then
    closes (``then="close"``), resets (``"reset"``), stays silent (``"hang"``) or goes on
    serving pings on the same connection (``"serve"``)."""

    def handler(conn: socket.socket) -> None:
        read_request(conn)
        for part in parts:
            conn.sendall(part)
            if delay:
                time.sleep(delay)
        if then == "reset":
            time.sleep(0.3)  # let the client consume what was sent before the reset
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif then == "hang":
            time.sleep(5)
        elif then == "serve":
            serve_ping(conn)

    return handler


def frame(stream: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxI", stream, len(payload)) + payload


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def logs_head(tty: bool = False) -> Handler:
    """Answers the inspect that logs() makes first (to learn whether the container has a TTY)."""
    body = b'{"Id": "abc", "Config": {"Tty": %s}}' % (b"true" if tty else b"false")
    answer = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    )

    def handler(conn: socket.socket) -> None:
        read_request(conn)
        conn.sendall(answer)
        # keep-alive: the logs request comes on this connection; serve it by the next step
        conn.settimeout(5)
        nxt = LOGS_STEPS.pop(0) if LOGS_STEPS else serve_ping
        nxt(conn)

    return handler


LOGS_STEPS: list[Handler] = []


def stream_logs(client: APIClient) -> tuple[list[bytes], BaseException | None]:
    """Consume logs(stream=True, follow=True), returning what arrived and the final error."""
    got: list[bytes] = []
    try:
        for piece in client.logs("abc", stream=True, follow=True):  # type: ignore[union-attr]
            got.append(piece)
    except DockerException as exc:
        return got, exc
    return got, None


CHUNKED_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n"
)


# ------------------------------------------------------------------ timeouts


def test_connect_timeout_is_honoured(fake: Callable[..., FakeDaemon]) -> None:
    server = fake(backlog=0)
    server.listener.close()  # nobody accepts: fill the SYN backlog by hand instead
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(4):  # backlog 0 still admits one or two; the rest of the SYNs are dropped
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            fillers.append(s)
        time.sleep(0.1)
        client = APIClient(base_url=f"tcp://127.0.0.1:{port}", version="1.41", timeout=0.5)
        start = time.monotonic()
        with pytest.raises(ConnectTimeout) as info:
            client.ping()
        elapsed = time.monotonic() - start
        assert isinstance(info.value, TimeoutError)
        assert 0.4 <= elapsed <= 0.5 + MARGIN, elapsed
        assert f"127.0.0.1:{port}" in str(info.value)
        client.close()
    finally:
        for s in fillers:
            s.close()
        listener.close()


def test_unix_connect_timeout_when_backlog_is_full(tmp_path: Any) -> None:
    # A busy daemon whose accept queue is full: wait up to the timeout, then ConnectTimeout
    # (a timed Unix connect used to fail at once with a bare EAGAIN message).
    path = str(tmp_path / "full.sock")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen(0)
    fillers = []
    try:
        for _ in range(3):
            s = socket.socket(socket.AF_UNIX)
            s.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                s.connect(path)
            fillers.append(s)
        client = APIClient(base_url=f"unix://{path}", version="1.41", timeout=0.5)
        start = time.monotonic()
        with pytest.raises(ConnectTimeout) as info:
            client.ping()
        elapsed = time.monotonic() - start
        assert 0.4 <= elapsed <= 0.5 + MARGIN, elapsed
        assert path in str(info.value)
        # Room in the queue again: the same client connects.
        for s in fillers:
            s.close()
        fillers.clear()
        conn_holder: list[socket.socket] = []

        def accept_and_serve() -> None:
            listener.settimeout(5)
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                conn_holder.append(conn)
                threading.Thread(target=serve_until_closed, args=(conn,), daemon=True).start()

        threading.Thread(target=accept_and_serve, daemon=True).start()
        works_again(client)
        client.close()
        for conn in conn_holder:
            conn.close()
    finally:
        for s in fillers:
            s.close()
        listener.close()


def test_read_timeout_on_silent_daemon(fake: Callable[..., FakeDaemon]) -> None:
    server = fake(respond(then="hang"))
    client = client_for(server, timeout=1.0)
    start = time.monotonic()
    with pytest.raises(ReadTimeout) as info:
        client.ping()
    elapsed = time.monotonic() - start
    assert isinstance(info.value, TimeoutError) and isinstance(info.value, Timeout)
    assert 0.9 <= elapsed <= 1.0 + MARGIN, elapsed
    assert server.url.removeprefix("tcp://") in str(info.value)
    works_again(client)


def test_read_timeout_bounds_a_head_sent_byte_by_byte(fake: Callable[..., FakeDaemon]) -> None:
    # A slow-loris daemon: every byte well inside the timeout, the head as a whole far past it.
    drip = [bytes([b]) for b in PING_OK]
    server = fake(respond(*drip, delay=0.05))
    client = client_for(server, timeout=1.0)
    start = time.monotonic()
    with pytest.raises(ReadTimeout, match="response head"):
        client.ping()
    elapsed = time.monotonic() - start
    assert 0.9 <= elapsed <= 1.0 + MARGIN, elapsed
    works_again(client)


def test_slow_body_within_timeout_per_read_is_received(fake: Callable[..., FakeDaemon]) -> None:
    # The body is bounded per read (an idle timeout), so a slow but steady body arrives whole.
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n"
    server = fake(respond(head, b"O", b"K", delay=0.6))
    client = client_for(server, timeout=1.0)
    assert client.ping() is True
    works_again(client)


def test_read_timeout_inside_the_body(fake: Callable[..., FakeDaemon]) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nO"
    server = fake(respond(head, then="hang"))
    client = client_for(server, timeout=1.0)
    start = time.monotonic()
    with pytest.raises(ReadTimeout):
        client.ping()
    assert time.monotonic() - start <= 1.0 + MARGIN
    works_again(client)


# ------------------------------------------------------------------ cut and reset responses


def test_truncated_content_length_body(fake: Callable[..., FakeDaemon]) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n"
    server = fake(respond(head, b"x" * 40))
    client = client_for(server)
    with pytest.raises(IncompleteResponse) as info:
        client.ping()
    message = str(info.value)
    assert "40 of 100 body bytes" in message and "/_ping" in message
    works_again(client)


def test_chunked_body_that_stops_early(fake: Callable[..., FakeDaemon]) -> None:
    server = fake(respond(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", chunk(b"OK"),
                          b"10\r\nonly-part"))
    client = client_for(server)
    with pytest.raises(IncompleteResponse) as info:
        client.ping()
    message = str(info.value)
    assert "inside chunk 2" in message and "7 bytes missing" in message
    assert "11 payload bytes received" in message and "/_ping" in message
    works_again(client)


def test_truncated_stream_delivers_everything_before_the_cut(
    fake: Callable[..., FakeDaemon],
) -> None:
    # Chunked multiplexed logs: three whole frames, then the connection closes mid-chunk.
    frames = [frame(1, b"line %d\n" % i) for i in range(3)]
    LOGS_STEPS[:] = [respond(CHUNKED_HEAD, *(chunk(f) for f in frames), b"20\r\n" + b"\x01\0")]
    server = fake(logs_head())
    client = client_for(server)
    got, err = stream_logs(client)
    # Consecutive stdout frames may come out joined; what matters is that all of them do.
    assert b"".join(got) == b"line 0\nline 1\nline 2\n"
    assert isinstance(err, IncompleteResponse)
    assert "chunked body cut off inside chunk 4" in str(err)
    works_again(client)


def test_reset_mid_body_delivers_everything_before_it(fake: Callable[..., FakeDaemon]) -> None:
    frames = [frame(2 if i % 2 else 1, b"msg %d\n" % i) for i in range(5)]
    LOGS_STEPS[:] = [respond(CHUNKED_HEAD, *(chunk(f) for f in frames), then="reset")]
    server = fake(logs_head())
    client = client_for(server)
    got, err = stream_logs(client)
    assert got == [b"msg %d\n" % i for i in range(5)]
    assert isinstance(err, DockerConnectionError) and isinstance(err, ConnectionError)
    assert "closed by the peer" in str(err) or "reset" in str(err).lower()
    works_again(client)


@pytest.mark.parametrize(
    ("tail", "where"),
    [
        (b"\x01\0\0", "inside the frame header at stream offset 14: expected 8 header bytes, "
                      "received 3"),
        (
            struct.pack(">BxxxI", 2, 10) + b"abcd",
            "inside the payload of the frame at stream offset 14: expected 10 payload bytes, "
            "received 4",
        ),
    ],
    ids=["mid-header", "mid-payload"],
)
def test_frame_cut_in_a_complete_body(
    fake: Callable[..., FakeDaemon], tail: bytes, where: str
) -> None:
    # The HTTP body ends cleanly, but inside a frame: the demuxer says where.
    body = frame(1, b"first\n") + tail
    LOGS_STEPS[:] = [respond(CHUNKED_HEAD, chunk(body), b"0\r\n\r\n", then="serve")]
    server = fake(logs_head())
    client = client_for(server)
    got, err = stream_logs(client)
    assert got == [b"first\n"]
    assert isinstance(err, TruncatedFrameError), err
    assert where in str(err)
    if tail.startswith(b"\x02"):
        assert err.partial == (2, b"abcd")
    works_again(client)


# ------------------------------------------------------------------ bytes the core refuses


@pytest.mark.parametrize(
    ("answer", "cls", "words"),
    [
        (b"SPDY/9 banana\r\n\r\n", ProtocolError, "malformed response head"),
        (b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 200_000, ProtocolError, "malformed response head"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n", ProtocolError, "malformed"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 123456789012345678901234\r\n\r\nOK",
         ProtocolError, "Content-Length"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nOK\r\n",
         ProtocolError, "invalid chunk size"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nOKXX",
         ProtocolError, "instead of CRLF"),
    ],
    ids=["garbage-status", "huge-head", "negative-length", "huge-length", "bad-chunk-size",
         "chunk-no-crlf"],
)
def test_malformed_http_is_a_protocol_error(
    fake: Callable[..., FakeDaemon], answer: bytes, cls: type[Exception], words: str
) -> None:
    server = fake(respond(answer, then="hang"))
    client = client_for(server)
    start = time.monotonic()
    with pytest.raises(cls) as info:
        client.ping()
    assert words in str(info.value)
    assert time.monotonic() - start < 1.0  # refused at once, not after a timeout
    works_again(client)


@pytest.mark.parametrize(
    ("bad", "cls", "words"),
    [
        (b"\x07\0\0\0\0\0\0\x02hi", MalformedFrameError, "stream id 7"),
        (b"\x01\0\x05\0\0\0\0\x02hi", MalformedFrameError, "bytes 1-3 must be zero"),
        (b"\x01\0\0\0\xff\xff\xff\xff", FrameTooLargeError, "4294967295 bytes"),
    ],
    ids=["stream-7", "padding", "too-large"],
)
def test_malformed_frames_are_frame_errors(
    fake: Callable[..., FakeDaemon], bad: bytes, cls: type[Exception], words: str
) -> None:
    body = frame(1, b"good\n") + bad
    LOGS_STEPS[:] = [respond(CHUNKED_HEAD, chunk(body), then="hang")]
    server = fake(logs_head())
    client = client_for(server)
    got, err = stream_logs(client)
    assert got == [b"good\n"]
    assert isinstance(err, cls), err
    assert words in str(err) and "stream offset 13" in str(err)
    works_again(client)


def test_unexpected_bytes_after_response_are_not_reused(fake: Callable[..., FakeDaemon]) -> None:
    # The daemon sends more than the announced body: the answer is kept, the connection is not.
    server = fake(respond(PING_OK + b"HTTP/1.1 200 OK\r\n", then="hang"))
    client = client_for(server)
    assert client.ping() is True
    assert client.pool.idle_count == 0
    works_again(client)
    assert len(server.connections) == 2


def test_idle_connection_closed_by_daemon_is_not_handed_out(
    fake: Callable[..., FakeDaemon],
) -> None:
    def once(conn: socket.socket) -> None:
        read_request(conn)
        conn.sendall(PING_OK)  # keep-alive answer, then the daemon drops the idle connection

    server = fake(once)
    client = client_for(server)
    assert client.ping() is True
    time.sleep(0.2)
    works_again(client)
    assert len(server.connections) == 2
