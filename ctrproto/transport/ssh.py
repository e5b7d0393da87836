"""A daemon on another host, over SSH (paramiko).

One SSH connection per transport object serves the whole connection pool: each pooled HTTP
connection is its own channel on it, so a request never pays for a new SSH handshake.  A channel
goes straight to the remote daemon's socket (``direct-streamlocal@openssh.com``); when the
server forbids that, the transport falls back, once and for good, to running the fixed command
``docker system dial-stdio`` on the remote host.  If the SSH connection dies between requests
the next ``connect`` reconnects.

Nothing from the URL, a context or a config file is ever interpolated into a shell command.
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import subprocess
import threading
import time
import warnings
from typing import Any, cast

import paramiko

from ..errors import (
    ConnectTimeout,
    InvalidArgument,
    SSHAuthenticationError,
    SSHError,
    SSHHostKeyError,
)
from .address import Address, parse_address
from .ssh_channel import ChannelStream, StreamLocalTransport, translate_channel_errors
from .ssh_settings import DEFAULT_REMOTE_SOCKET, SAFE_SOCKET_PATH, SSHSettings, resolve

DIAL_STDIO = "docker system dial-stdio"


class InsecureSSHWarning(UserWarning):
    """An SSH host key that known_hosts does not list was accepted."""


def fingerprint(key: paramiko.PKey) -> str:
    """The form ``ssh-keygen -l`` prints, so users can compare it with the server's."""
    digest = base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")
    return f"{key.get_name()} SHA256:{digest}"


class _HostKeyPolicy(paramiko.MissingHostKeyPolicy):
    """What to do with a server whose key known_hosts does not list (reject by default)."""

    def __init__(self, settings: SSHSettings) -> None:
        self._settings = settings

    def missing_host_key(
        self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
    ) -> None:
        s = self._settings
        if s.host_key_policy == "accept":
            return
        if s.host_key_policy == "warn":
            warnings.warn(
                f"accepting the unknown SSH host key of {hostname} ({fingerprint(key)}) "
                "for this session only (host_key_policy='warn')",
                InsecureSSHWarning,
                stacklevel=2,
            )
            return
        port = f"-p {s.port} " if s.port != 22 else ""
        raise SSHHostKeyError(
            f"unknown SSH host key for {hostname} ({fingerprint(key)}): it is not listed in "
            f"{', '.join(s.known_hosts) or 'any known_hosts file'}, so the connection was "
            f"rejected. To trust this host, check the fingerprint and add it to known_hosts "
            f"(e.g. `ssh-keyscan {port}{s.hostname} >> ~/.ssh/known_hosts`), pass "
            "known_hosts=<file>, or pass host_key_policy='warn' or 'accept' explicitly"
        )


