"""The transport-parametrised integration set of ``test_transports.py``, through AsyncAPIClient.

Same scenarios, same testbed, every transport: unix, plain tcp, tls, ssh with stream-local
forwarding and ssh through ``docker system dial-stdio`` (paramiko channels in worker threads).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio
from transport_helpers import client_kwargs

from ctrproto.aio import AsyncAPIClient, AsyncHijackedSocket
from ctrproto.engine import endpoints

pytestmark = [pytest.mark.daemon, pytest.mark.asyncio]

IMAGE = "busybox:latest"
TRANSPORTS = ["unix", "tcp", "tls", "ssh", "ssh-dial-stdio"]
BIG = 50 * 1024 * 1024

Make = Callable[..., Awaitable[str]]


@pytest_asyncio.fixture(params=TRANSPORTS)
async def aclient(
    request: pytest.FixtureRequest, tb: dict[str, str]
) -> AsyncIterator[AsyncAPIClient]:
    async with AsyncAPIClient(timeout=60, **client_kwargs(request.param, tb)) as client:
        yield client


@pytest.fixture
def container(aclient: AsyncAPIClient, test_labels: dict[str, str], created: list[str]) -> Make:
    async def make(command: Any, **kwargs: Any) -> str:
        answer = await aclient.create_container(IMAGE, command, labels=test_labels, **kwargs)
        created.append(answer["Id"])
        return str(answer["Id"])

    return make


async def test_ping_version_list(aclient: AsyncAPIClient) -> None:
    assert await aclient.ping() is True
    assert (await aclient.version())["ApiVersion"]
    assert isinstance(await aclient.containers(all=True), list)
    assert aclient.pool.opened == 1  # every request above reused one keep-alive connection


async def test_run_and_logs(aclient: AsyncAPIClient, container: Make) -> None:
    cid = await container(["sh", "-c", "echo out; echo err >&2; exit 3"])
    await aclient.start(cid)
    assert (await aclient.wait(cid))["StatusCode"] == 3
    logs = await aclient.logs(cid)
    assert isinstance(logs, bytes)
    assert b"out\n" in logs and b"err\n" in logs
    await aclient.remove_container(cid)


async def test_logs_follow_while_running(aclient: AsyncAPIClient, container: Make) -> None:
    cid = await container(["sh", "-c", "for i in 1 2 3; do echo line$i; sleep 0.2; done"])
    await aclient.start(cid)
    stream = await aclient.logs(cid, stream=True, follow=True)
    assert not isinstance(stream, bytes)
    received = b"".join([chunk async for chunk in stream])
    assert received == b"line1\nline2\nline3\n"


async def test_attach_stdin_half_close(aclient: AsyncAPIClient, container: Make) -> None:
    cid = await container(["sh", "-c", "cat; echo done"], stdin_open=True)
    params = {"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
    async with await aclient.attach_socket(cid, params=params) as sock:
        assert isinstance(sock, AsyncHijackedSocket)
        await aclient.start(cid)
        await sock.sendall(b"hello over the wire\n")
        await sock.shutdown_write()  # cat sees EOF only if the half-close crosses the transport
        frames = [frame async for frame in sock.iter_frames()]
    assert b"".join(payload for _, payload in frames) == b"hello over the wire\ndone\n"
    assert (await aclient.wait(cid, timeout=30))["StatusCode"] == 0


async def test_exec_demux(aclient: AsyncAPIClient, container: Make) -> None:
    cid = await container(["sleep", "60"])
    await aclient.start(cid)
    exec_id = (await aclient.exec_create(cid, ["sh", "-c", "echo to-out; echo to-err >&2"]))["Id"]
    assert await aclient.exec_start(exec_id, demux=True) == (b"to-out\n", b"to-err\n")
    exec_id = (await aclient.exec_create(cid, ["sh", "-c", "echo a; sleep 0.2; echo b >&2"]))["Id"]
    stream = await aclient.exec_start(exec_id, stream=True, demux=True)
    assert [chunk async for chunk in stream] == [(b"a\n", None), (None, b"b\n")]  # type: ignore[union-attr]
    info = await aclient.exec_inspect(exec_id)
    assert info["ExitCode"] == 0 or info["Running"]


async def test_stats_stream(aclient: AsyncAPIClient, container: Make) -> None:
    cid = await container(["sleep", "60"])
    await aclient.start(cid)
    stream = await aclient.stats(cid, decode=True, stream=True)
    assert not isinstance(stream, dict)
    try:
        first = await stream.__anext__()
        second = await stream.__anext__()
    finally:
        await stream.aclose()
    assert "memory_stats" in first and "read" in second
    assert await aclient.ping()  # the abandoned stream's connection is not reused


async def test_images(aclient: AsyncAPIClient) -> None:
    assert any(IMAGE in (image.get("RepoTags") or []) for image in await aclient.images())
    assert (await aclient.inspect_image(IMAGE))["Id"].startswith("sha256:")


@pytest.mark.slow
async def test_large_log_read(aclient: AsyncAPIClient, container: Make) -> None:
    cid = await container(["sh", "-c", f"head -c {BIG} /dev/zero | tr '\\0' a"])
    await aclient.start(cid)
    assert (await aclient.wait(cid, timeout=120))["StatusCode"] == 0
    total = 0
    bad = 0
    stream = await aclient.logs(cid, stream=True)
    assert not isinstance(stream, bytes)
    async for chunk in stream:
        total += len(chunk)
        bad += len(chunk) - chunk.count(b"a")
    assert (total, bad) == (BIG, 0)
    assert await asyncio.wait_for(aclient.ping(), 30)


async def test_gathered_reads_lose_nothing_and_leave_the_stream_reading(
    aclient: AsyncAPIClient, container: Make
) -> None:
    """``aiter_raw(gather=...)`` (the ingester's followed logs) holds reads back between short
    ones: the body is the same bytes as read without it, on every transport, and the
    connection works afterwards (the pause never outlives the wait)."""
    cid = await container(
        ["sh", "-c", "i=0; while [ $i -lt 300 ]; do i=$((i+1)); echo line $i; done; sleep 0.3;"
         " echo last"]
    )
    await aclient.start(cid)
    version = await aclient.ensure_api_version()
    bodies = []
    for gather in (0.0, 0.02):
        call = endpoints.logs(version, cid, stdout=True, stderr=True, stream=True, follow=True)
        response = await aclient._perform(call)
        try:
            bodies.append(b"".join([bytes(p) async for p in response.aiter_raw(gather=gather)]))
        finally:
            response.close()
    assert bodies[0] == bodies[1] and bodies[0].count(b"line ") == 300 and b"last" in bodies[0]
    assert await asyncio.wait_for(aclient.ping(), 30)
