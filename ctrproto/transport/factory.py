"""Choosing the transport for an address."""

from __future__ import annotations

from typing import Any

from ..errors import InvalidAddress, TLSParameterError
from .address import Address, parse_address
from .base import Transport
from .tcp import TCPTransport
from .unix import UnixTransport


def make_transport(base_url: str | Address | None, tls: Any = None, **options: Any) -> Transport:
    """A transport for ``base_url``; ``tls`` is a TLS configuration (or True for defaults)."""
    address = base_url if isinstance(base_url, Address) else parse_address(base_url)
    if address.scheme == "unix":
        if tls:
            raise TLSParameterError(f"TLS was requested but {address} is a Unix socket")
        return UnixTransport(address.path)
    if address.scheme == "tcp":
        if tls or address.tls:
            raise InvalidAddress(f"TLS transport for {address} is not available yet")
        return TCPTransport(address.host, address.port)
    raise InvalidAddress(f"no transport for {address}")
