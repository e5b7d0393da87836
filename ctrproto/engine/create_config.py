"""``containers.create()`` / ``run()`` keywords → the ``POST /containers/create`` request.

docker-py spreads this over ``models.containers``, ``ContainerConfig`` and ``HostConfig``; here it
is one I/O-free function so that the sync and asyncio facades build byte-for-byte the same request
and so that every conversion can be tested without a daemon.  Every keyword is one row of
:data:`_KEYWORDS` (where it goes, its field, its conversion, its minimum API version, whether a
falsy value is sent), following ``run-kwargs.md``; the keyword sets are derived from it.  Where
docker-py sends something the daemon ignores or rejects (a port range key, a container-wide MAC
address on API ≥ 1.44, a float memory size) we send what the spec's sentence promises instead,
and the converters' docstrings say so.

Nothing here reads files or the environment: the proxy settings that ``use_config_proxy`` injects
come in as an argument (:func:`select_proxy_config` picks them out of a parsed ``config.json``).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

from ctrproto.engine.utils import parse_bytes, version_gte, version_lt
from ctrproto.errors import InvalidArgument, InvalidVersion
from ctrproto.types import (
    DeviceRequest,
    Healthcheck,
    LogConfig,
    Mount,
    RestartPolicy,
    Ulimit,
    normalize_links,
)

__all__ = [
    "CONTAINER_KWARGS",
    "CREATE_KWARGS",
    "EXTENSION_KWARGS",
    "HOST_CONFIG_KWARGS",
    "MIN_API_VERSIONS",
    "RUN_KWARGS",
    "RUN_ONLY_KWARGS",
    "SPLIT_KWARGS",
    "CreateRequest",
    "RunOptions",
    "build_create_request",
    "build_run_request",
    "proxy_environment",
]

# =========================================================================== results


@dataclass
class CreateRequest:
    """What ``POST /containers/create`` needs, plus what the facade needs around it.

    ``image`` is the reference actually sent (an ``Image`` object resolved to its id); ``platform``
    is repeated outside ``params`` because ``run()`` pulls with it when the image is missing.
    """

    image: str
    body: dict[str, Any]
    params: dict[str, str] = field(default_factory=dict)
    platform: str | None = None


@dataclass(frozen=True)
class RunOptions:
    """The ``run()`` keywords that steer the client after the container is created."""

    detach: bool = False
    stdout: bool = True
    stderr: bool = False
    remove: bool = False
    stream: bool = False
    #: Whether the daemon removes the container itself (then its logs cannot be read after exit).
    auto_remove: bool = False


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


# =========================================================================== one call


class _Call:
    """One call's keywords (``image`` and ``command`` included), API version and proxy entry.

    Every conversion gets it, so that the few that depend on the version or on another keyword
    can look.  :meth:`value` converts a keyword once, the first time it is asked for: the order
    in which the builder asks is the order in which errors are found.
    """

    def __init__(
        self,
        api: str,
        image: Any,
        command: Any,
        kwargs: Mapping[str, Any],
        proxy_config: Mapping[str, str] | None,
    ) -> None:
        version_lt(api, "1.0")  # raises InvalidVersion early when malformed
        self.api = api
        self.kw: dict[str, Any] = {**kwargs, "image": image, "command": command}
        self.proxy_config = proxy_config
        self._converted: dict[str, Any] = {}

    def require(self, what: str, minimum: str) -> None:
        _require_version(self.api, what, minimum)

    def value(self, name: str) -> Any:
        """The keyword's value as sent, or ``None`` when its row says it is left out."""
        if name not in self._converted:
            row = _BY_NAME[name]
            value = self.kw.get(name)
            if (value is None and row.sent is not _ALWAYS) or (row.sent is _TRUTHY and not value):
                self._converted[name] = None
                return None
            if row.min_api is not None:
                self.require(name, row.min_api)
            self._converted[name] = row.convert(name, value, self)
        return self._converted[name]


def _require_version(api_version: str, what: str, minimum: str) -> None:
    if version_lt(api_version, minimum):
        raise InvalidVersion(
            f"{what} needs API version {minimum} or later; the negotiated API version is "
            f"{api_version}"
        )


#: ``(keyword, value, call) -> what is sent``; raises :class:`InvalidArgument` naming the keyword.
_Convert = Callable[[str, Any, _Call], Any]


# =========================================================================== plain conversions


def _as_is(name: str, value: Any, call: _Call) -> Any:
    return value


def _int(name: str, value: Any, call: _Call) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"{name} must be an integer, got {value!r}")
    return value


def _str(name: str, value: Any, call: _Call) -> str:
    if not isinstance(value, str):
        raise InvalidArgument(f"{name} must be a string, got {value!r}")
    return value


def _to_str(name: str, value: Any, call: _Call) -> str:
    return str(value)


def _bool(name: str, value: Any, call: _Call) -> bool:
    # JSON needs a real boolean; docker-py would send 1 and get a decoding error from Go.
    return bool(value)


def _dict(name: str, value: Any, call: _Call) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidArgument(f"{name} must be a dict, got {value!r}")
    return dict(value)


def _list(name: str, value: Any, call: _Call) -> list[Any]:
    if not isinstance(value, (list, tuple)):
        raise InvalidArgument(f"{name} must be a list, got {value!r}")
    return list(value)


def _strs(name: str, value: Any, call: _Call) -> list[str]:
    """A list of strings; a lone string is a list of one (``cap_add="SYS_ADMIN"``)."""
    items = [value] if isinstance(value, str) else _list(name, value, call)
    for item in items:
        if not isinstance(item, str):
            raise InvalidArgument(f"{name} must be a list of strings; {item!r} is not a string")
    return items


