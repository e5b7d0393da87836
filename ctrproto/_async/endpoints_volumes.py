"""Volume endpoints of the low-level client (``/volumes``), docker-py's names and arguments."""

from __future__ import annotations

from .client_core import AsyncClientCore


class AsyncVolumeApiMixin(AsyncClientCore):
    """create_volume, volumes, inspect_volume, remove_volume, prune_volumes."""
