"""Parsing ``base_url`` / ``DOCKER_HOST`` into a checked address.

Every malformed or unsupported address fails here, before any connection attempt, with an error
that quotes the address and says what is wrong with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from ..errors import InvalidAddress
from .unix import DEFAULT_UNIX_SOCKET

DEFAULT_TCP_PORT = 2375
DEFAULT_TLS_PORT = 2376
DEFAULT_SSH_PORT = 22
SCHEMES = ("unix", "tcp", "http", "https", "ssh", "npipe")


@dataclass(frozen=True)
class Address:
    """A daemon endpoint.  ``scheme`` is one of unix, tcp, ssh; ``tls`` marks https://."""

    scheme: str
    host: str = ""
    port: int = 0
    path: str = ""
    user: str | None = None
    tls: bool = False
    original: str = ""

    def __str__(self) -> str:
        if self.scheme == "unix":
            return f"unix://{self.path}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.scheme == "ssh":
            user = f"{self.user}@" if self.user else ""
            return f"ssh://{user}{host}:{self.port}{self.path}"
        return f"{'https' if self.tls else 'tcp'}://{host}:{self.port}"


_PASSWORD = re.compile(r"(://[^/@:]*:)[^/@]*@")


def redact(url: str) -> str:
    """The address with any password replaced, fit for error messages and logs."""
    return _PASSWORD.sub(r"\1***@", url)


def parse_address(url: str | None) -> Address:
    """Parse a daemon address.  ``None``/empty means the local default Unix socket."""
    if url is None or not url.strip():
        return Address("unix", path=DEFAULT_UNIX_SOCKET, original=url or "")
    original = redact(url)
    url = url.strip()
    if url.startswith("/"):
        return Address("unix", path=url, original=original)
    if "://" not in url:
        # docker accepts host:port alone and means TCP.
        url = f"tcp://{url}"
    scheme = url.split("://", 1)[0].lower()
    if scheme not in SCHEMES:
        raise InvalidAddress(
            f"invalid Docker address {original!r}: unsupported scheme {scheme!r} "
            f"(use unix://, tcp://, http://, https:// or ssh://)"
        )
    if scheme == "npipe":
        raise InvalidAddress(
            f"invalid Docker address {original!r}: named pipes exist only on Windows"
        )
    if scheme == "unix":
        path = url.split("://", 1)[1]
        if not path:
            raise InvalidAddress(f"invalid Docker address {original!r}: no socket path")
        if not path.startswith("/"):
            raise InvalidAddress(
                f"invalid Docker address {original!r}: the socket path must be absolute"
            )
        return Address("unix", path=path, original=original)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidAddress(f"invalid Docker address {original!r}: {exc}") from exc
    host = parts.hostname or ""
    if not host:
        raise InvalidAddress(f"invalid Docker address {original!r}: no host name")
    if parts.query or parts.fragment:
        raise InvalidAddress(
            f"invalid Docker address {original!r}: a query or fragment has no meaning here"
        )
    if scheme == "ssh":
        if parts.password is not None:
            raise InvalidAddress(
                f"invalid Docker address {original!r}: passwords in ssh:// URLs are not "
                "supported (use a key or the SSH agent)"
            )
        return Address(
            "ssh",
            host=host,
            port=port or DEFAULT_SSH_PORT,
            path=unquote(parts.path) if parts.path not in ("", "/") else "",
            user=unquote(parts.username) if parts.username else None,
            original=original,
        )
    if parts.username or parts.password:
        raise InvalidAddress(
            f"invalid Docker address {original!r}: credentials are not allowed in a TCP address"
        )
    if parts.path not in ("", "/"):
        raise InvalidAddress(
            f"invalid Docker address {original!r}: a path prefix is not supported"
        )
    tls = scheme == "https"
    return Address(
        "tcp",
        host=host,
        port=port or (DEFAULT_TLS_PORT if tls else DEFAULT_TCP_PORT),
        tls=tls,
        original=original,
    )
