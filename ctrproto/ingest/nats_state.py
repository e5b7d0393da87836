"""The ingester's cursors in a NATS JetStream key-value bucket (``--state
nats://HOST:PORT/BUCKET``): an ingester that keeps no local state, restartable on another
machine.

Keys (KV keys allow only ``[-/_=.a-zA-Z0-9]``): ``c.<hex of the host>.<container id>.<stream>``
holds a cursor as ``{"time": ..., "ns": ..., "count": ...}``; ``k.<hex of the host>.<container
id>`` a known container (``name``, ``image``, ``finished``).

A bucket has no transaction over several keys: after a crash in the middle of a commit some of
a batch's cursors may have advanced and others not.  With the JetStream sink that is harmless
(the lines behind the older cursors are published again with the ids they had, and dropped by
the stream); a file output needs its committed length to move with the cursors in one
transaction, so this state refuses to hold one (use the SQLite state for files).

A commit that fails on a broken connection (the server restarting) is made again on a new one
for up to ``retry_for`` seconds (:class:`~.nats_connection.NatsLink`): a put of the same value
twice is the same state.  :meth:`NatsStateStore.aload_host` reads one host's part, for an
ingester of a shard group that takes a host over (:mod:`.shard`).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from .cursor import Cursor
from .nats_connection import NatsLink, kv_snapshot
from .state import ContainerKey, CursorKey, KnownContainer, LoadedState, StateError

__all__ = ["NatsStateStore", "parse_nats_state"]

_BUCKET = re.compile(r"[A-Za-z0-9_-]+")


def parse_nats_state(url: str) -> tuple[str, str]:
    """``nats://HOST:PORT/BUCKET`` -> (server URL, bucket)."""
    parts = urlsplit(url)
    bucket = parts.path.strip("/")
    if parts.scheme != "nats" or not parts.hostname or not _BUCKET.fullmatch(bucket):
        raise StateError(f"expected nats://HOST:PORT/BUCKET (BUCKET of [A-Za-z0-9_-]), not {url!r}")
    return f"nats://{parts.netloc}", bucket


def _host_key(host: str) -> str:
    return host.encode("utf-8", "surrogatepass").hex()


class NatsStateStore:
    """Cursors and known containers in one KV bucket (created when absent); connects on the
    first use from the ingester's loop and lets go with :meth:`arelease`."""

    def __init__(self, url: str, retry_for: float = 300.0) -> None:
        self.path = url
        self.server, self.bucket = parse_nats_state(url)
        self.retry_for = retry_for
        self.link = NatsLink(self.server, StateError, f"the NATS state {self.bucket}")
        self._containers: dict[ContainerKey, KnownContainer] = {}

    async def _call(self, operation: Any, retry_for: float | None = None) -> Any:
        async def call(js: Any) -> Any:
            return await operation(await self.link.key_value(js, self.bucket))

        try:
            return await self.link.retrying(
                call, self.retry_for if retry_for is None else retry_for
            )
        except StateError:
            raise
        except Exception as exc:  # noqa: BLE001 - nats-py's errors: one ctrproto error
            raise StateError(f"NATS state at {self.server}: {exc}") from exc

    async def aload(self) -> LoadedState:
        """Everything in the bucket (a server that is not there is said at once)."""
        return await self._load(">", retry_for=0)

    async def aload_host(self, host: str) -> LoadedState:
        """The cursors and containers of one host, as they are now in the bucket."""
        hexed = _host_key(host)
        cursors = await self._load(f"c.{hexed}.>")
        known = await self._load(f"k.{hexed}.>")
        return LoadedState(cursors.cursors, None, known.containers)

    async def _load(self, pattern: str, retry_for: float | None = None) -> LoadedState:
        entries = await self._call(lambda kv: kv_snapshot(kv, pattern), retry_for)
        cursors: dict[CursorKey, Cursor] = {}
        containers: dict[ContainerKey, KnownContainer] = {}
        for key, entry in entries.items():
            value = json.loads(entry.value)
            kind, host_hex, *rest = key.split(".")
            host = bytes.fromhex(host_hex).decode("utf-8", "surrogatepass")
            if kind == "c" and len(rest) == 2:
                cursors[(host, rest[0], rest[1])] = Cursor(
                    value["time"], value["ns"], value["count"]
                )
            elif kind == "k" and len(rest) == 1:
                containers[(host, rest[0])] = KnownContainer(
                    value["name"], value["image"], bool(value["finished"])
                )
        self._containers.update(containers)
        return LoadedState(cursors, None, containers)

    async def acommit(
        self,
        cursors: Mapping[CursorKey, Cursor],
        output_length: int | None,
        finished: Iterable[ContainerKey] = (),
    ) -> None:
        if output_length is not None:
            raise StateError(
                "a NATS state cannot hold a file's committed length: use it with a nats:// or "
                "stdout output (the SQLite state for files)"
            )
        values = {
            f"c.{_host_key(host)}.{cid}.{stream}": json.dumps(
                {"time": c.time_str, "ns": c.time_ns, "count": c.count}
            ).encode()
            for (host, cid, stream), c in cursors.items()
        }
        if values:
            await self._call(lambda kv: _put_all(kv, values))
        for key in finished:  # after the cursors: a crash in between re-reads, never skips
            known = self._containers.get(key)
            if known is not None:
                await self._put_container(key, KnownContainer(known.name, known.image, True))

    async def anote_container(self, host: str, container_id: str, name: str, image: str) -> None:
        await self._put_container((host, container_id), KnownContainer(name, image, False))

    async def _put_container(self, key: ContainerKey, known: KnownContainer) -> None:
        value = {"name": known.name, "image": known.image, "finished": known.finished}
        values = {f"k.{_host_key(key[0])}.{key[1]}": json.dumps(value).encode()}
        await self._call(lambda kv: _put_all(kv, values))
        self._containers[key] = known

    async def arelease(self) -> None:
        """Close the connection (the ingester's loop is ending); a later use reconnects."""
        await self.link.close()

    def close(self) -> None:
        """Nothing to do outside a loop (the connection went with :meth:`arelease`)."""


async def _put_all(kv: Any, values: Mapping[str, bytes]) -> None:
    results = await asyncio.gather(
        *(kv.put(key, value) for key, value in values.items()), return_exceptions=True
    )
    for result in results:  # every put has ended: a retry starts from a clean slate
        if isinstance(result, BaseException):
            raise result
