"""``docker.context``: the docker CLI's contexts (``ContextAPI``, ``Context``), read and written
in the CLI's own store format."""

from __future__ import annotations

from .api import ContextAPI
from .context import Context

__all__ = ["Context", "ContextAPI"]
