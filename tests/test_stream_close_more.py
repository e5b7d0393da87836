"""More streams closed while a read blocks on them, over every transport, in both worlds.

test_stream_semantics covers logs, attach and stats; this adds what was missing there:

* the events stream (``APIClient.events()``, the facade's ``events(decode=True)``), filtered so
  that no event can arrive: the read blocks until ``close()``;
* pull progress: a pull from a tiny loopback registry of this module that answers the ping and
  the manifest, then holds the blob requests unanswered (the daemon, waiting on them, sends no
  more progress), so the read blocks on the daemon's stream;
* build progress: a build whose ``RUN`` prints a line and sleeps;
* under asyncio, the hijacked socket's ``fileno()``/``pending()`` with ``select``/``poll``.

``close()`` comes from another thread (sync) or another task (asyncio) once the reader is seen
blocked in a read.  No timed assertion: a stream that does not end outlives a generous join
(``HUNG``), which fails the test.  How long the end took after ``close()`` is recorded as the
test's ``close_latency_s`` property (pytest's ``record_property``: in a ``--junitxml`` report),
not printed and not asserted.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import http.server
import json
import os
import re
import select
import stat
import struct
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import wait_for
from test_stream_semantics import HUNG, IMAGE, TRANSPORTS
from transport_helpers import client_kwargs

from ctrproto import APIClient, DockerClient
from ctrproto._async.cancellable import AsyncCancellableStream
from ctrproto._sync.cancellable import CancellableStream
from ctrproto.aio import AsyncAPIClient, AsyncDockerClient, AsyncHijackedSocket

pytestmark = pytest.mark.daemon

#: The transports where a hijacked socket has a file descriptor to select on (as the sync test).
FD_TRANSPORTS = ["unix", "tcp", "tls", "ssh"]
#: How long the reader may take to show up (a build's first line, the daemon's pull requests).
START = 60.0

Record = Callable[[str, object], None]


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


# ------------------------------------------------------------------ helpers


def _connection(stream: Any) -> Any:
    """The transport stream under a client's stream (its response's)."""
    return stream._reading.resource._stream  # noqa: SLF001


def _reading(stream: Any) -> bool:
    """Whether a read (a step of the stream's source) is under way."""
    return bool(stream._reading.busy)  # noqa: SLF001


def _silent_filter() -> dict[str, Any]:
    """An events filter nothing matches: no event ever arrives, the read blocks."""
    return {"label": [f"ctrproto.test.never={uuid.uuid4().hex}"]}


@dataclass
class Outcome:
    items: list[Any] = field(default_factory=list)
    error: BaseException | None = None
    ended_at: float | None = None


def _close_blocked(
    stream: Any, ready: Callable[[list[Any]], bool], record: Record
) -> list[Any]:
    """Read ``stream`` in a thread; once ``ready(items)`` and the reader is in a read, close
    it from this thread; the reader must end quietly.  Returns the items read."""
    assert isinstance(stream, CancellableStream), type(stream)
    outcome = Outcome()

    def read() -> None:
        try:
            for item in stream:
                outcome.items.append(item)
        except BaseException as exc:  # the test reports it
            outcome.error = exc
        finally:
            outcome.ended_at = time.monotonic()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert wait_for(
        lambda: (ready(list(outcome.items)) and _reading(stream)) or not reader.is_alive(),
        timeout=START,
    ), f"the stream never got where it blocks: {outcome.items}"
    time.sleep(0.3)  # the read gets down to the socket and waits there
    assert reader.is_alive() and _reading(stream), f"the stream ended by itself: {outcome}"
    closed_at = time.monotonic()
    stream.close()
    reader.join(HUNG)
    assert not reader.is_alive(), "close() from another thread did not end the blocked read"
    assert outcome.error is None, repr(outcome.error)
    assert outcome.ended_at is not None
    record("close_latency_s", round(outcome.ended_at - closed_at, 4))
    assert stream.closed
    assert list(stream) == []  # ended for good
    return outcome.items


async def _aclose_blocked(
    stream: Any, ready: Callable[[list[Any]], bool], record: Record
) -> list[Any]:
    """:func:`_close_blocked` under asyncio: the reader is a task, ``close()`` comes from this
    one (another task)."""
    assert isinstance(stream, AsyncCancellableStream), type(stream)
    items: list[Any] = []

    async def read() -> float:
        async for item in stream:
            items.append(item)
        return time.monotonic()

    reading = asyncio.ensure_future(read())
    try:
        for _ in range(int(START / 0.01)):
            if (ready(items) and _reading(stream)) or reading.done():
                break
            await asyncio.sleep(0.01)
        assert not reading.done(), f"the stream ended by itself: {items}"
        assert ready(items) and _reading(stream), f"it never got where it blocks: {items}"
        await asyncio.sleep(0.3)  # the read gets down to the socket and waits there
        assert not reading.done() and _reading(stream), f"the stream ended by itself: {items}"
        closed_at = time.monotonic()
        stream.close()
        ended_at = await asyncio.wait_for(reading, HUNG)  # raises if it never ended
    finally:
        if not reading.done():
            reading.cancel()
    record("close_latency_s", round(ended_at - closed_at, 4))
    assert stream.closed
    assert [item async for item in stream] == []
    return items


def _check_dropped(stream: Any, connection: Any, client: Any) -> None:
    assert connection.closed, "the connection was left open"
    assert connection not in client._pool.idle_streams(), "a cut connection was pooled"  # noqa: SLF001


# ------------------------------------------------------------------ events


def test_events_close_from_another_thread(
    transport: str, tb: dict[str, str], record_property: Record
) -> None:
    with APIClient(timeout=60, **client_kwargs(transport, tb)) as client:
        stream = client.events(filters=_silent_filter())
        connection = _connection(stream)
        assert _close_blocked(stream, lambda items: True, record_property) == []
        _check_dropped(stream, connection, client)
        assert client.ping() is True


def test_facade_events_close_from_another_thread(
    transport: str, tb: dict[str, str], record_property: Record
) -> None:
    with DockerClient(timeout=60, **client_kwargs(transport, tb)) as client:
        stream = client.events(decode=True, filters=_silent_filter())
        connection = _connection(stream)
        assert _close_blocked(stream, lambda items: True, record_property) == []
        _check_dropped(stream, connection, client.api)
        assert client.ping() is True


def test_async_events_close_from_another_task(
    transport: str, tb: dict[str, str], record_property: Record
) -> None:
    async def scenario() -> None:
        async with AsyncAPIClient(timeout=60, **client_kwargs(transport, tb)) as client:
            stream = await client.events(filters=_silent_filter())
            connection = _connection(stream)
            assert await _aclose_blocked(stream, lambda items: True, record_property) == []
            _check_dropped(stream, connection, client)
            assert await client.ping() is True

    asyncio.run(scenario())


def test_async_facade_events_close_from_another_task(
    transport: str, tb: dict[str, str], record_property: Record
) -> None:
    async def scenario() -> None:
        async with AsyncDockerClient(timeout=60, **client_kwargs(transport, tb)) as client:
            stream = await client.events(decode=True, filters=_silent_filter())
            connection = _connection(stream)
            assert await _aclose_blocked(stream, lambda items: True, record_property) == []
            _check_dropped(stream, connection, client.api)
            assert await client.ping() is True

    asyncio.run(scenario())


# ------------------------------------------------------------------ pull progress


class StallingRegistry:
    """A registry on loopback (plain HTTP: the daemon takes 127.0.0.0/8 registries as
    insecure) with one image, ``stall:latest``, of a fresh config and layer: it answers the
    ping and the manifest, and holds every blob request unanswered until stopped (the daemon
    keeps waiting on it even once its client went away: stopping ends that pull)."""

    def __init__(self) -> None:
        config, layer = os.urandom(64), os.urandom(64)
        self.manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {
                    "mediaType": "application/vnd.docker.container.image.v1+json",
                    "size": len(config),
                    "digest": _digest(config),
                },
                "layers": [
                    {
                        "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                        "size": len(layer),
                        "digest": _digest(layer),
                    }
                ],
            }
        ).encode()
        self.held = threading.Event()  # a blob request is being held
        self.stop = threading.Event()
        registry = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

            def do_HEAD(self) -> None:
                self.do_GET()

            def do_GET(self) -> None:
                if self.path == "/v2/":
                    self._answer(b"{}", "application/json")
                elif self.path.startswith("/v2/stall/manifests/"):
                    self._answer(registry.manifest, registry.MANIFEST)
                elif self.path.startswith("/v2/stall/blobs/"):
                    registry.held.set()
                    self.close_connection = True
                    registry.stop.wait()
                else:
                    self._answer(b"{}", "application/json", 404)

            def _answer(self, body: bytes, kind: str, status: int = 200) -> None:
                self.send_response(status)
                self.send_header("Docker-Distribution-API-Version", "registry/2.0")
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                if kind == registry.MANIFEST:
                    self.send_header("Docker-Content-Digest", _digest(body))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.repository = f"127.0.0.1:{self.server.server_address[1]}/stall"

    MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(HUNG)


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def stalling(api: APIClient) -> Iterator[StallingRegistry]:
    registry = StallingRegistry()
    try:
        yield registry
    finally:
        registry.close()
        for image in api.images(registry.repository):  # a pull that should never finish
            with contextlib.suppress(Exception):
                api.remove_image(image["Id"], force=True)


