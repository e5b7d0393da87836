"""The ingester's one loop: followers' chunks in, batches to the sink, cursors committed after.

Per batch (up to ``batch_records`` records, or what arrived within ``batch_wait`` seconds of its
first chunk): ``await sink.write(groups)``, then ``state.acommit(cursors, sink.position(),
finished)``: the cursors the batch's chunks carry and the output's new length in one
transaction (the protocol in :mod:`ctrproto.ingest.state`).  Only records the sink acknowledged
advance cursors.  While a batch is written (the file sink fsyncs in a worker thread) the
followers keep reading into the bounded queue, so the next batch is larger: batching adapts to
the sink's speed, and a stalled sink stops every follower once the queue is full.

Stopping (``stop`` set: SIGTERM/SIGINT in the CLI): discovery and followers are cancelled (what
they had not queued is dropped: its cursors never advanced), every queued chunk is written and
committed, the sink closed.  Exactly once into a file, and into stdout across a clean stop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from .._async.api_client import AsyncAPIClient
from ..config import kwargs_from_env
from .cursor import Cursor
from .discovery import HostWatcher
from .flow import Chunk, ContainerKey, CursorKey, Pipeline
from .nats_state import NatsStateStore
from .records import Lines
from .shard import ShardMember
from .sinks import Sink
from .state import CursorStore, LoadedState

log = logging.getLogger("ctrproto.ingest")

#: Chunks (one per follower read, each up to a read's worth of lines) the queue holds before
#: followers wait: the memory bound when the sink stalls, independent of the number of lines.
QUEUE_CHUNKS = 256


def client_for(host: str | None) -> AsyncAPIClient:
    """The asyncio client of one ``--host`` (``None``: what ``from_env()`` would use).  TLS
    comes from ``DOCKER_TLS_VERIFY``/``DOCKER_CERT_PATH`` as for the docker CLI."""
    if host is None:
        options = kwargs_from_env()
    else:
        env = {**os.environ, "DOCKER_HOST": host}
        options = kwargs_from_env(environment=env, use_contexts=False)
    return AsyncAPIClient(timeout=60, **options)


async def ingest(
    hosts: Sequence[str | None],
    filters: Mapping[str, Sequence[str]],
    sink: Sink,
    state: CursorStore | None = None,
    from_: str = "start",
    max_line_bytes: int = 1 << 20,
    labels: bool = False,
    stats_interval: float | None = None,
    stats_json: bool = False,
    *,
    stop: asyncio.Event | None = None,
    batch_records: int = 8192,
    batch_wait: float = 0.05,
    stats_stream: TextIO | None = None,
    shard_group: str | None = None,
    lease_ttl: float = 10.0,
) -> None:
    """Follow every container matching ``filters`` on every host into ``sink`` until ``stop``.

    ``hosts``: daemon addresses (``None`` or an empty list: the environment's).  ``state``: the
    cursors' store (None: start from ``from_`` and keep nothing, for a Python sink that keeps
    its own).  ``from_``: where a container never seen starts, ``"start"`` (all retained logs)
    or ``"now"``.  Returns after ``stop`` was set and everything read was delivered and
    committed; a sink or state failure is raised (nothing after the last commit counts as
    delivered: the restart reads it again).

    ``shard_group``: share the hosts with the other ingesters of that group (the same hosts,
    the same :class:`~.nats_state.NatsStateStore`), each host read by one of them at a time
    under a lease of ``lease_ttl`` seconds (:mod:`ctrproto.ingest.shard`).
    """
    if from_ not in ("start", "now"):
        raise ValueError(f"from_ must be 'start' or 'now', not {from_!r}")
    if max_line_bytes < 1:
        raise ValueError(f"max_line_bytes must be positive, not {max_line_bytes}")
    stop = stop or asyncio.Event()
    if shard_group is not None and not isinstance(state, NatsStateStore):
        raise ValueError("a shard group needs its cursors in a NATS state (NatsStateStore)")
    opening = getattr(sink, "open", None)
    if opening is not None:  # a sink with a connection (NATS): a bad one fails now, not later
        await opening()
    pipeline = Pipeline(
        asyncio.Queue(QUEUE_CHUNKS), max_line_bytes=max_line_bytes, labels=labels,
        from_now=from_ == "now",
    )
    readers = _Readers(pipeline, filters, state, hosts)
    member: ShardMember | None = None
    if shard_group is None:
        if state is not None:
            loaded = await state.aload()
            _adopt(pipeline, loaded)
            if loaded.committed_length is None and sink.position() is not None:
                # A fresh state: the output's length now is the starting point (see state.py).
                await state.acommit({}, sink.position())
        for host in readers.addresses:
            readers.start(host)
    else:
        assert isinstance(state, NatsStateStore)
        pipeline.owned = set()
        member = _shard_member(shard_group, lease_ttl, state, pipeline, readers)
    writer = _Writer(pipeline, sink, state, batch_records, batch_wait)
    writing = asyncio.create_task(writer.run(), name="ingest writer")
    sharing = None
    if member is not None:
        sharing = asyncio.create_task(member.run(), name=f"shard {shard_group}")
    reporter = None
    if stats_interval:
        stats = _Stats(pipeline, writer, readers, stats_json, stats_stream or sys.stderr)
        reporter = asyncio.create_task(stats.run(stats_interval), name="ingest stats")
    stopping = asyncio.create_task(stop.wait())
    try:
        waiting = {stopping, writing} | ({sharing} if sharing is not None else set())
        done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        if writing in done:  # the sink or the state failed: nothing more can be delivered
            writing.result()
        if sharing is not None and sharing in done:  # could not join the group
            sharing.result()
    finally:
        stopping.cancel()
        if sharing is not None and member is not None:
            sharing.cancel()
            await asyncio.gather(sharing, return_exceptions=True)
            if writing.done():
                member.fence_all()
            else:
                await member.leave()  # hand every host over: drained, committed, released
        await readers.stop_all()
        if reporter is not None:
            reporter.cancel()
            await asyncio.gather(reporter, return_exceptions=True)
        try:
            if not writing.done():
                await pipeline.queue.put(None)  # after every queued chunk: write them, end
                await writing
        finally:
            await sink.close()
            release = getattr(state, "arelease", None)
            if release is not None:
                await release()


def _adopt(pipeline: Pipeline, loaded: LoadedState) -> None:
    """Take what a state holds (all of it, or one host's part) as delivered and known."""
    pipeline.delivered.update(loaded.cursors)
    pipeline.known.update(loaded.containers)
    pipeline.finished.update(k for k, c in loaded.containers.items() if c.finished)


def _shard_member(
    group: str,
    ttl: float,
    state: NatsStateStore,
    pipeline: Pipeline,
    readers: _Readers,
) -> ShardMember:
    """The group membership whose leases start and stop this process's readers."""
    owned = pipeline.owned
    assert owned is not None

    async def start(host: str) -> None:
        loaded = await state.aload_host(host)
        pipeline.forget(host)
        _adopt(pipeline, loaded)
        owned.add(host)
        readers.start(host)

    async def stop(host: str) -> None:
        await readers.stop(host)
        await pipeline.drained(host)  # everything read from it is written and committed
        owned.discard(host)
        pipeline.forget(host)

    def fence(host: str) -> None:
        owned.discard(host)  # from now on its queued chunks are dropped, not written
        readers.cancel(host)

    return ShardMember(
        state.server, state.bucket, group, list(readers.addresses), ttl, start, stop, fence
    )


def ingest_sync(*args: Any, **kwargs: Any) -> None:
    """:func:`ingest` under ``asyncio.run``, stopped cleanly by SIGTERM or SIGINT (flush,
    commit, return).  For programs without an event loop of their own."""
    asyncio.run(_until_signal(*args, **kwargs))


async def _until_signal(*args: Any, **kwargs: Any) -> None:
    stop = kwargs.pop("stop", None) or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(signum, stop.set)
            installed.append(signum)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, Windows
            pass
    try:
        await ingest(*args, stop=stop, **kwargs)
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


class _Writer:
    """Takes chunks off the queue in batches, writes, commits."""

    def __init__(
        self,
        pipeline: Pipeline,
        sink: Sink,
        state: CursorStore | None,
        batch_records: int,
        batch_wait: float,
    ) -> None:
        self.pipeline = pipeline
        self.sink = sink
        self.state = state
        self.batch_records = batch_records
        self.batch_wait = batch_wait
        self.lines = 0
        self.bytes = 0
        self.batches = 0

    async def run(self) -> None:
        queue = self.pipeline.queue
        loop = asyncio.get_running_loop()
        ending = False
        while not ending:
            first = await queue.get()
            if first is None:
                return
            chunks = [first]
            count = first.count
            deadline = loop.time() + self.batch_wait
            while count < self.batch_records:
                try:
                    chunk = queue.get_nowait()
                except asyncio.QueueEmpty:
                    remaining = deadline - loop.time()
                    if remaining <= 0:
                        break
                    try:
                        chunk = await asyncio.wait_for(queue.get(), remaining)
                    except asyncio.TimeoutError:
                        break
                if chunk is None:
                    ending = True
                    break
                chunks.append(chunk)
                count += chunk.count
            await self.deliver(chunks)

    async def deliver(self, chunks: list[Chunk]) -> None:
        try:
            await self._deliver([c for c in chunks if self.pipeline.owns(c.host)])
        finally:
            self.pipeline.settled(chunks)

    async def _deliver(self, chunks: list[Chunk]) -> None:
        if not chunks:
            return
        groups: list[Lines] = []
        cursors: dict[CursorKey, Cursor] = {}
        finished: list[ContainerKey] = []
        lines = nbytes = 0
        newest: dict[str, int] = {}
        for chunk in chunks:
            if chunk.groups:
                groups += chunk.groups
                newest[chunk.host] = max(group.lines[-1][1] for group in chunk.groups)
            cursors.update(chunk.cursors)
            lines += chunk.count
            nbytes += chunk.nbytes
            if chunk.finished is not None:
                finished.append(chunk.finished)
        await self.sink.write(groups)
        if self.state is not None:
            await self.state.acommit(cursors, self.sink.position(), finished)
        self.pipeline.delivered.update(cursors)
        self.pipeline.finished.update(finished)
        for host, ns in newest.items():
            stats = self.pipeline.stats(host)
            stats.last_ns = ns if stats.last_ns is None else max(stats.last_ns, ns)
        self.lines += lines
        self.bytes += nbytes
        self.batches += 1


class _Readers:
    """The hosts this process reads: per host a client, its :class:`HostWatcher` and the
    watcher's task, started and stopped as a whole (all at once, or by the shard leases)."""

    def __init__(
        self,
        pipeline: Pipeline,
        filters: Mapping[str, Sequence[str]],
        state: CursorStore | None,
        hosts: Sequence[str | None],
    ) -> None:
        self.pipeline = pipeline
        self.filters = filters
        self.state = state
        #: The daemon address each ``--host`` names (the key of its cursors and its lease).
        self.addresses: dict[str, str | None] = {}
        for host in hosts or [None]:
            client = client_for(host)
            self.addresses[client.daemon_url] = host
            client.close()
        self.watchers: dict[str, HostWatcher] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def start(self, host: str) -> None:
        client = client_for(self.addresses[host])
        watcher = HostWatcher(self.pipeline, host, client, self.filters, self.state)
        self.watchers[host] = watcher
        self._tasks[host] = asyncio.create_task(self._watch(watcher), name=f"watch {host}")

    @staticmethod
    async def _watch(watcher: HostWatcher) -> None:
        try:
            await watcher.run()
        finally:
            await watcher.client.aclose()

    def cancel(self, host: str) -> None:
        """Stop reading ``host`` now (its followers end at their next step)."""
        self.watchers.pop(host, None)
        task = self._tasks.pop(host, None)
        if task is not None:
            task.cancel()

    async def stop(self, host: str) -> None:
        """Stop reading ``host`` and wait until its followers have ended."""
        task = self._tasks.get(host)
        self.cancel(host)
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)

    async def stop_all(self) -> None:
        await asyncio.gather(*(self.stop(host) for host in list(self._tasks)))


