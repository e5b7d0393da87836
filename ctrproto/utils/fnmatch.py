"""``docker.utils.fnmatch``: ``.dockerignore`` pattern matching (``**`` crosses directories).

Re-exported from :mod:`ctrproto.engine.build_context`.
"""

from __future__ import annotations

from ..engine.build_context import fnmatch

__all__ = ["fnmatch"]