def _pull_blocked(registry: StallingRegistry) -> Callable[[list[Any]], bool]:
    """Ready to close: the daemon reported the layer and waits on the held blob request."""

    def ready(items: list[Any]) -> bool:
        layers = any(item.get("status") == "Pulling fs layer" for item in items)
        return layers and registry.held.is_set()

    return ready


def test_pull_progress_closes_from_another_thread(
    transport: str,
    tb: dict[str, str],
    stalling: StallingRegistry,
    record_property: Record,
) -> None:
    with APIClient(timeout=60, **client_kwargs(transport, tb)) as client:
        stream = client.pull(stalling.repository, tag="latest", stream=True, decode=True)
        connection = _connection(stream)
        items = _close_blocked(stream, _pull_blocked(stalling), record_property)
        assert items[0] == {"status": "Pulling from stall", "id": "latest"}, items
        _check_dropped(stream, connection, client)
        assert client.ping() is True


def test_async_pull_progress_closes_from_another_task(
    transport: str,
    tb: dict[str, str],
    stalling: StallingRegistry,
    record_property: Record,
) -> None:
    async def scenario() -> None:
        async with AsyncAPIClient(timeout=60, **client_kwargs(transport, tb)) as client:
            stream = await client.pull(
                stalling.repository, tag="latest", stream=True, decode=True
            )
            connection = _connection(stream)
            items = await _aclose_blocked(stream, _pull_blocked(stalling), record_property)
            assert items[0] == {"status": "Pulling from stall", "id": "latest"}, items
            _check_dropped(stream, connection, client)
            assert await client.ping() is True

    asyncio.run(scenario())


