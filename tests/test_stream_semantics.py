"""Stream semantics that docker-py code relies on, against the testbed daemon.

* one item per multiplexed frame from ``logs(stream=True)`` / ``attach(stream=True)`` (one
  byte per item from a TTY container's log stream), checked DIFFERENTIALLY against docker-py on
  the same container, in both worlds, and the bulk ``chunks=True`` shape next to it;
* every stream a client method returns ends quietly when ``close()`` is called from another
  thread (under asyncio: another task, or a thread through ``call_soon_threadsafe``) while a
  read is blocked on it, over every transport, and its connection is dropped, not pooled;
* ``fileno()`` of a hijacked socket works with ``select``.

No timed assertions: a stream that does not end makes the reader thread outlive a generous
join (or ``wait_for``), which fails the test; how quickly it ended is not asserted.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import random
import select
import struct
import threading
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import docker
import pytest
from transport_helpers import client_kwargs

from ctrproto import APIClient, DockerClient
from ctrproto._async.cancellable import AsyncCancellableStream
from ctrproto._sync.cancellable import CancellableStream
from ctrproto.aio import AsyncAPIClient, AsyncDockerClient
from ctrproto.protocol import demux

IMAGE = "busybox:latest"
TRANSPORTS = ["unix", "tcp", "tls", "ssh", "ssh-dial-stdio"]
#: How long a stream may take to end after close() before the test calls it hung (no timing
#: is asserted: this only bounds a failure).
HUNG = 10.0

#: Output with both streams, an empty printf (no frame) and pauses, so that every write is
#: its own frame, read on its own: the items are deterministic for every client.
PACED = (
    "echo one; sleep 0.2; echo two >&2; sleep 0.2; printf ''; echo three; sleep 0.2; "
    "printf 'no newline'; sleep 0.2; echo; sleep 0.2; echo four >&2"
)


# ------------------------------------------------------------------ helpers


class World:
    """One world's low-level client and a way to get plain values out of its calls."""

    def __init__(self, name: str, base_url: str, **kwargs: Any) -> None:
        self.name = name
        self.loop = asyncio.new_event_loop() if name == "asyncio" else None
        cls = AsyncAPIClient if self.loop is not None else APIClient
        self.api: Any = cls(base_url=base_url, timeout=60, **kwargs)

    def __call__(self, value: Any) -> Any:
        if self.loop is not None and inspect.isawaitable(value):
            return self.loop.run_until_complete(value)
        return value

    def items(self, stream: Any) -> list[Any]:
        if self.loop is not None:
            assert isinstance(stream, AsyncCancellableStream), type(stream)

            async def drain() -> list[Any]:
                return [item async for item in stream]

            return self.loop.run_until_complete(drain())
        assert isinstance(stream, CancellableStream), type(stream)
        return list(stream)

    def close(self) -> None:
        self(self.api.close())
        if self.loop is not None:
            self.loop.close()


@pytest.fixture(params=["sync", "asyncio"])
def world(request: pytest.FixtureRequest, docker_host: str) -> Iterator[World]:
    w = World(request.param, docker_host)
    yield w
    w.close()


@pytest.fixture
def dpy(docker_host: str) -> Iterator[docker.APIClient]:
    client = docker.APIClient(base_url=docker_host, timeout=60)
    yield client
    client.close()


def _finished_logs(api: APIClient, cid: str, expected: bytes) -> None:
    """Wait until the log driver holds the whole output (it may lag the container's exit);
    stdout and stderr lines may interleave in any order."""
    for _ in range(200):
        if sorted(api.logs(cid).splitlines()) == sorted(expected.splitlines()):
            return
        threading.Event().wait(0.05)
    raise AssertionError(f"logs never settled: {api.logs(cid)!r}")


# ------------------------------------------------------------------ the demuxer's bare payloads


