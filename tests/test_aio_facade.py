"""``AsyncDockerClient``: the containers facade, awaited, against the testbed daemon."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio

from ctrproto import APIClient
from ctrproto.aio import AsyncContainer, AsyncDockerClient
from ctrproto.errors import ContainerError, ImageNotFound, NotFound

pytestmark = [pytest.mark.daemon, pytest.mark.asyncio]

IMAGE = "busybox:latest"
MISSING_IMAGE = "127.0.0.1:1/ctrproto-test/missing:never"


@pytest_asyncio.fixture
async def docker(docker_host: str) -> AsyncIterator[AsyncDockerClient]:
    async with AsyncDockerClient(base_url=docker_host, timeout=60) as client:
        yield client


@pytest.fixture
def labelled(api: APIClient, test_labels: dict[str, str]) -> Iterator[dict[str, Any]]:
    """``run``/``create`` keywords with the session labels; every labelled container is removed."""
    yield {"labels": test_labels, "network_mode": "none"}
    label = ",".join(f"{key}={value}" for key, value in test_labels.items())
    # Only what this test made is still around: every other test cleaned up after itself.
    for item in api.containers(all=True, filters={"label": label}):
        with contextlib.suppress(NotFound):
            api.remove_container(item["Id"], force=True, v=True)


async def test_daemon_calls(docker: AsyncDockerClient) -> None:
    assert await docker.ping()
    assert (await docker.version())["ApiVersion"]
    assert "Containers" in await docker.info()


async def test_run_foreground(docker: AsyncDockerClient, labelled: dict[str, Any]) -> None:
    out = await docker.containers.run(IMAGE, "echo hello", remove=True, **labelled)
    assert out == b"hello\n"


async def test_run_failure_raises_and_removes(
    docker: AsyncDockerClient, labelled: dict[str, Any]
) -> None:
    with pytest.raises(ContainerError) as info:
        await docker.containers.run(
            IMAGE, ["sh", "-c", "echo bad >&2; exit 3"], remove=True, name="ctrproto-aio-fail",
            **labelled,
        )
    assert info.value.exit_status == 3 and info.value.stderr == b"bad\n"
    with pytest.raises(NotFound):
        await docker.containers.get("ctrproto-aio-fail")


async def test_run_stream(docker: AsyncDockerClient, labelled: dict[str, Any]) -> None:
    command = ["sh", "-c", "for i in 1 2 3; do echo $i; sleep 0.1; done"]
    stream = await docker.containers.run(IMAGE, command, stream=True, remove=True, **labelled)
    chunks = [chunk async for chunk in stream]  # type: ignore[union-attr]
    assert b"".join(chunks) == b"1\n2\n3\n"


async def test_run_missing_image(docker: AsyncDockerClient, labelled: dict[str, Any]) -> None:
    with pytest.raises(ImageNotFound, match="missing:never"):
        await docker.containers.run(MISSING_IMAGE, "true", **labelled)


async def test_detach_logs_wait_remove(docker: AsyncDockerClient, labelled: dict[str, Any]) -> None:
    command = ["sh", "-c", "echo hi; sleep 0.2; echo oops >&2"]
    container = await docker.containers.run(IMAGE, command, detach=True, **labelled)
    assert isinstance(container, AsyncContainer)
    chunks = [chunk async for chunk in container.logs(stream=True, follow=True)]
    assert b"".join(chunks) == b"hi\noops\n"
    assert (await container.wait())["StatusCode"] == 0
    assert await container.logs(stderr=False) == b"hi\n"
    await container.reload()
    assert container.status == "exited"
    await container.remove()
    with pytest.raises(NotFound):
        await docker.containers.get(container.id)


async def test_create_get_list(docker: AsyncDockerClient, labelled: dict[str, Any]) -> None:
    container = await docker.containers.create(IMAGE, "true", name="ctrproto-aio-made", **labelled)
    assert container.status == "created" and container.name == "ctrproto-aio-made"
    assert (await docker.containers.get("ctrproto-aio-made")) == container
    label = ",".join(f"{k}={v}" for k, v in labelled["labels"].items())
    found = await docker.containers.list(all=True, filters={"label": label})
    assert container in found and all(c.attrs.get("Config") for c in found)
    sparse = await docker.containers.list(all=True, filters={"label": label}, sparse=True)
    assert [c.id for c in sparse] == [c.id for c in found]
    await container.remove()


async def test_exec_run(docker: AsyncDockerClient, labelled: dict[str, Any]) -> None:
    container = await docker.containers.run(IMAGE, "sleep 300", detach=True, **labelled)
    assert isinstance(container, AsyncContainer)
    code, output = await container.exec_run(["sh", "-c", "echo o; echo e >&2; exit 4"], demux=True)
    assert (code, output) == (4, (b"o\n", b"e\n"))
    code, output = await container.exec_run("echo plain")
    assert (code, output) == (0, b"plain\n")
    result = await container.exec_run(["sh", "-c", "echo a; echo b >&2"], stream=True, demux=True)
    chunks = [chunk async for chunk in result.output]
    assert sorted(chunks) == sorted([(b"a\n", b""), (b"", b"b\n")])
    assert result.output.exit_code == 0
    await container.kill()
    await container.remove()


async def test_stats(docker: AsyncDockerClient, labelled: dict[str, Any]) -> None:
    container = await docker.containers.run(IMAGE, "sleep 300", detach=True, **labelled)
    assert isinstance(container, AsyncContainer)
    samples = container.stats(decode=True)
    assert "memory_stats" in await samples.__anext__()
    assert "read" in await samples.__anext__()
    await samples.aclose()
    assert "memory_stats" in await container.stats(stream=False)
    await container.remove(force=True)


async def test_attach_socket(docker: AsyncDockerClient, labelled: dict[str, Any]) -> None:
    container = await docker.containers.create(
        IMAGE, ["sh", "-c", "cat; echo done"], stdin_open=True, **labelled
    )
    sock = await container.attach_socket(params={"stdin": 1, "stdout": 1, "stream": 1})
    async with sock:
        await container.start()
        await sock.write(b"typed\n")
        await sock.close_stdin()
        frames = [frame async for frame in sock.iter_frames()]
    assert b"".join(payload for _, payload in frames) == b"typed\ndone\n"
    assert (await container.wait(timeout=30))["StatusCode"] == 0
    await container.remove()


async def test_cancel_facade_follow(docker: AsyncDockerClient, labelled: dict[str, Any]) -> None:
    command = ["sh", "-c", "while true; do echo tick; sleep 0.1; done"]
    container = await docker.containers.run(IMAGE, command, detach=True, **labelled)
    assert isinstance(container, AsyncContainer)
    seen = asyncio.Event()

    async def follow() -> None:
        async for _ in container.logs(stream=True, follow=True):
            seen.set()

    task = asyncio.create_task(follow())
    await asyncio.wait_for(seen.wait(), 30)
    idle_before = docker.api.pool.idle_streams()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The follow's connection is gone; the pool holds only connections that were idle before.
    assert set(docker.api.pool.idle_streams()) <= set(idle_before)
    assert all(not stream.closed for stream in docker.api.pool.idle_streams())
    await container.remove(force=True)
    assert await docker.ping()
