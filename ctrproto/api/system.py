"""Daemon-wide endpoints: ping, version, info."""

from __future__ import annotations

from typing import Any

from .base import BaseClient


class SystemApiMixin(BaseClient):
    def ping(self) -> bool:
        """True when the daemon answers ``/_ping`` with OK (raises otherwise)."""
        return self._text(self._get("/_ping", versioned=False)) == "OK"

    def version(self, api_version: bool = True) -> dict[str, Any]:
        """The daemon's version information (``/version``)."""
        result: dict[str, Any] = self._json(self._get("/version", versioned=api_version))
        return result

    def info(self) -> dict[str, Any]:
        result: dict[str, Any] = self._json(self._get("/info"))
        return result
