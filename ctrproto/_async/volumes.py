"""``client.volumes``: create, get, list, prune; ``Volume`` with remove."""

from __future__ import annotations

from .resource import AsyncCollection, AsyncModel

__all__ = ["AsyncVolume", "AsyncVolumeCollection"]


class AsyncVolume(AsyncModel):
    """A volume, as last inspected."""


class AsyncVolumeCollection(AsyncCollection[AsyncVolume]):
    model = AsyncVolume
