"""The low-level client layer: the sync HTTP driver, the pool and the endpoint methods."""

from .client import APIClient

__all__ = ["APIClient"]
