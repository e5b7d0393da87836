"""The decisions of ``containers.run()`` in the foreground that need no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import Conflict, NotFound
from .versions import version_lt

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


def exit_condition(api_version: str, auto_remove: bool) -> str | None:
    """What the wait registered before the start waits for, as the docker CLI chooses it: the
    removal of an auto-removed container, otherwise its next exit; ``None`` before API 1.30,
    which has no wait conditions."""
    if version_lt(api_version, "1.30"):
        return None
    return "removed" if auto_remove else "next-exit"
