"""Finds the containers to follow on one host, and keeps finding them.

The daemon keeps only its last 256 events in memory, so ``/events`` alone misses what happened
while the ingester was disconnected or down.  The loop is therefore: open ``/events`` first,
*then* list every matching container (``all=True``: an exited container not yet read to its end
is still picked up) and start a follower for each one that needs it, then follow the events.
Opening the events before listing leaves no gap between the two; after every (re)connect of the
event stream the list is taken again.  A host that is down, at start or later, is retried with
capped backoff and jitter; every host has its own loop, so the others keep flowing.

Filters are Docker's container-list filters (``label``, ``name``, ``status``, ...).  The events
endpoint knows only some of them (``label`` yes, ``name`` no), so the events are narrowed by the
labels only, and a container an event names is checked against the full filters with a list
call restricted to its id: the same semantics as the initial list, whatever the filter.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from .._async.api_client import AsyncAPIClient
from .cursor import Cursor
from .flow import Backoff, Pipeline
from .follower import STREAMS, Follower, daemon_now
from .records import parse_timestamp
from .state import CursorStore

log = logging.getLogger("ctrproto.ingest")

#: The container events that can mean "there is output to follow" (die and destroy need nothing:
#: the follower's stream ends by itself, and it then looks at the container).
EVENTS = ("create", "start", "restart", "rename", "die", "destroy")


class HostWatcher:
    """Discovery and the followers of one host."""

    def __init__(
        self,
        pipeline: Pipeline,
        host: str,
        client: AsyncAPIClient,
        filters: Mapping[str, Sequence[str]],
        state: CursorStore | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.host = host
        self.client = client
        self.filters = {key: list(values) for key, values in filters.items()}
        self.state = state
        self.followers: dict[str, Follower] = {}
        #: ``--from now``: the daemon's time when this process first reached the host; every
        #: container never seen before starts there (one instant per host, so a container
        #: created later is read whole: its lines come after it).
        self.now: Cursor | None = None
        #: Container id -> StartedAt of the run its last follower read to its end, so that a
        #: reconcile does not follow a finished run again.
        self._ended: dict[str, str] = {}

    # ------------------------------------------------------------------ the loop

    async def run(self) -> None:
        stats = self.pipeline.stats(self.host)
        backoff = Backoff(cap=30.0)
        try:
            while True:
                try:
                    events = await self.client.events(filters=self._event_filters(), decode=True)
                    try:
                        await self.reconcile()
                        backoff.reset()
                        async for event in events:
                            await self.on_event(event)
                    finally:
                        await events.aclose()
                    log.info("%s: the event stream ended; reconnecting", self.host)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - a host down is retried, never fatal
                    log.info("%s: %s; retrying", self.host, exc)
                stats.reconnects += 1
                await backoff.sleep()
        finally:
            await self.stop()

    async def stop(self) -> None:
        """Cancel this host's followers and wait for them (their unqueued lines are dropped:
        their cursors never advanced past them)."""
        tasks = [f.task for f in self.followers.values() if f.task is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    def _event_filters(self) -> dict[str, list[str]]:
        chosen = {"type": ["container"], "event": list(EVENTS)}
        if self.filters.get("label"):
            chosen["label"] = list(self.filters["label"])
        return chosen

    # ------------------------------------------------------------------ discovery

    async def reconcile(self) -> None:
        """Follow every matching container that has output not read yet."""
        if self.pipeline.from_now and self.now is None:
            self.now = daemon_now(await self.client.info()) or _local_now()
        listed = await self.client.containers(all=True, filters=self.filters)
        for summary in listed:
            await self.consider(str(summary["Id"]), str(summary.get("State") or ""))

    async def on_event(self, event: Mapping[str, Any]) -> None:
        action = str(event.get("Action") or event.get("status") or "")
        actor = event.get("Actor") or {}
        cid = str(event.get("id") or actor.get("ID") or "")
        if not cid:
            return
        if action == "rename":
            follower = self._alive(cid)
            name = str((actor.get("Attributes") or {}).get("name") or "")
            if follower is not None and name:
                follower.rename(name)
                if self.state is not None:
                    await self.state.anote_container(self.host, cid, follower.name, follower.image)
                return
        if action in ("create", "start", "restart", "rename"):
            # Is it one of ours?  The full filters, by a list restricted to its id.
            listed = await self.client.containers(
                all=True, filters={**self.filters, "id": [cid]}
            )
            if listed:
                await self.consider(cid, str(listed[0].get("State") or ""), event=action)

    async def consider(self, cid: str, status: str, event: str = "") -> None:
        """Start a follower for ``cid`` unless one runs, it was never started, or it was read
        to its end and has not run since."""
        follower = self._alive(cid)
        if follower is not None:
            if event in ("start", "restart") or status == "running":
                follower.poke()
            return
        if status == "created":
            return  # nothing to read before it starts; its start event brings it back
        key = (self.host, cid)
        if status != "running" and key in self.pipeline.finished and not await self._new_run(cid):
            return
        start = None
        if self.pipeline.from_now and key not in self.pipeline.known and not self._has_cursor(cid):
            start = self.now or _local_now()
        self._spawn(cid, start)

    def _spawn(self, cid: str, start: Cursor | None) -> None:
        follower = Follower(self.pipeline, self.client, self.host, cid, self.state, start)
        follower.task = asyncio.create_task(follower.run(), name=f"follow {cid[:12]}")
        self.followers[cid] = follower
        self.pipeline.known.add((self.host, cid))

        def done(task: asyncio.Task[None]) -> None:
            if self.followers.get(cid) is follower:
                del self.followers[cid]
            if follower.started is not None and not task.cancelled():
                self._ended[cid] = follower.started

        follower.task.add_done_callback(done)

    def _alive(self, cid: str) -> Follower | None:
        follower = self.followers.get(cid)
        if follower is None or follower.task is None or follower.task.done():
            return None
        return follower

    def _has_cursor(self, cid: str) -> bool:
        return any(self.pipeline.cursor((self.host, cid, s)) is not None for s in STREAMS)

    async def _new_run(self, cid: str) -> bool:
        """Whether a finished container ran again since its output was read to its end: it
        started after the last line delivered (or after the run this process read)."""
        info = await self.client.inspect_container(cid)
        started = str((info.get("State") or {}).get("StartedAt") or "")
        if self._ended.get(cid) == started:
            return False
        newest = [
            c.time_ns for s in STREAMS if (c := self.pipeline.cursor((self.host, cid, s)))
        ]
        if not newest:
            return cid not in self._ended
        try:
            return parse_timestamp(started.encode()) > max(newest)
        except ValueError:
            return True


def _local_now() -> Cursor:
    """This machine's clock as a cursor: ``--from now`` when the daemon does not tell its own."""
    now = _dt.datetime.now(_dt.timezone.utc)
    ns = int(now.timestamp()) * 1_000_000_000 + now.microsecond * 1000
    return Cursor(now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond * 1000:09d}Z", ns, 0)
