"""Daemon-wide endpoints: ping, version, info."""

from __future__ import annotations

from typing import Any

from ..engine import endpoints
from .base import BaseClient


class SystemApiMixin(BaseClient):
    def ping(self) -> bool:
        """True when the daemon answers ``/_ping`` with OK (raises otherwise)."""
        return endpoints.ping_ok(self._text(self._call(endpoints.ping())))

    def version(self, api_version: bool = True) -> dict[str, Any]:
        """The daemon's version information (``/version``)."""
        result: dict[str, Any] = self._call_json(endpoints.version(api_version))
        return result

    def info(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call_json(endpoints.info())
        return result
