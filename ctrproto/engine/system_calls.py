"""Daemon-wide requests beyond ping/version/info: events, disk usage, registry login.

Request descriptions only (:class:`~ctrproto.engine.endpoints.Call`), with docker-py's argument
conventions; the clients perform them.  Reading the credentials that ``login`` caches is
:mod:`ctrproto.auth`'s job, not this module's.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any

from .endpoints import Call, require_version
from .utils import convert_filters

__all__ = ["EventLines", "df", "event_time", "events", "login", "login_entry"]

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


def event_time(value: Any) -> Any:
    """``since``/``until`` as docker-py sends them: a ``datetime`` becomes whole epoch seconds
    (a naive one is local time), anything else (int, float, a string the daemon parses such as
    ``"10m"``) goes as given."""
    if isinstance(value, _dt.datetime):
        delta = value.astimezone(_dt.timezone.utc) - _EPOCH
        return delta.days * 86400 + delta.seconds
    return value


def events(
    since: Any = None, until: Any = None, filters: Mapping[str, Any] | None = None
) -> Call[None]:
    """``GET /events``: a stream without end unless ``until`` bounds it, so neither the request
    nor any read of it is cut by the client's timeout (docker-py sends it with none)."""
    params: dict[str, Any] = {"since": event_time(since), "until": event_time(until)}
    if filters:
        params["filters"] = convert_filters(filters)
    return Call("GET", "/events", params=params, timeout=None, stream_timeout=None)


class EventLines:
    """Cuts the raw events stream into one piece per event.

    The daemon writes each event as a JSON line; a read may hold several or part of one, and
    ``events(decode=False)`` promises the bytes of one event per item, newline included.
    """

    def __init__(self) -> None:
        self._pending = bytearray()

    def feed(self, piece: bytes) -> list[bytes]:
        if not self._pending and piece.endswith(b"\n") and piece.count(b"\n") == 1:
            return [bytes(piece)]  # the usual case: one event per chunk
        self._pending += piece
        lines: list[bytes] = []
        start = 0
        while True:
            end = self._pending.find(b"\n", start)
            if end < 0:
                break
            if end + 1 - start > 1:
                lines.append(bytes(self._pending[start : end + 1]))
            start = end + 1
        del self._pending[:start]
        return lines

    def close(self) -> list[bytes]:
        """What is left once the stream ends (a last event without its newline)."""
        rest = bytes(self._pending).strip()
        self._pending.clear()
        return [rest] if rest else []


def df(api_version: str) -> Call[dict[str, Any]]:
    """``GET /system/df``: images, containers, volumes and build cache with their sizes."""
    require_version(api_version, "1.25", "df()")
    return Call("GET", "/system/df")


def login(
    username: str,
    password: str | None = None,
    email: str | None = None,
    registry: str | None = None,
) -> Call[dict[str, Any]]:
    """``POST /auth``: the daemon checks the credentials with the registry.  Fields left out
    are not sent, as docker-py leaves out ``None`` values."""
    body = {
        "username": username,
        "password": password,
        "email": email,
        "serveraddress": registry,
    }
    sent = {key: value for key, value in body.items() if value is not None}
    return Call("POST", "/auth", json=sent)


def login_entry(
    username: str,
    password: str | None = None,
    email: str | None = None,
    registry: str | None = None,
) -> dict[str, Any]:
    """What a successful login caches for the registry (docker-py keeps its request data)."""
    return {"username": username, "password": password, "email": email, "serveraddress": registry}
