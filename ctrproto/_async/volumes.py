"""``client.volumes``: create, get, list, prune; ``Volume`` with remove."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any

from .resource import AsyncCollection, AsyncModel

__all__ = ["AsyncVolume", "AsyncVolumeCollection"]


class AsyncVolume(AsyncModel):
    """A volume, as last inspected; its id is its name."""

    id_attribute = "Name"

    @property
    def name(self) -> str:
        name: str = self.attrs["Name"]
        return name

    async def remove(self, force: bool = False) -> None:
        """``force`` forgets a volume its driver already lost; a volume in use stays (409)."""
        if self.client is None:
            raise RuntimeError(f"{self!r} is not bound to a client")
        await self.client.api.remove_volume(self.id, force=force)


class AsyncVolumeCollection(AsyncCollection[AsyncVolume]):
    model = AsyncVolume

    async def create(self, name: str | None = None, **kwargs: Any) -> AsyncVolume:
        """``driver``, ``driver_opts``, ``labels``; no name: the daemon makes one up."""
        return self.prepare_model(await self.client.api.create_volume(name, **kwargs))

    async def get(self, volume_id: str) -> AsyncVolume:
        """By name; ``NotFound`` when there is no such volume."""
        return self.prepare_model(await self.client.api.inspect_volume(volume_id))

    async def list(self, **kwargs: Any) -> builtins.list[AsyncVolume]:
        """``filters`` (``label``, ``dangling``, ``name``, ``driver``)."""
        answer = await self.client.api.volumes(**kwargs)
        return [self.prepare_model(item) for item in answer.get("Volumes") or []]

    async def prune(self, filters: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Delete unused volumes; returns ``VolumesDeleted`` and ``SpaceReclaimed``."""
        return await self.client.api.prune_volumes(filters=filters)
