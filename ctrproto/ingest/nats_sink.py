"""A sink into NATS JetStream (``pip install ctrproto[nats]``): each record, as the same JSON
object as a JSONL line, published to ``PREFIX.<host>.<container name>`` in one stream.

Exactly once into the stream, through the stream's de-duplication: each message carries a
``Nats-Msg-Id`` from :mod:`.message_ids` (a digest of the container stream, the line's timestamp
and its index at that timestamp), so a batch published again after a crash - its cursors were not
committed - is dropped by the server, as long as the replay comes within the stream's duplicate
window (``duplicate_window``, 10 minutes by default: an ingester down longer than that
re-delivers the uncommitted tail).  A batch returns only when the server acknowledged every
message of it; only then do the cursors advance.  A batch that fails on a broken connection (a
server restarting) is published again, whole and in order, on a new one
(:func:`~.nats_connection.retry`, :mod:`.nats_wire`) for up to ``retry_for`` seconds: the
messages the server had are dropped as duplicates, so each container's lines stay in order in
the stream.

Subjects: a token is a host address or a container name with every character outside
``[A-Za-z0-9_-]`` written as ``~XX`` per UTF-8 byte (so ``unix:///var/run/docker.sock`` is
``unix~3A~2F~2F~2Fvar~2Frun~2Fdocker~2Esock``; ``~`` itself is ``~7E``; an empty name ``~~``):
reversible, and never a ``.``, ``*`` or ``>``.

The sink needs only "publish with an id, wait for the acks": a Kafka sink is the same shape
(the id as the record key of an idempotent producer).
"""

from __future__ import annotations

import string
from typing import Any
from urllib.parse import urlsplit

from ..errors import DockerException
from .message_ids import StreamIds, stream_key
from .nats_connection import NatsLink, retry
from .nats_wire import Publisher, ServerRefused
from .records import Lines, encode_batch

__all__ = ["NatsSink", "NatsSinkError", "parse_nats_output", "subject_token"]

_SAFE = frozenset(string.ascii_letters + string.digits + "_-")
DEFAULT_STREAM = "CTRPROTO_LOGS"
#: Seconds without any ack before a batch's connection counts as broken (and the batch is
#: published again on a new one).
ACK_TIMEOUT_S = 10.0


class NatsSinkError(DockerException):
    """The NATS output cannot be used: a bad address, no nats-py, or the server refused."""


def subject_token(text: str) -> str:
    """``text`` as one subject token (see the module docstring)."""
    if not text:
        return "~~"
    out = []
    for ch in text:
        if ch in _SAFE:
            out.append(ch)
        else:
            out.extend(f"~{b:02X}" for b in ch.encode("utf-8", "surrogatepass"))
    return "".join(out)


def parse_nats_output(url: str) -> tuple[str, str]:
    """``nats://HOST:PORT/PREFIX`` -> (server URL, subject prefix)."""
    parts = urlsplit(url)
    prefix = parts.path.strip("/")
    if parts.scheme != "nats" or not parts.hostname or not prefix:
        raise NatsSinkError(f"expected nats://HOST:PORT/PREFIX, not {url!r}")
    if any(not token or set(token) - _SAFE for token in prefix.split(".")):
        raise NatsSinkError(
            f"the subject prefix {prefix!r} must be dot-separated tokens of [A-Za-z0-9_-]"
        )
    return f"nats://{parts.netloc}", prefix


class NatsSink:
    """Publishes batches to JetStream and waits for every ack (see the module docstring)."""

    def __init__(
        self,
        url: str,
        stream: str = DEFAULT_STREAM,
        duplicate_window: float = 600.0,
        retry_for: float = 300.0,
    ) -> None:
        self.server, self.prefix = parse_nats_output(url)
        self.stream = stream
        self.duplicate_window = duplicate_window
        self.retry_for = retry_for
        self._link = NatsLink(self.server, NatsSinkError, f"the stream {stream}")
        self._publisher: Publisher | None = None
        self._opened = False
        self._ids: dict[tuple[str, str, str], StreamIds] = {}
        #: Messages the server acknowledged as duplicates (a replay after a crash).
        self.duplicates = 0

    def position(self) -> int | None:
        return None

    async def open(self) -> None:
        """Connect and make sure the stream exists (created with ``PREFIX.>`` when absent); a
        server that is not there, or refuses, is said now."""
        from nats.js.errors import NotFoundError

        async def ensure(js: Any) -> None:
            try:
                await js.stream_info(self.stream)
            except NotFoundError:
                await js.add_stream(
                    name=self.stream, subjects=[f"{self.prefix}.>"],
                    duplicate_window=self.duplicate_window,
                )

        try:
            await self._link.retrying(ensure, retry_for=0)
            await self._connected()
        except NatsSinkError:
            raise
        except Exception as exc:  # noqa: BLE001 - nats-py's errors: one ctrproto error
            await self.close()
            raise NatsSinkError(f"NATS at {self.server}: {exc}") from exc
        finally:
            await self._link.close()  # nats-py was for the stream; publishing has its own
        self._opened = True

    async def _connected(self) -> Publisher:
        if self._publisher is None:
            publisher = Publisher(self.server)
            await publisher.connect()
            self._publisher = publisher
        return self._publisher

    async def _drop(self) -> None:
        publisher, self._publisher = self._publisher, None
        if publisher is not None:
            await publisher.close()

    async def write(self, batch: list[Lines]) -> None:
        if not self._opened:
            await self.open()
        messages: list[tuple[str, bytes, str]] = []
        for group in batch:
            key = (group.host, group.container_id, group.stream)
            numbering = self._ids.get(key)
            if numbering is None or not numbering.follows(group.before):
                numbering = self._ids[key] = StreamIds(stream_key(*key), group.before)
            subject = (
                f"{self.prefix}.{subject_token(group.host)}."
                f"{subject_token(group.container_name)}"
            )
            # One JSONL line per record (JSON never holds a raw newline): the file sink's encoder.
            payloads = encode_batch([group])[:-1].split(b"\n")
            for payload, msg_id in zip(payloads, numbering.ids(group.lines), strict=True):
                messages.append((subject, payload, msg_id))
        if not messages:
            return

        async def publish() -> int:
            publisher = await self._connected()
            try:
                return await publisher.publish(messages, ACK_TIMEOUT_S)
            except ServerRefused as exc:  # for good: not acknowledged, the cursors stay
                raise NatsSinkError(f"publishing to {self.stream}: {exc}") from exc

        self.duplicates += await retry(
            publish, NatsSinkError, f"NATS at {self.server} (publishing to {self.stream})",
            self.retry_for, self._drop,
        )

    async def close(self) -> None:
        self._opened = False
        await self._drop()
        await self._link.close()
