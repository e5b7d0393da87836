"""Several ingesters sharing one fleet (``--shard-group NAME``): each host read by exactly one
of them at a time, through leases in a JetStream key-value bucket.

The bucket is the NATS state's name + ``-leases`` (so ingesters with the same ``--state`` find
each other).  A group ``G`` keeps two kinds of keys there:

- ``G.m.<member id>``: a member is alive - put when it starts, renewed every ``ttl / 3``,
  deleted when it stops cleanly;
- ``G.h.<hex of the host>``: the host's lease, ``{"owner": <member id>}``, taken with a
  create-if-absent (a free host) or an update-with-expected-revision (an expired one), renewed
  with an update-with-expected-revision every ``ttl / 3``, deleted (with the expected revision)
  when its owner hands it over.

**Expiry without shared clocks.**  A key is expired for an observer when it has seen the same
revision of it for ``ttl`` seconds of its own monotonic clock (it polls the group's keys every
``tick``).  An owner stops reading a host ``FENCE * ttl`` after it *sent* its last successful
renewal of it (a timer, independent of the loop): the observer's ``ttl`` started when it first
saw that renewal, which is after it was sent, so the owner has stopped before any other member
can take the lease: never two owners at a time (given clocks that run at about the same rate).
After a failed poll every revision counts as new (an outage is not taken for silence), so after
a server restart the owners renew their leases instead of everyone taking them.

**Sharing.**  The live members, sorted by id, split the hosts as evenly as possible (the first
``hosts % members`` take one more).  A member with more than its share hands the extra hosts
over: it stops reading them, waits until every line read from them is written and committed
(:meth:`Pipeline.drained`), then deletes the lease; a member with less takes free or expired
leases, preferring the hosts that rank it first (rendezvous hashing, so the choice is stable).
A killed member's hosts are taken within ``ttl + 2 * tick`` of its last renewal.

**Exactly once across a handover** rests on the state and the stream, not on timing: the new
owner resumes from the cursors in the NATS state, and every line republished from them has the
id it had (:mod:`.message_ids`), so the stream drops it - within its duplicate window.  A batch
a fenced owner had already sent lands or is dropped the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import re
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .nats_connection import NatsLink, describe, is_conflict, kv_snapshot
from .state import StateError

__all__ = ["FENCE", "GROUP_NAME", "Lease", "ShardMember", "member_id", "share"]

log = logging.getLogger("ctrproto.ingest")

#: An owner stops reading a host this fraction of the TTL after it sent its last renewal.
FENCE = 0.75
GROUP_NAME = re.compile(r"[A-Za-z0-9_-]+")


def member_id() -> str:
    """This process's id in its group: machine, pid and a random part (unique per start)."""
    machine = re.sub(r"[^A-Za-z0-9_-]", "-", socket.gethostname())[:40] or "host"
    return f"{machine}-{os.getpid()}-{secrets.token_hex(3)}"


def _rank(host: str, member: str) -> bytes:
    return hashlib.sha256(f"{member}\0{host}".encode("utf-8", "surrogatepass")).digest()


def share(hosts: Sequence[str], members: Sequence[str], me: str) -> int:
    """How many of ``hosts`` ``me`` should hold among ``members`` (which include it)."""
    ordered = sorted(set(members) | {me})
    quota, extra = divmod(len(hosts), len(ordered))
    return quota + (1 if ordered.index(me) < extra else 0)


def preference(hosts: Sequence[str], me: str) -> list[str]:
    """``hosts`` in the order ``me`` prefers them (highest rendezvous rank first)."""
    return sorted(hosts, key=lambda host: _rank(host, me), reverse=True)


@dataclass
class Lease:
    """A lease this member holds: the revision it last wrote, when it sent that write, and the
    timer that stops reading the host if no renewal succeeds in time."""

    revision: int
    sent: float
    fence: asyncio.TimerHandle | None = None
    releasing: bool = False


@dataclass
class _Seen:
    revision: int
    since: float
    value: dict[str, Any] = field(default_factory=dict)


