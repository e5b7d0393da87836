"""``client.networks``: create, get, list, prune; ``Network`` with connect/disconnect.

As docker-py: ``create`` inspects the new network, ``list(greedy=True)`` inspects each one (a
summary has no ``Containers``), and ``Network.containers`` gets each connected container.
"""

from __future__ import annotations

import builtins
from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING, Any

from ..engine.versions import version_gte
from .containers import AsyncContainer
from .resource import AsyncCollection, AsyncModel

if TYPE_CHECKING:
    from .api_client import AsyncAPIClient

__all__ = ["AsyncNetwork", "AsyncNetworkCollection"]


def _container_id(container: Any) -> Any:
    """A ``Container`` model stands for its id; anything else goes to the API as given."""
    return container.id if isinstance(container, AsyncContainer) else container


class AsyncNetwork(AsyncModel):
    """A network, as last inspected."""

    @property
    def name(self) -> str | None:
        name: str | None = self.attrs.get("Name")
        return name

    @property
    def containers(self) -> Awaitable[builtins.list[AsyncContainer]]:
        """The containers connected when the network was last inspected (one inspect each).
        Under asyncio ``await network.containers``: a property can only do I/O there by
        handing back an awaitable."""
        return self._containers()

    async def _containers(self) -> builtins.list[AsyncContainer]:
        if self.client is None:
            raise RuntimeError(f"{self!r} is not bound to a client")
        found = []
        for cid in self.attrs.get("Containers") or {}:
            found.append(await self.client.containers.get(cid))
        return found

    def _api(self) -> AsyncAPIClient:
        if self.client is None:
            raise RuntimeError(f"{self!r} is not bound to a client")
        return self.client.api

    async def connect(self, container: Any, *args: Any, **kwargs: Any) -> None:
        """``APIClient.connect_container_to_network`` keywords (aliases, ipv4_address ...)."""
        await self._api().connect_container_to_network(
            _container_id(container), self.id, *args, **kwargs
        )

    async def disconnect(self, container: Any, *args: Any, **kwargs: Any) -> None:
        await self._api().disconnect_container_from_network(
            _container_id(container), self.id, *args, **kwargs
        )

    async def remove(self) -> None:
        await self._api().remove_network(self.id)


class AsyncNetworkCollection(AsyncCollection[AsyncNetwork]):
    model = AsyncNetwork

    async def create(self, name: str, *args: Any, **kwargs: Any) -> AsyncNetwork:
        """``APIClient.create_network`` arguments; returns the network as inspected."""
        answer = await self.client.api.create_network(name, *args, **kwargs)
        return await self.get(answer["Id"])

    # docker-py's parameter name (``network_id``), not the base's ``key``.
    async def get(  # type: ignore[override]
        self, network_id: str, *args: Any, **kwargs: Any
    ) -> AsyncNetwork:
        """By id or name (``verbose``, ``scope`` as ``inspect_network``); ``NotFound`` if none."""
        answer = await self.client.api.inspect_network(network_id, *args, **kwargs)
        return self.prepare_model(answer)

    async def list(self, *args: Any, **kwargs: Any) -> builtins.list[AsyncNetwork]:
        """``names``, ``ids``, ``filters``; ``greedy=True`` inspects each network so that
        ``attrs`` holds its ``Containers``."""
        greedy = kwargs.pop("greedy", False)
        answer = await self.client.api.networks(*args, **kwargs)
        found = [self.prepare_model(item) for item in answer]
        if greedy and version_gte(await self.client.api.ensure_api_version(), "1.28"):
            for network in found:
                await network.reload()
        return found

    async def prune(self, filters: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Delete unused networks; returns ``{"NetworksDeleted": [...]}``."""
        return await self.client.api.prune_networks(filters=filters)
