"""Container endpoints of the low-level client: listing, creation, lifecycle and changes.

Named and shaped like docker-py's ``APIClient`` methods so that code built on it ports; output
streams (logs, attach, export, archives, stats) live in :mod:`.endpoints_container_io`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..engine import endpoints
from ..engine.endpoints import DEFAULT_STOP_GRACE
from ..types import EndpointConfig
from .client_core import AsyncClientCore
from .http_driver import AsyncResponse


class AsyncContainerApiMixin(AsyncClientCore):
    # ------------------------------------------------------------------ listing and inspecting

    async def containers(
        self,
        quiet: bool = False,
        all: bool = False,
        trunc: bool = False,
        latest: bool = False,
        since: str | None = None,
        before: str | None = None,
        limit: int = -1,
        size: bool = False,
        filters: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        return await self._json(
            endpoints.containers(quiet, all, trunc, latest, since, before, limit, size, filters)
        )

    async def inspect_container(self, container: Any) -> dict[str, Any]:
        return await self._json(endpoints.inspect_container(container))

    async def port(self, container: Any, private_port: int | str) -> list[Any] | None:
        """The host bindings of ``private_port`` (``[{"HostIp": ..., "HostPort": ...}]``), or
        ``None`` when it is not published; ``"53/udp"`` names the protocol, else tcp, udp and
        sctp are tried in turn (``docker port``)."""
        inspected = await self._json(endpoints.inspect_container(container))
        return endpoints.host_ports(inspected, private_port)

    async def diff(self, container: Any) -> list[dict[str, Any]]:
        """Filesystem changes (``Path``, ``Kind``); the daemon's ``null`` becomes ``[]``."""
        return await self._json(endpoints.diff(container))

    async def top(self, container: Any, ps_args: str | None = None) -> dict[str, Any]:
        return await self._json(endpoints.top(container, ps_args))

    # ------------------------------------------------------------------ creation

    async def create_container_from_config(
        self, config: Mapping[str, Any], name: str | None = None, platform: str | None = None
    ) -> dict[str, Any]:
        """POST /containers/create with a ready Engine API body.

        404 means the image is missing (``ImageNotFound``), so that ``run()`` knows to pull.
        """
        return await self._json(
            endpoints.create_container_from_config(
                await self.ensure_api_version(), config, name, platform
            )
        )

    async def create_container(
        self,
        image: str,
        command: str | list[str] | None = None,
        hostname: str | None = None,
        user: str | int | None = None,
        detach: bool = False,
        stdin_open: bool = False,
        tty: bool = False,
        ports: Any = None,
        environment: Mapping[str, Any] | list[str] | None = None,
        volumes: str | list[str] | Mapping[str, Any] | None = None,
        network_disabled: bool = False,
        name: str | None = None,
        entrypoint: str | list[str] | None = None,
        working_dir: str | None = None,
        domainname: str | None = None,
        host_config: Mapping[str, Any] | None = None,
        mac_address: str | None = None,
        labels: Mapping[str, str] | list[str] | None = None,
        stop_signal: str | None = None,
        networking_config: Mapping[str, Any] | None = None,
        healthcheck: Mapping[str, Any] | None = None,
        stop_timeout: int | None = None,
        runtime: str | None = None,
        use_config_proxy: bool = True,
        platform: str | None = None,
    ) -> dict[str, Any]:
        """Create a container; returns ``{"Id": ..., "Warnings": [...]}``.

        ``ports`` lists ports to expose and ``volumes`` container paths, as in docker-py; bind
        them with ``host_config=client.create_host_config(port_bindings=..., binds=...)``.
        With ``use_config_proxy`` the proxies of the CLI's config.json for this daemon go into
        the environment (first, so that ``environment`` wins), as docker-py does.
        """
        return await self._json(
            endpoints.create_container(
                await self.ensure_api_version(),
                image,
                command,
                ports=ports,
                volumes=volumes,
                host_config=host_config,
                networking_config=networking_config,
                runtime=runtime,
                hostname=hostname,
                user=user,
                detach=detach,
                stdin_open=stdin_open,
                tty=tty,
                environment=environment,
                network_disabled=network_disabled,
                name=name,
                entrypoint=entrypoint,
                working_dir=working_dir,
                domainname=domainname,
                mac_address=mac_address,
                labels=labels,
                stop_signal=stop_signal,
                healthcheck=healthcheck,
                stop_timeout=stop_timeout,
                use_config_proxy=use_config_proxy,
                platform=platform,
                proxy_config=self._proxy_entry,
            )
        )

    async def create_host_config(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """A ``HostConfig`` dict for ``create_container(host_config=...)``.

        Takes docker-py's ``HostConfig`` keywords (``binds``, ``port_bindings``, ``mem_limit`` ...);
        checked against the negotiated API version unless ``version`` is given.
        """
        if args:
            raise TypeError("create_host_config() takes keyword arguments only")
        version = kwargs.pop("version", None) or await self.ensure_api_version()
        from ..engine import api_config

        return api_config.host_config(version, **kwargs)

    def create_networking_config(
        self, endpoints_config: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        from ..engine import api_config

        return api_config.networking_config(endpoints_config)

    async def create_endpoint_config(self, *args: Any, **kwargs: Any) -> EndpointConfig:
        return EndpointConfig(await self.ensure_api_version(), *args, **kwargs)

    # ------------------------------------------------------------------ lifecycle

    async def start(self, container: Any, *args: Any, **kwargs: Any) -> None:
        await self._discard(endpoints.start(container, *args, **kwargs))

    async def stop(self, container: Any, timeout: int | None = None) -> None:
        await self._discard(endpoints.stop(container, timeout))

    async def restart(self, container: Any, timeout: int | None = DEFAULT_STOP_GRACE) -> None:
        await self._discard(endpoints.restart(container, timeout))

    async def kill(self, container: Any, signal: str | int | None = None) -> None:
        """Send a signal, by name (``"SIGUSR1"``, ``"HUP"``) or number; default ``SIGKILL``."""
        await self._discard(endpoints.kill(container, signal))

    async def pause(self, container: Any) -> None:
        await self._discard(endpoints.pause(container))

    async def unpause(self, container: Any) -> None:
        await self._discard(endpoints.unpause(container))

    async def wait(
        self, container: Any, timeout: float | None = None, condition: str | None = None
    ) -> dict[str, Any]:
        """Block until the container stops; ``timeout`` raises :class:`ReadTimeout` past it.

        ``timeout=None`` waits as long as it takes: the client's request timeout would cut
        legitimate long waits.
        """
        return await self._json(
            endpoints.wait(await self.ensure_api_version(), container, timeout, condition)
        )

    async def _wait_registered(self, container: Any, condition: str) -> AsyncResponse:
        """A wait whose answer's head has arrived: the daemon sends it once the wait is
        registered, and the body (the exit status) when the condition is met.  Read the body
        with ``json()``; closing the response cancels the wait."""
        call = endpoints.wait(await self.ensure_api_version(), container, None, condition)
        return await self._perform(call)

    async def remove_container(
        self, container: Any, v: bool = False, link: bool = False, force: bool = False
    ) -> None:
        await self._discard(endpoints.remove_container(container, v, link, force))

    async def prune_containers(self, filters: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Remove stopped containers; returns ``ContainersDeleted`` and ``SpaceReclaimed``."""
        return await self._json(endpoints.prune_containers(filters))

    # ------------------------------------------------------------------ changes

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
        return await self._json(
            endpoints.update_container(
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
        )

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
        """Make an image of the container; returns ``{"Id": "sha256:..."}``.

        ``conf`` is a container config (``Cmd``, ``Env`` ...) for the new image; ``changes`` are
        Dockerfile instructions applied on top.
        """
        return await self._json(
            endpoints.commit(container, repository, tag, message, author, pause, changes, conf)
        )
