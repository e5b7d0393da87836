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
from typing import Any, TypeVar

from .._backends import asyncio as backend
from ..engine import endpoints
from ..engine.defaults import DEFAULT_MAX_POOL_SIZE, DEFAULT_TIMEOUT
from ..engine.endpoints import DEFAULT, Call
from ..engine.responses import MAX_ERROR_BODY, REDIRECTS, api_error, redirect_error
from ..engine.versions import negotiate, normalize_version
from ..errors import DockerConnectionError, InvalidVersion
from ..protocol.request import DEFAULT_USER_AGENT, Request, build_request
from ..transport.base import AsyncTransport
from .connection_pool import AsyncConnectionPool
from .hijacked_socket import AsyncHijackedSocket
from .http_driver import AsyncHTTPDriver, AsyncResponse
from .stream_shapes import no_pieces

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
        self.base_url = base_url or "unix:///var/run/docker.sock"
        self.timeout = timeout
        self.user_agent = user_agent
        #: Headers sent with every request, as docker-py's ``APIClient.headers`` (testcontainers
        #: sets its session id and ``User-Agent`` here); a call's own headers take precedence.
        self.headers: dict[str, str] = {"User-Agent": user_agent}
        self.credstore_env = credstore_env
        self._transport = transport or backend.make_transport(
            base_url, tls=tls, use_ssh_client=use_ssh_client, **transport_options
        )
        self._pool = AsyncConnectionPool(self._transport, max_idle=max_pool_size)
        # A client dropped without close() still gives its connections back (no ResourceWarning
        # for the idle sockets); the finalizer holds the pool, never the client.
        self._finalizer = weakref.finalize(self, _close_quietly, self._pool)
        self._driver = AsyncHTTPDriver(self._pool)
        self._version_lock = backend.Lock()
        self._version: str | None = None
        if version is not None and version.lower() != "auto":
            self._version = normalize_version(version)

    # ------------------------------------------------------------------ version

    # unasync: async-only
    @property
    def api_version(self) -> str | None:
        """The API version in use, or ``None`` until negotiated (see :meth:`ensure_api_version`):
        a property cannot await."""
        return self._version

    # unasync: sync-only
    # @property
    # def api_version(self) -> str:
    #     """The API version in use; negotiated with the daemon on first need ("auto")."""
    #     return self.ensure_api_version()
    #
    # unasync: end
    async def ensure_api_version(self) -> str:
        """The API version in use, negotiated with the daemon the first time ("auto")."""
        version = self._version
        if version is None:
            async with self._version_lock:
                if self._version is None:
                    self._version = await self._negotiate_version()
                version = self._version
        return version

    async def _negotiate_version(self) -> str:
        info = await self._json(endpoints.version(False))
        if not isinstance(info, dict) or "ApiVersion" not in info:
            raise InvalidVersion(f"the daemon's /version answer has no ApiVersion: {info!r}")
        return negotiate(str(info["ApiVersion"]), info.get("MinAPIVersion"))

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
        """The ``User-Agent`` and the other headers of a request: the client's, then the call's.

        Most clients hold only their ``User-Agent``, which takes no merging per request.
        """
        common = self.headers
        if len(common) == 1 and "User-Agent" in common:
            return common["User-Agent"], call.headers
        user_agent = self.user_agent
        merged: dict[str, str] = {}
        for name, value in common.items():
            if name.lower() == "user-agent":
                user_agent = value
            else:
                merged[name] = value
        merged.update(call.headers or {})
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
        self.close()

    # unasync: end
    async def __aenter__(self) -> AsyncClientCore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


def _close_quietly(pool: AsyncConnectionPool) -> None:
    """The finalizer of a client nobody closed: at interpreter exit or after its event loop has
    gone, closing may fail, and there is nobody left to tell."""
    with contextlib.suppress(Exception):
        pool.close()