# ------------------------------------------------------------------ build progress


@dataclass
class SlowBuild:
    context: str
    tag: str
    token: str
    running: list[str] = field(default_factory=list)  # the RUN step's container

    def ready(self, items: list[Any]) -> bool:
        """Ready to close: the RUN step printed its line and sleeps."""
        for item in items:
            found = re.search(r"Running in ([0-9a-f]{12})", item.get("stream", ""))
            if found and found.group(1) not in self.running:
                self.running.append(found.group(1))
        printed = any(item.get("stream") == f"{self.token}\n" for item in items)
        return printed and bool(self.running)


@pytest.fixture
def slow_build(tmp_path: Path, api: APIClient) -> Iterator[SlowBuild]:
    token = f"started-{uuid.uuid4().hex[:12]}"
    (tmp_path / "Dockerfile").write_text(f"FROM {IMAGE}\nRUN echo {token} && sleep 30\n")
    build = SlowBuild(str(tmp_path), f"ctrproto-close-{uuid.uuid4().hex[:12]}", token)
    yield build
    # The daemon cancels a build whose client went away and removes its container (forcerm):
    # wait for that, then remove whatever is left.
    for cid in build.running:
        with contextlib.suppress(Exception):
            wait_for(lambda c=cid: not api.containers(all=True, filters={"id": c}), timeout=30)
            api.remove_container(cid, force=True, v=True)
    with contextlib.suppress(Exception):
        api.remove_image(build.tag, force=True)


def _build_kwargs(build: SlowBuild) -> dict[str, Any]:
    return {
        "path": build.context, "tag": build.tag, "decode": True,
        "rm": True, "forcerm": True, "nocache": True,
    }


def _build_cancelled(api: APIClient, build: SlowBuild) -> None:
    assert build.running, "no RUN container was reported"
    assert wait_for(
        lambda: not api.containers(all=True, filters={"id": build.running[0]}), timeout=HUNG
    ), "the build's container outlived close()"
    assert api.images(build.tag) == [], "the build went on after close()"


