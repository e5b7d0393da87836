"""Resolving an ``ssh://`` address into connection settings, the way ``ssh`` itself would.

``~/.ssh/config`` is read so that Host aliases, HostName, User, Port, IdentityFile,
ProxyCommand/ProxyJump and UserKnownHostsFile work as they do for the ``ssh`` binary.  Explicit
options and the URL win over the config file.  ``StrictHostKeyChecking`` in the config is
deliberately ignored: only an explicit ``host_key_policy`` argument can relax host key checking,
so that no config file or context can switch it off behind the caller's back.

Every value that could end up near a command line (the host name for ProxyCommand's ``%h``,
the socket path for ``docker --host``) is validated here, before any connection is made.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import paramiko

from ..errors import InvalidAddress, InvalidArgument
from .address import Address

DEFAULT_REMOTE_SOCKET = "/var/run/docker.sock"
DEFAULT_SSH_TIMEOUT = 30.0
DEFAULT_KEEPALIVE = 30
HOST_KEY_POLICIES = ("reject", "warn", "accept")
MODES = ("auto", "stream-local", "dial-stdio")

_SAFE_HOST = re.compile(r"^[A-Za-z0-9._:%-]+$")
_SAFE_USER = re.compile(r"^[A-Za-z0-9._@-]+$")
#: What a socket path may contain to be handed to the remote ``docker --host`` argument.
SAFE_SOCKET_PATH = re.compile(r"^/[A-Za-z0-9._/-]+$")


@dataclass
class SSHSettings:
    alias: str
    hostname: str
    port: int
    user: str | None
    socket_path: str
    identity_files: list[str] = field(default_factory=list)
    known_hosts: list[str] = field(default_factory=list)
    proxy_command: str | None = None
    proxy_jump: str | None = None
    host_key_policy: Any = "reject"
    allow_agent: bool = True
    look_for_keys: bool = True
    timeout: float = DEFAULT_SSH_TIMEOUT
    keepalive: int = DEFAULT_KEEPALIVE
    mode: str = "auto"

    def describe(self) -> str:
        user = f"{self.user}@" if self.user else ""
        host = f"[{self.hostname}]" if ":" in self.hostname else self.hostname
        return f"ssh://{user}{host}:{self.port}{self.socket_path}"

    @property
    def known_hosts_name(self) -> str:
        """The key under which known_hosts lists this server (as OpenSSH writes it)."""
        return self.hostname if self.port == 22 else f"[{self.hostname}]:{self.port}"


def _paths(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    items = [value] if isinstance(value, (str, os.PathLike)) else list(value)
    out: list[str] = []
    for item in items:
        if not isinstance(item, (str, os.PathLike)):
            raise InvalidArgument(f"{what} must be a path or a list of paths, got {item!r}")
        out.append(os.path.expanduser(os.fspath(item)))
    return out


def _read_ssh_config(path: str | None, alias: str) -> dict[str, Any]:
    explicit = path is not None
    if path is None:
        path = os.path.expanduser("~/.ssh/config")
    if not path:
        return {}
    if not os.path.isfile(path):
        if explicit:
            raise InvalidArgument(f"ssh_config_path: no such file: {path}")
        return {}
    try:
        config = paramiko.SSHConfig.from_path(path)
        return dict(config.lookup(alias))
    except (OSError, paramiko.SSHException, ValueError) as exc:
        raise InvalidArgument(f"cannot read the SSH config {path}: {exc}") from exc


def _url_has_port(address: Address) -> bool:
    try:
        return urlsplit(address.original).port is not None
    except ValueError:
        return False


def resolve(
    address: Address,
    *,
    ssh_config_path: str | None = None,
    known_hosts: Any = None,
    identity_file: Any = None,
    host_key_policy: Any = "reject",
    allow_agent: bool = True,
    look_for_keys: bool | None = None,
    ssh_timeout: float | None = None,
    ssh_keepalive: int | None = None,
    ssh_mode: str = "auto",
) -> SSHSettings:
    """Settings for ``address``: explicit options > URL > ``~/.ssh/config`` > defaults."""
    if not _SAFE_HOST.match(address.host):
        raise InvalidAddress(f"invalid SSH host name {address.host!r} in {address.original!r}")
    if address.user is not None and not _SAFE_USER.match(address.user):
        raise InvalidAddress(f"invalid SSH user name {address.user!r} in {address.original!r}")
    socket_path = address.path or DEFAULT_REMOTE_SOCKET
    if "\x00" in socket_path or not socket_path.startswith("/"):
        raise InvalidAddress(f"invalid remote socket path {socket_path!r}")
    if isinstance(host_key_policy, str) and host_key_policy not in HOST_KEY_POLICIES:
        raise InvalidArgument(
            f"host_key_policy must be one of {', '.join(HOST_KEY_POLICIES)} or a paramiko "
            f"MissingHostKeyPolicy, not {host_key_policy!r}"
        )
    if ssh_mode not in MODES:
        raise InvalidArgument(f"ssh_mode must be one of {', '.join(MODES)}, not {ssh_mode!r}")

    cfg = _read_ssh_config(ssh_config_path, address.host)
    hostname = str(cfg.get("hostname") or address.host)
    if not _SAFE_HOST.match(hostname):
        raise InvalidAddress(
            f"invalid HostName {hostname!r} for {address.host!r} in the SSH config"
        )
    port = address.port
    if not _url_has_port(address) and cfg.get("port"):
        port = int(cfg["port"])
    user = address.user or cfg.get("user")
    identities = _paths(identity_file, "identity_file") or _paths(
        cfg.get("identityfile"), "IdentityFile"
    )
    hosts_files = _paths(known_hosts, "known_hosts")
    if not hosts_files:
        configured = cfg.get("userknownhostsfile")
        hosts_files = (
            _paths(str(configured).split(), "UserKnownHostsFile")
            if configured
            else [os.path.expanduser("~/.ssh/known_hosts")]
        )
    return SSHSettings(
        alias=address.host,
        hostname=hostname,
        port=port,
        user=str(user) if user else None,
        socket_path=socket_path,
        identity_files=identities,
        known_hosts=hosts_files,
        proxy_command=cfg.get("proxycommand") if cfg.get("proxycommand") != "none" else None,
        proxy_jump=cfg.get("proxyjump") if cfg.get("proxyjump") != "none" else None,
        host_key_policy=host_key_policy,
        allow_agent=allow_agent,
        # Like `ssh -i`: an explicit identity is what the caller wants tried, not ~/.ssh/id_*.
        look_for_keys=(not identities) if look_for_keys is None else look_for_keys,
        timeout=DEFAULT_SSH_TIMEOUT if ssh_timeout is None else float(ssh_timeout),
        keepalive=DEFAULT_KEEPALIVE if ssh_keepalive is None else int(ssh_keepalive),
        mode=ssh_mode,
    )