def _size(name: str, value: Any, call: _Call) -> int:
    try:
        return parse_bytes(value)
    except InvalidArgument as exc:
        raise InvalidArgument(f"{name}: {exc}") from None


def _construct(cls: Callable[..., Any], name: str, value: Mapping[str, Any]) -> Any:
    """``cls(**value)``, with a bad key reported against the keyword rather than as a TypeError."""
    try:
        return cls(**value)
    except TypeError as exc:
        raise InvalidArgument(f"{name}: {exc}") from None


def _typed_list(cls: type[dict[str, Any]], what: str) -> _Convert:
    """A list whose items are ``cls`` instances or dicts of its constructor's keywords."""

    def convert(name: str, value: Any, call: _Call) -> list[Any]:
        items = []
        for item in _list(name, value, call):
            if isinstance(item, cls):
                items.append(item)
            elif isinstance(item, Mapping):
                items.append(_construct(cls, name, item))
            else:
                raise InvalidArgument(f"{name} must hold {what}, got {item!r}")
        return items

    return convert


_ulimits = _typed_list(Ulimit, "Ulimit objects or dicts")
_device_requests = _typed_list(DeviceRequest, "DeviceRequest objects")


# =========================================================================== container level


def _image(name: str, value: Any, call: _Call) -> str:
    if isinstance(value, str):
        return value
    ident = getattr(value, "id", None)
    if isinstance(ident, str):
        return ident
    raise InvalidArgument(f"image must be a name, an id or an Image object, got {value!r}")


def _command(name: str, value: Any, call: _Call) -> list[str]:
    return shlex.split(value) if isinstance(value, str) else _strs(name, value, call)


def _environment(name: str, value: Any, call: _Call) -> list[str] | None:
    env: list[str] | None = None
    if isinstance(value, Mapping):
        env = []
        for key, item in value.items():
            if isinstance(item, bytes):
                item = item.decode("utf-8")
            env.append(str(key) if item is None else f"{key}={item}")
    elif value is not None:
        env = _strs(name, value, call)
    if not call.kw.get("use_config_proxy", True):
        return env
    # Prepended, so that the caller's own variables win where both set one.  As with
    # docker-py, an empty result is left out rather than sent as [].
    return proxy_environment(call.proxy_config) + (env or []) or None


def _labels(name: str, value: Any, call: _Call) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {label: "" for label in _strs(name, value, call)}
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise InvalidArgument(f"labels must map strings to strings; {key!r}: {item!r} is not")
    return dict(value)


def _attach(name: str, value: Any, call: _Call) -> tuple[bool, bool, bool, bool]:
    """``detach`` → StdinOnce, AttachStdin, AttachStdout, AttachStderr: attached unless detached."""
    attached = not value
    stdin = bool(call.kw.get("stdin_open")) and attached
    return stdin, stdin, attached, attached


def _healthcheck(name: str, value: Any, call: _Call) -> Healthcheck:
    if isinstance(value, Healthcheck):
        check = value
    elif isinstance(value, Mapping):
        check = _construct(Healthcheck, name, value)
    elif isinstance(value, (str, list, tuple)):
        check = Healthcheck(test=value)
    else:
        raise InvalidArgument(
            f"healthcheck must be a dict, a Healthcheck, or a test command, got {value!r}"
        )
    if check.get("StartPeriod") is not None:
        call.require("healthcheck start_period", "1.29")
    return check


# =========================================================================== HostConfig


def _only_host(name: str, value: Any, call: _Call) -> str:
    if value != "host":
        raise InvalidArgument(
            f"invalid value for {name}: {value!r} (the only valid value is 'host')"
        )
    return "host"


def _cgroupns(name: str, value: Any, call: _Call) -> str:
    if value not in ("private", "host"):
        raise InvalidArgument(f"invalid value for {name}: {value!r} (expected 'private' or 'host')")
    return str(value)


def _volumes_from(name: str, value: Any, call: _Call) -> list[str]:
    return value.split(",") if isinstance(value, str) else _strs(name, value, call)


def _sysctls(name: str, value: Any, call: _Call) -> dict[str, str]:
    return {str(key): str(item) for key, item in _dict(name, value, call).items()}


def _group_add(name: str, value: Any, call: _Call) -> list[str]:
    items = [value] if isinstance(value, (str, int)) else _list(name, value, call)
    return [str(item) for item in items]


def _swappiness(name: str, value: Any, call: _Call) -> int:
    swappiness = _int(name, value, call)
    if not -1 <= swappiness <= 100:
        raise InvalidArgument(
            f"{name} must be between 0 and 100 (or -1 for the daemon's default), got {swappiness}"
        )
    return swappiness


def _pid_mode(name: str, value: Any, call: _Call) -> str:
    if version_lt(call.api, "1.24") and value != "host":
        raise InvalidArgument(f"{name} {value!r}: API versions before 1.24 only accept 'host'")
    return _str(name, value, call)


def _init_path(name: str, value: Any, call: _Call) -> str:
    """The daemon dropped ``InitPath`` in API 1.29 (its row holds the minimum, 1.25)."""
    if version_gte(call.api, "1.29"):
        raise InvalidVersion(
            f"{name} is not supported from API version 1.29 on; the negotiated API version is "
            f"{call.api}"
        )
    return _str(name, value, call)


