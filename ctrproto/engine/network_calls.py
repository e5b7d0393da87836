"""Network endpoints (``/networks``) as data: docker-py 7.2's arguments to requests, without I/O.

Both clients' ``create_network``, ``networks``, ``connect_container_to_network`` ... build their
request here, so the argument checks (docker-py's ``TypeError`` for a non-dict ``options`` or
``labels``), the version gates and the body layout exist once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..protocol.request import path
from ..types import EndpointConfig
from .endpoints import Call, check_resource, require_version
from .utils import convert_filters

__all__ = [
    "connect_container_to_network",
    "create_network",
    "disconnect_container_from_network",
    "inspect_network",
    "networks",
    "prune_networks",
    "remove_network",
]


def _dict_of(value: Any, what: str) -> dict[str, Any]:
    """docker-py refuses anything but a mapping with ``TypeError``."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{what} must be a dictionary")
    return dict(value)


def _without_none(body: Mapping[str, Any]) -> dict[str, Any]:
    """docker-py leaves unset top-level fields out of a JSON body instead of sending ``null``."""
    return {key: value for key, value in body.items() if value is not None}


def networks(
    names: Sequence[str] | None = None,
    ids: Sequence[str] | None = None,
    filters: Mapping[str, Any] | None = None,
) -> Call[list[dict[str, Any]]]:
    """``names``/``ids`` are the ``name``/``id`` filters (each a list: any of them matches)."""
    merged = dict(filters or {})
    if names:
        merged["name"] = names
    if ids:
        merged["id"] = ids
    return Call("GET", "/networks", params={"filters": convert_filters(merged)})


def create_network(
    api_version: str,
    name: str,
    driver: str | None = None,
    options: Mapping[str, Any] | None = None,
    ipam: Mapping[str, Any] | None = None,
    check_duplicate: bool | None = None,
    internal: bool = False,
    labels: Mapping[str, str] | None = None,
    enable_ipv6: bool = False,
    attachable: bool | None = None,
    scope: str | None = None,
    ingress: bool | None = None,
) -> Call[dict[str, Any]]:
    """POST /networks/create; answers ``{"Id": ..., "Warning": ...}``.

    ``ipam`` is an ``IPAMConfig`` (or the same dict); as in docker-py the flags are only sent
    when set, so the daemon's defaults apply otherwise.
    """
    body: dict[str, Any] = {
        "Name": name,
        "Driver": driver,
        "Options": None if options is None else _dict_of(options, "options"),
        "IPAM": None if ipam is None else dict(ipam),
        "CheckDuplicate": check_duplicate,
    }
    if labels is not None:
        require_version(api_version, "1.23", "network labels")
        body["Labels"] = _dict_of(labels, "labels")
    if enable_ipv6:
        require_version(api_version, "1.23", "enable_ipv6")
        body["EnableIPv6"] = True
    if internal:
        require_version(api_version, "1.22", "internal networks")
        body["Internal"] = True
    if attachable is not None:
        require_version(api_version, "1.24", "attachable")
        body["Attachable"] = attachable
    if ingress is not None:
        require_version(api_version, "1.29", "ingress")
        body["Ingress"] = ingress
    if scope is not None:
        require_version(api_version, "1.30", "scope")
        body["Scope"] = scope
    return Call("POST", "/networks/create", json=_without_none(body))


def prune_networks(
    api_version: str, filters: Mapping[str, Any] | None = None
) -> Call[dict[str, Any]]:
    """Remove unused networks; answers ``{"NetworksDeleted": [names] or None}``."""
    require_version(api_version, "1.25", "prune_networks")
    params = {"filters": convert_filters(filters)} if filters else None
    return Call("POST", "/networks/prune", params=params)


def remove_network(net_id: Any) -> Call[None]:
    """409 (``Conflict``... ``APIError``) while a container is connected; 404 when missing."""
    return Call("DELETE", path("/networks/{}", check_resource(net_id, "net_id")))


def inspect_network(
    api_version: str, net_id: Any, verbose: bool | None = None, scope: str | None = None
) -> Call[dict[str, Any]]:
    params: dict[str, Any] = {}
    if verbose is not None:
        require_version(api_version, "1.28", "inspect_network(verbose=...)")
        params["verbose"] = verbose
    if scope is not None:
        require_version(api_version, "1.31", "inspect_network(scope=...)")
        params["scope"] = scope
    return Call(
        "GET", path("/networks/{}", check_resource(net_id, "net_id")), params=params or None
    )


def connect_container_to_network(
    api_version: str,
    container: Any,
    net_id: Any,
    ipv4_address: str | None = None,
    ipv6_address: str | None = None,
    aliases: list[str] | None = None,
    links: Any = None,
    link_local_ips: list[str] | None = None,
    driver_opt: Mapping[str, str] | None = None,
    mac_address: str | None = None,
) -> Call[None]:
    """The endpoint settings go through ``EndpointConfig`` (and its version gates)."""
    if driver_opt and not isinstance(driver_opt, Mapping):
        raise TypeError("driver_opt must be a dictionary")
    endpoint = EndpointConfig(
        api_version,
        aliases=aliases,
        links=links,
        ipv4_address=ipv4_address,
        ipv6_address=ipv6_address,
        link_local_ips=link_local_ips,
        driver_opt=driver_opt,
        mac_address=mac_address,
    )
    body = {"Container": check_resource(container, "container"), "EndpointConfig": endpoint}
    return Call(
        "POST", path("/networks/{}/connect", check_resource(net_id, "net_id")), json=body
    )


def disconnect_container_from_network(
    api_version: str, container: Any, net_id: Any, force: bool = False
) -> Call[None]:
    body: dict[str, Any] = {"Container": check_resource(container, "container")}
    if force:
        require_version(api_version, "1.22", "disconnect_container_from_network(force=True)")
        body["Force"] = True
    return Call(
        "POST", path("/networks/{}/disconnect", check_resource(net_id, "net_id")), json=body
    )
