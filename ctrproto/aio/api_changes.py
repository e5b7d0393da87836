"""``AsyncAPIClient`` methods that change containers and images: pause, rename, commit, tag ...

Each is one shared builder of :mod:`ctrproto.engine.endpoints` performed by the core and read as
the sync method reads it, so arguments, checks and results cannot drift from ``APIClient``'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..engine import endpoints
from .core import AsyncClientCore


class AsyncContainerOpsMixin(AsyncClientCore):
    # ------------------------------------------------------------------ containers

    async def diff(self, container: Any) -> list[dict[str, Any]]:
        """Filesystem changes (``Path``, ``Kind``); ``[]`` when there are none."""
        result: list[dict[str, Any]] = await self._json(endpoints.diff(container))
        return result

    async def top(self, container: Any, ps_args: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = await self._json(endpoints.top(container, ps_args))
        return result

    async def pause(self, container: Any) -> None:
        await self._discard(endpoints.pause(container))

    async def unpause(self, container: Any) -> None:
        await self._discard(endpoints.unpause(container))

    async def rename(self, container: Any, name: str) -> None:
        await self._discard(endpoints.rename(container, name))

    async def resize(self, container: Any, height: int, width: int) -> None:
        """Resize the container's TTY (only meaningful for ``tty=True`` containers)."""
        await self._discard(endpoints.resize(container, height, width))

    async def update_container(
        self,
        container: Any,
        blkio_weight: int | None = None,
        cpu_period: int | None = None,
        cpu_quota: int | None = None,
        cpu_shares: int | None = None,
        cpuset_cpus: str | None = None,
        cpuset_mems: str | None = None,
        mem_limit: str | int | None = None,
        mem_reservation: str | int | None = None,
        memswap_limit: str | int | None = None,
        kernel_memory: str | int | None = None,
        restart_policy: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Change resource limits of a live container; returns the daemon's ``Warnings``."""
        call = endpoints.update_container(
            await self.ensure_api_version(),
            container,
            blkio_weight,
            cpu_period,
            cpu_quota,
            cpu_shares,
            cpuset_cpus,
            cpuset_mems,
            mem_limit,
            mem_reservation,
            memswap_limit,
            kernel_memory,
            restart_policy,
        )
        result: dict[str, Any] = await self._json(call)
        return result

    async def prune_containers(self, filters: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Remove stopped containers; returns ``ContainersDeleted`` and ``SpaceReclaimed``."""
        result: dict[str, Any] = await self._json(endpoints.prune_containers(filters))
        return result

    async def commit(
        self,
        container: Any,
        repository: str | None = None,
        tag: str | None = None,
        message: str | None = None,
        author: str | None = None,
        pause: bool = True,
        changes: str | list[str] | None = None,
        conf: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Make an image of the container; returns ``{"Id": "sha256:..."}``."""
        call = endpoints.commit(container, repository, tag, message, author, pause, changes, conf)
        result: dict[str, Any] = await self._json(call)
        return result

    async def exec_resize(
        self, exec_id: Any, height: int | None = None, width: int | None = None
    ) -> None:
        await self._discard(endpoints.exec_resize(exec_id, height, width))

    # ------------------------------------------------------------------ images

    async def remove_image(
        self, image: Any, force: bool = False, noprune: bool = False
    ) -> list[Any]:
        """Untag/delete an image; returns the daemon's ``Untagged``/``Deleted`` entries."""
        result: list[Any] = await self._json(endpoints.remove_image(image, force, noprune))
        return result

    async def tag(
        self, image: Any, repository: str, tag: str | None = None, force: bool = False
    ) -> bool:
        """Add the reference ``repository:tag`` to ``image``; True when the daemon did."""
        call = endpoints.tag(image, repository, tag, force)
        async with await self._perform(call) as response:
            await response.read()
            return call.succeeded(response.status_code)
