"""``docker.api.client``: the low-level :class:`APIClient` (re-exported from ``ctrproto._sync``)."""

from .._sync.api_client import APIClient

__all__ = ["APIClient"]
