"""The low-level sync client, ``APIClient`` (generated into ``ctrproto._sync`` from the asyncio
source; this package only re-exports it)."""

from .._sync.api_client import APIClient
from .._sync.hijacked_socket import HijackedSocket

__all__ = ["APIClient", "HijackedSocket"]
