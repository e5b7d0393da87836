"""``client.networks``: create, get, list, prune; ``Network`` with connect/disconnect."""

from __future__ import annotations

from .resource import AsyncCollection, AsyncModel

__all__ = ["AsyncNetwork", "AsyncNetworkCollection"]


class AsyncNetwork(AsyncModel):
    """A network, as last inspected."""


class AsyncNetworkCollection(AsyncCollection[AsyncNetwork]):
    model = AsyncNetwork
