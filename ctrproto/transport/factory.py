"""Choosing the transport for an address.

Options are checked here rather than silently dropped: an SSH option given with a ``tcp://``
address is almost always a mistake in the caller's configuration, and ignoring it would hide it.
"""

from __future__ import annotations

from typing import Any

from ..errors import InvalidAddress, InvalidArgument, TLSParameterError
from .address import Address, parse_address
from .base import Transport
from .tcp import TCPTransport
from .unix import UnixTransport

#: Keyword options the SSH transport understands (see ``ssh_settings.resolve``).
SSH_OPTIONS = frozenset(
    {
        "ssh_config_path",
        "known_hosts",
        "identity_file",
        "host_key_policy",
        "allow_agent",
        "look_for_keys",
        "ssh_timeout",
        "ssh_keepalive",
        "ssh_mode",
    }
)


def make_transport(
    base_url: str | Address | None,
    tls: Any = None,
    use_ssh_client: bool = False,
    **options: Any,
) -> Transport:
    """A transport for ``base_url``.

    ``tls`` is ``True`` (defaults: verify against the system CAs) or a ``TLSConfig``.
    ``use_ssh_client=True`` (docker-py's "shell out to the ssh binary") is refused for ssh://
    addresses: ctrproto speaks SSH itself, and running a local binary with URL-derived
    arguments is what it avoids; with other addresses it has no meaning and is ignored.
    """
    address = base_url if isinstance(base_url, Address) else parse_address(base_url)
    if address.scheme == "ssh":
        if use_ssh_client:
            raise InvalidArgument(
                "use_ssh_client=True is not supported: ctrproto connects over SSH itself "
                "(paramiko) and reads ~/.ssh/config; drop the option"
            )
        if tls:
            raise TLSParameterError(f"TLS was requested but {address} is an SSH address")
        _check_options(address, options, SSH_OPTIONS)
        from .ssh import SSHTransport  # paramiko is imported only when SSH is used

        return SSHTransport(address, **options)
    _check_options(address, options, frozenset())
    if address.scheme == "unix":
        if tls:
            raise TLSParameterError(f"TLS was requested but {address} is a Unix socket")
        return UnixTransport(address.path)
    if address.scheme == "tcp":
        if tls or address.tls:
            from .tls import TLSConfig, TLSTransport, tls_config_from

            config = tls_config_from(tls) if tls else TLSConfig()
            return TLSTransport(address.host, address.port, config)
        return TCPTransport(address.host, address.port)
    raise InvalidAddress(f"no transport for {address}")


def _check_options(address: Address, options: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(options) - allowed)
    if unknown:
        hint = " (SSH options apply to ssh:// addresses only)" if set(unknown) & SSH_OPTIONS else ""
        raise InvalidArgument(
            f"unknown transport option(s) {', '.join(unknown)} for {address}{hint}"
        )