def _restart_policy(name: str, value: Any, call: _Call) -> dict[str, Any]:
    if isinstance(value, RestartPolicy):
        # The Swarm service form; containers only know "what" and "how many times".
        if value.delay or value.window:
            raise InvalidArgument(
                "restart_policy: a container restart policy has no delay or window; pass "
                '{"Name": ..., "MaximumRetryCount": ...}'
            )
        policy = {"none": "no", "on-failure": "on-failure", "any": "always"}[value.condition]
        return {"Name": policy, "MaximumRetryCount": value.max_attempts}
    if not isinstance(value, Mapping):
        raise InvalidArgument(
            f'restart_policy must be a dict like {{"Name": "on-failure", "MaximumRetryCount": 5}}, '
            f"got {value!r}"
        )
    return dict(value)


def _devices(name: str, value: Any, call: _Call) -> list[dict[str, Any]]:
    """``"host[:container[:perms]]"`` strings (or ready-made dicts) → device mappings."""
    items = [value] if isinstance(value, (str, Mapping)) else _list(name, value, call)
    devices: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, Mapping):
            devices.append(dict(item))
            continue
        if not isinstance(item, str) or not item:
            raise InvalidArgument(f"{name}: invalid device {item!r}")
        parts = item.split(":")
        if len(parts) > 3:
            raise InvalidArgument(
                f"{name}: invalid device {item!r}; expected host_path[:container_path[:perms]]"
            )
        host = parts[0]
        container = parts[1] if len(parts) > 1 and parts[1] else host
        permissions = parts[2] if len(parts) > 2 and parts[2] else "rwm"
        devices.append(
            {"PathOnHost": host, "PathInContainer": container, "CgroupPermissions": permissions}
        )
    return devices


def _extra_hosts(name: str, value: Any, call: _Call) -> list[str]:
    if isinstance(value, Mapping):
        return [f"{host}:{address}" for host, address in sorted(value.items())]
    return _strs(name, value, call)


def _links(name: str, value: Any, call: _Call) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (Mapping, list, tuple)):
        raise InvalidArgument(f"links must be a dict of name → alias, got {value!r}")
    return normalize_links(value)


def _lxc_conf(name: str, value: Any, call: _Call) -> list[Any]:
    if isinstance(value, Mapping):
        return [{"Key": key, "Value": str(item)} for key, item in value.items()]
    return _list(name, value, call)


def _log_config(name: str, value: Any, call: _Call) -> LogConfig:
    if isinstance(value, LogConfig):
        return value
    if isinstance(value, Mapping):
        config: LogConfig = _construct(LogConfig, name, value)
        return config
    raise InvalidArgument(f"log_config must be a LogConfig or a dict, got {value!r}")


def _tmpfs(name: str, value: Any, call: _Call) -> dict[str, str]:
    if isinstance(value, Mapping):
        return {str(path): "" if opts is None else str(opts) for path, opts in value.items()}
    mounts: dict[str, str] = {}
    for item in [value] if isinstance(value, str) else _list(name, value, call):
        if not isinstance(item, str):
            raise InvalidArgument(
                f"tmpfs entries must be strings like '/run:size=64m', got {item!r}"
            )
        path, _, options = item.partition(":")
        mounts[path] = options
    return mounts


def _mounts(name: str, value: Any, call: _Call) -> list[dict[str, Any]]:
    mounts: list[dict[str, Any]] = []
    for item in _list(name, value, call):
        if isinstance(item, str):
            mounts.append(Mount.parse_mount_string(item))
        elif isinstance(item, Mapping):
            mounts.append(item if isinstance(item, Mount) else dict(item))
        else:
            raise InvalidArgument(f"mounts must hold Mount objects, got {item!r}")
    for mount in mounts:
        options = mount.get("VolumeOptions")
        if isinstance(options, Mapping) and options.get("Subpath"):
            call.require("mounts with subpath", "1.45")
    return mounts


# =========================================================================== ports

_PORT_KEY_RE = re.compile(r"^(\d+)(?:-(\d+))?(?:/([A-Za-z]+))?$")
_HOST_PORT_RE = re.compile(r"^(\d*)(?:-(\d+))?$")
_PROTOCOLS = ("tcp", "udp", "sctp")


def _parse_port_key(key: Any) -> tuple[list[int], str]:
    """``80``, ``"80"``, ``"80/udp"`` or a range ``"8000-8002/tcp"`` → (ports, protocol)."""
    if isinstance(key, bool) or not isinstance(key, (int, str)):
        raise InvalidArgument(f"ports: invalid container port {key!r}")
    match = _PORT_KEY_RE.match(str(key).strip())
    if match is None:
        raise InvalidArgument(
            f"ports: invalid container port {key!r}; expected 'port[/protocol]' or "
            "'first-last[/protocol]'"
        )
    first, last, protocol = match.groups()
    protocol = (protocol or "tcp").lower()
    if protocol not in _PROTOCOLS:
        raise InvalidArgument(
            f"ports: invalid protocol {protocol!r} in {key!r}; expected tcp, udp or sctp"
        )
    start = int(first)
    end = int(last) if last is not None else start
    if not 0 < start <= end <= 65535:
        raise InvalidArgument(f"ports: invalid container port range {key!r}")
    return list(range(start, end + 1)), protocol


def _host_ports(key: Any, port: Any, count: int) -> list[str]:
    """The host port of one binding, spread over ``count`` container ports.

    One container port takes any host port or host range (the daemon picks a free port in a
    range); a container range takes no host port (random ports) or a host range of its length.
    """
    if port is None or port == "":
        return [""] * count
    if isinstance(port, bool) or not isinstance(port, (int, str)):
        raise InvalidArgument(f"ports: invalid host port {port!r} for {key!r}")
    text = str(port).strip()
    match = _HOST_PORT_RE.match(text)
    if match is None or not match.group(1):
        raise InvalidArgument(f"ports: invalid host port {port!r} for {key!r}")
    if count == 1:
        return [text]
    if match.group(2) is not None:
        start, end = int(match.group(1)), int(match.group(2))
        if end - start + 1 == count:
            return [str(p) for p in range(start, end + 1)]
    raise InvalidArgument(
        f"ports: the container port range {key!r} needs a host port range of the same length "
        f"(or None for random ports), got {port!r}"
    )


