"""Network endpoints of the low-level client (``/networks``), docker-py's names and arguments."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..engine import network_calls
from .client_core import AsyncClientCore


class AsyncNetworkApiMixin(AsyncClientCore):
    """create_network, networks, inspect_network, remove_network, connect/disconnect, prune."""

    async def networks(
        self,
        names: Sequence[str] | None = None,
        ids: Sequence[str] | None = None,
        filters: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Network summaries (``docker network ls``); ``names``/``ids`` filter by any of them."""
        return await self._json(network_calls.networks(names, ids, filters))

    async def create_network(
        self,
        name: str,
        driver: str | None = None,
        options: Mapping[str, Any] | None = None,
        ipam: Mapping[str, Any] | None = None,
        check_duplicate: bool | None = None,
        internal: bool = False,
        labels: Mapping[str, str] | None = None,
        enable_ipv6: bool = False,
        attachable: bool | None = None,
        scope: str | None = None,
        ingress: bool | None = None,
    ) -> dict[str, Any]:
        """Create a network; returns the daemon's ``{"Id": ..., "Warning": ...}``."""
        call = network_calls.create_network(
            await self.ensure_api_version(),
            name,
            driver,
            options,
            ipam,
            check_duplicate,
            internal,
            labels,
            enable_ipv6,
            attachable,
            scope,
            ingress,
        )
        return await self._json(call)

    async def prune_networks(self, filters: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Delete unused networks; returns ``{"NetworksDeleted": [...]}``."""
        call = network_calls.prune_networks(await self.ensure_api_version(), filters)
        return await self._json(call)

    async def remove_network(self, net_id: Any) -> None:
        await self._discard(network_calls.remove_network(net_id))

    async def inspect_network(
        self, net_id: Any, verbose: bool | None = None, scope: str | None = None
    ) -> dict[str, Any]:
        call = network_calls.inspect_network(
            await self.ensure_api_version(), net_id, verbose, scope
        )
        return await self._json(call)

    async def connect_container_to_network(
        self,
        container: Any,
        net_id: Any,
        ipv4_address: str | None = None,
        ipv6_address: str | None = None,
        aliases: list[str] | None = None,
        links: Any = None,
        link_local_ips: list[str] | None = None,
        driver_opt: Mapping[str, str] | None = None,
        mac_address: str | None = None,
    ) -> None:
        """Attach a container (id, name or model) to a network with these endpoint settings."""
        call = network_calls.connect_container_to_network(
            await self.ensure_api_version(),
            container,
            net_id,
            ipv4_address=ipv4_address,
            ipv6_address=ipv6_address,
            aliases=aliases,
            links=links,
            link_local_ips=link_local_ips,
            driver_opt=driver_opt,
            mac_address=mac_address,
        )
        await self._discard(call)

    async def disconnect_container_from_network(
        self, container: Any, net_id: Any, force: bool = False
    ) -> None:
        call = network_calls.disconnect_container_from_network(
            await self.ensure_api_version(), container, net_id, force
        )
        await self._discard(call)
