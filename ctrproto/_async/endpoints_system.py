"""Daemon-wide endpoints: ping, version, info."""

from __future__ import annotations

from typing import Any

from ..engine import endpoints
from .client_core import AsyncClientCore


class AsyncSystemApiMixin(AsyncClientCore):
    async def ping(self) -> bool:
        """True when the daemon answers ``/_ping`` with OK (raises otherwise)."""
        return endpoints.ping_ok(await self._text(endpoints.ping()))

    async def version(self, api_version: bool = True) -> dict[str, Any]:
        """The daemon's version information (``/version``)."""
        return await self._json(endpoints.version(api_version))

    async def info(self) -> dict[str, Any]:
        return await self._json(endpoints.info())