class ShardMember:
    """One ingester's membership of a group; :meth:`run` keeps it until cancelled, then
    :meth:`leave` hands every host over.

    ``start(host)`` begins reading a host whose lease was just taken; ``stop(host)`` stops
    reading it and returns once its lines are written and committed (a handover);
    ``fence(host)`` must stop it at once, without awaiting anything (the lease is lost).
    """

    def __init__(
        self,
        server: str,
        bucket: str,
        group: str,
        hosts: Sequence[str],
        ttl: float,
        start: Callable[[str], Awaitable[None]],
        stop: Callable[[str], Awaitable[None]],
        fence: Callable[[str], None],
        me: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not GROUP_NAME.fullmatch(group):
            raise StateError(f"a shard group name is made of [A-Za-z0-9_-], not {group!r}")
        if not ttl > 0:
            raise StateError(f"the lease TTL must be positive, not {ttl}")
        self.link = NatsLink(server, StateError, f"the shard group {group}")
        self.bucket = f"{bucket}-leases"
        self.group = group
        self.hosts = sorted(set(hosts))
        self.ttl = ttl
        self.tick = min(0.5, ttl / 10)
        self.renew_every = ttl / 3
        self.me = me or member_id()
        self._start, self._stop, self._fence = start, stop, fence
        self._clock = clock
        self.held: dict[str, Lease] = {}
        self._seen: dict[str, _Seen] = {}
        self._blind = True  # no successful poll yet, or the last one failed
        self._member_sent = 0.0
        self._busy: dict[str, asyncio.Task[None]] = {}

    # ------------------------------------------------------------------ keys

    def _host_key(self, host: str) -> str:
        return f"{self.group}.h.{host.encode('utf-8', 'surrogatepass').hex()}"

    def _member_key(self, member: str) -> str:
        return f"{self.group}.m.{member}"

    async def _kv_call(self, operation: Callable[[Any], Awaitable[Any]]) -> Any:
        """One KV operation on the group's bucket, given at most a quarter of the TTL (a hung
        server must not hold the loop past a renewal); not retried here: the next round is the
        retry.  A lost compare-and-set is an answer; any other failure drops the connection."""

        async def call() -> Any:
            js = await self.link.jetstream()
            return await operation(await self.link.key_value(js, self.bucket))

        try:
            return await asyncio.wait_for(call(), self.ttl / 4)
        except Exception as exc:
            if not is_conflict(exc):
                await self.link.drop()
            raise

    # ------------------------------------------------------------------ the loop

    async def run(self) -> None:
        """Register, then poll / renew / rebalance every tick until cancelled."""
        await self._kv_call(lambda kv: self._put_member(kv))
        log.info("shard %s: member %s joined (%d hosts)", self.group, self.me, len(self.hosts))
        # Let members started at the same moment see each other before anyone takes hosts.
        await asyncio.sleep(2 * self.tick)
        while True:
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - NATS away: keep trying; fences guard
                self._blind = True
                log.info("shard %s: %s; retrying", self.group, describe(exc))
            await asyncio.sleep(self.tick)

    async def step(self) -> None:
        """One round: renew what is due, look at the group, take or hand over hosts."""
        now = self._clock()
        if now - self._member_sent >= self.renew_every:
            await self._kv_call(lambda kv: self._put_member(kv))
        due = [h for h, lease in self.held.items() if now - lease.sent >= self.renew_every]
        if due:
            await asyncio.gather(*(self._renew(host) for host in due))
        entries = await self._kv_call(lambda kv: kv_snapshot(kv, f"{self.group}.>", self.ttl / 4))
        self._observe(entries)
        self._rebalance()

    async def _put_member(self, kv: Any) -> None:
        sent = self._clock()
        value = json.dumps({"member": self.me, "hosts": len(self.hosts)}).encode()
        await kv.put(self._member_key(self.me), value)
        self._member_sent = sent

    def _observe(self, entries: dict[str, Any]) -> None:
        now = self._clock()
        seen: dict[str, _Seen] = {}
        for key, entry in entries.items():
            try:
                value = json.loads(entry.value)
            except ValueError:
                value = {}
            before = self._seen.get(key)
            if before is not None and before.revision == entry.revision and not self._blind:
                seen[key] = _Seen(entry.revision, before.since, value)
            else:
                seen[key] = _Seen(entry.revision, now, value)
        self._seen = seen
        self._blind = False

    def _expired(self, seen: _Seen) -> bool:
        return self._clock() - seen.since >= self.ttl

    def members(self) -> list[str]:
        """The members this one sees alive (itself included)."""
        prefix = f"{self.group}.m."
        alive = {
            key[len(prefix):]
            for key, seen in self._seen.items()
            if key.startswith(prefix) and not self._expired(seen)
        }
        return sorted(alive | {self.me})

    def _rebalance(self) -> None:
        for task_host in [h for h, t in self._busy.items() if t.done()]:
            del self._busy[task_host]
        mine = [h for h, lease in self.held.items() if not lease.releasing]
        quota = share(self.hosts, self.members(), self.me)
        if len(mine) > quota:
            ranked = preference(mine, self.me)
            for host in ranked[quota:]:
                if host not in self._busy:
                    self._busy[host] = asyncio.create_task(self._hand_over(host))
            return
        wanted = quota - len(mine) - sum(1 for h in self._busy if h not in self.held)
        for host in preference(self.hosts, self.me):
            if wanted <= 0:
                break
            if host in self.held or host in self._busy:
                continue
            seen = self._seen.get(self._host_key(host))
            if seen is None or seen.value.get("owner") == self.me or self._expired(seen):
                self._busy[host] = asyncio.create_task(self._take(host, seen))
                wanted -= 1

    # ------------------------------------------------------------------ one lease

    def _lease_value(self, host: str) -> bytes:
        return json.dumps({"owner": self.me, "host": host}).encode()

    async def _take(self, host: str, seen: _Seen | None) -> None:
        sent = self._clock()
        key, value = self._host_key(host), self._lease_value(host)
        try:
            if seen is None:
                revision = await self._kv_call(lambda kv: kv.create(key, value))
            else:
                revision = await self._kv_call(lambda kv: kv.update(key, value, seen.revision))
        except Exception as exc:  # noqa: BLE001 - another member was first, or NATS is away
            if not is_conflict(exc):
                log.info("shard %s: taking %s: %s", self.group, host, describe(exc))
            return
        lease = self.held[host] = Lease(revision, sent)
        self._arm(host, lease)
        log.info("shard %s: %s took %s (revision %d)", self.group, self.me, host, revision)
        try:
            await self._start(host)
        except Exception as exc:  # noqa: BLE001 - e.g. its cursors could not be loaded
            log.info("shard %s: starting %s: %s", self.group, host, exc)
            self._lose(host, "could not start")
            return
        if self.held.get(host) is not lease:  # lost while it was starting: stop it again
            self._fence(host)

    async def _renew(self, host: str) -> None:
        lease = self.held.get(host)
        if lease is None:
            return
        sent = self._clock()
        key, value = self._host_key(host), self._lease_value(host)
        try:
            revision = await self._kv_call(lambda kv: kv.update(key, value, lease.revision))
        except Exception as exc:  # noqa: BLE001
            if is_conflict(exc) and self.held.get(host) is lease:
                self._lose(host, "taken by another member")
            return  # anything else: the next round tries again; the fence timer guards
        if self.held.get(host) is lease:
            lease.revision, lease.sent = revision, sent
            self._arm(host, lease)

    def _arm(self, host: str, lease: Lease) -> None:
        if lease.fence is not None:
            lease.fence.cancel()
        loop = asyncio.get_running_loop()
        delay = lease.sent + FENCE * self.ttl - self._clock()
        lease.fence = loop.call_later(max(0.0, delay), self._lose, host, "not renewed in time")

    def _lose(self, host: str, why: str) -> None:
        """Stop reading ``host`` now (synchronously: nothing may run in between)."""
        lease = self.held.pop(host, None)
        if lease is None:
            return
        if lease.fence is not None:
            lease.fence.cancel()
        self._fence(host)
        log.info("shard %s: %s lost %s (%s)", self.group, self.me, host, why)

    async def _hand_over(self, host: str) -> None:
        lease = self.held.get(host)
        if lease is None:
            return
        lease.releasing = True
        await self._stop(host)
        if self.held.get(host) is not lease:
            return  # fenced meanwhile: nothing to delete
        self.held.pop(host)
        if lease.fence is not None:
            lease.fence.cancel()
        log.info("shard %s: %s handed %s over", self.group, self.me, host)
        key = self._host_key(host)
        try:
            await self._kv_call(lambda kv: kv.delete(key, last=lease.revision))
        except Exception as exc:  # noqa: BLE001 - it expires by itself
            log.info("shard %s: releasing %s: %s", self.group, host, describe(exc))

    def fence_all(self) -> None:
        """Stop reading every host now (the ingester cannot deliver any more); the leases
        expire by themselves."""
        for task in self._busy.values():
            task.cancel()
        for host in list(self.held):
            self._lose(host, "the ingester is stopping")

    async def leave(self) -> None:
        """Hand every host over and leave the group (a clean stop): the others take the hosts
        at their next poll instead of after the TTL."""
        for task in self._busy.values():
            task.cancel()
        await asyncio.gather(*self._busy.values(), return_exceptions=True)
        self._busy.clear()
        await asyncio.gather(
            *(self._hand_over(host) for host in list(self.held)), return_exceptions=True
        )
        with contextlib.suppress(Exception):  # else it expires by itself
            await self._kv_call(lambda kv: kv.delete(self._member_key(self.me)))
        log.info("shard %s: member %s left", self.group, self.me)
        await self.link.close()
