"""Publishing to JetStream on a connection of the sink's own, in NATS's text protocol.

Why not nats-py's ``js.publish``: it is a request per message (an inbox, a future, a task),
~60 µs of CPU each here - a twentieth of what the ingester reads.  A batch is instead one
write of ``HPUB`` commands, each with the ``Nats-Msg-Id`` header and a reply subject
``<inbox>.<n>``; the server answers each with a JetStream ack on that subject, counted by one
reader (about 3 µs per message in all, see benchmarks/RESULTS.md).  nats-py still creates the
stream and does the key-value work, where a few requests a second do not matter.

The protocol (docs.nats.io, "Client Protocol"): the server greets with ``INFO {json}``; the
client sends ``CONNECT {json}``, subscribes to its inbox (``SUB <subject> <sid>``) and a
``PING``, answered ``PONG``.  Server lines after that: ``MSG <subject> <sid> [reply] <n>``
and ``HMSG <subject> <sid> [reply] <header n> <total n>`` each followed by that many bytes and
CRLF, ``PING`` (answer ``PONG``), ``PONG``, ``+OK``, ``-ERR '<text>'``.  A JetStream ack is
JSON (its spacing varies by server version): ``{"stream": ..., "seq": ...}`` with
``"duplicate": true`` when the id was seen within
the stream's duplicate window, or ``{"error": {"code": ..., "description": ...}}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import Sequence
from urllib.parse import urlsplit

from .._version import __version__

__all__ = ["AckParser", "NatsProtocolError", "Publisher", "ServerRefused", "encode_publishes"]

CRLF = b"\r\n"
#: The bytes of an HPUB header block without the id: ``NATS/1.0``, ``Nats-Msg-Id: ``, 3 CRLFs.
_HEADER_SIZE = len(b"NATS/1.0\r\nNats-Msg-Id: \r\n\r\n")


class NatsProtocolError(ConnectionError):
    """The connection cannot go on: the server said ``-ERR``, closed it, or sent nonsense.
    Retried (on a new connection) by the sink."""


class ServerRefused(Exception):
    """The server refused a message for good (an ack with an error other than "not ready"),
    or it can never take it (larger than its ``max_payload``)."""


def encode_publishes(
    messages: Sequence[tuple[str, bytes, str]], inbox: str, first: int,
    max_payload: int | None = None,
) -> bytes:
    """``HPUB`` commands for ``(subject, payload, msg_id)`` messages, replies to
    ``<inbox>.<first + i>``; :class:`ServerRefused` for a message over ``max_payload`` (the
    server would close the connection for it)."""
    parts: list[bytes] = []
    add = parts.append
    for n, (subject, payload, msg_id) in enumerate(messages, first):
        size = _HEADER_SIZE + (len(msg_id) if msg_id.isascii() else len(msg_id.encode()))
        total = size + len(payload)
        if max_payload is not None and total > max_payload:
            raise ServerRefused(
                f"a record of {len(payload)} bytes is over the server's max_payload "
                f"({max_payload}): lower --max-line-bytes"
            )
        add(f"HPUB {subject} {inbox}.{n} {size} {total}\r\nNATS/1.0\r\nNats-Msg-Id: {msg_id}"
            "\r\n\r\n".encode())
        add(payload)
        add(CRLF)
    return b"".join(parts)


class AckParser:
    """Bytes from the server in, what they say out (sans-IO): :meth:`feed` returns the
    messages completed, as ``(subject, headers or None, payload)``, and sets :attr:`pings` (to
    answer), :attr:`pongs`, :attr:`info` and raises on ``-ERR``."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.pings = 0
        self.pongs = 0
        self.info: dict[str, object] | None = None

    def feed(self, data: bytes) -> list[tuple[str, bytes | None, bytes]]:
        buffer = self._buffer
        buffer += data
        found: list[tuple[str, bytes | None, bytes]] = []
        # Fast path, for the acks that are nearly all of it: the complete lines split at once,
        # a MSG whose payload is the next line (no CRLF in it: its length says so) taken as a
        # pair.  Anything else (a payload with CRLF, one not complete yet, an HMSG) goes to
        # the byte-exact loop below from where the fast path stopped.
        last = buffer.rfind(CRLF)
        lines = bytes(buffer[:last]).split(CRLF) if last >= 0 else []
        at = 0
        i, count = 0, len(lines)
        while i < count:
            line = lines[i]
            if line.startswith(b"MSG "):
                fields = line.split()
                if i + 1 == count or len(lines[i + 1]) != int(fields[-1]):
                    break
                body = lines[i + 1]
                found.append((fields[1].decode(), None, body))
                at += len(line) + len(body) + 4
                i += 2
                continue
            if line.startswith(b"HMSG "):
                break
            self._control(line)
            at += len(line) + 2
            i += 1
        if i < count:
            at = self._exact(buffer, at, found)
        del buffer[:at]
        return found

    def _exact(
        self, buffer: bytearray, at: int, found: list[tuple[str, bytes | None, bytes]]
    ) -> int:
        """Parse from ``at`` by the byte counts; where the complete part ends."""
        while True:
            end = buffer.find(CRLF, at)
            if end < 0:
                return at
            line = bytes(buffer[at:end])
            if line.startswith((b"MSG ", b"HMSG ")):
                fields = line.split()
                total = int(fields[-1])
                body_end = end + 2 + total
                if len(buffer) < body_end + 2:
                    return at  # the rest of this message is still on its way
                body = bytes(buffer[end + 2:body_end])
                if fields[0] == b"HMSG":
                    split = int(fields[-2])
                    found.append((fields[1].decode(), body[:split], body[split:]))
                else:
                    found.append((fields[1].decode(), None, body))
                at = body_end + 2
                continue
            at = end + 2
            self._control(line)

    def _control(self, line: bytes) -> None:
        if line == b"PING":
            self.pings += 1
        elif line == b"PONG":
            self.pongs += 1
        elif line.startswith(b"INFO "):
            self.info = json.loads(line[5:])
        elif line.startswith(b"-ERR"):
            raise NatsProtocolError(f"the server said {line[5:].decode(errors='replace')}")
        elif line != b"+OK":
            raise NatsProtocolError(f"unexpected from the server: {line[:80]!r}")


