"""The low-level client's config builders: ``create_container``/``create_host_config`` arguments.

docker-py's ``APIClient.create_container`` takes a different dialect from ``containers.run()``:
``ports`` is a list of ports to *expose*, ``volumes`` a list of container paths, and
``host_config``/``networking_config`` arrive ready-made.  Rather than keep a second converter for
the fields both dialects share (environment, labels, healthcheck, MAC address ...), this module
translates the low-level dialect into :func:`~ctrproto.engine.create_config.build_create_request`
and patches in the few fields that differ, so both paths validate and convert identically.
I/O-free, like the rest of ``engine``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ctrproto.engine.create_config import CreateRequest, build_create_request
from ctrproto.errors import InvalidArgument

__all__ = [
    "container_create_request",
    "exposed_ports",
    "host_config",
    "networking_config",
    "volume_paths",
]

#: ``create_host_config`` keywords whose ``run()`` name differs.
_HOST_CONFIG_RENAMES: Mapping[str, str] = {"binds": "volumes", "port_bindings": "ports"}

# A placeholder image for building a HostConfig on its own; it never reaches the daemon.
_NO_IMAGE = "ctrproto-host-config-only"


def host_config(api_version: str, **kwargs: Any) -> dict[str, Any]:
    """``HostConfig`` from docker-py's ``create_host_config`` keywords.

    ``binds`` and ``port_bindings`` take the same forms as ``run()``'s ``volumes`` and ``ports``;
    every other keyword has the ``run()`` name already.
    """
    mapped = {_HOST_CONFIG_RENAMES.get(key, key): value for key, value in kwargs.items()}
    for key in ("binds", "port_bindings"):
        if key in kwargs and _HOST_CONFIG_RENAMES[key] in kwargs:
            raise TypeError(
                f"create_host_config() got an unexpected keyword argument "
                f"'{_HOST_CONFIG_RENAMES[key]}'"
            )
    request = build_create_request(api_version, _NO_IMAGE, None, None, **mapped)
    result: dict[str, Any] = request.body["HostConfig"]
    return result


def networking_config(endpoints_config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ``NetworkingConfig`` body field: endpoint settings keyed by network name."""
    if not endpoints_config:
        return {}
    return {
        "EndpointsConfig": {
            str(name): dict(value or {}) for name, value in endpoints_config.items()
        }
    }


def exposed_ports(ports: Any) -> dict[str, dict[str, Any]] | None:
    """``ExposedPorts`` from a list of ``80``, ``"53/udp"`` or ``(53, "udp")`` entries."""
    if ports is None:
        return None
    if isinstance(ports, Mapping):
        return {str(key): dict(value or {}) for key, value in ports.items()}
    if isinstance(ports, (str, int)):
        ports = [ports]
    result: dict[str, dict[str, Any]] = {}
    for entry in ports:
        if isinstance(entry, tuple):
            if len(entry) != 2:
                raise InvalidArgument(f"a port tuple is (port, protocol), got {entry!r}")
            port, proto = entry
        else:
            port, _, proto = str(entry).partition("/")
        if isinstance(port, bool) or not str(port).strip().isdigit():
            raise InvalidArgument(f"invalid port {entry!r}")
        result[f"{int(port)}/{proto or 'tcp'}"] = {}
    return result or None


def volume_paths(volumes: Any) -> dict[str, dict[str, Any]] | None:
    """``Volumes`` (anonymous volume mount points) from a path or a list of paths."""
    if volumes is None:
        return None
    if isinstance(volumes, Mapping):
        return {str(key): dict(value or {}) for key, value in volumes.items()}
    if isinstance(volumes, str):
        volumes = [volumes]
    result: dict[str, dict[str, Any]] = {str(path): {} for path in volumes}
    return result or None


def container_create_request(
    api_version: str,
    image: Any,
    command: Any = None,
    *,
    ports: Any = None,
    volumes: Any = None,
    host_config: Mapping[str, Any] | None = None,
    networking_config: Mapping[str, Any] | None = None,
    runtime: str | None = None,
    proxy_config: Mapping[str, str] | None = None,
    **kwargs: Any,
) -> CreateRequest:
    """The create request for docker-py's ``APIClient.create_container`` keywords.

    ``kwargs`` are the keywords both dialects share (``hostname``, ``environment``, ``labels``,
    ``healthcheck``, ``mac_address`` ...).  No HostConfig is sent unless one is given (or
    ``runtime`` needs one), as docker-py does: the daemon then applies its defaults.
    ``proxy_config`` is the config.json proxy entry injected into the environment (unless
    ``use_config_proxy=False``).
    """
    network_mode = (host_config or {}).get("NetworkMode")
    shared = dict(kwargs)
    if network_mode and shared.get("mac_address"):
        shared["network_mode"] = network_mode
    request = build_create_request(api_version, image, command, proxy_config, **shared)
    body = request.body
    body.pop("HostConfig", None)
    hc = dict(host_config) if host_config else {}
    if runtime:
        hc["Runtime"] = runtime
    if hc:
        body["HostConfig"] = hc
    exposed = exposed_ports(ports)
    if exposed:
        body["ExposedPorts"] = exposed
    paths = volume_paths(volumes)
    if paths:
        body["Volumes"] = paths
    if networking_config:
        merged = dict(networking_config)
        built = body.get("NetworkingConfig", {}).get("EndpointsConfig", {})
        endpoints = {**built, **dict(merged.get("EndpointsConfig") or {})}
        if endpoints:
            merged["EndpointsConfig"] = endpoints
        body["NetworkingConfig"] = merged
    return request
