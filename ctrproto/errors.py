"""The exception hierarchy.

It mirrors docker-py's (``DockerException`` at the root, ``APIError`` for daemon answers,
``NotFound``/``ImageNotFound``, ``ContainerError`` ...) so that code written against docker-py keeps
its ``except`` clauses.  ctrproto adds classes for what docker-py leaves to ``requests`` or to bare
socket exceptions: transport failures, timeouts and protocol (framing) errors, so that a caller
never has to catch ``OSError``, ``ssl.SSLError`` or ``paramiko`` exceptions.

This module is the bottom of the package: every layer may import it, it imports nothing of ours.
"""

from __future__ import annotations

from typing import Any, Mapping


class DockerException(Exception):
    """Root of every error ctrproto raises on purpose."""


# --------------------------------------------------------------------------- daemon answers


class ResponseInfo:
    """What an :class:`APIError` keeps of the HTTP response that caused it.

    docker-py exposes a ``requests.Response``; we keep only what is useful and safe to hold
    after the connection went back to the pool.
    """

    __slots__ = ("status_code", "reason", "headers", "content", "url")

    def __init__(
        self,
        status_code: int,
        reason: str = "",
        headers: Mapping[str, str] | None = None,
        content: bytes = b"",
        url: str = "",
    ) -> None:
        self.status_code = status_code
        self.reason = reason
        self.headers = dict(headers or {})
        self.content = content
        self.url = url

    def __repr__(self) -> str:
        return f"<ResponseInfo [{self.status_code}] {self.url}>"


class APIError(DockerException):
    """The daemon answered with an error status."""

    def __init__(
        self,
        message: Any,
        response: ResponseInfo | None = None,
        explanation: str | None = None,
    ) -> None:
        super().__init__(message)
        self.response = response
        self.explanation = explanation

    def __str__(self) -> str:
        message = super().__str__()
        if self.is_client_error():
            message = f"{self.status_code} Client Error for {self._url()}: {self._reason()}"
        elif self.is_server_error():
            message = f"{self.status_code} Server Error for {self._url()}: {self._reason()}"
        if self.explanation:
            message = f'{message} ("{self.explanation}")'
        return message

    def _url(self) -> str:
        return self.response.url if self.response is not None else ""

    def _reason(self) -> str:
        return self.response.reason if self.response is not None else ""

    @property
    def status_code(self) -> int | None:
        return self.response.status_code if self.response is not None else None

    def is_error(self) -> bool:
        return self.is_client_error() or self.is_server_error()

    def is_client_error(self) -> bool:
        code = self.status_code
        return code is not None and 400 <= code < 500

    def is_server_error(self) -> bool:
        code = self.status_code
        return code is not None and 500 <= code < 600


class NotFound(APIError):
    """404: the container, image, exec instance or path does not exist."""


class ImageNotFound(NotFound):
    """The image does not exist (locally, or it could not be pulled)."""


class Conflict(APIError):
    """409: the request conflicts with the object's state (name in use, container running ...)."""


class NotModified(APIError):
    """304: nothing to do (container already started or stopped)."""


class InvalidVersion(DockerException):
    """An API version is malformed, or too old for a feature that was asked for."""


class InvalidRepository(DockerException):
    pass


class InvalidConfigFile(DockerException):
    pass


class InvalidArgument(DockerException, ValueError):
    """A value passed by the caller cannot be used (also a ``ValueError``)."""


class InvalidAddress(InvalidArgument):
    """A ``base_url`` / ``DOCKER_HOST`` that cannot be parsed or is not supported."""


class TLSParameterError(DockerException):
    """TLS material is missing or inconsistent (names the file or option)."""


class NullResource(DockerException, ValueError):
    """An id or name argument was empty."""


class DeprecatedMethod(DockerException):
    pass


class ContextException(DockerException):
    """A docker CLI context cannot be read, written or used; ``msg`` says why (docker-py's)."""

    def __init__(self, msg: Any = "") -> None:
        super().__init__(msg)
        self.msg = msg


