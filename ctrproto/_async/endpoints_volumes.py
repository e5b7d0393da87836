"""Volume endpoints of the low-level client (``/volumes``), docker-py's names and arguments."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..engine import volume_calls
from .client_core import AsyncClientCore


class AsyncVolumeApiMixin(AsyncClientCore):
    """create_volume, volumes, inspect_volume, remove_volume, prune_volumes."""

    async def volumes(self, filters: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The daemon's answer as is: ``{"Volumes": [...] or None, "Warnings": ...}``."""
        return await self._json(volume_calls.volumes(filters))

    async def create_volume(
        self,
        name: str | None = None,
        driver: str | None = None,
        driver_opts: Mapping[str, Any] | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Create (or, for an existing name, return) a volume; returns its inspect answer."""
        call = volume_calls.create_volume(
            await self.ensure_api_version(), name, driver, driver_opts, labels
        )
        return await self._json(call)

    async def inspect_volume(self, name: Any) -> dict[str, Any]:
        return await self._json(volume_calls.inspect_volume(name))

    async def prune_volumes(self, filters: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Delete unused volumes; returns ``VolumesDeleted`` and ``SpaceReclaimed``."""
        call = volume_calls.prune_volumes(await self.ensure_api_version(), filters)
        return await self._json(call)

    async def remove_volume(self, name: Any, force: bool = False) -> None:
        call = volume_calls.remove_volume(await self.ensure_api_version(), name, force)
        await self._discard(call)