class Publisher:
    """One connection that publishes batches and waits for their acks (one batch at a time)."""

    def __init__(self, server: str) -> None:
        parts = urlsplit(server)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 4222
        self.inbox = f"_INBOX.ctrproto.{secrets.token_hex(8)}"
        self.max_payload = 1 << 20
        self._writer: asyncio.StreamWriter | None = None
        self._reading: asyncio.Task[None] | None = None
        self._parser = AckParser()
        self._next = 0
        self._batch: tuple[int, int] = (0, 0)  # the tokens of the batch waiting for acks
        self._acked = 0
        self._duplicates = 0
        self._refused: list[str] = []
        self._progress = asyncio.Event()
        self._failure: BaseException | None = None

    async def connect(self, timeout: float = 10.0) -> None:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port), timeout
        )
        self._writer = writer
        try:
            await asyncio.wait_for(self._handshake(reader, writer), timeout)
        except BaseException:
            await self.close()
            raise
        self._reading = asyncio.create_task(self._read(reader), name="nats acks")

    async def _handshake(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        options = {
            "verbose": False, "pedantic": False, "headers": True, "no_responders": True,
            "protocol": 1, "lang": "python-ctrproto", "version": __version__,
        }
        writer.write(
            b"CONNECT " + json.dumps(options).encode() + CRLF
            + f"SUB {self.inbox}.* 1\r\nPING\r\n".encode()
        )
        await writer.drain()
        while not self._parser.pongs:
            data = await reader.read(65536)
            if not data:
                raise NatsProtocolError("the server closed the connection during the handshake")
            self._parser.feed(data)
        info = self._parser.info or {}
        payload = info.get("max_payload")
        if isinstance(payload, int):
            self.max_payload = payload

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                data = await reader.read(1 << 18)
                if not data:
                    raise NatsProtocolError("the server closed the connection")
                self._on_messages(self._parser.feed(data))
                if self._parser.pings and self._writer is not None:
                    self._writer.write(b"PONG\r\n" * self._parser.pings)
                    self._parser.pings = 0
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # noqa: BLE001 - handed to the batch that waits
            self._failure = exc if isinstance(exc, Exception) else NatsProtocolError(str(exc))
            self._progress.set()

    def _on_messages(self, messages: list[tuple[str, bytes | None, bytes]]) -> None:
        low, high = self._batch
        prefix = len(self.inbox) + 1
        acked = 0
        for subject, headers, body in messages:
            try:
                token = int(subject[prefix:])
            except ValueError:
                continue
            if not low <= token < high:
                continue  # an answer to an earlier, abandoned batch
            if headers is not None or b'"error"' in body or b'"duplicate"' in body:
                self._unusual(headers, body)
            acked += 1
        self._acked += acked
        self._progress.set()

    def _unusual(self, headers: bytes | None, body: bytes) -> None:
        """An ack that is not a plain "stored": a 503 (JetStream not ready, a restart: the
        batch is retried), an error (refused for good), or a duplicate (counted)."""
        if headers is not None and headers.startswith(b"NATS/1.0 503"):
            self._failure = NatsProtocolError("no JetStream stream answered (503)")
            return
        # Parsed only here, where the bytes hint at more than "stored" (a stream may also be
        # named "error" or "duplicate": the keys decide, and the server's spacing varies).
        try:
            ack = json.loads(body)
        except ValueError:
            self._failure = NatsProtocolError(f"an ack that is not JSON: {body[:80]!r}")
            return
        error = ack.get("error") if isinstance(ack, dict) else None
        if isinstance(error, dict):
            if error.get("code") == 503:  # JetStream not ready yet (a restart)
                self._failure = NatsProtocolError(str(error.get("description")))
            else:
                self._refused.append(str(error.get("description") or error))
        elif isinstance(ack, dict) and ack.get("duplicate") is True:
            self._duplicates += 1

    async def publish(self, messages: Sequence[tuple[str, bytes, str]], timeout: float) -> int:
        """Publish and wait until every message is acknowledged; the number of duplicates.
        ``timeout``: seconds without any ack before the connection counts as broken."""
        if self._writer is None:
            raise NatsProtocolError("not connected")
        first = self._next
        wire = encode_publishes(messages, self.inbox, first, self.max_payload)
        self._next += len(messages)
        self._batch = (first, self._next)
        self._acked = self._duplicates = 0
        self._refused = []
        self._writer.write(wire)
        await self._writer.drain()
        while self._acked < len(messages):
            if self._failure is not None:
                raise self._failure
            self._progress.clear()
            try:
                await asyncio.wait_for(self._progress.wait(), timeout)
            except asyncio.TimeoutError:
                raise NatsProtocolError(f"no ack for {timeout:.0f} s") from None
        if self._failure is not None:
            raise self._failure
        if self._refused:
            raise ServerRefused(f"the stream refused {len(self._refused)}: {self._refused[0]}")
        return self._duplicates

    async def close(self) -> None:
        if self._reading is not None:
            self._reading.cancel()
            with contextlib.suppress(BaseException):
                await self._reading
            self._reading = None
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
