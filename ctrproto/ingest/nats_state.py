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
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from .cursor import Cursor
from .nats_connection import connect, disconnect
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

    def __init__(self, url: str) -> None:
        self.path = url
        self.server, self.bucket = parse_nats_state(url)
        self._nc: Any = None
        self._kv: Any = None
        self._containers: dict[ContainerKey, KnownContainer] = {}

    async def _open(self) -> Any:
        if self._kv is not None:
            return self._kv
        try:
            self._nc = await connect(self.server, StateError)
            from nats.js.errors import BucketNotFoundError

            js = self._nc.jetstream()
            try:
                self._kv = await js.key_value(self.bucket)
            except BucketNotFoundError:
                self._kv = await js.create_key_value(bucket=self.bucket, history=1)
        except StateError:
            raise
        except Exception as exc:  # noqa: BLE001 - nats-py's errors: one ctrproto error
            await self.arelease()
            raise StateError(f"NATS state at {self.server}: {exc}") from exc
        return self._kv

    async def aload(self) -> LoadedState:
        kv = await self._open()
        from nats.js.errors import NoKeysError

        try:
            keys = await kv.keys()
        except NoKeysError:
            keys = []
        cursors: dict[CursorKey, Cursor] = {}
        containers: dict[ContainerKey, KnownContainer] = {}
        for key in keys:
            entry = await kv.get(key)
            if entry.value is None:
                continue
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
        self._containers = dict(containers)
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
        kv = await self._open()
        puts = [
            kv.put(
                f"c.{_host_key(host)}.{cid}.{stream}",
                json.dumps({"time": c.time_str, "ns": c.time_ns, "count": c.count}).encode(),
            )
            for (host, cid, stream), c in cursors.items()
        ]
        await asyncio.gather(*puts)
        for key in finished:  # after the cursors: a crash in between re-reads, never skips
            known = self._containers.get(key)
            if known is not None:
                await self._put_container(key, KnownContainer(known.name, known.image, True))

    async def anote_container(self, host: str, container_id: str, name: str, image: str) -> None:
        await self._put_container((host, container_id), KnownContainer(name, image, False))

    async def _put_container(self, key: ContainerKey, known: KnownContainer) -> None:
        kv = await self._open()
        value = {"name": known.name, "image": known.image, "finished": known.finished}
        await kv.put(f"k.{_host_key(key[0])}.{key[1]}", json.dumps(value).encode())
        self._containers[key] = known

    async def arelease(self) -> None:
        """Close the connection (the ingester's loop is ending); a later use reconnects."""
        nc, self._nc, self._kv = self._nc, None, None
        await disconnect(nc)

    def close(self) -> None:
        """Nothing to do outside a loop (the connection went with :meth:`arelease`)."""
