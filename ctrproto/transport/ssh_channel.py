"""paramiko plumbing: the stream-local channel paramiko lacks, and a Stream over a channel.

OpenSSH forwards a channel straight to a Unix socket on the server when asked for a
``direct-streamlocal@openssh.com`` channel (what ``ssh -W /path`` does).  paramiko knows only the
TCP channel kinds, so :class:`StreamLocalTransport` sends that CHANNEL_OPEN itself; the socket
path travels as protocol data, never through a shell.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any, cast

import paramiko
from paramiko.common import cMSG_CHANNEL_OPEN
from paramiko.message import Message

from ..errors import ConnectionClosed, DockerConnectionError, ReadTimeout, SSHError
from ..protocol.buffer import Buffer

STREAMLOCAL = "direct-streamlocal@openssh.com"


class StreamLocalTransport(paramiko.Transport):
    """A paramiko Transport that can also open ``direct-streamlocal@openssh.com`` channels."""

    # AES-GCM first, where the server offers it (OpenSSH does): an AEAD cipher has no separate
    # MAC, and paramiko checks MACs byte by byte in Python - with HMAC that check alone was a
    # third of the client's CPU on a log stream (one packet per ~900 bytes through stream-local
    # forwarding).  Servers without GCM negotiate paramiko's usual order.
    _preferred_ciphers = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com") + tuple(
        name
        for name in cast(Any, paramiko.Transport)._preferred_ciphers  # no stubs for it
        if "gcm" not in name
    )

    def _log(self, level: int, msg: Any, *args: Any) -> None:
        # A refused stream-local channel is an expected step before the dial-stdio fallback,
        # not an error worth printing on the user's terminal.
        if level >= logging.ERROR and isinstance(msg, str) and "open FAILED" in msg:
            level = logging.DEBUG
        super()._log(level, msg, *args)  # type: ignore[misc]

    def open_streamlocal(self, socket_path: str, timeout: float | None = None) -> paramiko.Channel:
        """Open a channel to ``socket_path`` on the server.

        Mirrors ``Transport.open_channel`` (same bookkeeping, same failure reporting), with the
        payload OpenSSH's PROTOCOL file defines for this kind: socket path, reserved string,
        reserved uint32.
        """
        me: Any = self  # private paramiko members have no stubs
        if not me.active:
            raise paramiko.SSHException("SSH session not active")
        limit = self.channel_timeout if timeout is None else timeout
        with self.lock:
            window = me._sanitize_window_size(None)
            packet = me._sanitize_packet_size(None)
            chanid = me._next_channel()
            m = Message()
            m.add_byte(cMSG_CHANNEL_OPEN)
            m.add_string(STREAMLOCAL)
            m.add_int(chanid)
            m.add_int(window)
            m.add_int(packet)
            m.add_string(socket_path)
            m.add_string("")
            m.add_int(0)
            chan = paramiko.Channel(chanid)
            me._channels.put(chanid, chan)
            self.channel_events[chanid] = event = threading.Event()
            self.channels_seen[chanid] = True
            chan_any: Any = chan
            chan_any._set_transport(self)
            chan_any._set_window(window, packet)
        me._send_user_message(m)
        start = time.monotonic()
        while True:
            event.wait(0.1)
            if not me.active:
                raise self.get_exception() or paramiko.SSHException("SSH session ended")
            if event.is_set():
                break
            if start + limit < time.monotonic():
                raise paramiko.SSHException("Timeout opening channel.")
        opened: paramiko.Channel | None = me._channels.get(chanid)
        if opened is not None:
            return opened
        raise self.get_exception() or paramiko.SSHException("Unable to open channel.")


@contextmanager
def translate_channel_errors(where: str) -> Iterator[None]:
    """Map paramiko/socket exceptions raised inside the block to ctrproto errors."""
    try:
        yield
    except TimeoutError as exc:
        raise ReadTimeout(f"timed out waiting for the daemon at {where}") from exc
    except EOFError as exc:
        raise ConnectionClosed(f"the SSH connection to {where} was closed") from exc
    except paramiko.SSHException as exc:
        raise SSHError(f"SSH failure talking to {where}: {exc}") from exc
    except OSError as exc:
        if "closed" in str(exc).lower():
            raise ConnectionClosed(f"the SSH channel to {where} was closed ({exc})") from exc
        raise DockerConnectionError(f"SSH connection to {where} failed: {exc}") from exc


class ChannelStream:
    """A :class:`~ctrproto.transport.base.Stream` over one paramiko channel."""

    def __init__(self, channel: paramiko.Channel, where: str, command: str | None = None) -> None:
        self._channel = channel
        self._where = where
        self._closed = False
        #: The remote command feeding this channel (dial-stdio), for error messages.
        self._command = command
        self._received = False

    @property
    def channel(self) -> paramiko.Channel:
        return self._channel

    @property
    def closed(self) -> bool:
        return self._closed

    def send_all(self, data: Buffer) -> None:
        payload = data if isinstance(data, bytes) else bytes(data)
        with translate_channel_errors(self._where):
            self._channel.sendall(payload)

    def recv_into(self, buffer: bytearray | memoryview) -> int:
        data = self.recv(len(buffer))
        n = len(data)
        buffer[:n] = data
        return n

    def recv(self, size: int) -> bytes:
        with translate_channel_errors(self._where):
            data = self._channel.recv(size)
        if data:
            self._received = True
        elif self._command is not None and not self._received:
            self._raise_command_failure()
        return data

    def _raise_command_failure(self) -> None:
        """A remote command that ends before sending anything failed: say why, from stderr."""
        chan = self._channel
        errors = b""
        while chan.recv_stderr_ready() and len(errors) < 4096:
            errors += chan.recv_stderr(4096)
        status = chan.recv_exit_status() if chan.exit_status_ready() else None
        if errors or (status not in (None, 0)):
            text = errors.decode("utf-8", "replace").strip() or "no error output"
            raise SSHError(
                f"remote `{self._command}` at {self._where} failed"
                f"{f' (exit status {status})' if status is not None else ''}: {text}"
            )

    def shutdown_write(self) -> None:
        # An SSH EOF: OpenSSH half-closes the Unix socket (or docker dial-stdio's stdin) for it.
        with translate_channel_errors(self._where):
            self._channel.shutdown_write()

    def settimeout(self, timeout: float | None) -> None:
        if not self._closed:
            self._channel.settimeout(timeout)

    def idle_ok(self) -> bool:
        chan = self._channel
        if self._closed or chan.closed or chan.eof_received or chan.recv_ready():
            return False
        transport = chan.get_transport()
        return transport is not None and transport.is_active()

    def abort(self) -> None:
        # Closing a paramiko channel is thread-safe and wakes a recv() blocked on it (b"").
        with suppress(OSError, EOFError, paramiko.SSHException):
            self._channel.close()

    def fileno(self) -> int:
        """paramiko's pipe that turns readable with the channel (made on first use)."""
        return -1 if self._closed else self._channel.fileno()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        # If the session is already gone there is nothing left to release.
        with suppress(OSError, EOFError, paramiko.SSHException):
            self._channel.close()

    def __repr__(self) -> str:
        return f"<ChannelStream {self._where} {'closed' if self._closed else 'open'}>"
