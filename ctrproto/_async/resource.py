"""Bases of the facade's objects: a cached ``attrs`` dict plus the collection that can refresh it.

What the objects read from ``attrs`` is sans-IO (:mod:`ctrproto.engine.model_state`); this adds
what needs the client: the bound client and collection, and reloading.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ..engine.model_state import Attrs

if TYPE_CHECKING:
    from .docker_client import AsyncDockerClient

__all__ = ["AsyncCollection", "AsyncModel"]


class AsyncModel(Attrs):
    """A server object seen through the last inspect (or list) answer the client got for it."""

    def __init__(
        self,
        attrs: dict[str, Any] | None = None,
        client: AsyncDockerClient | None = None,
        collection: AsyncCollection[Any] | None = None,
    ) -> None:
        #: The raw representation of this object from the server (refreshed by :meth:`reload`).
        self.attrs = attrs if attrs is not None else {}
        self.client = client
        self.collection = collection

    async def reload(self) -> None:
        """Inspect the object again; every cached property reads from the new ``attrs``."""
        if self.collection is None:
            raise RuntimeError(f"{self!r} has no collection to reload it from")
        self.attrs = (await self.collection.get(self.id)).attrs


ModelT = TypeVar("ModelT", bound=AsyncModel)


class AsyncCollection(Generic[ModelT]):
    """A family of server objects (``client.containers``, ``client.images``)."""

    #: The model class built from the daemon's answers.
    model: type[ModelT]

    def __init__(self, client: AsyncDockerClient) -> None:
        self.client = client

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        # docker-py's old API had ``client.containers()``; say where that moved instead of a
        # confusing "object is not callable".
        name = type(self).__name__
        raise TypeError(
            f"'{name}' object is not callable. You might be trying to use the old low-level "
            f"API; it is available as DockerClient.api (e.g. client.api.containers())."
        )

    async def get(self, key: str) -> ModelT:
        raise NotImplementedError

    def prepare_model(self, attrs: dict[str, Any] | AsyncModel) -> ModelT:
        """Wrap a daemon answer (or re-home an existing model) in this collection's model."""
        if isinstance(attrs, AsyncModel):
            attrs.client = self.client
            attrs.collection = self
            return attrs  # type: ignore[return-value]
        return self.model(attrs=attrs, client=self.client, collection=self)
