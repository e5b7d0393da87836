"""The same test bodies against the sync and the asyncio client (written once, generated twice).

Each test takes ``world``: it makes that world's client and resolves what a call returns - a
value in the sync world, an awaitable or async iterator under asyncio - so one body checks both.
The drifts the hand-written twins had are pinned here: the exit code of a streamed exec, the
images facade's ``remove``/``list(filters=)``, and the pool refusing a stream that connected
after it was closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

import pytest

from ctrproto import APIClient, DockerClient
from ctrproto._async.connection_pool import AsyncConnectionPool
from ctrproto._sync.connection_pool import ConnectionPool
from ctrproto.aio import AsyncDockerClient, AsyncImage
from ctrproto.errors import DockerConnectionError, ImageNotFound, NotFound
from ctrproto.models import Image

IMAGE = "busybox:latest"


class World:
    """One world's client classes and a way to get plain values out of its calls."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.loop = asyncio.new_event_loop() if name == "asyncio" else None

    def __call__(self, value: Any) -> Any:
        """The value of a call: awaited under asyncio."""
        if inspect.isawaitable(value):
            assert self.loop is not None, "the sync world returned an awaitable"
            return self.loop.run_until_complete(value)
        return value

    def items(self, stream: Any) -> list[Any]:
        """Every item of a stream: an iterator, or an async iterator under asyncio."""
        if hasattr(stream, "__aiter__"):
            assert self.loop is not None, "the sync world returned an async iterator"

            async def drain() -> list[Any]:
                return [item async for item in stream]

            return self.loop.run_until_complete(drain())
        assert isinstance(stream, Iterable)
        return list(stream)

    def docker(self, base_url: str) -> Any:
        cls = AsyncDockerClient if self.loop is not None else DockerClient
        return cls(base_url=base_url, timeout=60)

    @property
    def image_class(self) -> type:
        return AsyncImage if self.loop is not None else Image

    def close(self) -> None:
        if self.loop is not None:
            # As asyncio.run ends: the callbacks still queued (a socket an aborted transport
            # closes, a generator's cleanup) run before the loop goes.
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()


@pytest.fixture
def docker(world: World, docker_host: str) -> Iterator[Any]:
    client = world.docker(docker_host)
    yield client
    world(client.close())


@pytest.fixture
def sleeper(
    world: World, docker: Any, api: APIClient, test_labels: dict[str, str]
) -> Iterator[Any]:
    """A running labelled container of this world's facade; force-removed at the end."""
    container = world(
        docker.containers.run(
            IMAGE, "sleep 300", detach=True, labels=test_labels, network_mode="none"
        )
    )
    yield container
    with contextlib.suppress(NotFound):
        api.remove_container(container.id, force=True)


@pytest.mark.daemon
def test_streamed_exec_knows_its_exit_code(world: World, sleeper: Any) -> None:
    result = world(sleeper.exec_run(["sh", "-c", "echo out; echo err >&2; exit 3"], stream=True))
    assert result.exit_code is None  # not known before the output has been read
    chunks = world.items(result.output)
    assert sorted(b"".join(chunks).split()) == [b"err", b"out"]
    assert result.output.exit_code == 3
    assert result.exit_code == 3


@pytest.mark.daemon
def test_streamed_demux_exec_knows_its_exit_code(world: World, sleeper: Any) -> None:
    result = world(sleeper.exec_run(["sh", "-c", "echo o; echo e >&2"], stream=True, demux=True))
    chunks = world.items(result.output)
    assert b"".join(out for out, _ in chunks) == b"o\n"
    assert b"".join(err for _, err in chunks) == b"e\n"
    assert all(out is not None and err is not None for out, err in chunks)
    assert result.exit_code == 0


@pytest.mark.daemon
def test_whole_exec_output_and_code(world: World, sleeper: Any) -> None:
    code, (out, err) = world(sleeper.exec_run(["sh", "-c", "echo o; exit 4"], demux=True))
    assert (code, out, err) == (4, b"o\n", b"")


