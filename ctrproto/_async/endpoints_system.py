"""Daemon-wide endpoints: ping, version, info, events, disk usage and registry login."""

from __future__ import annotations

import os
from typing import Any

from ..auth import INDEX_NAME, load_config
from ..engine import endpoints, system_calls
from .cancellable import AsyncCancellableStream, cancellable
from .client_core import AsyncClientCore
from .stream_shapes import decoded_batches, json_batches


class AsyncSystemApiMixin(AsyncClientCore):
    async def ping(self) -> bool:
        """True when the daemon answers ``/_ping`` with OK (raises otherwise)."""
        return endpoints.ping_ok(await self._text(endpoints.ping()))

    async def version(self, api_version: bool = True) -> dict[str, Any]:
        """The daemon's version information (``/version``)."""
        return await self._json(endpoints.version(api_version))

    async def info(self) -> dict[str, Any]:
        return await self._json(endpoints.info())

    async def df(self) -> dict[str, Any]:
        """Disk usage: ``LayersSize``, ``Images``, ``Containers``, ``Volumes``, ``BuildCache``."""
        return await self._json(system_calls.df(await self.ensure_api_version()))

    async def events(
        self,
        since: Any = None,
        until: Any = None,
        filters: dict[str, Any] | None = None,
        decode: bool | None = None,
    ) -> AsyncCancellableStream[Any]:
        """The daemon's events, each handed out as soon as it arrives: the bytes of one event
        (its JSON line), or with ``decode=True`` the decoded dict.  ``close()`` ends the stream
        from any thread (or task), as docker-py's ``CancellableStream``.

        ``since``/``until`` take a ``datetime`` or epoch seconds; with ``until`` the stream ends
        by itself once the daemon reaches it, otherwise it follows until closed.  The request
        is sent here, and a refusal raises :class:`~ctrproto.errors.APIError` from this call
        (docker-py's stream swallows it and simply ends, its APIError being an OSError).
        """
        call = system_calls.events(since, until, filters)
        response = await self._perform(call)
        pieces = response.aiter_raw()
        return cancellable(
            response,
            json_batches(pieces) if decode else decoded_batches(system_calls.EventLines(), pieces),
        )

    async def login(
        self,
        username: str,
        password: str | None = None,
        email: str | None = None,
        registry: str | None = None,
        reauth: bool = False,
        dockercfg_path: str | None = None,
    ) -> dict[str, Any]:
        """Check credentials with a registry (``docker login``) and keep them for pull/push.

        As docker-py: the CLI's config (``dockercfg_path`` when it exists) is read when nothing
        is cached yet; credentials already known for ``registry`` under the same ``username``
        are returned as they are, without asking the daemon, unless ``reauth``.
        """
        if dockercfg_path and os.path.exists(dockercfg_path):
            self._auth_configs = load_config(dockercfg_path, credstore_env=self.credstore_env)
        elif not self._auth_configs or self._auth_configs.is_empty:
            self._auth_configs = load_config(credstore_env=self.credstore_env)
        known = self._auth_configs.resolve_authconfig(registry)
        if known and known.get("username") == username and not reauth:
            return known
        call = system_calls.login(username, password, email, registry)
        async with await self._perform(call) as response:
            answer = call.result(await response.json())
        if response.status_code == 200:
            self._auth_configs.add_auth(
                registry or INDEX_NAME,
                system_calls.login_entry(username, password, email, registry),
            )
        return answer

    def reload_config(self, dockercfg_path: str | None = None) -> None:
        """Read the credentials from the CLI's config again (or from ``dockercfg_path``)."""
        self._auth_configs = load_config(dockercfg_path, credstore_env=self.credstore_env)