def _bindings(key: Any, value: Any, count: int) -> list[list[dict[str, str]]]:
    """The ``PortBindings`` entries for each of ``count`` container ports of one key."""
    items = value if isinstance(value, list) else [value]
    per_port: list[list[dict[str, str]]] = [[] for _ in range(count)]
    for item in items:
        host_ip: Any = ""
        host_port: Any = None
        if isinstance(item, tuple):
            if len(item) == 2:
                host_ip, host_port = item
            elif len(item) == 1 and isinstance(item[0], str):
                host_ip = item[0]
            elif len(item) == 1:
                host_port = item[0]
            else:
                raise InvalidArgument(f"ports: invalid binding {item!r} for {key!r}")
        elif isinstance(item, Mapping):
            if "HostPort" not in item:
                raise InvalidArgument(f"ports: binding {item!r} for {key!r} has no 'HostPort'")
            host_ip, host_port = item.get("HostIp", ""), item["HostPort"]
        elif item is None or isinstance(item, (int, str)):
            host_port = item
        else:
            raise InvalidArgument(f"ports: invalid binding {item!r} for {key!r}")
        if host_ip is None:
            host_ip = ""
        if not isinstance(host_ip, str):
            raise InvalidArgument(f"ports: invalid host address {host_ip!r} for {key!r}")
        for index, port in enumerate(_host_ports(key, host_port, count)):
            per_port[index].append({"HostIp": host_ip, "HostPort": port})
    return per_port


def _ports(name: str, value: Any, call: _Call) -> dict[str, list[dict[str, str]]]:
    """``ports`` → ``HostConfig.PortBindings``, whose sorted keys are also ``ExposedPorts``.

    A container port range is expanded port by port, because the daemon rejects a range as a
    ``PortBindings`` key (the CLI expands ``-p`` ranges the same way).
    """
    if not isinstance(value, Mapping):
        raise InvalidArgument(
            "ports must be a dict mapping container ports to host ports, e.g. {'2222/tcp': 3333}"
        )
    bindings: dict[str, list[dict[str, str]]] = {}
    for key, host in value.items():
        ports, protocol = _parse_port_key(key)
        for port, entries in zip(ports, _bindings(key, host, len(ports)), strict=True):
            port_name = f"{port}/{protocol}"
            if port_name in bindings:
                raise InvalidArgument(f"ports: container port {port_name} is given more than once")
            bindings[port_name] = entries
    return bindings


# =========================================================================== volumes

_BIND_MODES = frozenset(
    {
        "ro",
        "rw",
        "z",
        "Z",
        "shared",
        "rshared",
        "slave",
        "rslave",
        "private",
        "rprivate",
        "nocopy",
        "consistent",
        "cached",
        "delegated",
    }
)
_PROPAGATION_MODES = ("rshared", "shared", "rslave", "slave", "rprivate", "private")


def _is_bind_mode(text: str) -> bool:
    return all(option in _BIND_MODES for option in text.split(","))


# A Windows drive path: "C:\...".  "c:/x" is not one: on a Linux daemon it is the volume "c" at /x.
_DRIVE_RE = re.compile(r"^[A-Za-z]:\\")


def _split_drive(path: str) -> tuple[str, str]:
    return (path[:2], path[2:]) if _DRIVE_RE.match(path) else ("", path)


def _container_path_from_bind(spec: str) -> str:
    """The container side of a ``host:container[:options]`` bind string.

    Options such as ``ro``, ``z`` or ``rshared`` are dropped, and a Windows drive letter on either
    side is not mistaken for a separator.
    """
    drive, rest = _split_drive(spec)
    head, sep, tail = rest.partition(":")
    if not sep:
        return drive + head  # only a path: an anonymous volume there
    if _is_bind_mode(tail):
        return drive + head  # "path:ro"
    target_drive, target_rest = _split_drive(tail)
    return target_drive + target_rest.partition(":")[0]


def _text(value: Any, what: str) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if not isinstance(value, str):
        raise InvalidArgument(f"volumes: {what} must be a string, got {value!r}")
    return value


def _bind_from_dict(host: str, spec: Any) -> tuple[str, str]:
    if not isinstance(spec, Mapping):
        target = _text(spec, f"the container path for {host!r}")
        return f"{host}:{target}:rw", target
    if "bind" not in spec:
        raise InvalidArgument(f"volumes: the entry for {host!r} has no 'bind' (container path)")
    target = _text(spec["bind"], f"the container path for {host!r}")
    if "ro" in spec and "mode" in spec:
        raise InvalidArgument(f"volumes: the entry for {host!r} has both 'ro' and 'mode'")
    if "ro" in spec:
        mode = "ro" if spec["ro"] else "rw"
    else:
        mode = _text(spec.get("mode", "rw"), f"the mode for {host!r}")
    propagation = spec.get("propagation")
    if propagation is not None:
        if propagation not in _PROPAGATION_MODES:
            raise InvalidArgument(
                f"volumes: invalid propagation {propagation!r} for {host!r}; expected one of "
                + ", ".join(_PROPAGATION_MODES)
            )
        mode = f"{mode},{propagation}" if mode else propagation
    return f"{host}:{target}:{mode}", target