@pytest.mark.daemon
def test_images_list_filters_and_remove(world: World, docker: Any, api: APIClient) -> None:
    repo = f"ctrproto-test/both-worlds-{uuid.uuid4().hex[:8]}"
    assert api.tag(IMAGE, repo, "v1")
    try:
        found = world(docker.images.list(filters={"reference": f"{repo}:*"}))
        assert len(found) == 1 and isinstance(found[0], world.image_class)
        assert f"{repo}:v1" in found[0].tags
        assert world(docker.images.list(filters={"reference": f"{repo}-none:*"})) == []
        image = world(docker.images.get(f"{repo}:v1"))
        world(image.reload())  # bound to its collection in both worlds
        world(docker.images.remove(f"{repo}:v1"))
        with pytest.raises(ImageNotFound):
            world(docker.images.get(f"{repo}:v1"))
    finally:
        with contextlib.suppress(NotFound):
            api.remove_image(f"{repo}:v1")


@pytest.mark.daemon
def test_container_image_and_properties(world: World, sleeper: Any) -> None:
    image = world(sleeper.image)
    assert isinstance(image, world.image_class) and IMAGE in image.tags
    assert sleeper.status == "created" and sleeper.name  # as inspected before it started
    world(sleeper.reload())
    assert sleeper.status == "running"


@pytest.mark.daemon
def test_logs_stream_is_opened_in_the_call_shape_of_its_world(
    world: World, docker: Any, test_labels: dict[str, str], api: APIClient
) -> None:
    container = world(
        docker.containers.run(
            IMAGE, ["sh", "-c", "echo a; echo b >&2"], detach=True, labels=test_labels,
            network_mode="none",
        )
    )
    try:
        world(container.wait())
        assert b"".join(world.items(container.logs(stream=True))) in (b"a\nb\n", b"b\na\n")
        assert world(container.logs(stdout=True, stderr=False)) == b"a\n"
    finally:
        api.remove_container(container.id, force=True)


class _ClosingTransport:
    """A transport whose ``connect`` closes the pool before it hands the stream over: the race
    of a client closed while a request was connecting."""

    host_header = "fake"

    def __init__(self) -> None:
        self.pool: Any = None
        self.streams: list[_Stream] = []

    def _connect(self) -> _Stream:
        self.pool.close()
        stream = _Stream()
        self.streams.append(stream)
        return stream

    def close(self) -> None:
        pass

    def describe(self) -> str:
        return "fake"


class _SyncClosingTransport(_ClosingTransport):
    def connect(self, timeout: float | None) -> _Stream:
        return self._connect()


class _AsyncClosingTransport(_ClosingTransport):
    async def connect(self, timeout: float | None) -> _Stream:
        return self._connect()


class _Stream:
    closed = False

    def close(self) -> None:
        self.closed = True


def test_pool_closed_while_connecting_refuses_the_new_stream(world: World) -> None:
    transport: _ClosingTransport
    if world.name == "asyncio":
        transport = _AsyncClosingTransport()
        transport.pool = AsyncConnectionPool(transport)  # type: ignore[arg-type]
    else:
        transport = _SyncClosingTransport()
        transport.pool = ConnectionPool(transport)  # type: ignore[arg-type]
    with pytest.raises(DockerConnectionError, match="closed"):
        world(transport.pool.acquire(5))
    assert [stream.closed for stream in transport.streams] == [True]


@pytest.mark.daemon
def test_auto_removed_failure_keeps_its_output(
    world: World, docker: Any, test_labels: dict[str, str]
) -> None:
    """The daemon removes the container the moment it exits: its output and exit status were
    taken before the start, so the failure is a ContainerError with the whole stderr."""
    from ctrproto.errors import ContainerError

    script = "echo out; echo err >&2; exit 5"
    with pytest.raises(ContainerError) as info:
        world(
            docker.containers.run(
                IMAGE, ["sh", "-c", script], auto_remove=True, labels=test_labels,
                network_mode="none",
            )
        )
    assert info.value.exit_status == 5 and info.value.stderr == b"err\n"
    output = world(
        docker.containers.run(
            IMAGE, ["sh", "-c", "echo a; echo b >&2"], auto_remove=True, stderr=True,
            labels=test_labels, network_mode="none",
        )
    )
    assert sorted(output.splitlines()) == [b"a", b"b"]


