"""The asyncio client's newer endpoints: container changes, commit/tag, archives, attach, prune.

Unit tests first (the shared re-chunker, upload bodies, the driver's chunked request body over a
fake stream), then the same behaviours against the testbed daemon, each checked by what the
daemon reports afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import tarfile
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio

from ctrproto import APIClient
from ctrproto._async.connection_pool import AsyncConnectionPool
from ctrproto._async.http_driver import AsyncHTTPDriver, AsyncResponse
from ctrproto._async.stream_shapes import rechunked
from ctrproto._backends.asyncio import upload_body as upload_pieces
from ctrproto.aio import AsyncContainer, AsyncDockerClient
from ctrproto.aio import AsyncImage as Image
from ctrproto.engine.output import Rechunker
from ctrproto.errors import ImageNotFound, NotFound
from ctrproto.protocol.buffer import Buffer
from ctrproto.protocol.request import build_request

IMAGE = "busybox:latest"


# ---------------------------------------------------------------------- unit: shared helpers


@pytest.mark.parametrize("size", [None, 0, 1, 3, 4, 10])
def test_rechunker_cuts_to_size(size: int | None) -> None:
    pieces = [b"abc", b"", b"defg", b"h", b"ijklmnop"]
    rechunker = Rechunker(size)
    out = [chunk for piece in pieces for chunk in rechunker.feed(piece)] + rechunker.flush()
    assert b"".join(out) == b"abcdefghijklmnop"
    if size:
        assert all(len(chunk) == size for chunk in out[:-1]) and 0 < len(out[-1]) <= size
    else:
        assert out == [piece for piece in pieces if piece]


async def _agen(items: list[Any]) -> AsyncIterator[Any]:
    for item in items:
        yield item


@pytest.mark.asyncio
async def test_rechunked_async() -> None:
    chunks = [c async for c in rechunked(_agen([b"ab", b"cdefg", b"h"]), 3)]
    assert chunks == [b"abc", b"def", b"gh"]


@pytest.mark.asyncio
async def test_upload_pieces_accepts_bytes_iterables_and_async_iterables() -> None:
    async def collect(data: Any) -> bytes:
        return b"".join([piece async for piece in upload_pieces(data, 4)])

    assert await collect(b"0123456789") == b"0123456789"
    assert [p async for p in upload_pieces(b"0123456789", 4)] == [b"0123", b"4567", b"89"]
    assert await collect(io.BytesIO(b"file body")) == b"file body"
    assert await collect(iter([b"a", bytearray(b"b")])) == b"ab"
    assert await collect(_agen([b"x", memoryview(b"y")])) == b"xy"


@pytest.mark.asyncio
async def test_upload_pieces_rejects_wrong_types() -> None:
    with pytest.raises(TypeError):
        upload_pieces("text", 4)  # checked before any request could start
    with pytest.raises(TypeError):
        [p async for p in upload_pieces(_agen([b"ok", "text"]), 4)]


# ---------------------------------------------------------------------- unit: chunked upload


class _FakeStream:
    """Records what the driver sends; answers once the request has ended."""

    def __init__(self, answer: bytes) -> None:
        self.sent = bytearray()
        self._answer = answer
        self.closed = False

    async def send_all(self, data: Buffer) -> None:
        self.sent += data

    async def recv(self, size: int) -> bytes:
        answer, self._answer = self._answer[:size], self._answer[size:]
        return answer

    async def shutdown_write(self) -> None:
        pass

    def settimeout(self, timeout: float | None) -> None:
        pass

    def idle_ok(self) -> bool:
        return True

    def close(self) -> None:
        self.closed = True


class _FakeTransport:
    host_header = "docker"

    def __init__(self, stream: _FakeStream) -> None:
        self.stream = stream

    async def connect(self, timeout: float | None) -> _FakeStream:
        return self.stream

    def close(self) -> None:
        pass

    def describe(self) -> str:
        return "fake"


@pytest.mark.asyncio
async def test_driver_sends_a_streamed_body_chunked() -> None:
    stream = _FakeStream(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    pool = AsyncConnectionPool(_FakeTransport(stream))
    request = build_request("PUT", "/upload", streamed_body=True)
    response = await AsyncHTTPDriver(pool).perform(
        request, timeout=5, body=_agen([b"abc", b"", b"0123456789"])
    )
    assert isinstance(response, AsyncResponse)
    assert await response.read() == b"ok"
    head, _, body = bytes(stream.sent).partition(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in head.lower()
    assert body == b"3\r\nabc\r\na\r\n0123456789\r\n0\r\n\r\n"
    assert pool.idle_count == 1  # complete and reusable: back in the pool


# ---------------------------------------------------------------------- daemon fixtures


@pytest_asyncio.fixture
async def docker(docker_host: str) -> AsyncIterator[AsyncDockerClient]:
    async with AsyncDockerClient(base_url=docker_host, timeout=60) as client:
        yield client


@pytest.fixture
def labelled(api: APIClient, test_labels: dict[str, str]) -> Iterator[dict[str, Any]]:
    """``run``/``create`` keywords with the session labels; what the test made is removed."""
    yield {"labels": dict(test_labels), "network_mode": "none"}
    label = ",".join(f"{key}={value}" for key, value in test_labels.items())
    for item in api.containers(all=True, filters={"label": label}):
        with contextlib.suppress(NotFound):
            api.remove_container(item["Id"], force=True, v=True)


@pytest.fixture
def image_names(api: APIClient) -> Iterator[list[str]]:
    """Image references a test creates (commit, tag); all removed when it ends."""
    names: list[str] = []
    yield names
    for name in reversed(names):
        with contextlib.suppress(ImageNotFound):
            api.remove_image(name, force=True)


def _tar(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _untar(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {
            member.name: tar.extractfile(member).read()  # type: ignore[union-attr]
            for member in tar.getmembers()
            if member.isfile()
        }


async def _sleeper(docker: AsyncDockerClient, labelled: dict[str, Any]) -> AsyncContainer:
    container = await docker.containers.run(IMAGE, "sleep 300", detach=True, **labelled)
    assert isinstance(container, AsyncContainer)
    return container


# ---------------------------------------------------------------------- daemon: lifecycle


@pytest.mark.daemon
@pytest.mark.asyncio
async def test_pause_unpause_restart_status(
    docker: AsyncDockerClient, labelled: dict[str, Any]
) -> None:
    container = await _sleeper(docker, labelled)
    assert container.status == "created"  # as inspected before start, as in docker-py
    await container.reload()
    assert container.status == "running"
    assert container.labels.items() >= labelled["labels"].items()
    await container.pause()
    await container.reload()
    assert container.status == "paused"
    await container.unpause()
    await container.reload()
    assert container.status == "running"
    started = container.attrs["State"]["StartedAt"]
    await container.restart(timeout=0)
    await container.reload()
    assert container.status == "running" and container.attrs["State"]["StartedAt"] != started
    await container.kill()
    assert (await container.wait())["StatusCode"] == 137
    await container.remove()


@pytest.mark.daemon
@pytest.mark.asyncio
async def test_top_rename_update_stats(docker: AsyncDockerClient, labelled: dict[str, Any]) -> None:
    container = await _sleeper(docker, labelled)
    top = await container.top()
    assert any("sleep 300" in " ".join(row) for row in top["Processes"])
    assert "PID" in (await container.top(ps_args="-o pid,comm"))["Titles"]
    new_name = f"ctrproto-aio-renamed-{uuid.uuid4().hex[:8]}"
    await container.rename(new_name)
    await container.reload()
    assert container.name == new_name
    assert (await docker.containers.get(new_name)).id == container.id
    policy = {"Name": "on-failure", "MaximumRetryCount": 2}
    warnings = await container.update(restart_policy=policy)
    assert isinstance(warnings, dict)
    await container.reload()
    assert container.attrs["HostConfig"]["RestartPolicy"] == policy
    sample = await container.stats(stream=False)
    assert isinstance(sample, dict) and "memory_stats" in sample and sample["id"] == container.id
    await container.remove(force=True)


@pytest.mark.daemon
@pytest.mark.asyncio
async def test_resize_and_exec_resize(docker: AsyncDockerClient, labelled: dict[str, Any]) -> None:
    command = ["sh", "-c", "sleep 1; stty size; sleep 300"]
    container = await docker.containers.run(IMAGE, command, detach=True, tty=True, **labelled)
    assert isinstance(container, AsyncContainer)
    await container.resize(30, 100)
    for _ in range(100):
        if b"30 100" in await container.logs():
            break
        await asyncio.sleep(0.05)
    assert (await container.logs()).strip() == b"30 100"
    api = docker.api
    exec_id = (await api.exec_create(container.id, "sh -c 'sleep 1; stty size'", tty=True))["Id"]
    sock = await api.exec_start(exec_id, tty=True, socket=True)
    assert not isinstance(sock, (bytes, tuple))
    await api.exec_resize(exec_id, height=20, width=90)
    async with sock:  # type: ignore[union-attr]
        assert (await sock.read()).strip() == b"20 90"  # type: ignore[union-attr]
    await container.remove(force=True)


@pytest.mark.daemon
@pytest.mark.asyncio
async def test_attach_stream_demux_and_joined(
    docker: AsyncDockerClient, labelled: dict[str, Any]
) -> None:
    command = ["sh", "-c", "sleep 0.3; echo out; echo err >&2"]
    container = await docker.containers.create(IMAGE, command, **labelled)
    chunks = await container.attach(stream=True, demux=True)
    await container.start()
    out = b"".join([o async for o, _ in chunks if o])
    assert out == b"out\n"
    await container.wait()
    joined = await container.attach(logs=True, demux=True)  # replays the finished output
    assert joined == (b"out\n", b"err\n")
    await container.remove()


@pytest.mark.daemon
@pytest.mark.asyncio
async def test_prune_removes_stopped_containers(
    docker: AsyncDockerClient, labelled: dict[str, Any]
) -> None:
    marker = f"ctrproto.prune={uuid.uuid4().hex}"
    labels = {**labelled["labels"], "ctrproto.prune": marker.split("=", 1)[1]}
    stopped = await docker.containers.create(IMAGE, "true", **{**labelled, "labels": labels})
    running = await _sleeper(docker, {**labelled, "labels": labels})
    result = await docker.containers.prune(filters={"label": marker})
    assert result["ContainersDeleted"] == [stopped.id]
    assert result["SpaceReclaimed"] >= 0
    with pytest.raises(NotFound):
        await docker.containers.get(stopped.id)
    await running.remove(force=True)


# ---------------------------------------------------------------------- daemon: images


@pytest.mark.daemon
@pytest.mark.asyncio
async def test_diff_commit_image_tag(
    docker: AsyncDockerClient, labelled: dict[str, Any], image_names: list[str]
) -> None:
    command = ["sh", "-c", "echo made > /made.txt"]
    container = await docker.containers.run(IMAGE, command, detach=True, **labelled)
    assert isinstance(container, AsyncContainer)
    await container.wait()
    assert {"Path": "/made.txt", "Kind": 1} in await container.diff()
    repo = f"ctrproto-aio-commit-{uuid.uuid4().hex[:8]}"
    image_names.append(f"{repo}:v1")
    committed = await container.commit(repo, "v1", message="from aio", changes=["ENV MADE=1"])
    assert isinstance(committed, Image) and f"{repo}:v1" in committed.tags
    assert "MADE=1" in committed.attrs["Config"]["Env"]
    assert committed.attrs["Comment"] == "from aio"
    base = await container.image
    assert isinstance(base, Image) and base.id == (await docker.images.get(IMAGE)).id
    out = await docker.containers.run(f"{repo}:v1", "cat /made.txt", remove=True, **labelled)
    assert out == b"made\n"

    image_names.append(f"{repo}:v2")
    assert await docker.api.tag(committed.id, repo, "v2") is True
    assert f"{repo}:v2" in (await docker.images.get(committed.id)).tags
    listed = await docker.api.images(name=repo)
    assert {tag for item in listed for tag in item["RepoTags"]} == {f"{repo}:v1", f"{repo}:v2"}
    await container.remove()
    untagged = await docker.api.remove_image(f"{repo}:v2")
    assert {"Untagged": f"{repo}:v2"} in untagged
    deleted = await docker.api.remove_image(f"{repo}:v1")
    assert {"Deleted": committed.id} in deleted
    with pytest.raises(ImageNotFound):
        await docker.images.get(committed.id)


# ---------------------------------------------------------------------- daemon: archives


@pytest.mark.daemon
@pytest.mark.asyncio
async def test_put_get_archive_and_stat(
    docker: AsyncDockerClient, labelled: dict[str, Any]
) -> None:
    container = await docker.containers.create(IMAGE, "true", **labelled)
    payload = bytes(range(256)) * 40
    assert await container.put_archive("/tmp", _tar({"a.bin": payload}))
    assert await container.put_archive("/tmp", iter([_tar({"b.txt": b"sync"})]))
    tar = _tar({"c.txt": b"async iterable"})
    assert await container.put_archive("/tmp", _agen([tar[:100], tar[100:]]))

    stat = await docker.api.archive_stat(container.id, "/tmp/a.bin")
    assert stat["name"] == "a.bin" and stat["size"] == len(payload)
    pieces, stat = await container.get_archive("/tmp", chunk_size=1000)
    assert stat["name"] == "tmp" and stat["mode"] & 0o20000000000  # a directory
    chunks = [chunk async for chunk in pieces]
    assert all(len(chunk) == 1000 for chunk in chunks[:-1])
    files = _untar(b"".join(chunks))
    assert files == {
        "tmp/a.bin": payload, "tmp/b.txt": b"sync", "tmp/c.txt": b"async iterable",
    }
    with pytest.raises(NotFound):
        await container.get_archive("/no/such/path")
    with pytest.raises(NotFound):
        await docker.api.archive_stat(container.id, "/no/such/path")
    await container.remove()


@pytest.mark.daemon
@pytest.mark.asyncio
async def test_put_archive_error_keeps_client_usable(
    docker: AsyncDockerClient, labelled: dict[str, Any]
) -> None:
    container = await docker.containers.create(IMAGE, "true", **labelled)
    with pytest.raises(NotFound):  # the directory must exist
        await container.put_archive("/no/such/dir", _tar({"x": b"x"}))
    with pytest.raises(NotFound):
        await docker.api.put_archive("ctrproto-aio-no-such-container", "/tmp", b"")
    assert await docker.ping()
    assert await container.put_archive("/tmp", _tar({"x": b"x"}))
    await container.remove()


@pytest.mark.daemon
@pytest.mark.asyncio
async def test_export(docker: AsyncDockerClient, labelled: dict[str, Any]) -> None:
    container = await docker.containers.create(IMAGE, "true", **labelled)
    assert await container.put_archive("/", _tar({"exported.txt": b"in the export"}))
    chunks = [chunk async for chunk in container.export(chunk_size=64 * 1024)]
    assert len(chunks) > 1 and all(len(chunk) == 64 * 1024 for chunk in chunks[:-1])
    with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as tar:
        names = set(tar.getnames())
        member = tar.extractfile("exported.txt")
        assert member is not None and member.read() == b"in the export"
    assert "bin/busybox" in names
    raw = await docker.api.export(container.id, chunk_size=None)
    assert sum([len(chunk) async for chunk in raw]) == sum(len(chunk) for chunk in chunks)
    await container.remove()
