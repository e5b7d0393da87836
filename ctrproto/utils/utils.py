"""``docker.utils.utils``: docker-py's flat helper module, same names and semantics.

What ctrproto already has is reused: ``kwargs_from_env`` is :func:`ctrproto.config.kwargs_from_env`
(the CLI's rules, contexts included), ``convert_filters``/``parse_bytes`` come from
:mod:`ctrproto.engine.utils`, ``parse_repository_tag`` from :mod:`ctrproto.engine.pulls` and
``normalize_links`` from :mod:`ctrproto.types`.  The rest are small conversions written here with
docker-py's behaviour, because code written against docker-py calls them directly.

Deliberate differences (see tests/test_utils_compat.py): ``parse_bytes`` also knows ``t``/``p``,
refuses ``""`` and truncates floats to ints; ``kwargs_from_env`` reads the CLI's contexts and
never switches TLS verification off; ``version_lt``/``version_gte`` accept a leading ``v``;
``convert_filters`` writes booleans inside lists as ``true``/``false`` (docker-py: ``True``).
"""

from __future__ import annotations

import base64
import json
import shlex
import string
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from itertools import zip_longest
from typing import Any, NamedTuple, NoReturn
from urllib.parse import urlparse, urlunparse

from ..config import kwargs_from_env
from ..constants import BYTE_UNITS, DEFAULT_HTTP_HOST, DEFAULT_NPIPE, DEFAULT_UNIX_SOCKET
from ..engine.pulls import split_repository_tag
from ..engine.utils import convert_filters as _convert_filters
from ..engine.utils import parse_bytes
from ..errors import DeprecatedMethod, DockerException
from ..types import normalize_links

__all__ = [
    "BYTE_UNITS",
    "compare_version",
    "convert_filters",
    "convert_port_bindings",
    "convert_service_networks",
    "convert_tmpfs_mounts",
    "convert_volume_binds",
    "create_host_config",
    "create_ipam_config",
    "create_ipam_pool",
    "datetime_to_timestamp",
    "decode_json_header",
    "format_environment",
    "format_extra_hosts",
    "kwargs_from_env",
    "normalize_links",
    "parse_bytes",
    "parse_devices",
    "parse_env_file",
    "parse_host",
    "parse_repository_tag",
    "split_command",
    "version_gte",
    "version_lt",
]


class URLComponents(NamedTuple):
    scheme: str
    netloc: str
    url: str
    params: str
    query: str
    fragment: str


def convert_filters(filters: Mapping[str, Any]) -> str:
    """The ``filters`` query value, with docker-py's JSON spacing (``{"label": ["a"]}``)."""
    return json.dumps(json.loads(_convert_filters(filters)))


def create_ipam_pool(*args: Any, **kwargs: Any) -> NoReturn:
    raise DeprecatedMethod(
        "utils.create_ipam_pool has been removed. Please use a "
        "docker.types.IPAMPool object instead."
    )


def create_ipam_config(*args: Any, **kwargs: Any) -> NoReturn:
    raise DeprecatedMethod(
        "utils.create_ipam_config has been removed. Please use a "
        "docker.types.IPAMConfig object instead."
    )


def create_host_config(*args: Any, **kwargs: Any) -> NoReturn:
    raise DeprecatedMethod(
        "utils.create_host_config has been removed. Please use "
        "APIClient.create_host_config instead."
    )


def decode_json_header(header: str | bytes) -> Any:
    """A base64-encoded JSON header (``X-Docker-Container-Path-Stat``) decoded."""
    return json.loads(base64.b64decode(header).decode("utf-8"))


def _parts(version: str) -> tuple[int, ...]:
    text = version[1:] if version.startswith("v") else version
    try:
        return tuple(int(part) for part in text.split("."))
    except ValueError:
        # a ValueError, as docker-py's parser raises
        raise ValueError(f"invalid version {version!r}: expected dotted numbers") from None


def compare_version(v1: str, v2: str) -> int:
    """docker-py's order: ``1`` if ``v2`` is newer, ``-1`` if older, ``0`` if equal."""
    if v1 == v2:
        return 0
    for a, b in zip_longest(_parts(v1), _parts(v2), fillvalue=0):
        if a != b:
            return -1 if a > b else 1
    return 0


