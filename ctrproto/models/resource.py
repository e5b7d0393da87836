"""``docker.models.resource``: the ``Model`` and ``Collection`` bases of the sync facade."""

from .._sync.resource import Collection, Model

__all__ = ["Collection", "Model"]