class _Stats:
    """The stats line on stderr every interval: rates since the last line, followers, lag."""

    def __init__(
        self,
        pipeline: Pipeline,
        writer: _Writer,
        readers: _Readers,
        as_json: bool,
        stream: TextIO,
    ) -> None:
        self.pipeline = pipeline
        self.writer = writer
        self.readers = readers
        self.as_json = as_json
        self.stream = stream

    async def run(self, interval: float) -> None:
        lines, nbytes, before = self.writer.lines, self.writer.bytes, time.monotonic()
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            elapsed = max(now - before, 1e-9)
            report = self.report(
                (self.writer.lines - lines) / elapsed, (self.writer.bytes - nbytes) / elapsed
            )
            lines, nbytes, before = self.writer.lines, self.writer.bytes, now
            self.stream.write(self.format(report) + "\n")
            self.stream.flush()

    def report(self, lines_per_s: float, bytes_per_s: float) -> dict[str, Any]:
        wall_ns = time.time_ns()
        hosts = {}
        for host in sorted(self.readers.watchers):
            stats = self.pipeline.stats(host)
            lag = None if stats.last_ns is None else max(0.0, (wall_ns - stats.last_ns) / 1e9)
            hosts[host] = {
                "containers": stats.followers,
                "lag_s": None if lag is None else round(lag, 3),
                "reconnects": stats.reconnects,
            }
        return {
            "lines_per_s": round(lines_per_s, 1),
            "bytes_per_s": round(bytes_per_s, 1),
            "containers": sum(h["containers"] for h in hosts.values()),
            "lines": self.writer.lines,
            "hosts": hosts,
        }

    def format(self, report: dict[str, Any]) -> str:
        if self.as_json:
            return json.dumps(report, separators=(",", ":"))
        parts = [
            f"ingest: {report['lines_per_s']:.0f} lines/s {report['bytes_per_s'] / 1e6:.2f} MB/s"
            f" {report['containers']} containers"
        ]
        for host, h in report["hosts"].items():
            lag = "-" if h["lag_s"] is None else f"{h['lag_s']:.2f}s"
            parts.append(f"{host}: lag {lag} reconnects {h['reconnects']}")
        return "; ".join(parts)
