"""Volume endpoints (``/volumes``) as data: docker-py 7.2's arguments to requests, without I/O."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..protocol.request import path
from .endpoints import Call, check_resource, require_version
from .utils import convert_filters

__all__ = ["create_volume", "inspect_volume", "prune_volumes", "remove_volume", "volumes"]


def _dict_of(value: Any, what: str) -> dict[str, Any]:
    """docker-py refuses anything but a mapping with ``TypeError``."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{what} must be a dictionary")
    return dict(value)


def _volume_name(name: Any) -> str:
    """A name, or a ``Volume`` (whose id is its name)."""
    return check_resource(name, "volume name")


def volumes(filters: Mapping[str, Any] | None = None) -> Call[dict[str, Any]]:
    """Answers ``{"Volumes": [...] or None, "Warnings": ...}`` (docker-py returns it as is)."""
    params = {"filters": convert_filters(filters)} if filters else None
    return Call("GET", "/volumes", params=params)


def create_volume(
    api_version: str,
    name: str | None = None,
    driver: str | None = None,
    driver_opts: Mapping[str, Any] | None = None,
    labels: Mapping[str, str] | None = None,
) -> Call[dict[str, Any]]:
    """No ``name``: the daemon makes one up.  Creating an existing name answers the volume."""
    body: dict[str, Any] = {"Name": name, "Driver": driver}
    if driver_opts is not None:
        body["DriverOpts"] = _dict_of(driver_opts, "driver_opts")
    if labels is not None:
        require_version(api_version, "1.23", "volume labels")
        body["Labels"] = _dict_of(labels, "labels")
    return Call(
        "POST",
        "/volumes/create",
        json={key: value for key, value in body.items() if value is not None},
    )


def inspect_volume(name: Any) -> Call[dict[str, Any]]:
    return Call("GET", path("/volumes/{}", _volume_name(name)))


def prune_volumes(
    api_version: str, filters: Mapping[str, Any] | None = None
) -> Call[dict[str, Any]]:
    """Remove unused volumes; answers ``VolumesDeleted`` and ``SpaceReclaimed``."""
    require_version(api_version, "1.25", "prune_volumes")
    params = {"filters": convert_filters(filters)} if filters else None
    return Call("POST", "/volumes/prune", params=params)


def remove_volume(api_version: str, name: Any, force: bool = False) -> Call[None]:
    """409 (``APIError``) while a container uses it; ``force`` only forgets volumes whose driver
    already lost them (it does not detach a volume in use)."""
    params = None
    if force:
        require_version(api_version, "1.25", "remove_volume(force=True)")
        params = {"force": True}
    return Call("DELETE", path("/volumes/{}", _volume_name(name)), params=params)