class ContextNotFound(ContextException):
    """No context of that name in the store (also a :class:`ContextException`, which
    docker-py's is not: catching the broader class catches it too)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"context '{name}' not found")
        self.name = name


class ContextAlreadyExists(ContextException):
    def __init__(self, name: str) -> None:
        super().__init__(f"context {name} already exists")
        self.name = name


class MissingContextParameter(ContextException):
    """A context operation was called without the parameter it needs (``name``)."""

    def __init__(self, param: str) -> None:
        super().__init__(f"missing parameter: {param}")
        self.param = param


class ContainerError(DockerException):
    """A container run in the foreground exited with a non-zero status."""

    def __init__(
        self, container: Any, exit_status: int, command: Any, image: Any, stderr: bytes | None
    ) -> None:
        self.container = container
        self.exit_status = exit_status
        self.command = command
        self.image = image
        self.stderr = stderr
        err = f": {stderr.decode('utf-8', 'replace')}" if stderr is not None else ""
        super().__init__(
            f"Command '{command}' in image '{image}' returned non-zero exit status "
            f"{exit_status}{err}"
        )


class BuildError(DockerException):
    """A build failed; ``build_log`` holds every progress item the daemon sent (docker-py's)."""

    def __init__(self, reason: Any, build_log: Any) -> None:
        super().__init__(reason)
        self.msg = reason
        self.build_log = build_log


class ImageLoadError(DockerException):
    """``images.load()`` got an answer naming no loaded image, or an error in its stream."""


class StreamParseError(DockerException, RuntimeError):
    """A JSON stream from the daemon could not be decoded."""

    def __init__(self, reason: Any) -> None:
        super().__init__(reason)
        self.msg = reason


class StreamError(DockerException):
    """The daemon reported an error in-band, inside a stream it had already started sending.

    Raised for an ``error``/``errorDetail`` object in a JSON progress stream and for a stream-3
    frame of the multiplexed log/attach format.  ``frames`` holds what the demuxer had decoded
    from the same input before the error, so output that arrived first is not lost.
    """

    frames: list[tuple[int, bytes]] = []


# --------------------------------------------------------------------------- protocol (sans-IO)


class ProtocolError(DockerException):
    """Bytes from the peer that do not form valid HTTP/1.1 or a valid Docker stream."""


class FrameError(ProtocolError):
    """A multiplexed-stream frame is malformed.

    ``frames``: the output decoded from the same input before the bad frame.
    ``partial``: for a truncated stream, ``(stream, bytes received)`` of the cut frame.
    """

    frames: list[tuple[int, bytes]] = []
    partial: tuple[int, bytes] | None = None


class MalformedFrameError(FrameError):
    """A frame header is not ``[stream 0-3][0 0 0][uint32 length]``."""


class FrameTooLargeError(FrameError):
    """A frame announces more payload than the configured maximum (a guard on memory)."""


class TruncatedFrameError(FrameError):
    """The stream ended inside a frame: the part received is reported, not silently dropped."""


# --------------------------------------------------------------------------- transport


class TransportError(DockerException):
    """The connection to the daemon failed or broke."""


class DockerConnectionError(TransportError, ConnectionError):
    """Could not connect, or the connection was lost (also a builtin ``ConnectionError``)."""


class ConnectionClosed(DockerConnectionError):
    """The peer closed the connection while a response was expected."""


class IncompleteResponse(ProtocolError, ConnectionClosed):
    """The connection closed before the response (head or body) was complete.

    Both a protocol error (the response is unusable) and a lost connection: a caller that
    catches ``DockerConnectionError`` (or the builtin ``ConnectionError``) sees a daemon that
    went away mid-answer, whatever the moment it went.
    """


class TLSError(DockerConnectionError):
    """The TLS handshake or certificate verification failed."""


class SSHError(DockerConnectionError):
    """The SSH connection or channel to the remote daemon failed."""


class SSHAuthenticationError(SSHError):
    pass


class SSHHostKeyError(SSHError):
    """The server's host key is unknown or does not match known_hosts."""


class Timeout(TransportError, TimeoutError):
    """An operation did not finish in time (also a builtin ``TimeoutError``)."""


class ConnectTimeout(Timeout):
    pass


class ReadTimeout(Timeout):
    pass


def create_unexpected_kwargs_error(name: str, kwargs: Mapping[str, Any]) -> TypeError:
    """The ``TypeError`` Python would raise for unknown keywords of ``name()`` (docker-py's)."""
    quoted = [f"'{key}'" for key in sorted(kwargs)]
    got = (
        "got an unexpected keyword argument"
        if len(quoted) == 1
        else ("got unexpected keyword arguments")
    )
    return TypeError(f"{name}() {got} {', '.join(quoted)}")


_IMAGE_NOT_FOUND_FRAGMENTS = (
    "no such image",
    "not found: does not exist or no pull access",
    "repository does not exist",
    "was found but does not match the specified platform",
)


def create_api_error_from_http_exception(e: Any) -> APIError:
    """Raise the :class:`APIError` for an HTTP error that carries a ``response``.

    docker-py's helper for ``requests.HTTPError``; here any object with a ``response`` having
    ``status_code``, ``reason``, ``url`` and ``json()``/``text`` (or ``content``) serves, so code
    that wraps its own ``requests`` calls the docker-py way keeps working.  Always raises.
    """
    response = e.response
    try:
        explanation = str(response.json()["message"])
    except Exception:
        text = getattr(response, "text", None)
        if text is None:
            text = bytes(getattr(response, "content", b"") or b"").decode("utf-8", "replace")
        explanation = str(text or "").strip()
    status = int(response.status_code)
    cls = status_error_class(status)
    if status == 404 and any(f in explanation.lower() for f in _IMAGE_NOT_FOUND_FRAGMENTS):
        cls = ImageNotFound
    info = ResponseInfo(
        status,
        reason=str(getattr(response, "reason", "") or ""),
        headers=dict(getattr(response, "headers", None) or {}),
        content=bytes(getattr(response, "content", b"") or b""),
        url=str(getattr(response, "url", "") or ""),
    )
    raise cls(e, response=info, explanation=explanation) from e


def status_error_class(status_code: int) -> type[APIError]:
    """The exception class a daemon error status maps to (before image-specific refinement)."""
    if status_code == 404:
        return NotFound
    if status_code == 409:
        return Conflict
    if status_code == 304:
        return NotModified
    return APIError


__all__ = [
    name
    for name, value in dict(globals()).items()
    if isinstance(value, type) and issubclass(value, BaseException)
] + [
    "ResponseInfo",
    "create_api_error_from_http_exception",
    "create_unexpected_kwargs_error",
    "status_error_class",
]