@pytest.mark.daemon
def test_auto_removed_stream_keeps_its_output(
    world: World, docker: Any, test_labels: dict[str, str]
) -> None:
    from ctrproto.errors import ContainerError

    stream = world(
        docker.containers.run(
            IMAGE, ["sh", "-c", "for i in 1 2 3; do echo $i; done; exit 2"], auto_remove=True,
            stream=True, labels=test_labels, network_mode="none",
        )
    )
    chunks: list[bytes] = []
    with pytest.raises(ContainerError) as info:
        world.items(_recording(stream, chunks))
    assert info.value.exit_status == 2
    assert b"".join(chunks) == b"1\n2\n3\n"  # every line arrived before the error


def _recording(stream: Any, into: list[bytes]) -> Any:
    """``stream`` passed through, each item also appended to ``into`` (kept when it raises)."""
    if hasattr(stream, "__aiter__"):

        async def passing() -> Any:
            async for item in stream:
                into.append(item)
                yield item

        return passing()

    def passing_sync() -> Any:
        for item in stream:
            into.append(item)
            yield item

    return passing_sync()


@pytest.mark.daemon
def test_container_list_shapes_match_docker_py(
    world: World, docker: Any, sleeper: Any, docker_host: str, test_labels: dict[str, str]
) -> None:
    """``containers(trunc=True)`` cuts ids to 12; ``quiet`` wins with full ids (as docker-py)."""
    docker_py = pytest.importorskip("docker")
    label = [f"{key}={value}" for key, value in test_labels.items()]
    reference = docker_py.APIClient(base_url=docker_host, version="auto")
    try:
        for flags in ({"trunc": True}, {"quiet": True}, {"quiet": True, "trunc": True}, {}):
            ours = world(docker.api.containers(filters={"label": label}, **flags))
            theirs = reference.containers(filters={"label": label}, **flags)
            assert [item["Id"] for item in ours] == [item["Id"] for item in theirs], flags
            assert sleeper.id[:12] in [item["Id"][:12] for item in ours]
    finally:
        reference.close()


@pytest.mark.daemon
def test_tty_exec_demux_has_no_stderr(world: World, sleeper: Any) -> None:
    """A TTY has one stream: demuxed, its stderr is ``None`` (docker-py's shape), whole or
    streamed."""
    code, (out, err) = world(sleeper.exec_run(["sh", "-c", "echo o"], tty=True, demux=True))
    assert (code, out, err) == (0, b"o\r\n", None)
    result = world(sleeper.exec_run(["sh", "-c", "echo o"], tty=True, demux=True, stream=True))
    chunks = world.items(result.output)
    assert b"".join(out for out, _ in chunks) == b"o\r\n"
    assert all(err is None for _, err in chunks)


@pytest.mark.daemon
def test_detached_exec_start_answers_as_docker_py(world: World, docker: Any, sleeper: Any) -> None:
    exec_id = world(docker.api.exec_create(sleeper.id, ["true"]))["Id"]
    assert world(docker.api.exec_start(exec_id, detach=True)) == ""
    code, output = world(sleeper.exec_run(["true"], detach=True))
    assert output == "" and code in (None, 0)


@pytest.mark.daemon
def test_a_client_dropped_without_close_leaves_no_resource_warning(
    world: World, docker_host: str
) -> None:
    import gc
    import warnings

    client = world.docker(docker_host)
    assert world(client.ping())
    pool = client.api.pool
    assert pool.idle_count == 1  # a kept-alive connection that nobody will close
    with warnings.catch_warnings():  # earlier tests' garbage (docker-py leaks sockets) goes
        warnings.simplefilter("ignore")  # now, so that what follows is this client's alone
        gc.collect()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del client
        gc.collect()
    assert [w.message for w in caught if issubclass(w.category, ResourceWarning)] == []
    assert pool.idle_count == 0


def test_client_headers_go_with_every_request(world: World) -> None:
    """``api.headers`` as docker-py's: testcontainers sets its session id and User-Agent there."""
    from test_reliability_security import capture_daemon

    with capture_daemon() as daemon:
        client = world.docker(daemon.url)
        client.api.headers["X-Tc-Sid"] = "session-1"
        client.api.headers["User-Agent"] = "tc-python/4"
        with pytest.raises(NotFound):
            world(client.containers.get("anything"))
        world(client.close())
    head = daemon.requests[-1].decode()
    assert "X-Tc-Sid: session-1\r\n" in head
    assert "User-Agent: tc-python/4\r\n" in head and "ctrproto" not in head
