"""``docker.utils.fnmatch``: ``.dockerignore`` pattern matching (``**`` crosses directories).

Re-exported from :mod:`ctrproto.engine.build_rules`.
"""

from __future__ import annotations

from ..engine.build_rules import fnmatch

__all__ = ["fnmatch"]
