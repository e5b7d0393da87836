"""Network endpoints of the low-level client (``/networks``), docker-py's names and arguments."""

from __future__ import annotations

from .client_core import AsyncClientCore


class AsyncNetworkApiMixin(AsyncClientCore):
    """create_network, networks, inspect_network, remove_network, connect/disconnect, prune."""
