"""Cancellation and backpressure of the asyncio client's streams, over every transport.

Cancelling a task that awaits a followed log, an attach read or a stats stream must close that
connection at once and leave the pool healthy: the next request works and the cancelled
connection is never handed out again.  A consumer that stops reading a follow stream must stop
the socket reads too (one chunk per ``__anext__``), instead of buffering the daemon's output.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
from transport_helpers import client_kwargs

from ctrproto import APIClient
from ctrproto.aio import AsyncAPIClient
from ctrproto.engine.defaults import READ_SIZE
from ctrproto.errors import NotFound, ReadTimeout
from ctrproto.transport.base import AsyncStream

pytestmark = [pytest.mark.daemon, pytest.mark.asyncio]

IMAGE = "busybox:latest"
TRANSPORTS = ["unix", "tcp", "tls", "ssh"]
#: How long a cancelled stream may take to be closed.
PROMPT = 1.0


class Recorder:
    """Wraps the client's transport: remembers every stream and counts the bytes read from it."""

    def __init__(self, client: AsyncAPIClient) -> None:
        self.streams: list[AsyncStream] = []
        self.received = 0
        transport = client.pool.transport
        connect = transport.connect

        async def recording_connect(timeout: float | None) -> AsyncStream:
            stream = await connect(timeout)
            recv = stream.recv

            async def counting_recv(size: int) -> bytes:
                data = await recv(size)
                self.received += len(data)
                return data

            stream.recv = counting_recv  # type: ignore[method-assign]
            self.streams.append(stream)
            return stream

        transport.connect = recording_connect  # type: ignore[method-assign]


@pytest_asyncio.fixture(params=TRANSPORTS)
async def aclient(
    request: pytest.FixtureRequest, tb: dict[str, str]
) -> AsyncIterator[AsyncAPIClient]:
    async with AsyncAPIClient(timeout=60, **client_kwargs(request.param, tb)) as client:
        yield client


@pytest.fixture
def started(api: APIClient, test_labels: dict[str, str]) -> Iterator[Any]:
    """Start a labelled container (over the sync client); force-removed at the end."""
    ids: list[str] = []

    def start(command: Any, **kwargs: Any) -> str:
        cid: str = api.create_container(IMAGE, command, labels=test_labels, **kwargs)["Id"]
        ids.append(cid)
        api.start(cid)
        return cid

    yield start
    for cid in ids:
        with contextlib.suppress(NotFound):
            api.remove_container(cid, force=True, v=True)


async def _cancel(task: asyncio.Task[Any]) -> float:
    """Cancel and wait for the task; returns how long the cancellation took."""
    begin = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    return time.monotonic() - begin


async def _assert_pool_healthy(client: AsyncAPIClient, cancelled: AsyncStream) -> None:
    assert cancelled.closed, "the cancelled stream's connection was left open"
    assert cancelled not in client.pool.idle_streams()
    assert await client.ping()
    assert (await client.version())["ApiVersion"]
    assert cancelled not in client.pool.idle_streams()


async def test_cancel_logs_follow(aclient: AsyncAPIClient, started: Any) -> None:
    cid = started(["sh", "-c", "while true; do echo tick; sleep 0.1; done"])
    recorder = Recorder(aclient)
    first = asyncio.Event()

    async def follow() -> None:
        stream = await aclient.logs(cid, stream=True, follow=True)
        async for _ in stream:  # type: ignore[union-attr]
            first.set()

    task = asyncio.create_task(follow())
    await asyncio.wait_for(first.wait(), 30)
    stream = recorder.streams[-1]
    assert not stream.closed
    assert await _cancel(task) < PROMPT
    await _assert_pool_healthy(aclient, stream)


async def test_cancel_attach_read(aclient: AsyncAPIClient, started: Any) -> None:
    cid = started(["sleep", "300"], stdin_open=True)
    recorder = Recorder(aclient)
    sock = await aclient.attach_socket(cid, params={"stdin": 1, "stdout": 1, "stream": 1})
    stream = recorder.streams[-1]
    task = asyncio.create_task(sock.recv())  # nothing ever arrives: it waits until cancelled
    await asyncio.sleep(0.2)
    assert not task.done()
    assert await _cancel(task) < PROMPT
    assert sock.closed
    await _assert_pool_healthy(aclient, stream)


async def test_cancel_stats_stream(aclient: AsyncAPIClient, started: Any) -> None:
    cid = started(["sleep", "300"])
    recorder = Recorder(aclient)
    stream = await aclient.stats(cid, decode=True)
    connection = recorder.streams[-1]
    assert "memory_stats" in await stream.__anext__()  # type: ignore[union-attr]
    # The daemon sends a sample a second: the next one is awaited while we cancel.
    task = asyncio.create_task(stream.__anext__())  # type: ignore[union-attr]
    await asyncio.sleep(0.05)
    assert await _cancel(task) < PROMPT
    await _assert_pool_healthy(aclient, connection)


async def test_facade_stream_cancelled_inside_task(aclient: AsyncAPIClient, started: Any) -> None:
    """A timeout (wait_for) on one read of a follow stream is a cancellation like any other."""
    cid = started(["sleep", "300"])  # a follow stream that stays silent
    recorder = Recorder(aclient)
    stream = await aclient.logs(cid, stream=True, follow=True)
    connection = recorder.streams[-1]
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(stream.__anext__(), 0.3)  # type: ignore[union-attr]
    await _assert_pool_healthy(aclient, connection)


async def test_read_timeout_closes_the_connection(tb: dict[str, str], started: Any) -> None:
    cid = started(["sleep", "300"])
    async with AsyncAPIClient(timeout=0.5, **client_kwargs("unix", tb)) as client:
        recorder = Recorder(client)
        stream = await client.logs(cid, stream=True, follow=False)
        connection = recorder.streams[-1]
        # Not followed: the daemon answers at once with an empty log and completes the body.
        assert [chunk async for chunk in stream] == []  # type: ignore[union-attr]
        with pytest.raises(ReadTimeout):
            await client.wait(cid, timeout=0.3)
        assert connection.closed or connection in client.pool.idle_streams()
        assert await client.ping()


async def test_backpressure_slow_consumer(aclient: AsyncAPIClient, started: Any) -> None:
    size = 16 * 1024 * 1024
    cid = started(["sh", "-c", f"head -c {size} /dev/zero | tr '\\0' a; sleep 300"])
    recorder = Recorder(aclient)
    stream = await aclient.logs(cid, stream=True, follow=True)
    total = len(await stream.__anext__())  # type: ignore[union-attr]
    # The consumer stalls: the daemon has megabytes ready, but no read may run ahead of it.
    await asyncio.sleep(1.0)
    pulled = recorder.received
    await asyncio.sleep(0.5)
    assert recorder.received == pulled, "socket reads went on while nobody consumed"
    assert pulled <= total + 2 * READ_SIZE
    # Each __anext__ reads only until it has one chunk to give: a read that ends inside HTTP
    # framing or a frame header needs one more, never a run of them.
    while total < size:
        before = recorder.received
        chunk = await stream.__anext__()  # type: ignore[union-attr]
        assert recorder.received - before <= 2 * READ_SIZE
        total += len(chunk)
    assert total == size
    await stream.aclose()  # type: ignore[union-attr]
    assert await aclient.ping()
