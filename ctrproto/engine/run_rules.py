"""The decisions of ``containers.run()`` in the foreground that need no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import Conflict, NotFound

#: The drivers whose output the daemon can give back (the spec's "Returns" paragraph).
READABLE_LOG_DRIVERS = frozenset({"json-file", "journald"})


def logs_readable(attrs: Mapping[str, Any]) -> bool:
    """Whether the container's log driver lets the daemon give its output back."""
    driver = ((attrs.get("HostConfig") or {}).get("LogConfig") or {}).get("Type")
    return driver in READABLE_LOG_DRIVERS


def already_removed(exc: Exception) -> bool:
    """A removal error that means the container is gone or going (daemon-side auto-remove)."""
    if isinstance(exc, NotFound):
        return True
    return isinstance(exc, Conflict) and "in progress" in (exc.explanation or "")
