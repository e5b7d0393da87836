"""The core of ``AsyncAPIClient``: version negotiation, performing calls, error mapping.

Split from the endpoint methods so that those can live in small mixin modules (as the sync
client's do over ``BaseClient``).  No protocol logic: requests come from
:mod:`ctrproto.engine.endpoints` and :func:`~ctrproto.protocol.request.build_request`, errors
from :mod:`ctrproto.engine.responses`; this class only drives them over the asyncio pool.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterable
from typing import Any

from ..api.base import DEFAULT_MAX_POOL_SIZE, DEFAULT_TIMEOUT, MAX_ERROR_BODY, REDIRECTS
from ..engine import endpoints
from ..engine.endpoints import DEFAULT, Call
from ..engine.responses import api_error, redirect_error
from ..engine.versions import negotiate, normalize_version
from ..errors import DockerConnectionError, InvalidVersion
from ..protocol.request import DEFAULT_USER_AGENT, Request, build_request
from .base import AsyncTransport
from .exchange import AsyncHTTPDriver, AsyncResponse
from .hijack import AsyncHijackedSocket
from .pool import AsyncConnectionPool
from .transports import make_async_transport


async def _no_pieces() -> AsyncGenerator[bytes, None]:
    """An empty streamed body."""
    return
    yield  # pragma: no cover - makes this an async generator


class AsyncClientCore:
    """Talks to one daemon from one event loop; the arguments mean what ``APIClient``'s do.

    ``version="auto"`` (the default) negotiates once, on the first request that needs it.
    """

    def __init__(
        self,
        base_url: str | None = None,
        version: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        tls: Any = False,
        user_agent: str = DEFAULT_USER_AGENT,
        use_ssh_client: bool = False,
        max_pool_size: int = DEFAULT_MAX_POOL_SIZE,
        transport: AsyncTransport | None = None,
        **transport_options: Any,
    ) -> None:
        self.base_url = base_url or "unix:///var/run/docker.sock"
        self.timeout = timeout
        self.user_agent = user_agent
        self._transport = transport or make_async_transport(
            base_url, tls=tls, use_ssh_client=use_ssh_client, **transport_options
        )
        self._pool = AsyncConnectionPool(self._transport, max_idle=max_pool_size)
        self._driver = AsyncHTTPDriver(self._pool)
        self._version: str | None = None
        self._version_lock: asyncio.Lock | None = None
        if version is not None and version.lower() != "auto":
            self._version = normalize_version(version)

    # ------------------------------------------------------------------ version

    @property
    def api_version(self) -> str | None:
        """The API version in use, or ``None`` until negotiated (see :meth:`ensure_api_version`)."""
        return self._version

    async def ensure_api_version(self) -> str:
        """The API version in use, negotiated with the daemon the first time ("auto")."""
        if self._version is None:
            if self._version_lock is None:
                self._version_lock = asyncio.Lock()
            async with self._version_lock:
                if self._version is None:
                    info = await self._read_json(await self._perform(endpoints.version(False)))
                    if not isinstance(info, dict) or "ApiVersion" not in info:
                        raise InvalidVersion(
                            f"the daemon's /version answer has no ApiVersion: {info!r}"
                        )
                    self._version = negotiate(str(info["ApiVersion"]), info.get("MinAPIVersion"))
        return self._version

    # ------------------------------------------------------------------ requests

    async def _request(self, call: Call, upgrade: bool = False) -> Request:
        return build_request(
            call.method,
            call.endpoint,
            api_version=await self.ensure_api_version() if call.versioned else None,
            params=call.params,
            json_body=call.json,
            streamed_body=call.streamed_body,
            headers=call.headers,
            host=self._transport.host_header,
            user_agent=self.user_agent,
            upgrade=upgrade,
        )

    def _timeout(self, call: Call) -> float | None:
        timeout = call.request_timeout(self.timeout)
        if timeout is DEFAULT:
            return self.timeout
        return None if timeout is None else float(timeout)

    async def _perform(
        self, call: Call, body: AsyncIterable[bytes] | None = None
    ) -> AsyncResponse:
        """Perform a call; raise for an error status; returns the response with its head read.

        ``body`` feeds a ``streamed_body`` call (an empty one when not given).
        """
        request = await self._request(call)
        if call.streamed_body and body is None:
            body = _no_pieces()
        result = await self._driver.perform(request, timeout=self._timeout(call), body=body)
        if not isinstance(result, AsyncResponse):
            result[0].close()
            raise DockerConnectionError(f"the daemon unexpectedly hijacked {request.target}")
        await self._check(result, call.image_request)
        if call.stream_timeout is not DEFAULT:
            result.read_timeout = call.stream_timeout
        return result

    async def _check(self, response: AsyncResponse, image_request: bool = False) -> None:
        status = response.status_code
        if status >= 400:
            body = bytearray()
            async for piece in response.aiter_raw():
                body += piece
                if len(body) > MAX_ERROR_BODY:
                    break
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
                status, response.reason, response.headers, response.url,
                f"{self.base_url}{response.url}",
            )

    @staticmethod
    async def _read_json(response: AsyncResponse) -> Any:
        async with response:
            return await response.json()

    async def _json(self, call: Call) -> Any:
        return call.result(await self._read_json(await self._perform(call)))

    async def _discard(self, call: Call) -> None:
        async with await self._perform(call) as response:
            async for _ in response.aiter_raw():
                pass

    async def _hijack(self, call: Call, tty: bool) -> AsyncHijackedSocket:
        request = await self._request(call, upgrade=True)
        result = await self._driver.perform(request, timeout=self._timeout(call))
        if isinstance(result, AsyncResponse):
            await self._check(result)
            result.close()
            raise DockerConnectionError(
                f"the daemon did not hijack {request.target} (status {result.status_code})"
            )
        stream, head, trailing = result
        return AsyncHijackedSocket(stream, head, trailing, tty)

    async def _tty(self, container: Any) -> bool:
        return endpoints.container_tty(await self._json(endpoints.inspect_container(container)))

    # ------------------------------------------------------------------ lifecycle

    @property
    def transport(self) -> AsyncTransport:
        return self._transport

    @property
    def pool(self) -> AsyncConnectionPool:
        return self._pool

    def close(self) -> None:
        """Close pooled connections and the transport's shared resources."""
        self._pool.close()