def _frame(stream: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxL", stream, len(payload)) + payload


def _cases(seed: int, count: int) -> Iterator[tuple[list[tuple[int, bytes]], list[bytes]]]:
    rnd = random.Random(seed)
    for _ in range(count):
        frames = [
            (rnd.choice([0, 1, 2]), rnd.randbytes(rnd.choice([0, 0, 1, 7, 100, 3000])))
            for _ in range(rnd.randint(0, 10))
        ]
        data = b"".join(_frame(s, p) for s, p in frames)
        cuts = sorted(rnd.sample(range(len(data) + 1), min(len(data) + 1, rnd.randint(0, 5))))
        yield frames, [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]


def _implementations() -> dict[str, ModuleType]:
    impls = demux.implementations()
    assert "cython" in impls, "the compiled demuxer is not built: install with scripts/setup"
    return impls


@pytest.mark.parametrize("name", ["python", "cython"])
def test_untagged_demuxer_gives_one_payload_per_nonempty_frame(name: str) -> None:
    impl = _implementations()[name]
    for frames, chunks in _cases(seed=5, count=400):
        d = impl.Demuxer(join=False, tagged=False)
        got = [item for chunk in chunks for item in d.feed(chunk)]
        d.close()
        assert got == [payload for _, payload in frames if payload]
        assert all(type(item) is bytes for item in got)


@pytest.mark.parametrize("name", ["python", "cython"])
def test_untagged_joined_demuxer_gives_one_item_per_feed(name: str) -> None:
    impl = _implementations()[name]
    for frames, chunks in _cases(seed=6, count=400):
        d = impl.Demuxer(join=True, tagged=False)
        per_feed = [d.feed(chunk) for chunk in chunks]
        assert all(len(items) <= 1 for items in per_feed), "a feed's payloads were not joined"
        got = [item for items in per_feed for item in items]
        assert b"".join(got) == b"".join(payload for _, payload in frames)
        assert all(got), "an empty item"


def test_untagged_modes_agree_across_implementations() -> None:
    impls = _implementations()
    for frames, chunks in _cases(seed=7, count=400):
        for join in (True, False):
            py, cy = (impls[n].Demuxer(join=join, tagged=False) for n in ("python", "cython"))
            assert [py.feed(c) for c in chunks] == [cy.feed(c) for c in chunks], frames


@pytest.mark.parametrize("name", ["python", "cython"])
def test_untagged_demuxer_keeps_the_error_contract(name: str) -> None:
    impl = _implementations()[name]
    d = impl.Demuxer(join=False, tagged=False)
    with pytest.raises(Exception) as info:
        d.feed(_frame(1, b"a") + _frame(2, b"") + _frame(2, b"b") + _frame(3, b"boom"))
    assert str(info.value) == "boom"
    assert info.value.frames == [b"a", b"b"]  # type: ignore[attr-defined]


# ------------------------------------------------------------------ one item per frame: logs


def test_logs_stream_items_match_docker_py(
    world: World, dpy: docker.APIClient, make_container: Callable[..., str], api: APIClient
) -> None:
    cid = make_container(["sh", "-c", PACED], network_disabled=True)
    api.start(cid)
    api.wait(cid)
    _finished_logs(api, cid, b"one\ntwo\nthree\nno newline\nfour\n")
    expected = list(dpy.logs(cid, stream=True, follow=False))
    assert len(expected) >= 5, expected  # one per frame: the pieces docker-py hands out
    assert world.items(world(world.api.logs(cid, stream=True, follow=False))) == expected
    for kwargs in ({"stderr": False}, {"stdout": False}, {"tail": 2}, {"timestamps": True}):
        reference = list(dpy.logs(cid, stream=True, follow=False, **kwargs))
        if "timestamps" in kwargs:  # the stamps are the daemon's: the same lines, stamped
            assert all(b" " in item for item in reference)
        got = world.items(world(world.api.logs(cid, stream=True, follow=False, **kwargs)))
        assert got == reference, kwargs


def test_logs_stream_of_many_lines_is_one_item_per_line(
    world: World, dpy: docker.APIClient, make_container: Callable[..., str], api: APIClient
) -> None:
    cid = make_container(["sh", "-c", "seq 1 3000"], network_disabled=True)
    api.start(cid)
    api.wait(cid)
    expected_bytes = b"".join(b"%d\n" % i for i in range(1, 3001))
    _finished_logs(api, cid, expected_bytes)
    items = world.items(world(world.api.logs(cid, stream=True, follow=False)))
    assert items == [b"%d\n" % i for i in range(1, 3001)]
    assert items == list(dpy.logs(cid, stream=True, follow=False))
    bulk = world.items(world(world.api.logs(cid, stream=True, follow=False, chunks=True)))
    assert b"".join(bulk) == expected_bytes
    assert len(bulk) < len(items), "the bulk shape should join a read's frames"


def test_tty_logs_stream_is_one_byte_per_item_as_docker_py(
    world: World, dpy: docker.APIClient, make_container: Callable[..., str], api: APIClient
) -> None:
    cid = make_container(["sh", "-c", "echo hello; echo world"], tty=True, network_disabled=True)
    api.start(cid)
    api.wait(cid)
    _finished_logs(api, cid, b"hello\r\nworld\r\n")
    expected = list(dpy.logs(cid, stream=True, follow=False))
    assert expected == [bytes([b]) for b in b"hello\r\nworld\r\n"]
    assert world.items(world(world.api.logs(cid, stream=True, follow=False))) == expected
    bulk = world.items(world(world.api.logs(cid, stream=True, follow=False, chunks=True)))
    assert b"".join(bulk) == b"hello\r\nworld\r\n"
    assert len(bulk) < len(expected)


def test_facade_logs_stream_is_per_frame_in_both_worlds(
    world: World, docker_host: str, make_container: Callable[..., str], api: APIClient
) -> None:
    cid = make_container(["sh", "-c", "echo a; echo b >&2; echo c"], network_disabled=True)
    api.start(cid)
    api.wait(cid)
    _finished_logs(api, cid, b"a\nb\nc\n")
    expected = list(api.logs(cid, stream=True))
    assert sorted(expected) == [b"a\n", b"b\n", b"c\n"]
    if world.loop is None:
        with DockerClient(base_url=docker_host) as client:
            assert list(client.containers.get(cid).logs(stream=True)) == expected
        return

    async def facade() -> list[bytes]:
        async with AsyncDockerClient(base_url=docker_host) as client:
            container = await client.containers.get(cid)
            return [item async for item in container.logs(stream=True)]

    assert world.loop.run_until_complete(facade()) == expected


# ------------------------------------------------------------------ one item per frame: attach


def _attached_items(
    world: World, dpy: docker.APIClient, api: APIClient, cid: str, **kwargs: Any
) -> tuple[list[Any], list[Any]]:
    """docker-py's and ctrproto's items of one attach each, both made before the start and
    read at the same time (docker-py's in a thread), as the output arrives."""
    reference = dpy.attach(cid, stream=True, **kwargs)
    ours = world(world.api.attach(cid, stream=True, **kwargs))
    reader, outcome = _consume_in_thread(reference)
    api.start(cid)
    got = world.items(ours)
    reader.join(HUNG)
    assert not reader.is_alive() and "error" not in outcome, outcome
    return outcome["items"], got


@pytest.mark.parametrize("demux_", [False, True])
def test_attach_stream_items_match_docker_py(
    world: World,
    dpy: docker.APIClient,
    make_container: Callable[..., str],
    api: APIClient,
    demux_: bool,
) -> None:
    cid = make_container(["sh", "-c", "sleep 0.5; " + PACED], network_disabled=True)
    expected, got = _attached_items(world, dpy, api, cid, demux=demux_)
    assert len(expected) >= 6, expected  # a frame per write, the bare newline included
    assert got == expected


@pytest.mark.parametrize("demux_", [False, True])
def test_tty_attach_stream_items_match_docker_py(
    world: World,
    dpy: docker.APIClient,
    make_container: Callable[..., str],
    api: APIClient,
    demux_: bool,
) -> None:
    # Each write is one read for both clients (the pauses), which makes a TTY's items - what
    # each read returned - deterministic enough to compare.
    cmd = "sleep 0.5; echo one; sleep 0.3; echo two; sleep 0.3; echo three"
    cid = make_container(["sh", "-c", cmd], tty=True, network_disabled=True)
    expected, got = _attached_items(world, dpy, api, cid, demux=demux_)
    assert b"".join(i[0] if demux_ else i for i in expected) == b"one\r\ntwo\r\nthree\r\n"
    assert got == expected


def test_attach_chunks_is_the_bulk_shape(
    world: World, make_container: Callable[..., str], api: APIClient
) -> None:
    cid = make_container(["sh", "-c", "sleep 0.5; seq 1 2000"], network_disabled=True)
    stream = world(world.api.attach(cid, stream=True, chunks=True))
    api.start(cid)
    items = world.items(stream)
    assert b"".join(items) == b"".join(b"%d\n" % i for i in range(1, 2001))
    assert len(items) < 2000


# ------------------------------------------------------------------ close from another thread


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def _silent(api: APIClient, test_labels: dict[str, str], created: list[str]) -> str:
    """A running container that writes nothing: a read of its output blocks."""
    cid: str = api.create_container(
        IMAGE, ["sleep", "300"], labels=test_labels, network_disabled=True
    )["Id"]
    created.append(cid)
    api.start(cid)
    return cid


Opener = Callable[[Any, str], Any]

STREAMS: dict[str, Opener] = {
    "logs": lambda c, cid: c.logs(cid, stream=True, follow=True),
    "logs-chunks": lambda c, cid: c.logs(cid, stream=True, follow=True, chunks=True),
    "attach": lambda c, cid: c.attach(cid, stream=True),
    "attach-demux": lambda c, cid: c.attach(cid, stream=True, demux=True),
    "stats": lambda c, cid: c.stats(cid, decode=True),
}


def _connection(stream: Any) -> Any:
    """The transport stream under a client's stream (a response's or a hijacked socket's)."""
    return stream._reading.resource._stream  # noqa: SLF001


def _consume_in_thread(stream: Any) -> tuple[threading.Thread, dict[str, Any]]:
    outcome: dict[str, Any] = {}

    def read() -> None:
        try:
            outcome["items"] = [item for item in stream]
        except BaseException as exc:  # the test reports it
            outcome["error"] = exc

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return reader, outcome


@pytest.mark.parametrize("kind", list(STREAMS))
def test_close_from_another_thread_ends_a_blocked_stream(
    transport: str,
    kind: str,
    tb: dict[str, str],
    api: APIClient,
    test_labels: dict[str, str],
    created: list[str],
) -> None:
    cid = _silent(api, test_labels, created)
    with APIClient(timeout=60, **client_kwargs(transport, tb)) as client:
        stream = STREAMS[kind](client, cid)
        assert isinstance(stream, CancellableStream)
        connection = _connection(stream)
        reader, outcome = _consume_in_thread(stream)
        # docker-py's pattern: the stream closed by a timer while its loop waits.
        timer = threading.Timer(0.5, stream.close)
        timer.start()
        reader.join(HUNG)
        timer.join()
        assert not reader.is_alive(), f"{kind} over {transport} did not end after close()"
        assert "error" not in outcome, outcome.get("error")
        if kind != "stats":  # a silent container writes nothing; stats may have sampled
            assert outcome["items"] == []
        assert stream.closed
        assert connection.closed, "the connection was left open"
        assert connection not in client._pool.idle_streams(), "a cut connection was pooled"  # noqa: SLF001
        assert list(stream) == []  # ended for good
        assert client.ping() is True  # the client is fine afterwards


def test_close_before_iterating_releases_the_connection(
    api: APIClient, test_labels: dict[str, str], created: list[str]
) -> None:
    cid = _silent(api, test_labels, created)
    for opener in STREAMS.values():
        stream = opener(api, cid)
        connection = _connection(stream)
        stream.close()
        stream.close()  # idempotent
        assert connection.closed
        assert list(stream) == []


def test_close_from_the_loop_body_ends_the_stream(
    api: APIClient, make_container: Callable[..., str]
) -> None:
    cid = make_container(["sh", "-c", "while true; do echo tick; sleep 0.1; done"])
    api.start(cid)
    stream = api.logs(cid, stream=True, follow=True)
    seen = []
    for item in stream:
        seen.append(item)
        if len(seen) == 3:
            stream.close()
    assert seen == [b"tick\n"] * 3


def test_close_in_the_loop_body_drops_the_rest_of_the_read(
    world: World, make_container: Callable[..., str], api: APIClient
) -> None:
    # Thousands of lines arrive per read: after close() none of them may still come out.
    cid = make_container(["sh", "-c", "seq 1 5000"], network_disabled=True)
    api.start(cid)
    api.wait(cid)
    _finished_logs(api, cid, b"".join(b"%d\n" % i for i in range(1, 5001)))
    stream = world(world.api.logs(cid, stream=True, follow=False))
    seen: list[bytes] = []

    async def take_async() -> None:
        async for item in stream:
            seen.append(item)
            if len(seen) == 3:
                stream.close()

    if world.loop is not None:
        world.loop.run_until_complete(take_async())
    else:
        for item in stream:
            seen.append(item)
            if len(seen) == 3:
                stream.close()
    assert seen == [b"1\n", b"2\n", b"3\n"]


def test_exec_stream_closes_from_another_thread(
    api: APIClient, test_labels: dict[str, str], created: list[str]
) -> None:
    cid = _silent(api, test_labels, created)
    exec_id = api.exec_create(cid, ["sleep", "300"])["Id"]
    stream = api.exec_start(exec_id, stream=True)
    assert isinstance(stream, CancellableStream)
    reader, outcome = _consume_in_thread(stream)
    threading.Timer(0.5, stream.close).start()
    reader.join(HUNG)
    assert not reader.is_alive()
    assert outcome == {"items": []}


def test_facade_streams_close_from_another_thread(
    client: DockerClient, background: Callable[..., Any]
) -> None:
    container = background()
    for stream in (
        container.logs(stream=True, follow=True),
        container.attach(stream=True),
        container.stats(decode=True),
        container.exec_run(["sleep", "300"], stream=True).output,
    ):
        reader, outcome = _consume_in_thread(stream)
        threading.Timer(0.5, stream.close).start()
        reader.join(HUNG)
        assert not reader.is_alive(), stream
        assert "error" not in outcome, outcome


def test_run_stream_closes_from_another_thread(
    client: DockerClient, test_labels: dict[str, str]
) -> None:
    name = f"h5-run-close-{random.randrange(1 << 30)}"
    try:
        stream = client.containers.run(
            IMAGE, ["sleep", "300"], stream=True, remove=True, name=name,
            labels=test_labels, network_mode="none",
        )
        reader, outcome = _consume_in_thread(stream)
        threading.Timer(0.5, stream.close).start()
        reader.join(HUNG)
        assert not reader.is_alive()
        assert outcome == {"items": []}
        assert not client.containers.list(all=True, filters={"name": name}), "not removed"
    finally:
        with contextlib.suppress(Exception):
            client.api.remove_container(name, force=True)


# ------------------------------------------------------------------ asyncio: another task


@pytest.mark.parametrize("kind", list(STREAMS))
def test_async_close_from_another_task_ends_a_blocked_stream(
    transport: str,
    kind: str,
    tb: dict[str, str],
    api: APIClient,
    test_labels: dict[str, str],
    created: list[str],
) -> None:
    cid = _silent(api, test_labels, created)

    async def scenario() -> None:
        async with AsyncAPIClient(timeout=60, **client_kwargs(transport, tb)) as client:
            stream = await STREAMS[kind](client, cid)
            assert isinstance(stream, AsyncCancellableStream)
            connection = _connection(stream)

            async def read() -> list[Any]:
                return [item async for item in stream]

            reading = asyncio.ensure_future(read())
            asyncio.get_running_loop().call_later(0.5, stream.close)
            items = await asyncio.wait_for(reading, HUNG)  # raises if it never ended
            if kind != "stats":
                assert items == []
            assert connection.closed
            assert connection not in client._pool.idle_streams()  # noqa: SLF001
            assert await client.ping() is True

    asyncio.run(scenario())


def test_async_close_from_a_thread_through_call_soon_threadsafe(
    api: APIClient, test_labels: dict[str, str], created: list[str], docker_host: str
) -> None:
    cid = _silent(api, test_labels, created)

    async def scenario() -> list[bytes]:
        async with AsyncAPIClient(base_url=docker_host, timeout=60) as client:
            stream = await client.logs(cid, stream=True, follow=True)
            loop = asyncio.get_running_loop()
            threading.Timer(0.5, loop.call_soon_threadsafe, (stream.close,)).start()
            return await asyncio.wait_for(_drain(stream), HUNG)

    assert asyncio.run(scenario()) == []


async def _drain(stream: Any) -> list[Any]:
    return [item async for item in stream]


def test_async_facade_stream_closes_from_another_task(
    api: APIClient, test_labels: dict[str, str], created: list[str], docker_host: str
) -> None:
    cid = _silent(api, test_labels, created)

    async def scenario() -> None:
        async with AsyncDockerClient(base_url=docker_host, timeout=60) as client:
            container = await client.containers.get(cid)
            for stream in (container.logs(stream=True, follow=True), container.stats()):
                reading = asyncio.ensure_future(_drain(stream))
                asyncio.get_running_loop().call_later(0.5, stream.close)
                await asyncio.wait_for(reading, HUNG)
            never = container.logs(stream=True, follow=True)
            never.close()  # closed before it opened: it never opens
            assert await _drain(never) == []

    asyncio.run(scenario())


# ------------------------------------------------------------------ fileno() and select


@pytest.mark.parametrize("name", ["unix", "tcp", "tls", "ssh"])
def test_hijacked_socket_fileno_works_with_select(
    name: str, tb: dict[str, str], api: APIClient, test_labels: dict[str, str],
    created: list[str],
) -> None:
    cid: str = api.create_container(
        IMAGE, ["sh", "-c", "echo hello"], labels=test_labels, network_disabled=True
    )["Id"]
    created.append(cid)
    with APIClient(timeout=60, **client_kwargs(name, tb)) as client:
        sock = client.attach_socket(cid, {"stdout": 1, "stderr": 1, "stream": 1})
        with sock:
            fd = sock.fileno()
            assert isinstance(fd, int) and fd >= 0
            assert sock.pending() == 0
            # Not started: nothing can have been written, so select must not report it.
            assert select.select([sock], [], [], 0)[0] == []
            client.start(cid)
            readable, _, _ = select.select([sock], [], [], HUNG)
            assert readable == [sock], "select never reported the container's output"
            frames = list(sock.iter_frames())
            assert b"".join(payload for _, payload in frames) == b"hello\n"
        assert sock.fileno() == -1


def test_exec_socket_fileno_works_with_poll(
    api: APIClient, test_labels: dict[str, str], created: list[str]
) -> None:
    cid = _silent(api, test_labels, created)
    exec_id = api.exec_create(cid, ["sh", "-c", "read line; echo got-$line"], stdin=True)["Id"]
    sock = api.exec_start(exec_id, socket=True)
    with sock:
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        assert sock.pending() == 0
        assert poller.poll(0) == []  # the command waits for its input: no output yet
        sock.sendall(b"ping\n")
        assert poller.poll(HUNG * 1000), "poll never reported the command's output"
        out = b"".join(payload for _, payload in sock.iter_frames())
    assert out == b"got-ping\n"
