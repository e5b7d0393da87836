"""What the ingester's tasks share on their one asyncio loop: the queue, the cursors, the counters.

Followers (one per container) put :class:`Chunk` values on one bounded queue; the runner takes
them in batches, writes the records to the sink and only then commits the cursors the chunks
carry.  A chunk carries the cursors *after* its records, computed by the follower that made it,
so the runner advances cursors per chunk instead of per line, and a chunk that never reaches
the sink (a follower cancelled while its ``put`` waited) advances nothing.

Two cursor maps, because "delivered" and "handed on" differ while chunks wait in the queue:

- ``delivered``: what the sink acknowledged (and what the state holds after the next commit);
- ``handed``: what followers put on the queue.  A follower that reconnects, or a new follower
  for a container whose previous one is still handing its last chunk over, resumes from here:
  everything handed on is delivered before anything handed on later (one FIFO queue, one
  writer), or the process dies and the restart resumes from the committed state.  Resuming from
  ``delivered`` instead would read the queued lines a second time.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from .cursor import Cursor
from .records import Lines

#: (host, container_id, stream)
CursorKey = tuple[str, str, str]
#: (host, container_id)
ContainerKey = tuple[str, str]


@dataclass(slots=True)
class Chunk:
    """The lines one follower completed from one network read (a group per stream), how many,
    and where its streams stand after them.  ``finished``: the container stopped and this chunk
    ends its output (marked in the state in the same commit as these cursors, never before)."""

    host: str
    groups: list[Lines]
    cursors: dict[CursorKey, Cursor]
    count: int = 0
    nbytes: int = 0
    finished: ContainerKey | None = None


@dataclass(slots=True)
class HostStats:
    """Per-host counters for the stats line: reconnects of followers and of the event stream,
    and the daemon time of the newest record delivered (for the lag)."""

    reconnects: int = 0
    last_ns: int | None = None
    followers: int = 0


@dataclass
class Pipeline:
    """The shared state of one ``ingest`` run (one loop, so plain dicts suffice)."""

    queue: asyncio.Queue[Chunk | None]
    delivered: dict[CursorKey, Cursor] = field(default_factory=dict)
    handed: dict[CursorKey, Cursor] = field(default_factory=dict)
    #: Containers the state knows (noted at least once); a container never known is "new" for
    #: ``--from now``.
    known: set[ContainerKey] = field(default_factory=set)
    #: Containers read to their end (from the state, and marked during this run).
    finished: set[ContainerKey] = field(default_factory=set)
    hosts: dict[str, HostStats] = field(default_factory=dict)
    max_line_bytes: int = 1 << 20
    labels: bool = False
    from_now: bool = False
    #: The hosts this process may deliver for (None: all).  In a shard group, a host whose lease
    #: is lost leaves the set at once: its chunks still queued are dropped, not written.
    owned: set[str] | None = None
    #: Chunks handed on and not yet written (or dropped), per host: a host handed over to
    #: another ingester is released only once its count is back at 0.
    pending: dict[str, int] = field(default_factory=dict)
    _idle: dict[str, list[asyncio.Future[None]]] = field(default_factory=dict)

    async def hand_on(self, chunk: Chunk) -> None:
        """Put ``chunk`` on the queue (waiting while it is full), counted as pending."""
        self.pending[chunk.host] = self.pending.get(chunk.host, 0) + 1
        try:
            await self.queue.put(chunk)
        except BaseException:
            self.settled([chunk])
            raise

    def settled(self, chunks: list[Chunk]) -> None:
        """The writer is done with ``chunks`` (written or dropped)."""
        for chunk in chunks:
            left = self.pending[chunk.host] = self.pending[chunk.host] - 1
            if left == 0:
                for waiter in self._idle.pop(chunk.host, []):
                    if not waiter.done():
                        waiter.set_result(None)

    async def drained(self, host: str) -> None:
        """Return once no chunk of ``host`` waits in the queue or in a batch being written."""
        if not self.pending.get(host):
            return
        waiter = asyncio.get_running_loop().create_future()
        self._idle.setdefault(host, []).append(waiter)
        await waiter

    def owns(self, host: str) -> bool:
        return self.owned is None or host in self.owned

    def forget(self, host: str) -> None:
        """Drop what this process knew of ``host``'s containers (another ingester read it
        meanwhile; the state in the store is what counts when it is taken over again)."""
        for table in (self.delivered, self.handed):
            for key in [k for k in table if k[0] == host]:
                del table[key]
        self.known -= {k for k in self.known if k[0] == host}
        self.finished -= {k for k in self.finished if k[0] == host}

    def cursor(self, key: CursorKey) -> Cursor | None:
        """Where a (re)started follower of ``key`` resumes: what was handed on, else what the
        state committed."""
        found = self.handed.get(key)
        return found if found is not None else self.delivered.get(key)

    def stats(self, host: str) -> HostStats:
        found = self.hosts.get(host)
        if found is None:
            found = self.hosts[host] = HostStats()
        return found


class Backoff:
    """Capped exponential backoff with jitter: ``base * 2**n`` up to ``cap``, each delay drawn
    from its upper half so that hundreds of followers of one restarted daemon do not all come
    back in the same instant, and none retries in a tight loop."""

    def __init__(
        self, base: float = 0.25, cap: float = 15.0, rng: Callable[[], float] = random.random
    ) -> None:
        self.base = base
        self.cap = cap
        self._rng = rng
        self._attempt = 0

    def next(self) -> float:
        """The delay before the next attempt (and count this one)."""
        ceiling = min(self.cap, self.base * float(2 ** min(self._attempt, 30)))
        self._attempt += 1
        return ceiling / 2 + self._rng() * ceiling / 2

    def reset(self) -> None:
        """After a success: the next failure waits the shortest delay again."""
        self._attempt = 0

    async def sleep(self) -> None:
        await asyncio.sleep(self.next())