def test_build_progress_closes_from_another_thread(
    transport: str,
    tb: dict[str, str],
    slow_build: SlowBuild,
    api: APIClient,
    record_property: Record,
) -> None:
    with APIClient(timeout=60, **client_kwargs(transport, tb)) as client:
        stream = client.build(**_build_kwargs(slow_build))
        connection = _connection(stream)
        items = _close_blocked(stream, slow_build.ready, record_property)
        assert items[0] == {"stream": f"Step 1/2 : FROM {IMAGE}"}, items
        _check_dropped(stream, connection, client)
        assert client.ping() is True
    _build_cancelled(api, slow_build)


def test_async_build_progress_closes_from_another_task(
    transport: str,
    tb: dict[str, str],
    slow_build: SlowBuild,
    api: APIClient,
    record_property: Record,
) -> None:
    async def scenario() -> None:
        async with AsyncAPIClient(timeout=60, **client_kwargs(transport, tb)) as client:
            stream = await client.build(**_build_kwargs(slow_build))
            connection = _connection(stream)
            items = await _aclose_blocked(stream, slow_build.ready, record_property)
            assert items[0] == {"stream": f"Step 1/2 : FROM {IMAGE}"}, items
            _check_dropped(stream, connection, client)
            assert await client.ping() is True

    asyncio.run(scenario())
    _build_cancelled(api, slow_build)


# ------------------------------------------------------------------ asyncio: fileno and select


