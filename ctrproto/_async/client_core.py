"""The low-level client's core: addressing, version negotiation, performing calls, errors.

Endpoint groups (containers, exec, images, system) are mixins over this class, each in its own
module, named like docker-py's ``APIClient`` methods so that code built on it ports unchanged.
No protocol logic lives here: requests are :class:`~ctrproto.engine.endpoints.Call` values built
by :mod:`ctrproto.engine.endpoints`, errors come from :mod:`ctrproto.engine.responses`; this class
only performs them over the pool.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import AsyncIterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from .._backends import asyncio as backend
from ..auth import (
    INDEX_NAME,
    INDEX_URL,
    AuthConfig,
    load_config,
    resolve_authconfig,
    resolve_repository_name,
)
from ..config import load_general_config, proxy_entry, requests_base_url
from ..engine import endpoints
from ..engine.defaults import DEFAULT_MAX_POOL_SIZE, DEFAULT_TIMEOUT
from ..engine.endpoints import DEFAULT, Call
from ..engine.responses import MAX_ERROR_BODY, REDIRECTS, api_error, redirect_error
from ..engine.versions import negotiate, normalize_version
from ..errors import DockerConnectionError, InvalidAddress, InvalidVersion
from ..protocol.request import DEFAULT_USER_AGENT, Request, build_request
from ..transport.base import AsyncTransport
from .connection_pool import AsyncConnectionPool
from .hijacked_socket import AsyncHijackedSocket
from .http_driver import AsyncHTTPDriver, AsyncResponse
from .stream_shapes import no_pieces

if TYPE_CHECKING:
    from ..utils.proxy import ProxyConfig

T = TypeVar("T")


class AsyncClientCore:
    """Talks to one daemon.  ``base_url`` takes the forms of ``DOCKER_HOST``; ``version`` is
    ``"auto"`` (negotiate once, on the first request that needs it: the default) or explicit."""

    def __init__(
        self,
        base_url: str | None = None,
        version: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        tls: Any = False,
        user_agent: str = DEFAULT_USER_AGENT,
        num_pools: int | None = None,
        credstore_env: Mapping[str, str] | None = None,
        use_ssh_client: bool = False,
        max_pool_size: int = DEFAULT_MAX_POOL_SIZE,
        transport: AsyncTransport | None = None,
        **transport_options: Any,
    ) -> None:
        #: The daemon's address, as given (``DOCKER_HOST`` forms).
        self.daemon_url = base_url or "unix:///var/run/docker.sock"
        self.timeout = timeout
        self.user_agent = user_agent
        #: Headers sent with every request, as docker-py's ``APIClient.headers`` (testcontainers
        #: sets its session id and ``User-Agent`` here); a call's own headers take precedence.
        self.headers: dict[str, str] = {"User-Agent": user_agent}
        self.credstore_env = credstore_env
        self._transport = transport or backend.make_transport(
            base_url, tls=tls, use_ssh_client=use_ssh_client, **transport_options
        )
        #: docker-py's ``base_url``: the URL prefix of its requests (``http+docker://localhost``
        #: for a Unix socket), which code built on docker-py compares and formats URLs with.
        self.base_url = _requests_base_url(base_url, tls)
        #: The docker CLI's config.json (``{}`` without one), read once, as docker-py does;
        #: its ``detachKeys``, ``HttpHeaders`` and ``proxies`` apply to this client's requests.
        self._general_configs: dict[str, Any] = load_general_config()
        # This daemon's ``proxies`` entry; ``_proxy_configs`` is made from it on first use.
        self._proxy_source = proxy_entry(self._general_configs, base_url)
        self._proxy_config_value: ProxyConfig | None = None
        # As docker-py, the credential sections move out of _general_configs into here.
        self._auth_configs: AuthConfig = load_config(
            config_dict=self._general_configs, credstore_env=credstore_env
        )
        self._pool = AsyncConnectionPool(self._transport, max_idle=max_pool_size)
        # A client dropped without close() still gives its connections back (no ResourceWarning
        # for the idle sockets); the finalizer holds the pool, never the client.
        self._finalizer = weakref.finalize(self, _close_quietly, self._pool)
        self._driver = AsyncHTTPDriver(self._pool)
        self._version_lock = backend.Lock()
        self._negotiated: str | None = None
        if version is not None and version.lower() != "auto":
            self._negotiated = normalize_version(version)

    # ------------------------------------------------------------------ version

    # unasync: async-only
    @property
    def api_version(self) -> str | None:
        """The API version in use, or ``None`` until negotiated (see :meth:`ensure_api_version`):
        a property cannot await."""
        return self._negotiated

    @property
    def _version(self) -> str | None:
        """docker-py's name for :attr:`api_version`."""
        return self._negotiated

    # unasync: sync-only
    # @property
    # def api_version(self) -> str:
    #     """The API version in use; negotiated with the daemon on first need ("auto")."""
    #     return self.ensure_api_version()
    #
    # @property
    # def _version(self) -> str:
    #     """docker-py's name for :attr:`api_version` (``'1.41'``); negotiates on first read."""
    #     return self.ensure_api_version()
    #
    # unasync: end
    @_version.setter
    def _version(self, value: str) -> None:
        self._negotiated = normalize_version(value)

    async def ensure_api_version(self) -> str:
        """The API version in use, negotiated with the daemon the first time ("auto")."""
        version = self._negotiated
        if version is None:
            async with self._version_lock:
                if self._negotiated is None:
                    self._negotiated = await self._negotiate_version()
                version = self._negotiated
        return version

    async def _negotiate_version(self) -> str:
        info = await self._json(endpoints.version(False))
        if not isinstance(info, dict) or "ApiVersion" not in info:
            raise InvalidVersion(f"the daemon's /version answer has no ApiVersion: {info!r}")
        return negotiate(str(info["ApiVersion"]), info.get("MinAPIVersion"))

    # ------------------------------------------------------------------ configuration

    @property
    def _proxy_configs(self) -> ProxyConfig:
        """docker-py's ``ProxyConfig`` of this daemon's config.json ``proxies`` entry (the one
        for the address as given, else ``default``); assignable, as docker-py's attribute."""
        if self._proxy_config_value is None:
            from ..utils.proxy import ProxyConfig  # on use: it brings the create converters

            self._proxy_config_value = ProxyConfig.from_dict(self._proxy_source)
        return self._proxy_config_value

    @_proxy_configs.setter
    def _proxy_configs(self, value: ProxyConfig) -> None:
        self._proxy_config_value = value

    @property
    def _proxy_entry(self) -> dict[str, str]:
        """:attr:`_proxy_configs` in config.json's spelling (``httpProxy`` ...): what
        ``create_container`` puts into the environment with ``use_config_proxy``."""
        configs = self._proxy_configs
        pairs = (
            ("httpProxy", configs.http),
            ("httpsProxy", configs.https),
            ("ftpProxy", configs.ftp),
            ("noProxy", configs.no_proxy),
        )
        return {key: value for key, value in pairs if isinstance(value, str) and value}

    def _auth_config_for(self, repository: str) -> dict[str, Any] | None:
        """The credentials pull and push send for ``repository`` when given none: its
        registry's entry in the CLI's config (a credential helper's answer included), or
        ``None`` for an anonymous request.  Reads the config again while none is cached, as
        docker-py's ``auth.get_config_header`` does.  (A helper is a subprocess: under asyncio
        this briefly blocks the loop.)"""
        registry, _ = resolve_repository_name(repository)
        if not self._auth_configs or self._auth_configs.is_empty:
            self._auth_configs = load_config(credstore_env=self.credstore_env)
        return resolve_authconfig(self._auth_configs, registry, credstore_env=self.credstore_env)

    def _all_auth_configs(self) -> dict[str, Any] | None:
        """Every credential the CLI's config holds, as a build sends them
        (``X-Registry-Config``), or ``None`` when there are none; docker-py's rules: with a
        ``credsStore``, Docker Hub's entry is also given under the full index URL."""
        if not self._auth_configs or self._auth_configs.is_empty:
            self._auth_configs = load_config(credstore_env=self.credstore_env)
        everything = self._auth_configs.get_all_credentials()
        creds_store = self._auth_configs.creds_store
        if creds_store and INDEX_URL not in everything and INDEX_NAME in everything:
            everything[INDEX_URL] = everything.get(INDEX_NAME, {})
        return everything or None

    # ------------------------------------------------------------------ performing calls

    async def _request_for(self, call: Call[Any], upgrade: bool = False) -> Request:
        user_agent, headers = self._headers_for(call)
        return build_request(
            call.method,
            call.endpoint,
            api_version=await self.ensure_api_version() if call.versioned else None,
            params=call.params,
            json_body=call.json,
            streamed_body=call.streamed_body,
            headers=headers,
            host=self._transport.host_header,
            user_agent=user_agent,
            upgrade=upgrade,
        )

    def _headers_for(self, call: Call[Any]) -> tuple[str, Mapping[str, str] | None]:
        """The ``User-Agent`` and the other headers of a request: the client's, then the call's,
        then config.json's ``HttpHeaders`` (docker-py puts those over the call's).

        Most clients hold only their ``User-Agent``, which takes no merging per request.
        """
        common = self.headers
        configured = self._general_configs.get("HttpHeaders")
        if len(common) == 1 and "User-Agent" in common and not configured:
            return common["User-Agent"], call.headers
        user_agent = self.user_agent
        merged: dict[str, str] = {}
        for layer in (common, call.headers or {}, configured or {}):
            for name, value in layer.items():
                if str(name).lower() == "user-agent":
                    user_agent = str(value)
                else:
                    merged[str(name)] = str(value)
        return user_agent, merged

    def _timeout(self, call: Call[Any]) -> float | None:
        timeout = call.request_timeout(self.timeout)
        if timeout is DEFAULT:
            return self.timeout
        return None if timeout is None else float(timeout)

    async def _perform(
        self, call: Call[Any], body: AsyncIterable[bytes] | None = None
    ) -> AsyncResponse:
        """Perform a call; raise for an error status; the response comes with its head read.

        ``timeout`` bounds connecting and waiting for the head; the call's ``stream_timeout``
        then bounds each read of the body (``None`` for streams that follow a live container,
        which the request timeout must not cut).  ``body`` feeds a ``streamed_body`` call.
        """
        request = await self._request_for(call)
        if call.streamed_body and body is None:
            body = no_pieces()
        result = await self._driver.perform(request, timeout=self._timeout(call), body=body)
        if not isinstance(result, AsyncResponse):
            result[0].close()
            raise DockerConnectionError(f"the daemon unexpectedly hijacked {request.target}")
        await self._check(result, call.image_request)
        if call.stream_timeout is not DEFAULT and not result.complete:
            result.settimeout(call.stream_timeout)
        return result

    async def _check(self, response: AsyncResponse, image_request: bool = False) -> None:
        status = response.status_code
        if status >= 400:
            body = bytearray()
            try:
                async for piece in response.aiter_raw():
                    body += piece
                    if len(body) > MAX_ERROR_BODY:
                        break
            finally:
                response.close()
            raise api_error(
                status,
                response.reason,
                response.headers,
                bytes(body[:MAX_ERROR_BODY]),
                f"{self.base_url}{response.url}",
                image_request=image_request,
            )
        if status in REDIRECTS:
            response.close()
            raise redirect_error(
                status,
                response.reason,
                response.headers,
                response.url,
                f"{self.base_url}{response.url}",
            )

    async def _json(self, call: Call[T]) -> T:
        """The call's JSON answer, shaped as its definition says."""
        async with await self._perform(call) as response:
            return call.result(await response.json())

    async def _text(self, call: Call[Any]) -> str:
        async with await self._perform(call) as response:
            return (await response.read()).decode("utf-8", "replace")

    async def _drained(
        self, call: Call[Any], body: AsyncIterable[bytes] | None = None
    ) -> AsyncResponse:
        """Perform and read the answer to its end: for calls whose status or headers are the
        result (the connection goes back to the pool before the caller looks at them)."""
        async with await self._perform(call, body) as response:
            async for _ in response.aiter_raw():
                pass
        return response

    async def _discard(self, call: Call[Any]) -> None:
        await self._drained(call)

    async def _hijack(self, call: Call[Any], tty: bool) -> AsyncHijackedSocket:
        """Ask the daemon to hijack the connection; returns the raw socket-like stream."""
        request = await self._request_for(call, upgrade=True)
        result = await self._driver.perform(request, timeout=self._timeout(call))
        if isinstance(result, AsyncResponse):
            await self._check(result)
            result.close()
            raise DockerConnectionError(
                f"the daemon did not hijack {request.target} (status {result.status_code})"
            )
        stream, head, trailing = result
        stream.settimeout(None)
        return AsyncHijackedSocket(stream, head, trailing, tty)

    async def _container_tty(self, container: Any) -> bool:
        inspected = await self._json(endpoints.inspect_container(container))
        return endpoints.container_tty(inspected)

    # ------------------------------------------------------------------ lifecycle

    @property
    def transport(self) -> AsyncTransport:
        return self._transport

    @property
    def pool(self) -> AsyncConnectionPool:
        return self._pool

    def close(self) -> None:
        """Close pooled connections and the transport's shared resources."""
        self._finalizer.detach()
        self._pool.close()

    # unasync: async-only
    async def aclose(self) -> None:
        """:meth:`close`, then one turn of the event loop: asyncio closes an aborted
        connection's socket in a callback, which a loop closed right after would never run
        (the descriptors would leak, with a ResourceWarning)."""
        self.close()
        await backend.sleep(0)

    # unasync: end
    async def __aenter__(self) -> AsyncClientCore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _requests_base_url(base_url: str | None, tls: Any) -> str:
    """docker-py's ``base_url`` for the address; an address only a custom transport
    understands keeps its own spelling."""
    try:
        return requests_base_url(base_url, tls)
    except InvalidAddress:
        return base_url or ""


def _close_quietly(pool: AsyncConnectionPool) -> None:
    """The finalizer of a client nobody closed: at interpreter exit or after its event loop has
    gone, closing may fail, and there is nobody left to tell."""
    with contextlib.suppress(Exception):
        pool.close()