class SSHTransport:
    """Streams to a remote daemon, as channels of one shared SSH connection."""

    def __init__(self, address: Address, **options: Any) -> None:
        self.settings = resolve(address, **options)
        self.host_header = "localhost"
        self.socket_path = self.settings.socket_path
        self._lock = threading.Lock()
        self._client: paramiko.SSHClient | None = None
        self._jump: paramiko.SSHClient | None = None
        self._streamlocal_refused = self.settings.mode == "dial-stdio"
        #: SSH connections (handshakes) made over this object's life; tests and benchmarks read it.
        self.sessions_opened = 0
        if self.settings.mode == "dial-stdio":
            self._dial_stdio_command()  # refuse unusable paths now, not at first request

    def describe(self) -> str:
        return self.settings.describe()

    # ------------------------------------------------------------------ the SSH connection

    def _session(self, timeout: float | None) -> StreamLocalTransport:
        with self._lock:
            client = self._client
            if client is not None:
                transport = client.get_transport()
                if isinstance(transport, StreamLocalTransport) and transport.is_active():
                    return transport
                self._drop_locked()
            self._client = self._open_client(timeout)
            self.sessions_opened += 1
            transport = self._client.get_transport()
            assert isinstance(transport, StreamLocalTransport)
            transport.set_keepalive(self.settings.keepalive)
            return transport

    def _new_client(self) -> paramiko.SSHClient:
        client = paramiko.SSHClient()
        keys = client.get_host_keys()
        for path in self.settings.known_hosts:
            if os.path.isfile(path):
                try:
                    keys.load(path)
                except (OSError, paramiko.SSHException) as exc:
                    raise SSHHostKeyError(f"cannot read known_hosts file {path}: {exc}") from exc
        policy = self.settings.host_key_policy
        if isinstance(policy, paramiko.MissingHostKeyPolicy):
            client.set_missing_host_key_policy(policy)
        else:
            client.set_missing_host_key_policy(_HostKeyPolicy(self.settings))
        return client

    def _auth_kwargs(self, timeout: float) -> dict[str, Any]:
        s = self.settings
        for path in s.identity_files:
            if not os.path.isfile(path):
                raise InvalidArgument(f"SSH identity file not found: {path}")
        return {
            "key_filename": s.identity_files or None,
            "allow_agent": s.allow_agent,
            "look_for_keys": s.look_for_keys,
            "timeout": timeout,
            "banner_timeout": timeout,
            "auth_timeout": timeout,
            "channel_timeout": timeout,
        }

    def _open_client(self, timeout: float | None) -> paramiko.SSHClient:
        s = self.settings
        limit = s.timeout if timeout is None else min(timeout, s.timeout)
        where = self.describe()
        client = self._new_client()
        sock: Any = None
        started = time.monotonic()
        try:
            sock = self._proxy_sock(limit)
            client.connect(
                s.hostname,
                s.port,
                username=s.user,
                sock=sock,
                # The stubs describe an older constructor signature than paramiko's.
                transport_factory=cast(Any, StreamLocalTransport),
                **self._auth_kwargs(limit),
            )
        except BaseException as exc:
            # paramiko reports a server that never sent its banner as "No existing session" and
            # keeps the real cause on the transport: look there before the session is closed.
            session = client.get_transport()
            cause = session.get_exception() if session is not None else None
            client.close()
            if isinstance(sock, _ProxyCommand):
                sock.close()  # a session that never started did not take it over
            self._close_jump()
            if _no_banner(exc, cause):
                if time.monotonic() - started >= limit * 0.9:
                    raise ConnectTimeout(
                        f"timed out after {limit:g} s waiting for the SSH server at {where} "
                        "to start the SSH protocol (no banner)"
                    ) from exc
                raise SSHError(
                    f"the server at {where} closed the connection before speaking SSH "
                    f"({cause or exc})"
                ) from exc
            raise _connect_error(exc, where, s) from exc
        return client

    def _proxy_sock(self, timeout: float) -> Any:
        s = self.settings
        if s.proxy_command:
            try:
                # The user's own ssh config command, run without a shell (paramiko splits it).
                return _ProxyCommand(s.proxy_command)
            except (OSError, paramiko.SSHException) as exc:
                raise SSHError(f"ProxyCommand {s.proxy_command!r} failed: {exc}") from exc
        if s.proxy_jump:
            return self._jump_channel(s.proxy_jump, timeout)
        return _direct_socket(s.hostname, s.port, timeout)

    def _jump_channel(self, jump: str, timeout: float) -> paramiko.Channel:
        """One ProxyJump hop (``[user@]host[:port]``): a direct-tcpip channel through it."""
        if "," in jump or "/" in jump:
            raise InvalidArgument(
                f"ProxyJump {jump!r}: only a single [user@]host[:port] is supported"
            )
        hop = parse_address(f"ssh://{jump}")
        hop_transport = SSHTransport(
            hop,
            ssh_config_path="",
            known_hosts=self.settings.known_hosts,
            identity_file=self.settings.identity_files or None,
            host_key_policy=self.settings.host_key_policy,
            allow_agent=self.settings.allow_agent,
            ssh_timeout=timeout,
        )
        client = hop_transport._open_client(timeout)
        self._jump = client
        transport = client.get_transport()
        assert transport is not None
        with translate_channel_errors(hop_transport.describe()):
            return transport.open_channel(
                "direct-tcpip",
                (self.settings.hostname, self.settings.port),
                ("127.0.0.1", 0),
                timeout=timeout,
            )

    def _drop_locked(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        self._close_jump()

    def _close_jump(self) -> None:
        if self._jump is not None:
            self._jump.close()
            self._jump = None

    # ------------------------------------------------------------------ channels

    def connect(self, timeout: float | None) -> ChannelStream:
        """A new channel; reconnects once if the SSH connection died since the last one."""
        for attempt in (1, 2):
            transport = self._session(timeout)
            try:
                channel = self._open_channel(transport, timeout)
                command = self._dial_stdio_command() if self._streamlocal_refused else None
                return ChannelStream(channel, self.describe(), command)
            except (EOFError, OSError, paramiko.SSHException) as exc:
                if transport.is_active() or attempt == 2:
                    raise SSHError(
                        f"cannot open an SSH channel to {self.describe()}: {exc}"
                    ) from exc
                with self._lock:
                    if self._client is not None and self._client.get_transport() is transport:
                        self._drop_locked()
        raise AssertionError("unreachable")

    def _open_channel(
        self, transport: StreamLocalTransport, timeout: float | None
    ) -> paramiko.Channel:
        limit = self.settings.timeout if timeout is None else timeout
        if not self._streamlocal_refused:
            try:
                return transport.open_streamlocal(self.socket_path, timeout=limit)
            except paramiko.ChannelException as exc:
                # OpenSSH answers "connect failed" both when AllowStreamLocalForwarding is off
                # and when the socket is missing, so any refusal switches to dial-stdio, as
                # the docker CLI (which always uses dial-stdio) would reach the daemon.
                if self.settings.mode == "stream-local":
                    raise _channel_refused(exc, self.describe(), self.socket_path) from None
                self._streamlocal_refused = True
        return self._dial_stdio(transport, limit)

    def _dial_stdio_command(self) -> str:
        if self.socket_path == DEFAULT_REMOTE_SOCKET:
            return DIAL_STDIO
        if not SAFE_SOCKET_PATH.match(self.socket_path):
            raise InvalidArgument(
                f"remote socket path {self.socket_path!r} cannot be passed to "
                f"`{DIAL_STDIO}` safely (only letters, digits and . _ / - are allowed there); "
                "enable AllowStreamLocalForwarding on the server to use it as is"
            )
        return f"docker --host unix://{self.socket_path} system dial-stdio"

    def _dial_stdio(self, transport: StreamLocalTransport, timeout: float) -> paramiko.Channel:
        command = self._dial_stdio_command()
        channel = transport.open_session(timeout=timeout)
        try:
            channel.exec_command(command)
        except paramiko.SSHException as exc:
            channel.close()
            raise SSHError(
                f"the SSH server at {self.describe()} refused to run `{command}`: {exc}"
            ) from exc
        return channel

    def close(self) -> None:
        with self._lock:
            self._drop_locked()

    @property
    def mode(self) -> str:
        """``stream-local`` or ``dial-stdio``: how channels currently reach the daemon."""
        return "dial-stdio" if self._streamlocal_refused else "stream-local"

    def __repr__(self) -> str:
        return f"SSHTransport({self.describe()!r})"


class _ProxyCommand(paramiko.ProxyCommand):
    """paramiko's ProxyCommand, closed completely.

    paramiko's ``close()`` only signals the process: it is never reaped and its pipes stay
    open until garbage collection (ResourceWarnings, a zombie meanwhile).  Here the process is
    terminated, waited for (killed if it ignores SIGTERM) and its pipes are closed; closing
    twice is harmless.
    """

    def close(self) -> None:
        process = self.process
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for pipe in (process.stdin, process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()


def _channel_refused(exc: paramiko.ChannelException, where: str, path: str) -> SSHError:
    # OpenSSH reports a forbidden stream-local forward and a missing socket alike.
    return SSHError(
        f"the SSH server at {where} refused a channel to the daemon socket {path!r} "
        f"({exc.text}): either sshd forbids it (AllowStreamLocalForwarding no) or nothing "
        "listens there; ssh_mode='auto' falls back to "
        f"`{DIAL_STDIO}`"
    )


_TCP_QUICKACK: int = getattr(socket, "TCP_QUICKACK", 0)


class _PromptAckSocket(socket.socket):
    """A TCP socket that acknowledges every segment at once.

    A request's answer often reaches sshd in several writes (a chunked JSON body ends with a
    separate terminating chunk); sshd's Nagle holds the last small packet until our ACK of the
    previous one, and Linux delays that ACK - several milliseconds per request, measured here
    (inspect over stream-local forwarding: ~6 ms; with prompt ACKs and no Nagle: ~1 ms).
    TCP_QUICKACK is not sticky, so it is renewed before every read (paramiko's reader thread).
    """

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        # paramiko reads twice per packet: a plain try, not a context manager, on this path
        try:  # noqa: SIM105
            self.setsockopt(socket.IPPROTO_TCP, _TCP_QUICKACK, 1)
        except OSError:
            pass
        return super().recv(bufsize, flags)



def _direct_socket(host: str, port: int, timeout: float) -> socket.socket:
    """The TCP connection to the SSH server, tuned for request/response latency."""
    plain = socket.create_connection((host, port), timeout=timeout)
    plain.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if not _TCP_QUICKACK:  # not Linux: Nagle off is what we can do
        return plain
    tuned = _PromptAckSocket(fileno=plain.detach())
    tuned.settimeout(timeout)
    return tuned


def _no_banner(exc: BaseException, cause: BaseException | None) -> bool:
    """Whether the connection failed before the server's SSH banner arrived."""
    text = f"{exc} {cause or ''}".lower()
    return "no existing session" in text or "protocol banner" in text


def _connect_error(exc: BaseException, where: str, s: SSHSettings) -> BaseException:
    if isinstance(exc, (SSHError, InvalidArgument, ConnectTimeout)):
        return exc
    if isinstance(exc, paramiko.BadHostKeyException):
        return SSHHostKeyError(
            f"the SSH host key of {s.known_hosts_name} does NOT match known_hosts "
            f"({', '.join(s.known_hosts)}): got {fingerprint(exc.key)}, expected "
            f"{fingerprint(exc.expected_key)}. Someone may be intercepting the connection; if "
            "the key changed legitimately, remove the old entry (ssh-keygen -R)"
        )
    if isinstance(exc, paramiko.AuthenticationException) or (
        isinstance(exc, paramiko.SSHException) and "authentication" in str(exc).lower()
    ):
        tried = ", ".join(s.identity_files) or "default keys"
        agent = " and the SSH agent" if s.allow_agent else ""
        return SSHAuthenticationError(
            f"SSH authentication as {s.user or 'the current user'} to {where} failed: the "
            f"server accepted none of the keys tried ({tried}{agent}): {exc}"
        )
    if isinstance(exc, (TimeoutError, socket.timeout)) or "timeout" in str(exc).lower():
        return ConnectTimeout(f"timed out connecting to the SSH server at {where}")
    if isinstance(exc, paramiko.SSHException):
        return SSHError(f"SSH connection to {where} failed: {exc}")
    if isinstance(exc, (OSError, EOFError)):
        return SSHError(f"cannot connect to the SSH server at {where}: {exc}")
    return exc