def _frame(stream: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxL", stream, len(payload)) + payload


def _kind(fd: int, name: str) -> bool:
    """A socket's descriptor (over SSH: paramiko's pipe, readable with the channel)."""
    mode = os.fstat(fd).st_mode
    return stat.S_ISFIFO(mode) if name == "ssh" else stat.S_ISSOCK(mode)


async def _settle(until: Callable[[], Awaitable[bool]]) -> None:
    """Let the event loop run (and read what arrived) until ``until()`` holds."""
    for _ in range(int(START / 0.05)):
        if await until():
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the daemon never got there")
    await asyncio.sleep(0.2)  # the loop reads what arrived meanwhile


def _interactive(
    api: APIClient, script: str, labels: dict[str, str], created: list[str]
) -> str:
    """A container (not started) running ``script`` with its stdin open."""
    cid: str = api.create_container(
        IMAGE, ["sh", "-c", script], stdin_open=True, labels=labels, network_disabled=True,
    )["Id"]
    created.append(cid)
    return cid


async def _attach_all(client: AsyncAPIClient, cid: str) -> AsyncHijackedSocket:
    """The container's stdin, stdout and stderr on one hijacked socket."""
    params = {"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
    sock = await client.attach_socket(cid, params)
    assert isinstance(sock, AsyncHijackedSocket)
    return sock


def _ready_without_waiting(sock: AsyncHijackedSocket) -> bool:
    """What a read returns at once is signalled: counted by ``pending()`` (what the client,
    the event loop included, already received) or readable on ``fileno()``."""
    return sock.pending() > 0 or select.select([sock], [], [], 0)[0] == [sock]


@pytest.mark.parametrize("name", FD_TRANSPORTS)
def test_async_attach_socket_fileno_works_with_select(
    name: str, tb: dict[str, str], api: APIClient, test_labels: dict[str, str],
    created: list[str],
) -> None:
    cid = _interactive(api, "echo hello; read line; echo got-$line", test_labels, created)

    async def scenario() -> None:
        async with AsyncAPIClient(timeout=60, **client_kwargs(name, tb)) as client:
            sock = await _attach_all(client, cid)
            async with sock:
                fd = sock.fileno()
                assert isinstance(fd, int) and fd >= 0 and _kind(fd, name)
                assert sock.pending() == 0
                # Not started: nothing can have been written, so select must not report it.
                assert select.select([sock], [], [], 0)[0] == []
                await client.start(cid)

                async def said_hello() -> bool:
                    return b"hello" in await client.logs(cid)

                # The loop ran meanwhile: the output may be in the client's hands already.
                await _settle(said_hello)
                assert _ready_without_waiting(sock), "output arrived but nothing says so"
                assert await sock.read(14) == _frame(1, b"hello\n")
                # The container waits for its input: nothing to read, and nothing signalled.
                assert sock.pending() == 0
                assert select.select([sock], [], [], 0)[0] == []
                await sock.sendall(b"ping\n")

                async def exited() -> bool:
                    state = (await client.inspect_container(cid))["State"]
                    return not state["Running"]

                await _settle(exited)  # the output ended, and the loop saw it end
                assert sock.fileno() == fd, "the descriptor changed (or went) at the end"
                assert _ready_without_waiting(sock), "the rest of the output is not signalled"
                frames = [frame async for frame in sock.iter_frames()]
                assert frames == [(1, b"got-ping\n")]
                # The end of the output: a read returns b"" at once, and select says so.
                assert sock.pending() == 0
                assert select.select([sock], [], [], HUNG)[0] == [sock]
                assert await sock.recv(100) == b""
            assert sock.closed
            assert sock.fileno() == -1

    asyncio.run(scenario())


@pytest.mark.parametrize("name", FD_TRANSPORTS)
def test_async_exec_socket_fileno_works_with_poll(
    name: str, tb: dict[str, str], api: APIClient, test_labels: dict[str, str],
    created: list[str],
) -> None:
    cid: str = api.create_container(
        IMAGE, ["sleep", "300"], labels=test_labels, network_disabled=True
    )["Id"]
    created.append(cid)
    api.start(cid)

    async def scenario() -> None:
        async with AsyncAPIClient(timeout=60, **client_kwargs(name, tb)) as client:
            command = ["sh", "-c", "read line; echo got-$line"]
            exec_id = (await client.exec_create(cid, command, stdin=True))["Id"]
            sock = await client.exec_start(exec_id, socket=True)
            assert isinstance(sock, AsyncHijackedSocket)
            async with sock:
                poller = select.poll()
                poller.register(sock, select.POLLIN)
                assert sock.pending() == 0
                assert poller.poll(0) == []  # the command waits for its input: no output yet
                await sock.sendall(b"ping\n")

                async def finished() -> bool:
                    return not (await client.exec_inspect(exec_id))["Running"]

                await _settle(finished)  # its output came, and the loop may have read it
                events = poller.poll(0)
                assert sock.pending() > 0 or events, "the output is not signalled"
                assert all(not mask & select.POLLNVAL for _, mask in events), events
                out = b"".join([payload async for _, payload in sock.iter_frames()])
                assert out == b"got-ping\n"
                assert sock.pending() == 0
                assert poller.poll(HUNG * 1000), "the end of the output is not signalled"
            assert sock.fileno() == -1

    asyncio.run(scenario())


@pytest.mark.parametrize("name", FD_TRANSPORTS)
def test_async_socket_output_beyond_the_readers_buffer_is_signalled(
    name: str, tb: dict[str, str], api: APIClient, test_labels: dict[str, str],
    created: list[str],
) -> None:
    """More output than asyncio buffers (it stops reading at 2 x 64 KiB, and over TLS keeps
    the rest in its SSL layer, off the socket): reading while ``pending()`` or ``select``
    says there is something must get all of it, never waiting on a descriptor with the data
    already taken off it."""
    size = 600_000
    cid = _interactive(api, f"yes | head -c {size}; read line", test_labels, created)

    async def scenario() -> None:
        async with AsyncAPIClient(timeout=60, **client_kwargs(name, tb)) as client:
            sock = await _attach_all(client, cid)
            async with sock:
                await client.start(cid)

                async def all_written() -> bool:
                    return len(await client.logs(cid)) >= size

                await _settle(all_written)
                await asyncio.sleep(0.5)  # the event loop reads what it will, then pauses
                data = bytearray()
                got = 0
                while got < size:
                    if sock.pending() == 0:
                        ready = select.select([sock], [], [], 5.0)[0]
                        assert ready, f"{got} of {size} bytes: the rest is held unsignalled"
                    piece = await sock.recv(65536)
                    assert piece, f"the output ended at {got} of {size} bytes"
                    data += piece
                    got = _payload_size(bytes(data))
                assert got == size
                await sock.sendall(b"\n")

    asyncio.run(scenario())


def _payload_size(data: bytes) -> int:
    """Payload bytes of the complete multiplexed frames at the start of ``data``."""
    at = total = 0
    while at + 8 <= len(data):
        length = struct.unpack(">I", data[at + 4:at + 8])[0]
        if at + 8 + length > len(data):
            break
        total += length
        at += 8 + length
    return total
