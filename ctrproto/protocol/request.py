"""Building Engine API requests as plain data: no sockets, so sync and async drivers share it.

The Engine API has a few conventions of its own on top of HTTP: every path carries a ``/vX.Y``
prefix once a version is negotiated, ``filters`` travel as a JSON object in the query string,
booleans are ``1``/``0``, and ids or names supplied by callers must never be able to change which
endpoint is hit (so path arguments are percent-encoded, ``/`` included).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence, Tuple, Union
from urllib.parse import quote

from .._version import __version__
from ..errors import InvalidArgument

DEFAULT_USER_AGENT = f"ctrproto/{__version__}"

QueryValue = Union[str, int, float, bool, None, Sequence[Any], Mapping[str, Any]]
HeaderList = Tuple[Tuple[str, str], ...]


@dataclass(frozen=True)
class Request:
    """One HTTP request, ready to be serialised by :class:`ctrproto.protocol.http.ClientCycle`.

    ``body`` is the whole body when it is known up front (sent with Content-Length);
    ``streamed_body`` marks a request whose body the driver will send piece by piece (chunked).
    ``upgrade`` asks the daemon to hijack the connection (attach, exec start).
    """

    method: str
    target: str
    headers: HeaderList = ()
    body: bytes | None = None
    streamed_body: bool = False
    upgrade: bool = False


def path(template: str, *args: Any) -> str:
    """Fill ``{}`` placeholders of an endpoint path with percent-encoded arguments.

    Encoding ``/`` too means an id such as ``../../images/json`` stays one path segment and cannot
    reach another endpoint.
    """
    for arg in args:
        if arg is None or (isinstance(arg, str) and not arg):
            raise InvalidArgument(f"empty resource id in {template!r}")
    return template.format(*(quote(str(arg), safe="") for arg in args))


def _query_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float, str)):
        return str(value)
    raise InvalidArgument(f"cannot send {type(value).__name__} value {value!r} in a query string")


def encode_query(params: Mapping[str, QueryValue] | None) -> str:
    """Encode query parameters the way the daemon parses them.

    ``None`` values are left out; lists repeat the key; mappings are sent as JSON (the form the
    daemon expects for ``filters`` and similar structured parameters).
    """
    if not params:
        return ""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, Mapping):
            pairs.append((key, json.dumps(value, separators=(",", ":"), sort_keys=True)))
        elif isinstance(value, (list, tuple)):
            pairs.extend((key, _query_scalar(item)) for item in value)
        else:
            pairs.append((key, _query_scalar(value)))
    return "&".join(f"{_quoted(key)}={_quoted(value)}" for key, value in pairs)


# What quote(..., safe="") leaves alone; most keys and values are made of nothing else, and
# skipping quote() for them halves the cost of encoding a typical query.
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")


def _quoted(text: str) -> str:
    return text if _UNRESERVED.issuperset(text) else quote(text, safe="")


def versioned_target(endpoint: str, api_version: str | None, query: str = "") -> str:
    prefix = f"/v{api_version}" if api_version else ""
    return f"{prefix}{endpoint}" + (f"?{query}" if query else "")


def build_request(
    method: str,
    endpoint: str,
    *,
    api_version: str | None = None,
    params: Mapping[str, QueryValue] | None = None,
    json_body: Any = None,
    data: bytes | None = None,
    streamed_body: bool = False,
    headers: Mapping[str, str] | None = None,
    host: str = "localhost",
    user_agent: str = DEFAULT_USER_AGENT,
    upgrade: bool = False,
    content_type: str | None = None,
) -> Request:
    """Assemble a :class:`Request`.

    At most one of ``json_body``, ``data`` and ``streamed_body`` may be given. Requests that may
    carry a body (POST/PUT) but have none still get ``Content-Length: 0``, which the daemon expects.
    """
    given = sum(x for x in (json_body is not None, data is not None, streamed_body))
    if given > 1:
        raise InvalidArgument("a request takes at most one of json_body, data and streamed_body")
    method = method.upper()
    out: list[tuple[str, str]] = [("Host", host), ("User-Agent", user_agent)]
    body: bytes | None = None
    if json_body is not None:
        body = json.dumps(json_body, separators=(",", ":")).encode("utf-8")
        content_type = content_type or "application/json"
    elif data is not None:
        body = bytes(data)
    if content_type:
        out.append(("Content-Type", content_type))
    if streamed_body:
        out.append(("Transfer-Encoding", "chunked"))
    elif body is not None or method in ("POST", "PUT", "PATCH"):
        out.append(("Content-Length", str(len(body) if body is not None else 0)))
    if upgrade:
        out.append(("Connection", "Upgrade"))
        out.append(("Upgrade", "tcp"))
    if headers:
        taken = {name.lower() for name, _ in out}
        for name, value in headers.items():
            if name.lower() in taken:
                out = [(n, v) for n, v in out if n.lower() != name.lower()]
            out.append((name, value))
    target = versioned_target(endpoint, api_version, encode_query(params))
    return Request(
        method=method,
        target=target,
        headers=tuple(out),
        body=body,
        streamed_body=streamed_body,
        upgrade=upgrade,
    )


def iter_header_bytes(headers: Iterable[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
