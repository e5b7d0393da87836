"""``AsyncAPIClient``: the low-level client for asyncio, named and shaped like ``APIClient``.

Deliberately thin: each method takes its request from :mod:`ctrproto.engine.endpoints` (the
builders the sync client uses, so validation, version checks and encoding are shared), performs
it with the asyncio driver, and reads the answer with a :mod:`.reading` helper.  Streams come back
as async generators: ``async for chunk in await api.logs(cid, stream=True, follow=True)``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Mapping
from typing import Any, Union

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
from .reading import (
    Output,
    checked_progress,
    collect,
    frames_of,
    json_values,
    payloads,
    shape_output,
    socket_frames,
)
from .transports import make_async_transport

StatsResult = Union[dict[str, Any], AsyncGenerator[Any, None]]
PullResult = Union[str, AsyncGenerator[Any, None]]


class AsyncAPIClient:
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

    async def _perform(self, call: Call) -> AsyncResponse:
        """Perform a call; raise for an error status; returns the response with its head read."""
        request = await self._request(call)
        result = await self._driver.perform(request, timeout=self._timeout(call))
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

    # ------------------------------------------------------------------ system

    async def ping(self) -> bool:
        """True when the daemon answers ``/_ping`` with OK (raises otherwise)."""
        async with await self._perform(endpoints.ping()) as response:
            return endpoints.ping_ok((await response.read()).decode("utf-8", "replace"))

    async def version(self, api_version: bool = True) -> dict[str, Any]:
        result: dict[str, Any] = await self._json(endpoints.version(api_version))
        return result

    async def info(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._json(endpoints.info())
        return result

    # ------------------------------------------------------------------ containers

    async def containers(self, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        """``APIClient.containers`` arguments (``all``, ``filters``, ``quiet`` ...)."""
        result: list[dict[str, Any]] = await self._json(endpoints.containers(*args, **kwargs))
        return result

    async def inspect_container(self, container: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self._json(endpoints.inspect_container(container))
        return result

    async def create_container_from_config(
        self, config: Mapping[str, Any], name: str | None = None, platform: str | None = None
    ) -> dict[str, Any]:
        version = await self.ensure_api_version()
        call = endpoints.create_container_from_config(version, config, name, platform)
        result: dict[str, Any] = await self._json(call)
        return result

    async def create_container(
        self, image: str, command: str | list[str] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """``APIClient.create_container`` keywords; returns ``{"Id": ..., "Warnings": [...]}``."""
        version = await self.ensure_api_version()
        call = endpoints.create_container(version, image, command, **kwargs)
        result: dict[str, Any] = await self._json(call)
        return result

    async def start(self, container: Any, *args: Any, **kwargs: Any) -> None:
        await self._discard(endpoints.start(container, *args, **kwargs))

    async def stop(self, container: Any, timeout: int | None = None) -> None:
        await self._discard(endpoints.stop(container, timeout))

    async def restart(
        self, container: Any, timeout: int | None = endpoints.DEFAULT_STOP_GRACE
    ) -> None:
        await self._discard(endpoints.restart(container, timeout))

    async def kill(self, container: Any, signal: str | int | None = None) -> None:
        await self._discard(endpoints.kill(container, signal))

    async def wait(
        self, container: Any, timeout: float | None = None, condition: str | None = None
    ) -> dict[str, Any]:
        """Until the container stops; ``timeout`` raises :class:`ReadTimeout` past it."""
        call = endpoints.wait(await self.ensure_api_version(), container, timeout, condition)
        result: dict[str, Any] = await self._json(call)
        return result

    async def remove_container(
        self, container: Any, v: bool = False, link: bool = False, force: bool = False
    ) -> None:
        await self._discard(endpoints.remove_container(container, v, link, force))

    # ------------------------------------------------------------------ output

    async def logs(
        self,
        container: Any,
        stdout: bool = True,
        stderr: bool = True,
        stream: bool = False,
        timestamps: bool = False,
        tail: str | int = "all",
        since: Any = None,
        follow: bool | None = None,
        until: Any = None,
    ) -> bytes | AsyncGenerator[bytes, None]:
        """As ``APIClient.logs``; with ``stream=True`` an async generator of chunks.

        A followed stream is never cut by the client's timeout, and each ``__anext__`` reads the
        network at most once, so a slow consumer slows the daemon instead of growing a buffer.
        """
        version = await self.ensure_api_version()
        call = endpoints.logs(
            version, container, stdout, stderr, stream, timestamps, tail, since, follow, until
        )
        tty = await self._tty(container)
        pieces = (await self._perform(call)).aiter_raw()
        chunks = pieces if tty else payloads(frames_of(pieces))
        if stream:
            return chunks
        return await collect(chunks)

    async def attach_socket(
        self, container: Any, params: Mapping[str, Any] | None = None, ws: bool = False
    ) -> AsyncHijackedSocket:
        """The hijacked attach connection: read output, write stdin, half-close it for EOF."""
        call = endpoints.attach(container, params, ws)
        return await self._hijack(call, await self._tty(container))

    async def stats(
        self,
        container: Any,
        decode: bool | None = None,
        stream: bool = True,
        one_shot: bool | None = None,
    ) -> StatsResult:
        """One dict (``stream=False``), or an async generator of dicts (``decode``) or bytes."""
        version = await self.ensure_api_version()
        call = endpoints.stats(version, container, decode, stream, one_shot)
        if not stream:
            result: dict[str, Any] = await self._json(call)
            return result
        pieces = (await self._perform(call)).aiter_raw()
        return json_values(pieces) if decode else pieces

    # ------------------------------------------------------------------ exec

    async def exec_create(
        self, container: Any, cmd: str | list[str], **kwargs: Any
    ) -> dict[str, Any]:
        """``APIClient.exec_create`` keywords; returns ``{"Id": ...}``."""
        version = await self.ensure_api_version()
        result: dict[str, Any] = await self._json(
            endpoints.exec_create(version, container, cmd, **kwargs)
        )
        return result

    async def exec_inspect(self, exec_id: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self._json(endpoints.exec_inspect(exec_id))
        return result

    async def exec_start(
        self,
        exec_id: Any,
        detach: bool = False,
        tty: bool = False,
        stream: bool = False,
        socket: bool = False,
        demux: bool = False,
    ) -> Output | AsyncHijackedSocket:
        """``b""`` when ``detach``; the socket when ``socket``; else docker-py's output shape."""
        call = endpoints.exec_start(exec_id, detach, tty, stream, socket)
        if detach:
            await self._discard(call)
            return b""
        sock = await self._hijack(call, tty)
        if socket:
            return sock
        return await shape_output(socket_frames(sock), stream, demux)

    # ------------------------------------------------------------------ images

    async def images(self, *args: Any, **kwargs: Any) -> list[Any]:
        """``APIClient.images`` arguments (``name``, ``quiet``, ``all``, ``filters``)."""
        result: list[Any] = await self._json(endpoints.images(*args, **kwargs))
        return result

    async def inspect_image(self, image: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self._json(endpoints.inspect_image(image))
        return result

    async def pull(
        self,
        repository: str,
        tag: str | None = None,
        stream: bool = False,
        auth_config: Mapping[str, Any] | None = None,
        decode: bool = False,
        platform: str | None = None,
        all_tags: bool = False,
    ) -> PullResult:
        """As ``APIClient.pull``: an in-band error raises :class:`StreamError`."""
        version = await self.ensure_api_version()
        call = endpoints.pull(version, repository, tag, auth_config, platform, all_tags)
        pieces = (await self._perform(call)).aiter_raw()
        if stream and decode:
            return json_values(pieces, raise_on_error=True)
        checked = checked_progress(pieces)
        if stream:
            return checked
        return (await collect(checked)).decode("utf-8", "replace")

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

    async def aclose(self) -> None:
        self.close()

    async def __aenter__(self) -> AsyncAPIClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()
