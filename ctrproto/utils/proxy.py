"""``docker.utils.proxy``: :class:`ProxyConfig`, the docker CLI's proxy settings for containers.

The entry of config.json's ``proxies`` for a daemon becomes environment variables of the
containers created through it (lower- and upper-case, prepended so that the container's own
``environment`` wins).  Built on :mod:`ctrproto.engine.create_config`'s ``proxy_environment``,
which the clients use for the same injection.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..engine.create_config import proxy_environment

__all__ = ["ProxyConfig"]


class ProxyConfig(dict[str, Any]):
    """``http``/``https``/``ftp``/``no_proxy`` values (docker-py's keys)."""

    @property
    def http(self) -> str | None:
        return self.get("http")

    @property
    def https(self) -> str | None:
        return self.get("https")

    @property
    def ftp(self) -> str | None:
        return self.get("ftp")

    @property
    def no_proxy(self) -> str | None:
        return self.get("no_proxy")

    @staticmethod
    def from_dict(config: Mapping[str, Any]) -> ProxyConfig:
        """From one entry of config.json's ``proxies`` (``httpProxy``, ``noProxy`` ...)."""
        return ProxyConfig(
            http=config.get("httpProxy"),
            https=config.get("httpsProxy"),
            ftp=config.get("ftpProxy"),
            no_proxy=config.get("noProxy"),
        )

    def _cli_entry(self) -> dict[str, str]:
        names = {"http": "httpProxy", "https": "httpsProxy", "ftp": "ftpProxy"}
        names["no_proxy"] = "noProxy"
        return {cli: self[key] for key, cli in names.items() if self.get(key)}

    def get_environment(self) -> dict[str, str]:
        """``{"http_proxy": ..., "HTTP_PROXY": ...}`` for the values that are set."""
        entries = proxy_environment(self._cli_entry())
        return dict(entry.split("=", 1) for entry in entries)

    def inject_proxy_environment(self, environment: list[str] | None) -> list[str] | None:
        """``environment`` (``K=V`` strings) with the proxy variables put first."""
        if not self:
            return environment
        proxy_env = [f"{key}={value}" for key, value in self.get_environment().items()]
        if not environment:
            return proxy_env
        return proxy_env + environment

    def __str__(self) -> str:
        return (
            f"ProxyConfig(http={self.http}, https={self.https}, "
            f"ftp={self.ftp}, no_proxy={self.no_proxy})"
        )
