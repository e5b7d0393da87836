"""Bases of the facade's objects: a cached ``attrs`` dict plus the collection that can refresh it.

Equality, hashing and ``repr`` follow docker-py so that code keeping containers in sets or dicts,
or printing them in logs, behaves the same after switching the import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from .client import DockerClient

__all__ = ["Attrs", "Collection", "Model"]


class Attrs:
    """An object seen through the last answer the daemon gave for it: identity and ``attrs``.

    Shared by the sync models and the asyncio ones, which differ only in how they reload.
    """

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


class Model(Attrs):
    """A server object seen through the last inspect (or list) answer the client got for it."""

    def __init__(
        self,
        attrs: dict[str, Any] | None = None,
        client: DockerClient | None = None,
        collection: Collection[Any] | None = None,
    ) -> None:
        #: The raw representation of this object from the server (refreshed by :meth:`reload`).
        self.attrs = attrs if attrs is not None else {}
        self.client = client
        self.collection = collection

    def reload(self) -> None:
        """Inspect the object again; every cached property reads from the new ``attrs``."""
        if self.collection is None:
            raise RuntimeError(f"{self!r} has no collection to reload it from")
        self.attrs = self.collection.get(self.id).attrs


ModelT = TypeVar("ModelT", bound=Model)


class Collection(Generic[ModelT]):
    """A family of server objects (``client.containers``, ``client.images``)."""

    #: The model class built from the daemon's answers.
    model: type[ModelT]

    def __init__(self, client: DockerClient) -> None:
        self.client = client

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        # docker-py's old API had ``client.containers()``; say where that moved instead of a
        # confusing "object is not callable".
        name = type(self).__name__
        raise TypeError(
            f"'{name}' object is not callable. You might be trying to use the old low-level "
            f"API; it is available as DockerClient.api (e.g. client.api.containers())."
        )

    def get(self, key: str) -> ModelT:
        raise NotImplementedError

    def prepare_model(self, attrs: dict[str, Any] | Model) -> ModelT:
        """Wrap a daemon answer (or re-home an existing model) in this collection's model."""
        if isinstance(attrs, Model):
            attrs.client = self.client
            attrs.collection = self
            return attrs  # type: ignore[return-value]
        return self.model(attrs=attrs, client=self.client, collection=self)
