"""What the facades' objects read from the daemon's last answer about them, without I/O.

Equality, hashing and ``repr`` follow docker-py so that code keeping containers in sets or dicts,
or printing them in logs, behaves the same after switching the import.  Both worlds' models
inherit these properties; only reloading and the calls they make differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class Attrs:
    """An object seen through the last answer the daemon gave for it: identity and ``attrs``."""

    #: The key of ``attrs`` that holds the object's id.
    id_attribute = "Id"
    #: The raw representation of this object from the server.
    attrs: dict[str, Any]

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.short_id}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, type(self)) and self.id == other.id

    def __hash__(self) -> int:
        return hash(f"{type(self).__name__}:{self.id}")

    @property
    def id(self) -> str:
        """The object's full id."""
        value: str = self.attrs.get(self.id_attribute) or ""
        return value

    @property
    def short_id(self) -> str:
        """The id truncated to 12 characters, as the CLI prints it."""
        return self.id[:12]


class ContainerState(Attrs):
    """A container's properties, read from its cached ``attrs``."""

    @property
    def name(self) -> str | None:
        """The name without its leading slash (also for objects from a sparse list)."""
        name = self.attrs.get("Name")
        if name is None:
            names = self.attrs.get("Names") or []
            name = names[0] if names else None
        return name.lstrip("/") if isinstance(name, str) else None

    @property
    def labels(self) -> dict[str, str]:
        config = self.attrs.get("Config")
        labels = config.get("Labels") if isinstance(config, Mapping) else self.attrs.get("Labels")
        return dict(labels or {})

    @property
    def status(self) -> str | None:
        """``created``, ``running``, ``paused``, ``restarting``, ``exited``, ``dead``..."""
        state = self.attrs.get("State")
        if isinstance(state, Mapping):
            status: str | None = state.get("Status")
            return status
        return state if isinstance(state, str) else None

    @property
    def health(self) -> str:
        """``starting``, ``healthy`` or ``unhealthy``; ``unknown`` without a healthcheck."""
        state = self.attrs.get("State")
        health = state.get("Health") if isinstance(state, Mapping) else None
        result: str = (health or {}).get("Status", "unknown")
        return result

    @property
    def ports(self) -> dict[str, Any]:
        """Published ports as inspect reports them (``NetworkSettings.Ports``)."""
        settings = self.attrs.get("NetworkSettings") or {}
        return dict(settings.get("Ports") or {})


class ImageState(Attrs):
    """An image's properties, read from its cached ``attrs``."""

    def __repr__(self) -> str:
        return "<{}: '{}'>".format(type(self).__name__, "', '".join(self.tags))

    @property
    def short_id(self) -> str:
        """The id with its ``sha256:`` prefix and 12 hex digits, as the CLI shows it."""
        if self.id.startswith("sha256:"):
            return self.id[:19]
        return self.id[:12]

    @property
    def tags(self) -> list[str]:
        """Repository tags, without the ``<none>:<none>`` placeholder of untagged images."""
        return [tag for tag in self.attrs.get("RepoTags") or [] if tag != "<none>:<none>"]

    @property
    def labels(self) -> dict[str, str]:
        config = self.attrs.get("Config") or {}
        labels: dict[str, str] = config.get("Labels") or {}
        return labels
