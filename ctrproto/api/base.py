"""The low-level client's core: addressing, version negotiation, requests and error mapping.

Endpoint groups (containers, exec, images, system) are mixins over this class, each in its own
module, named like docker-py's ``APIClient`` methods so that code built on it ports unchanged.
"""

from __future__ import annotations

import threading
from collections.abc import Generator, Iterable, Mapping
from typing import Any

from ..engine import endpoints
from ..engine.endpoints import DEFAULT, Call, check_resource
from ..engine.responses import api_error, redirect_error
from ..engine.versions import negotiate, normalize_version
from ..errors import DockerConnectionError, InvalidVersion
from ..protocol.jsonstream import JSONStreamDecoder
from ..protocol.request import DEFAULT_USER_AGENT, QueryValue, Request, build_request, path
from ..transport.base import Transport
from ..transport.factory import make_transport
from .exchange import HTTPDriver, Response
from .hijack import HijackedSocket, demux_pieces
from .pool import ConnectionPool

DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_POOL_SIZE = 10
MAX_ERROR_BODY = 1024 * 1024
#: The Engine API never redirects, except when its router cleans a path: an id or name holding
#: ``..`` segments (``../../info``) is answered with a redirect to another endpoint.  Following it
#: would return that endpoint's data as if it were the object asked for, so it is NotFound.
REDIRECTS = (301, 302, 303, 307, 308)