def _volumes(name: str, value: Any, call: _Call) -> tuple[list[str], list[str]]:
    """``volumes`` → (``HostConfig.Binds``, container paths for the top-level ``Volumes``)."""
    if isinstance(value, Mapping):
        binds, paths = [], []
        for host, spec in value.items():
            bind, target = _bind_from_dict(_text(host, "a host path or volume name"), spec)
            binds.append(bind)
            paths.append(target)
        return binds, paths
    items = [value] if isinstance(value, (str, bytes)) else _list(name, value, call)
    binds = [_text(item, "a bind specification") for item in items]
    return binds, [_container_path_from_bind(bind) for bind in binds]


# =========================================================================== networks


def _endpoint_settings(name: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidArgument(
            f"networking_config[{name!r}] must be an EndpointConfig or a dict, got {value!r}"
        )
    return dict(value)  # a copy: a MAC address may be added without touching the caller's


def _endpoints(name: str, value: Any, call: _Call) -> dict[str, dict[str, Any]]:
    """``networking_config`` → ``EndpointsConfig`` entries: every network listed is attached."""
    if not isinstance(value, Mapping):
        raise InvalidArgument(
            f"networking_config must map network names to EndpointConfig, got {value!r}"
        )
    return {str(key): _endpoint_settings(str(key), item) for key, item in value.items()}


def _networking(
    call: _Call, host_config: dict[str, Any], has_ports: bool
) -> tuple[dict[str, Any] | None, str | None]:
    """NetworkMode, and the ``NetworkingConfig`` and container-wide ``MacAddress`` body fields."""
    if call.kw.get("network") and call.kw.get("network_mode"):
        raise InvalidArgument('the options "network" and "network_mode" cannot be used together')
    if call.kw.get("networking_config") and not call.kw.get("network"):
        raise InvalidArgument('the option "networking_config" cannot be used without "network"')
    network = call.value("network")
    mode = network or call.value("network_mode") or "default"
    host_config["NetworkMode"] = mode
    if mode == "host" and has_ports:
        raise InvalidArgument('network mode "host" is incompatible with ports')

    endpoints: dict[str, dict[str, Any]] | None = None
    if network:
        # The network named by ``network`` comes first, even when networking_config has no
        # settings for it (docker-py would drop the whole dict then).
        endpoints = {network: {}, **(call.value("networking_config") or {})}
        if len(endpoints) > 1:
            call.require("networking_config with several networks", "1.44")

    mac = call.value("mac_address")
    if mac and version_gte(call.api, "1.44"):
        endpoints = _endpoint_mac_address(mode, endpoints, mac)
        mac = None
    return (None if endpoints is None else {"EndpointsConfig": endpoints}), mac


def _endpoint_mac_address(
    mode: str, endpoints: dict[str, dict[str, Any]] | None, mac: str
) -> dict[str, dict[str, Any]]:
    """Put the MAC address on the main network's endpoint, where API ≥ 1.44 reads it.

    The daemon keys the main endpoint by the network mode (``default`` is renamed to the default
    network's name on its side), which is what it does itself for older clients.
    """
    if mode in ("host", "none") or mode.startswith("container:"):
        raise InvalidArgument(f'mac_address cannot be used with network mode "{mode}"')
    endpoints = dict(endpoints or {})
    settings = dict(endpoints.get(mode, {}))
    current = settings.get("MacAddress")
    if current and current != mac:
        raise InvalidArgument(
            f"mac_address {mac!r} differs from the MacAddress {current!r} in networking_config"
        )
    settings["MacAddress"] = mac
    endpoints[mode] = settings
    return endpoints


# =========================================================================== the table


class _Where(Enum):
    """The part of the request a keyword fills: the spec's tables A to D."""

    CONFIG = "the create body"
    QUERY = "the query string"
    HOST = "HostConfig"
    SPLIT = "several parts"  # placed by _build and _networking
    RUN = "RunOptions"  # run() only: steers the client, never sent


class _Sent(Enum):
    """When a keyword's field is in the request."""

    GIVEN = "unless None"
    TRUTHY = "unless falsy"  # docker-py leaves 0, "", False, [] to the daemon's default
    ALWAYS = "always"  # converted from None when not given


# The table's shorthand.
_CONFIG, _QUERY, _HOST, _SPLIT, _RUN = _Where
_GIVEN, _TRUTHY, _ALWAYS = _Sent


@dataclass(frozen=True)
class _Kw:
    """One keyword: where its value goes, and how it gets there."""

    name: str
    where: _Where
    #: The field the converted value goes to (a tuple: one per item of the value), or None when
    #: another row's conversion or a step of the builder places it (the row's comment says where).
    field: str | tuple[str, ...] | None
    convert: _Convert
    min_api: str | None
    sent: _Sent
    #: Accepted on top of docker-py's keywords (run-kwargs.md, section E).
    extension: bool = False


_ATTACH = ("StdinOnce", "AttachStdin", "AttachStdout", "AttachStderr")

# The order of the rows is the order of the fields in the body and in HostConfig, and the order in
# which each part's keywords are checked.
# fmt: off
_KEYWORDS: tuple[_Kw, ...] = (
    #   keyword                where    field                   convert           min     sent
    # A. The create body and its query string, in the body's order.
    _Kw("image",               _CONFIG, "Image",                _image,           None,   _ALWAYS),
    _Kw("command",             _CONFIG, "Cmd",                  _command,         None,   _GIVEN),
    _Kw("entrypoint",          _CONFIG, "Entrypoint",           _command,         None,   _GIVEN),
    _Kw("hostname",            _CONFIG, "Hostname",             _as_is,           None,   _GIVEN),
    _Kw("domainname",          _CONFIG, "Domainname",           _as_is,           None,   _GIVEN),
    _Kw("user",                _CONFIG, "User",                 _to_str,          None,   _GIVEN),
    _Kw("working_dir",         _CONFIG, "WorkingDir",           _as_is,           None,   _GIVEN),
    _Kw("environment",         _CONFIG, "Env",                  _environment,     None,   _ALWAYS),
    # use_config_proxy: read by environment's conversion.
    _Kw("use_config_proxy",    _CONFIG, None,                   _as_is,           None,   _GIVEN),
    _Kw("labels",              _CONFIG, "Labels",               _labels,          None,   _GIVEN),
    _Kw("tty",                 _CONFIG, "Tty",                  _bool,            None,   _ALWAYS),
    _Kw("stdin_open",          _CONFIG, "OpenStdin",            _bool,            None,   _ALWAYS),
    _Kw("detach",              _CONFIG, _ATTACH,                _attach,          None,   _ALWAYS),
    _Kw("network_disabled",    _CONFIG, "NetworkDisabled",      _bool,            None,   _ALWAYS),
    _Kw("stop_signal",         _CONFIG, "StopSignal",           _as_is,           None,   _GIVEN),
    _Kw("stop_timeout",        _CONFIG, "StopTimeout",          _int,             "1.25", _GIVEN,
        extension=True),
    _Kw("healthcheck",         _CONFIG, "Healthcheck",          _healthcheck,     "1.24", _GIVEN),
    # MacAddress, or the main endpoint's from API 1.44: _networking places it.
    _Kw("mac_address",         _CONFIG, None,                   _str,             None,   _TRUTHY),
    _Kw("name",                _QUERY,  "name",                 _str,             None,   _GIVEN),
    _Kw("platform",            _QUERY,  "platform",             _to_str,          "1.41", _TRUTHY),
    # B. HostConfig, in the order its fields are sent.
    _Kw("auto_remove",         _HOST,   "AutoRemove",           _bool,            "1.25", _TRUTHY),
    _Kw("blkio_weight",        _HOST,   "BlkioWeight",          _int,             "1.22", _TRUTHY),
    _Kw("blkio_weight_device", _HOST,   "BlkioWeightDevice",    _list,            "1.22", _TRUTHY),
    _Kw("cap_add",             _HOST,   "CapAdd",               _strs,            None,   _TRUTHY),
    _Kw("cap_drop",            _HOST,   "CapDrop",              _strs,            None,   _TRUTHY),
    _Kw("cgroup_parent",       _HOST,   "CgroupParent",         _str,             None,   _GIVEN),
    _Kw("cgroupns",            _HOST,   "CgroupnsMode",         _cgroupns,        None,   _TRUTHY),
    _Kw("cpu_count",           _HOST,   "CpuCount",             _int,             "1.25", _TRUTHY),
    _Kw("cpu_percent",         _HOST,   "CpuPercent",           _int,             "1.25", _TRUTHY),
    _Kw("cpu_period",          _HOST,   "CpuPeriod",            _int,             None,   _TRUTHY),
    _Kw("cpu_quota",           _HOST,   "CpuQuota",             _int,             None,   _TRUTHY),
    _Kw("cpu_rt_period",       _HOST,   "CPURealtimePeriod",    _int,             "1.25", _TRUTHY),
    _Kw("cpu_rt_runtime",      _HOST,   "CPURealtimeRuntime",   _int,             "1.25", _TRUTHY),
    _Kw("cpu_shares",          _HOST,   "CpuShares",            _int,             None,   _TRUTHY),
    _Kw("cpuset_cpus",         _HOST,   "CpusetCpus",           _str,             None,   _TRUTHY),
    _Kw("cpuset_mems",         _HOST,   "CpusetMems",           _str,             None,   _TRUTHY),
    _Kw("device_cgroup_rules", _HOST,   "DeviceCgroupRules",    _strs,            "1.28", _GIVEN),
    _Kw("device_read_bps",     _HOST,   "BlkioDeviceReadBps",   _list,            "1.22", _TRUTHY),
    _Kw("device_read_iops",    _HOST,   "BlkioDeviceReadIOps",  _list,            "1.22", _TRUTHY),
    _Kw("device_write_bps",    _HOST,   "BlkioDeviceWriteBps",  _list,            "1.22", _TRUTHY),
    _Kw("device_write_iops",   _HOST,   "BlkioDeviceWriteIOps", _list,            "1.22", _TRUTHY),
    _Kw("dns",                 _HOST,   "Dns",                  _strs,            None,   _GIVEN),
    _Kw("dns_opt",             _HOST,   "DnsOptions",           _strs,            None,   _GIVEN),
    _Kw("dns_search",          _HOST,   "DnsSearch",            _strs,            None,   _TRUTHY),
    _Kw("group_add",           _HOST,   "GroupAdd",             _group_add,       None,   _TRUTHY),
    _Kw("init",                _HOST,   "Init",                 _bool,            "1.25", _GIVEN),
    _Kw("ipc_mode",            _HOST,   "IpcMode",              _str,             None,   _TRUTHY),
    _Kw("isolation",           _HOST,   "Isolation",            _str,             "1.24", _TRUTHY),
    _Kw("nano_cpus",           _HOST,   "NanoCpus",             _int,             "1.25", _TRUTHY),
    _Kw("oom_kill_disable",    _HOST,   "OomKillDisable",       _bool,            None,   _TRUTHY),
    _Kw("oom_score_adj",       _HOST,   "OomScoreAdj",          _int,             "1.22", _TRUTHY),
    _Kw("pids_limit",          _HOST,   "PidsLimit",            _int,             "1.23", _TRUTHY),
    _Kw("privileged",          _HOST,   "Privileged",           _bool,            None,   _TRUTHY),
    _Kw("publish_all_ports",   _HOST,   "PublishAllPorts",      _bool,            None,   _TRUTHY),
    _Kw("read_only",           _HOST,   "ReadonlyRootfs",       _bool,            None,   _GIVEN),
    _Kw("runtime",             _HOST,   "Runtime",              _str,             "1.25", _TRUTHY),
    _Kw("security_opt",        _HOST,   "SecurityOpt",          _strs,            None,   _GIVEN),
    _Kw("storage_opt",         _HOST,   "StorageOpt",           _dict,            "1.24", _GIVEN),
    _Kw("sysctls",             _HOST,   "Sysctls",              _sysctls,         None,   _TRUTHY),
    _Kw("userns_mode",         _HOST,   "UsernsMode",           _only_host,       "1.23", _TRUTHY),
    _Kw("uts_mode",            _HOST,   "UTSMode",              _only_host,       None,   _TRUTHY),
    _Kw("volume_driver",       _HOST,   "VolumeDriver",         _str,             None,   _GIVEN),
    _Kw("volumes_from",        _HOST,   "VolumesFrom",          _volumes_from,    None,   _GIVEN),
    # Memory and MemorySwap may be 0 or -1 on purpose; the other sizes are sent when set.
    _Kw("mem_limit",           _HOST,   "Memory",               _size,            None,   _GIVEN),
    _Kw("memswap_limit",       _HOST,   "MemorySwap",           _size,            None,   _GIVEN),
    _Kw("mem_reservation",     _HOST,   "MemoryReservation",    _size,            None,   _TRUTHY),
    _Kw("kernel_memory",       _HOST,   "KernelMemory",         _size,            None,   _TRUTHY),
    _Kw("shm_size",            _HOST,   "ShmSize",              _size,            None,   _GIVEN),
    _Kw("mem_swappiness",      _HOST,   "MemorySwappiness",     _swappiness,      None,   _GIVEN),
    _Kw("pid_mode",            _HOST,   "PidMode",              _pid_mode,        None,   _TRUTHY),
    _Kw("init_path",           _HOST,   "InitPath",             _init_path,       "1.25", _GIVEN),
    _Kw("restart_policy",      _HOST,   "RestartPolicy",        _restart_policy,  None,   _TRUTHY),
    _Kw("devices",             _HOST,   "Devices",              _devices,         None,   _TRUTHY),
    _Kw("extra_hosts",         _HOST,   "ExtraHosts",           _extra_hosts,     None,   _GIVEN),
    _Kw("links",               _HOST,   "Links",                _links,           None,   _GIVEN),
    _Kw("lxc_conf",            _HOST,   "LxcConf",              _lxc_conf,        None,   _GIVEN),
    _Kw("ulimits",             _HOST,   "Ulimits",              _ulimits,         None,   _GIVEN),
    _Kw("log_config",          _HOST,   "LogConfig",            _log_config,      None,   _GIVEN),
    _Kw("tmpfs",               _HOST,   "Tmpfs",                _tmpfs,           "1.22", _TRUTHY),
    _Kw("device_requests",     _HOST,   "DeviceRequests",       _device_requests, "1.40", _GIVEN),
    _Kw("mounts",              _HOST,   "Mounts",               _mounts,          "1.30", _GIVEN),
    # version: docker-py's own validation version, ignored.  NetworkMode: _networking.
    _Kw("version",             _HOST,   None,                   _as_is,           None,   _GIVEN),
    _Kw("network_mode",        _HOST,   None,                   _str,             None,   _TRUTHY),
    # C. PortBindings and ExposedPorts; Binds and Volumes: _build.  NetworkMode and
    # NetworkingConfig: _networking.
    _Kw("ports",               _SPLIT,  None,                   _ports,           None,   _TRUTHY),
    _Kw("volumes",             _SPLIT,  None,                   _volumes,         None,   _TRUTHY),
    _Kw("network",             _SPLIT,  None,                   _str,             None,   _TRUTHY),
    _Kw("networking_config",   _SPLIT,  None,                   _endpoints,       None,   _TRUTHY),
    # D. run() only: RunOptions.
    _Kw("stdout",              _RUN,    None,                   _bool,            None,   _GIVEN),
    _Kw("stderr",              _RUN,    None,                   _bool,            None,   _GIVEN),
    _Kw("remove",              _RUN,    None,                   _bool,            None,   _GIVEN),
    _Kw("stream",              _RUN,    None,                   _bool,            None,   _GIVEN),
)
# fmt: on
_BY_NAME: dict[str, _Kw] = {row.name: row for row in _KEYWORDS}


def _names(*where: _Where) -> frozenset[str]:
    """docker-py's keywords for these parts (extensions are listed on their own)."""
    return frozenset(r.name for r in _KEYWORDS if r.where in where and not r.extension)


#: Keywords that fill fields of the create body itself (table A of run-kwargs.md).
CONTAINER_KWARGS: frozenset[str] = _names(_CONFIG, _QUERY)
#: Keywords that fill ``HostConfig`` (table B).
HOST_CONFIG_KWARGS: frozenset[str] = _names(_HOST)
#: Keywords that fill both the body and ``HostConfig`` (table C).
SPLIT_KWARGS: frozenset[str] = _names(_SPLIT)
#: Accepted on top of docker-py's list (run-kwargs.md section E): ``stop_timeout`` → StopTimeout.
EXTENSION_KWARGS: frozenset[str] = frozenset(r.name for r in _KEYWORDS if r.extension)
#: Everything ``create()`` accepts.
CREATE_KWARGS: frozenset[str] = (
    CONTAINER_KWARGS | HOST_CONFIG_KWARGS | SPLIT_KWARGS | EXTENSION_KWARGS
)
#: What ``run()`` accepts on top of ``create()`` (section D); they steer the client, not the daemon.
RUN_ONLY_KWARGS: frozenset[str] = _names(_RUN)
#: Everything ``run()`` accepts.
RUN_KWARGS: frozenset[str] = CREATE_KWARGS | RUN_ONLY_KWARGS
#: The oldest Engine API that has the field a keyword fills (the "min" column).
MIN_API_VERSIONS: Mapping[str, str] = {
    row.name: row.min_api for row in sorted(_KEYWORDS, key=lambda r: r.name) if row.min_api
}


# =========================================================================== entry points


def build_create_request(
    api_version: str,
    image: str | _HasId,
    command: str | list[str] | None = None,
    proxy_config: Mapping[str, str] | None = None,
    /,
    **kwargs: Any,
) -> CreateRequest:
    """Validate and convert ``containers.create()`` arguments into the create request.

    ``api_version`` is the negotiated version: a keyword whose field is newer raises
    :class:`~ctrproto.errors.InvalidVersion`.  ``proxy_config`` is the ``config.json`` proxy entry
    for this daemon (``httpProxy``, ``httpsProxy``, ``ftpProxy``, ``noProxy``), injected into the
    environment unless ``use_config_proxy=False``.  The parameters are positional-only so that
    every name is free for the caller's keywords, which are checked against
    :data:`CREATE_KWARGS` (an unknown one is a ``TypeError``, as a Python signature would give).
    """
    _reject_unknown("create", kwargs, CREATE_KWARGS)
    return _build(_Call(api_version, image, command, kwargs, proxy_config))


def build_run_request(
    api_version: str,
    image: str | _HasId,
    command: str | list[str] | None = None,
    proxy_config: Mapping[str, str] | None = None,
    /,
    **kwargs: Any,
) -> tuple[CreateRequest, RunOptions]:
    """Like :func:`build_create_request` for ``containers.run()``, which takes four more keywords.

    ``detach=True`` with ``remove=True`` asks the daemon to remove the container
    (``auto_remove``), since the client will not be around when it exits.
    """
    _reject_unknown("run", kwargs, RUN_KWARGS)
    call = _Call(api_version, image, command, kwargs, proxy_config)
    steering = {
        row.name: row.convert(row.name, call.kw.pop(row.name), call)
        for row in _KEYWORDS
        if row.where is _RUN and row.name in call.kw
    }
    detach = bool(call.kw.get("detach", False))
    if detach and steering.get("remove"):
        call.require("remove=True with detach=True", "1.25")
        call.kw["auto_remove"] = True
    request = _build(call)
    auto_remove = bool(request.body["HostConfig"].get("AutoRemove"))
    return request, RunOptions(detach=detach, auto_remove=auto_remove, **steering)


def _reject_unknown(method: str, kwargs: Mapping[str, Any], allowed: frozenset[str]) -> None:
    for positional in ("image", "command"):
        if positional in kwargs:
            raise TypeError(f"{method}() got multiple values for argument '{positional}'")
    unknown = sorted(set(kwargs) - allowed)
    if len(unknown) == 1:
        raise TypeError(f"{method}() got an unexpected keyword argument '{unknown[0]}'")
    if unknown:
        names = ", ".join(f"'{name}'" for name in unknown)
        raise TypeError(f"{method}() got unexpected keyword arguments {names}")


def _fill(call: _Call, where: _Where) -> dict[str, Any]:
    """The fields of one part of the request that the table places itself, in its order."""
    part: dict[str, Any] = {}
    for row in _KEYWORDS:
        if row.where is not where or row.field is None:
            continue
        value = call.value(row.name)
        if isinstance(row.field, tuple):
            part.update(zip(row.field, value, strict=True))
        elif value is not None:
            part[row.field] = value
    return part


def _build(call: _Call) -> CreateRequest:
    # The image, then HostConfig, then the body, as docker-py builds them: with several bad
    # keywords, the one named is the same.
    image = call.value("image")
    host_config = _fill(call, _HOST)
    bindings = call.value("ports")
    binds, volume_paths = call.value("volumes") or ([], [])
    if bindings:
        host_config["PortBindings"] = bindings
    if binds:
        host_config["Binds"] = binds
    networking, mac_top_level = _networking(call, host_config, bool(bindings))
    body = {
        **_fill(call, _CONFIG),
        "MacAddress": mac_top_level,
        "ExposedPorts": {port: {} for port in sorted(bindings)} if bindings else None,
        "Volumes": {path: {} for path in volume_paths} if volume_paths else None,
        "HostConfig": host_config,
        "NetworkingConfig": networking,
    }
    params = _fill(call, _QUERY)
    return CreateRequest(
        image=image,
        body={key: value for key, value in body.items() if value is not None},
        params=params,
        platform=params.get("platform"),
    )


# =========================================================================== proxies

_PROXY_VARIABLES = (
    ("httpProxy", "http_proxy"),
    ("httpsProxy", "https_proxy"),
    ("ftpProxy", "ftp_proxy"),
    ("noProxy", "no_proxy"),
)


def proxy_environment(proxy_config: Mapping[str, str] | None) -> list[str]:
    """``K=V`` entries for a proxy entry, lower- and upper-case, as the CLI sets them."""
    env: list[str] = []
    for key, variable in _PROXY_VARIABLES:
        value = (proxy_config or {}).get(key)
        if value:
            env.append(f"{variable}={value}")
            env.append(f"{variable.upper()}={value}")
    return env