def version_lt(v1: str, v2: str) -> bool:
    return compare_version(v1, v2) > 0


def version_gte(v1: str, v2: str) -> bool:
    return not version_lt(v1, v2)


def _port_binding(binding: Any) -> dict[str, str]:
    host_ip: Any = ""
    host_port: Any = ""
    if isinstance(binding, tuple):
        if len(binding) == 2:
            host_ip, host_port = binding
        elif isinstance(binding[0], str):
            host_ip = binding[0]
        else:
            host_port = binding[0]
    elif isinstance(binding, dict):
        if "HostPort" not in binding:
            raise ValueError(binding)
        host_port = binding["HostPort"]
        host_ip = binding.get("HostIp", "")
    else:
        host_port = binding
    return {"HostIp": host_ip, "HostPort": "" if host_port is None else str(host_port)}


def convert_port_bindings(port_bindings: Mapping[Any, Any]) -> dict[str, list[dict[str, str]]]:
    """``{80: 8080, "53/udp": [("127.0.0.1", 53)]}`` -> ``HostConfig.PortBindings``."""
    result: dict[str, list[dict[str, str]]] = {}
    for key, value in port_bindings.items():
        name = str(key) if "/" in str(key) else f"{key}/tcp"
        items = value if isinstance(value, list) else [value]
        result[name] = [_port_binding(item) for item in items]
    return result


_PROPAGATIONS = ("rshared", "shared", "rslave", "slave", "rprivate", "private")


def _text(value: Any) -> Any:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def convert_volume_binds(binds: Any) -> list[str]:
    """``{host: {"bind": path, "mode": "ro"}}`` (or ``{host: path}``) -> ``Binds`` strings."""
    if isinstance(binds, list):
        return binds
    result: list[str] = []
    for key, value in binds.items():
        host = _text(key)
        if not isinstance(value, dict):
            result.append(f"{host}:{_text(value)}:rw")
            continue
        if "ro" in value and "mode" in value:
            raise ValueError(f'Binding cannot contain both "ro" and "mode": {value!r}')
        mode = ("ro" if value["ro"] else "rw") if "ro" in value else value.get("mode", "rw")
        if value.get("propagation") in _PROPAGATIONS:
            mode = f"{mode},{value['propagation']}" if mode else value["propagation"]
        result.append(f"{host}:{_text(value['bind'])}:{mode}")
    return result


def convert_tmpfs_mounts(tmpfs: Any) -> dict[str, str]:
    """``["/run:size=64m", "/tmp"]`` -> ``{"/run": "size=64m", "/tmp": ""}`` (a dict is kept)."""
    if isinstance(tmpfs, dict):
        return tmpfs
    if not isinstance(tmpfs, list):
        raise ValueError(
            f"Expected tmpfs value to be either a list or a dict, found: {type(tmpfs).__name__}"
        )
    result: dict[str, str] = {}
    for mount in tmpfs:
        if not isinstance(mount, str):
            raise ValueError(
                f"Expected item in tmpfs list to be a string, found: {type(mount).__name__}"
            )
        name, _, options = mount.partition(":")
        result[name] = options
    return result


def convert_service_networks(networks: Any) -> Any:
    if not networks:
        return networks
    if not isinstance(networks, list):
        raise TypeError("networks parameter must be a list.")
    return [{"Target": n} if isinstance(n, str) else n for n in networks]


def parse_repository_tag(repo_name: str) -> tuple[str, str | None]:
    """``"host:5000/a/b:tag"`` -> ``("host:5000/a/b", "tag")``; a digest counts as the tag."""
    return split_repository_tag(repo_name)