class BaseClient:
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
        transport: Transport | None = None,
        **transport_options: Any,
    ) -> None:
        self.base_url = base_url or "unix:///var/run/docker.sock"
        self.timeout = timeout
        self.user_agent = user_agent
        self.credstore_env = credstore_env
        self._transport = transport or make_transport(
            base_url, tls=tls, use_ssh_client=use_ssh_client, **transport_options
        )
        self._pool = ConnectionPool(self._transport, max_idle=max_pool_size)
        self._driver = HTTPDriver(self._pool)
        self._version_lock = threading.Lock()
        self._version: str | None = None
        if version is not None and version.lower() != "auto":
            self._version = normalize_version(version)

    # ------------------------------------------------------------------ version

    @property
    def api_version(self) -> str:
        """The API version in use; negotiated with the daemon on first need ("auto")."""
        if self._version is None:
            with self._version_lock:
                if self._version is None:
                    self._version = self._negotiate_version()
        return self._version

    def _negotiate_version(self) -> str:
        info = self._json(self._request("GET", "/version", versioned=False))
        if not isinstance(info, dict) or "ApiVersion" not in info:
            raise InvalidVersion(f"the daemon's /version answer has no ApiVersion: {info!r}")
        return negotiate(str(info["ApiVersion"]), info.get("MinAPIVersion"))

    def _require_version(self, needed: str, feature: str) -> None:
        endpoints.require_version(self.api_version, needed, feature)

    # ------------------------------------------------------------------ requests

    @staticmethod
    def _url(template: str, *args: Any) -> str:
        return path(template, *args)

    def _build(
        self,
        method: str,
        endpoint: str,
        *,
        params: Mapping[str, QueryValue] | None = None,
        json: Any = None,
        data: bytes | None = None,
        streamed: bool = False,
        headers: Mapping[str, str] | None = None,
        versioned: bool = True,
        upgrade: bool = False,
    ) -> Request:
        return build_request(
            method,
            endpoint,
            api_version=self.api_version if versioned else None,
            params=params,
            json_body=json,
            data=data,
            streamed_body=streamed,
            headers=headers,
            host=self._transport.host_header,
            user_agent=self.user_agent,
            upgrade=upgrade,
        )

    def _timeout(self, timeout: Any) -> float | None:
        if timeout is DEFAULT:
            return self.timeout
        return None if timeout is None else float(timeout)

    def _request(
        self,
        method: str,
        endpoint: str,
        *,
        params: Mapping[str, QueryValue] | None = None,
        json: Any = None,
        data: bytes | Iterable[bytes] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Any = DEFAULT,
        stream_timeout: Any = DEFAULT,
        versioned: bool = True,
        image_request: bool = False,
        raise_for_status: bool = True,
    ) -> Response:
        """Perform one request and return the response with its head read.

        ``timeout`` bounds connecting and waiting for the head; ``stream_timeout`` (default: the
        same) bounds each read of the body afterwards - ``None`` for long streams such as logs with
        ``follow``, which must not be cut by the request timeout.
        """
        body_iter: Iterable[bytes] | None = None
        raw: bytes | None = None
        if isinstance(data, (bytes, bytearray, memoryview)):
            raw = bytes(data)
        elif data is not None:
            body_iter = data
        request = self._build(
            method,
            endpoint,
            params=params,
            json=json,
            data=raw,
            streamed=body_iter is not None,
            headers=headers,
            versioned=versioned,
        )
        result = self._driver.perform(request, timeout=self._timeout(timeout), body=body_iter)
        if not isinstance(result, Response):
            result[0].close()
            raise DockerConnectionError(f"the daemon unexpectedly hijacked {request.target}")
        if raise_for_status and result.status_code >= 400:
            self._raise_for(result, image_request)
        if result.status_code in REDIRECTS:
            self._raise_redirect(result)
        if stream_timeout is not DEFAULT and not result.complete:
            result.settimeout(stream_timeout)
        return result

    def _raise_for(self, response: Response, image_request: bool = False) -> None:
        body = b""
        try:
            for piece in response.iter_raw():
                body += piece
                if len(body) > MAX_ERROR_BODY:
                    break
        finally:
            response.close()
        raise api_error(
            response.status_code,
            response.reason,
            response.headers,
            body[:MAX_ERROR_BODY],
            f"{self.base_url}{response.url}",
            image_request=image_request,
        )

    def _raise_redirect(self, response: Response) -> None:
        response.close()
        raise redirect_error(
            response.status_code,
            response.reason,
            response.headers,
            response.url,
            f"{self.base_url}{response.url}",
        )

    def _get(self, endpoint: str, **kwargs: Any) -> Response:
        return self._request("GET", endpoint, **kwargs)

    def _post(self, endpoint: str, **kwargs: Any) -> Response:
        return self._request("POST", endpoint, **kwargs)

    def _put(self, endpoint: str, **kwargs: Any) -> Response:
        return self._request("PUT", endpoint, **kwargs)

    def _delete(self, endpoint: str, **kwargs: Any) -> Response:
        return self._request("DELETE", endpoint, **kwargs)

    def _head(self, endpoint: str, **kwargs: Any) -> Response:
        return self._request("HEAD", endpoint, **kwargs)

    def _call(self, call: Call, body: Iterable[bytes] | None = None) -> Response:
        """Perform a request built by :mod:`ctrproto.engine.endpoints`; ``body`` feeds a
        ``streamed_body`` call."""
        if call.streamed_body and body is None:
            body = ()
        return self._request(
            call.method,
            call.endpoint,
            params=call.params,
            json=call.json,
            data=body if call.streamed_body else None,
            headers=call.headers,
            timeout=call.request_timeout(self.timeout),
            stream_timeout=call.stream_timeout,
            versioned=call.versioned,
            image_request=call.image_request,
        )

    def _call_json(self, call: Call) -> Any:
        return call.result(self._json(self._call(call)))

    # ------------------------------------------------------------------ results

    @staticmethod
    def _json(response: Response) -> Any:
        with response:
            return response.json()

    @staticmethod
    def _bytes(response: Response) -> bytes:
        with response:
            return response.read()

    @staticmethod
    def _text(response: Response) -> str:
        with response:
            return response.read().decode("utf-8", "replace")

    @staticmethod
    def _discard(response: Response) -> None:
        with response:
            for _ in response.iter_raw():
                pass

    @staticmethod
    def _stream_raw(response: Response) -> Generator[bytes, None, None]:
        """Body pieces as the daemon sends them (a TTY stream, an export, an archive)."""
        with response:
            yield from response.iter_raw()

    @staticmethod
    def _stream_frames(
        response: Response, join: bool = True
    ) -> Generator[tuple[int, bytes], None, None]:
        """A multiplexed body as ``(stream, payload)`` pairs, in the order written."""
        with response:
            yield from demux_pieces(response.iter_raw(), join)

    @staticmethod
    def _stream_json(
        response: Response, raise_on_error: bool = False
    ) -> Generator[Any, None, None]:
        with response:
            decoder = JSONStreamDecoder(raise_on_error=raise_on_error)
            for piece in response.iter_raw():
                yield from decoder.feed(piece)
            yield from decoder.close()

    def _hijack(
        self,
        method: str,
        endpoint: str,
        *,
        params: Mapping[str, QueryValue] | None = None,
        json: Any = None,
        tty: bool = False,
        timeout: Any = DEFAULT,
    ) -> HijackedSocket:
        """Ask the daemon to hijack the connection; returns the raw socket-like stream."""
        request = self._build(method, endpoint, params=params, json=json, upgrade=True)
        result = self._driver.perform(request, timeout=self._timeout(timeout))
        if isinstance(result, Response):
            if result.status_code >= 400:
                self._raise_for(result)
            result.close()
            raise DockerConnectionError(
                f"the daemon did not hijack {request.target} (status {result.status_code})"
            )
        stream, head, trailing = result
        stream.settimeout(None)
        return HijackedSocket(stream, head, trailing, tty)

    def _hijack_call(self, call: Call, tty: bool) -> HijackedSocket:
        return self._hijack(
            call.method,
            call.endpoint,
            params=call.params,
            json=call.json,
            tty=tty,
            timeout=call.request_timeout(self.timeout),
        )

    # ------------------------------------------------------------------ lifecycle

    @property
    def transport(self) -> Transport:
        return self._transport

    @property
    def pool(self) -> ConnectionPool:
        return self._pool

    def close(self) -> None:
        """Close pooled connections and the transport's shared resources."""
        self._pool.close()

    def __enter__(self) -> BaseClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["DEFAULT", "BaseClient", "check_resource"]
