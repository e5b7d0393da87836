"""NATS connections for the JetStream sink, the KV state and the shard leases (``pip install
ctrproto[nats]``), and the retrying of what failed on them.

nats-py's own reconnect keeps the commands it had not written yet and sends them on the new
connection, while what it had written to the broken one may be lost: a later message of a batch
can then land before an earlier one.  So nats-py never reconnects here: a failed operation drops
the connection, and :func:`retry` runs the whole operation again on a new one (nats-py's for
the stream and the KV work, :class:`~.nats_wire.Publisher` for the sink's batches).  The
server received a prefix of what the old connection carried, in order; the replay (with the
same message ids, or the same KV values) completes it, in order.

A server that is not there is said at once (a TCP probe first) instead of nats-py's minutes of
retries; a server that goes away later is waited for (capped backoff) up to ``retry_for``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from .flow import Backoff

__all__ = [
    "NatsLink", "connect", "describe", "disconnect", "is_conflict", "kv_snapshot", "retry",
]

log = logging.getLogger("ctrproto.ingest")
T = TypeVar("T")

#: JetStream API error codes of a compare-and-set that lost (wrong last sequence): an answer,
#: not a failure to retry.
_CONFLICT_CODES = (10071, 10164)


async def connect(server: str, missing: type[Exception], timeout: float = 10.0) -> Any:
    """A connected nats-py client for ``nats://HOST:PORT`` that does not reconnect by itself;
    ``missing`` is raised when nats-py is not installed (each caller names its own error)."""
    try:
        import nats
    except ImportError as exc:
        raise missing("NATS needs nats-py: pip install ctrproto[nats]") from exc
    parts = urlsplit(server)
    _, probe = await asyncio.wait_for(
        asyncio.open_connection(parts.hostname, parts.port or 4222), timeout
    )
    probe.close()
    return await nats.connect(
        server, connect_timeout=timeout, allow_reconnect=False, max_reconnect_attempts=0,
        error_cb=_connection_error,
    )


async def _connection_error(exc: Exception) -> None:
    """nats-py's report of a broken connection (it would log a traceback): the operation that
    was using it fails as well, and says so where it is retried."""
    log.debug("NATS connection: %s", describe(exc))


async def disconnect(nc: Any) -> None:
    """Flush and close; a connection that is already broken is just closed."""
    if nc is None:
        return
    try:
        await asyncio.wait_for(nc.drain(), 5)
    except Exception:  # noqa: BLE001 - closing a broken connection
        with contextlib.suppress(Exception):  # it is gone either way
            await nc.close()


def is_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` is a KV compare-and-set (or create) that found another revision."""
    from nats.js.errors import APIError, KeyWrongLastSequenceError

    if isinstance(exc, KeyWrongLastSequenceError):
        return True
    return isinstance(exc, APIError) and exc.err_code in _CONFLICT_CODES


def _retryable(exc: BaseException) -> bool:
    """A connection that broke or a server not ready (after a restart JetStream answers 503
    for a moment) is retried; any other answer of the server is final."""
    from nats.js.errors import APIError

    if is_conflict(exc):
        return False
    if isinstance(exc, APIError):
        return exc.code in (None, 503, 408)
    return True


def describe(exc: BaseException) -> str:
    """An exception in a log line: its text, or its class when it has none."""
    return str(exc) or type(exc).__name__


async def retry(
    operation: Callable[[], Awaitable[T]],
    error: type[Exception],
    where: str,
    retry_for: float,
    reset: Callable[[], Awaitable[None]],
) -> T:
    """``await operation()``; when the connection fails (or the server is not ready), ``await
    reset()`` (drop the connection) and the whole operation again, with capped backoff, for up
    to ``retry_for`` seconds - then ``error``.  ``error`` itself and a server's final answer
    are raised at once.  ``operation`` must be safe to repeat."""
    deadline = time.monotonic() + retry_for
    backoff = Backoff(base=0.1, cap=2.0)
    while True:
        try:
            return await operation()
        except asyncio.CancelledError:
            raise
        except error:
            raise
        except Exception as exc:  # noqa: BLE001 - nats-py's and the socket's errors
            if not _retryable(exc):
                raise
            await reset()
            if time.monotonic() >= deadline:
                raise error(f"{where}: {describe(exc)}") from exc
            log.info("%s: %s; retrying", where, describe(exc))
            await backoff.sleep()


class NatsLink:
    """A server address and, while it works, one connection to it."""

    def __init__(self, server: str, error: type[Exception], what: str) -> None:
        self.server = server
        self.error = error
        self.what = what
        self._nc: Any = None
        self._buckets: dict[str, Any] = {}

    async def jetstream(self) -> Any:
        """The JetStream context of the current connection (connecting first if needed)."""
        if self._nc is None or self._nc.is_closed:
            self._buckets.clear()
            self._nc = await connect(self.server, self.error)
        return self._nc.jetstream()

    async def key_value(self, js: Any, bucket: str) -> Any:
        """The key-value bucket ``bucket`` (created with one revision per key when absent),
        looked up once per connection."""
        kv = self._buckets.get(bucket)
        if kv is None:
            from nats.js.errors import BucketNotFoundError

            try:
                kv = await js.key_value(bucket)
            except BucketNotFoundError:
                kv = await js.create_key_value(bucket=bucket, history=1)
            self._buckets[bucket] = kv
        return kv

    async def drop(self) -> None:
        """Give up the connection (it failed); the next use opens a new one."""
        nc, self._nc = self._nc, None
        self._buckets.clear()
        if nc is not None:
            with contextlib.suppress(Exception):  # it failed already
                await nc.close()

    async def retrying(
        self, operation: Callable[[Any], Awaitable[T]], retry_for: float = 300.0
    ) -> T:
        """``await operation(js)``, retried (:func:`retry`) on a new connection."""

        async def once() -> T:
            return await operation(await self.jetstream())

        return await retry(once, self.error, f"NATS at {self.server} ({self.what})",
                           retry_for, self.drop)

    async def close(self) -> None:
        nc, self._nc = self._nc, None
        self._buckets.clear()
        await disconnect(nc)


async def kv_snapshot(kv: Any, pattern: str, timeout: float = 10.0) -> dict[str, Any]:
    """The current entries (key -> nats-py ``Entry``) of the keys matching ``pattern`` in one
    bucket, deleted keys left out: one short-lived watch, read until the server says it has
    sent the last value of every key."""
    watcher = await kv.watch(pattern, ignore_deletes=True)
    entries: dict[str, Any] = {}
    try:
        while True:
            entry = await watcher.updates(timeout=timeout)
            if entry is None:
                return entries
            if entry.value is not None:
                entries[entry.key] = entry
            if entry.delta == 0:
                return entries
    finally:
        await watcher.stop()
