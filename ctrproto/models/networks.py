"""``docker.models.networks``' place: the sync ``Network`` and ``NetworkCollection``."""

from .._sync.networks import Network, NetworkCollection

__all__ = ["Network", "NetworkCollection"]