def parse_host(addr: str | None, is_win32: bool = False, tls: bool = False) -> str:
    """A ``DOCKER_HOST`` in docker-py's internal form (``http+unix://``, ``http(s)://``...).

    docker-py's rules and error messages: ``tcp://`` needs a port, ``ssh://`` gets port 22, an
    address without a scheme is ``tcp``; ``fd://`` and unknown schemes are refused.
    """
    if not addr and is_win32:
        return DEFAULT_NPIPE
    if not addr or addr.strip() == "unix://":
        return DEFAULT_UNIX_SOCKET
    addr = addr.strip()
    parsed = urlparse(addr)
    proto = parsed.scheme
    if not proto or any(c not in f"{string.ascii_letters}+" for c in proto):
        parsed = urlparse(f"//{addr}", "tcp")
        proto = "tcp"
    if proto == "fd":
        raise DockerException("fd protocol is not implemented")
    if proto in ("http", "https"):
        tls = proto == "https"
        proto = "tcp"
    elif proto == "http+unix":
        proto = "unix"
    if proto not in ("tcp", "unix", "npipe", "ssh"):
        raise DockerException(f"Invalid bind address protocol: {addr}")
    if proto == "tcp" and not parsed.netloc:
        raise DockerException(f"Invalid bind address format: {addr}")
    if parsed.params or parsed.query or parsed.fragment or parsed.password:
        raise DockerException(f"Invalid bind address format: {addr}")
    if parsed.path and proto == "ssh":
        raise DockerException(
            f"Invalid bind address format: no path allowed for this protocol: {addr}"
        )
    path = parsed.path
    if proto == "unix" and parsed.hostname is not None:
        path = f"{parsed.hostname}/{path}"  # docker-py takes unix://path as unix:///path
    netloc = parsed.netloc
    if proto in ("tcp", "ssh"):
        port = parsed.port or 0
        if port <= 0:
            if proto != "ssh":
                raise DockerException(f"Invalid bind address format: port is required: {addr}")
            port = 22
            netloc = f"{parsed.netloc}:{port}"
        if not parsed.hostname:
            netloc = f"{DEFAULT_HTTP_HOST}:{port}"
    if proto == "tcp":
        proto = "https" if tls else "http"
    elif proto == "unix":
        proto = "http+unix"
    if proto in ("http+unix", "npipe"):
        return f"{proto}://{path}".rstrip("/")
    return urlunparse(URLComponents(proto, netloc, path, "", "", "")).rstrip("/")


def parse_devices(devices: Iterable[Any]) -> list[dict[str, str]]:
    """``"/dev/x[:/dev/y[:rwm]]"`` strings (or ready dicts) -> ``HostConfig.Devices``."""
    result: list[dict[str, str]] = []
    for device in devices:
        if isinstance(device, dict):
            result.append(device)
            continue
        if not isinstance(device, str):
            raise DockerException(f"Invalid device type {type(device)}")
        parts = device.split(":")
        on_host = parts[0]
        result.append(
            {
                "PathOnHost": on_host,
                "PathInContainer": parts[1] if len(parts) > 1 else on_host,
                "CgroupPermissions": parts[2] if len(parts) > 2 else "rwm",
            }
        )
    return result


def datetime_to_timestamp(dt: datetime) -> int:
    """Whole seconds since the epoch (a naive datetime is taken as local time, as docker-py)."""
    delta = dt.astimezone(timezone.utc) - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return delta.seconds + delta.days * 24 * 3600


def parse_env_file(env_file: str) -> dict[str, str]:
    """``KEY=value`` lines; ``#`` comments and blank lines skipped; anything else is an error."""
    environment: dict[str, str] = {}
    with open(env_file) as handle:
        for raw in handle:
            if raw[0] == "#":
                continue
            line = raw.strip()
            if not line:
                continue
            key, sep, value = line.partition("=")
            if not sep:
                raise DockerException(f"Invalid line in environment file {env_file}:\n{line}")
            environment[key] = value
    return environment


def split_command(command: str) -> list[str]:
    return shlex.split(command)


def format_environment(environment: Mapping[str, Any]) -> list[str]:
    """``{"A": "1", "B": None}`` -> ``["A=1", "B"]`` (bytes values decoded)."""

    def one(key: str, value: Any) -> str:
        if value is None:
            return key
        return f"{key}={_text(value)}"

    return [one(key, value) for key, value in environment.items()]


def format_extra_hosts(extra_hosts: Mapping[str, str], task: bool = False) -> list[str]:
    """``{"host": "ip"}`` -> ``["host:ip"]`` (``["ip host"]`` for a Swarm task)."""
    if task:
        return [f"{v} {k}" for k, v in sorted(extra_hosts.items())]
    return [f"{k}:{v}" for k, v in sorted(extra_hosts.items())]
