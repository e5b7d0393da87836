"""``containers.create()`` / ``run()`` keywords → the ``POST /containers/create`` request.

docker-py spreads this over ``models.containers``, ``ContainerConfig`` and ``HostConfig``; here it
is one I/O-free function so that the sync and asyncio facades build byte-for-byte the same request
and so that every conversion can be tested without a daemon.  The keyword list, the target fields
and the minimum API versions follow ``run-kwargs.md``; where docker-py sends something the daemon
ignores or rejects (a port range key, a container-wide MAC address on API ≥ 1.44, a float memory
size) we send what the spec's sentence promises instead, and the helpers' docstrings say so.

Nothing here reads files or the environment: the proxy settings that ``use_config_proxy`` injects
come in as an argument (:func:`select_proxy_config` picks them out of a parsed ``config.json``).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
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
    "select_proxy_config",
]

# =========================================================================== keyword sets

#: Keywords that fill fields of the create body itself (table A of run-kwargs.md).
CONTAINER_KWARGS: frozenset[str] = frozenset(
    {
        "command",
        "detach",
        "domainname",
        "entrypoint",
        "environment",
        "healthcheck",
        "hostname",
        "image",
        "labels",
        "mac_address",
        "name",
        "network_disabled",
        "platform",
        "stdin_open",
        "stop_signal",
        "tty",
        "use_config_proxy",
        "user",
        "working_dir",
    }
)

#: Keywords that fill ``HostConfig`` (table B).
HOST_CONFIG_KWARGS: frozenset[str] = frozenset(
    {
        "auto_remove",
        "blkio_weight",
        "blkio_weight_device",
        "cap_add",
        "cap_drop",
        "cgroup_parent",
        "cgroupns",
        "cpu_count",
        "cpu_percent",
        "cpu_period",
        "cpu_quota",
        "cpu_rt_period",
        "cpu_rt_runtime",
        "cpu_shares",
        "cpuset_cpus",
        "cpuset_mems",
        "device_cgroup_rules",
        "device_read_bps",
        "device_read_iops",
        "device_requests",
        "device_write_bps",
        "device_write_iops",
        "devices",
        "dns",
        "dns_opt",
        "dns_search",
        "extra_hosts",
        "group_add",
        "init",
        "init_path",
        "ipc_mode",
        "isolation",
        "kernel_memory",
        "links",
        "log_config",
        "lxc_conf",
        "mem_limit",
        "mem_reservation",
        "mem_swappiness",
        "memswap_limit",
        "mounts",
        "nano_cpus",
        "network_mode",
        "oom_kill_disable",
        "oom_score_adj",
        "pid_mode",
        "pids_limit",
        "privileged",
        "publish_all_ports",
        "read_only",
        "restart_policy",
        "runtime",
        "security_opt",
        "shm_size",
        "storage_opt",
        "sysctls",
        "tmpfs",
        "ulimits",
        "userns_mode",
        "uts_mode",
        "version",
        "volume_driver",
        "volumes_from",
    }
)

#: Keywords that fill both the body and ``HostConfig`` (table C).
SPLIT_KWARGS: frozenset[str] = frozenset({"ports", "volumes", "network", "networking_config"})

#: Accepted on top of docker-py's list (run-kwargs.md section E): ``stop_timeout`` → StopTimeout.
EXTENSION_KWARGS: frozenset[str] = frozenset({"stop_timeout"})

#: Everything ``create()`` accepts.
CREATE_KWARGS: frozenset[str] = (
    CONTAINER_KWARGS | HOST_CONFIG_KWARGS | SPLIT_KWARGS | EXTENSION_KWARGS
)

#: What ``run()`` accepts on top of ``create()`` (section D); they steer the client, not the daemon.
RUN_ONLY_KWARGS: frozenset[str] = frozenset({"stdout", "stderr", "remove", "stream"})

#: Everything ``run()`` accepts.
RUN_KWARGS: frozenset[str] = CREATE_KWARGS | RUN_ONLY_KWARGS

#: The oldest Engine API that has the field a keyword fills (the "min" column).
MIN_API_VERSIONS: Mapping[str, str] = {
    "auto_remove": "1.25",
    "blkio_weight": "1.22",
    "blkio_weight_device": "1.22",
    "cpu_count": "1.25",
    "cpu_percent": "1.25",
    "cpu_rt_period": "1.25",
    "cpu_rt_runtime": "1.25",
    "device_cgroup_rules": "1.28",
    "device_read_bps": "1.22",
    "device_read_iops": "1.22",
    "device_requests": "1.40",
    "device_write_bps": "1.22",
    "device_write_iops": "1.22",
    "healthcheck": "1.24",
    "init": "1.25",
    "init_path": "1.25",
    "isolation": "1.24",
    "mounts": "1.30",
    "nano_cpus": "1.25",
    "oom_score_adj": "1.22",
    "pids_limit": "1.23",
    "platform": "1.41",
    "runtime": "1.25",
    "stop_timeout": "1.25",
    "storage_opt": "1.24",
    "tmpfs": "1.22",
    "userns_mode": "1.23",
}

# Finer-grained version limits inside one keyword's value.
_HEALTHCHECK_START_PERIOD = "1.29"
_INIT_PATH_REMOVED = "1.29"
_MOUNT_SUBPATH = "1.45"
_MULTIPLE_ENDPOINTS = "1.44"
_ENDPOINT_MAC_ADDRESS = "1.44"  # from here the container-wide MacAddress is ignored


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
    return _Builder(api_version, kwargs).build(image, command, proxy_config)


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
    stdout = bool(kwargs.pop("stdout", True))
    stderr = bool(kwargs.pop("stderr", False))
    remove = bool(kwargs.pop("remove", False))
    stream = bool(kwargs.pop("stream", False))
    detach = bool(kwargs.get("detach", False))
    if detach and remove:
        _require_version(api_version, "remove=True with detach=True", "1.25")
        kwargs["auto_remove"] = True
    request = _Builder(api_version, kwargs).build(image, command, proxy_config)
    options = RunOptions(
        detach=detach,
        stdout=stdout,
        stderr=stderr,
        remove=remove,
        stream=stream,
        auto_remove=bool(request.body["HostConfig"].get("AutoRemove")),
    )
    return request, options


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


def _require_version(api_version: str, what: str, minimum: str) -> None:
    if version_lt(api_version, minimum):
        raise InvalidVersion(
            f"{what} needs API version {minimum} or later; the negotiated API version is "
            f"{api_version}"
        )


# =========================================================================== proxies

_PROXY_VARIABLES = (
    ("httpProxy", "http_proxy"),
    ("httpsProxy", "https_proxy"),
    ("ftpProxy", "ftp_proxy"),
    ("noProxy", "no_proxy"),
)


def select_proxy_config(proxies: Mapping[str, Any] | None, base_url: str) -> dict[str, str]:
    """This daemon's entry in config.json's ``proxies``: the one for its URL, else ``default``."""
    if not proxies:
        return {}
    entry = proxies.get(base_url)
    if entry is None:
        entry = proxies.get("default")
    if not isinstance(entry, Mapping):
        return {}
    return {key: value for key, value in entry.items() if isinstance(value, str)}


def proxy_environment(proxy_config: Mapping[str, str] | None) -> list[str]:
    """``K=V`` entries for a proxy entry, lower- and upper-case, as the CLI sets them."""
    env: list[str] = []
    for key, variable in _PROXY_VARIABLES:
        value = (proxy_config or {}).get(key)
        if value:
            env.append(f"{variable}={value}")
            env.append(f"{variable.upper()}={value}")
    return env


# =========================================================================== the builder


class _Builder:
    """Turns one call's keywords into the body; one method per field family."""

    def __init__(self, api_version: str, kwargs: dict[str, Any]) -> None:
        version_lt(api_version, "1.0")  # raises InvalidVersion early when malformed
        self.version = api_version
        self.kw = kwargs

    # ------------------------------------------------------------------ helpers

    def given(self, name: str) -> Any:
        return self.kw.get(name)

    def require(self, name: str, minimum: str | None = None) -> None:
        _require_version(self.version, name, minimum or MIN_API_VERSIONS[name])

    # ------------------------------------------------------------------ assembly

    def build(
        self,
        image: str | _HasId,
        command: Any,
        proxy_config: Mapping[str, str] | None,
    ) -> CreateRequest:
        image_ref = _image_reference(image)
        host_config = self.host_config()
        port_bindings, exposed = _convert_ports(self.given("ports"))
        binds, volume_paths = _convert_volumes(self.given("volumes"))
        if port_bindings:
            host_config["PortBindings"] = port_bindings
        if binds:
            host_config["Binds"] = binds
        networking, mac_top_level = self.networking(host_config, bool(port_bindings))

        detach = bool(self.given("detach"))
        stdin_open = bool(self.given("stdin_open"))
        body: dict[str, Any] = {
            "Image": image_ref,
            "Cmd": _split_command("command", command),
            "Entrypoint": _split_command("entrypoint", self.given("entrypoint")),
            "Hostname": self.given("hostname"),
            "Domainname": self.given("domainname"),
            "User": None if self.given("user") is None else str(self.given("user")),
            "WorkingDir": self.given("working_dir"),
            "Env": self.environment(proxy_config),
            "Labels": _convert_labels(self.given("labels")),
            "Tty": bool(self.given("tty")),
            "OpenStdin": stdin_open,
            "StdinOnce": stdin_open and not detach,
            "AttachStdin": stdin_open and not detach,
            "AttachStdout": not detach,
            "AttachStderr": not detach,
            "NetworkDisabled": bool(self.given("network_disabled")),
            "StopSignal": self.given("stop_signal"),
            "StopTimeout": self.stop_timeout(),
            "Healthcheck": self.healthcheck(),
            "MacAddress": mac_top_level,
            "ExposedPorts": {port: {} for port in exposed} if exposed else None,
            "Volumes": {path: {} for path in volume_paths} if volume_paths else None,
            "HostConfig": host_config,
            "NetworkingConfig": networking,
        }
        body = {key: value for key, value in body.items() if value is not None}

        params: dict[str, str] = {}
        name = self.given("name")
        if name is not None:
            if not isinstance(name, str):
                raise InvalidArgument(f"name must be a string, got {name!r}")
            params["name"] = name
        platform = self.given("platform")
        if platform:
            self.require("platform")
            params["platform"] = str(platform)
        return CreateRequest(
            image=image_ref, body=body, params=params, platform=str(platform) if platform else None
        )

    # ------------------------------------------------------------------ container level

    def environment(self, proxy_config: Mapping[str, str] | None) -> list[str] | None:
        env = _convert_environment(self.given("environment"))
        if not self.kw.get("use_config_proxy", True):
            return env
        # Prepended, so that the caller's own variables win where both set one.  As with
        # docker-py, an empty result is left out rather than sent as [].
        return proxy_environment(proxy_config) + (env or []) or None

    def stop_timeout(self) -> int | None:
        value = self.given("stop_timeout")
        if value is None:
            return None
        self.require("stop_timeout")
        return _as_int("stop_timeout", value)

    def healthcheck(self) -> Healthcheck | None:
        value = self.given("healthcheck")
        if value is None:
            return None
        self.require("healthcheck")
        if isinstance(value, Healthcheck):
            check = value
        elif isinstance(value, Mapping):
            check = _construct(Healthcheck, "healthcheck", value)
        elif isinstance(value, (str, list, tuple)):
            check = Healthcheck(test=value)
        else:
            raise InvalidArgument(
                f"healthcheck must be a dict, a Healthcheck, or a test command, got {value!r}"
            )
        if check.get("StartPeriod") is not None:
            self.require("healthcheck start_period", _HEALTHCHECK_START_PERIOD)
        return check

    # ------------------------------------------------------------------ HostConfig

    def host_config(self) -> dict[str, Any]:
        hc: dict[str, Any] = {}
        for spec in _SIMPLE_HOST_FIELDS:
            value = self.given(spec.kwarg)
            if value is None or (spec.truthy and not value):
                continue
            if spec.kwarg in MIN_API_VERSIONS:
                self.require(spec.kwarg)
            hc[spec.field] = spec.convert(spec.kwarg, value)

        # Memory sizes: Memory and MemorySwap may be 0/-1 on purpose, the others are sent when set.
        for kwarg, fieldname, truthy in (
            ("mem_limit", "Memory", False),
            ("memswap_limit", "MemorySwap", False),
            ("mem_reservation", "MemoryReservation", True),
            ("kernel_memory", "KernelMemory", True),
            ("shm_size", "ShmSize", False),
        ):
            value = self.given(kwarg)
            if value is None or (truthy and not value):
                continue
            hc[fieldname] = _size(kwarg, value)

        swappiness = self.given("mem_swappiness")
        if swappiness is not None:
            swappiness = _as_int("mem_swappiness", swappiness)
            if not -1 <= swappiness <= 100:
                raise InvalidArgument(
                    f"mem_swappiness must be between 0 and 100 (or -1 for the daemon's default), "
                    f"got {swappiness}"
                )
            hc["MemorySwappiness"] = swappiness

        pid_mode = self.given("pid_mode")
        if pid_mode:
            if version_lt(self.version, "1.24") and pid_mode != "host":
                raise InvalidArgument(
                    f"pid_mode {pid_mode!r}: API versions before 1.24 only accept 'host'"
                )
            hc["PidMode"] = _as_str("pid_mode", pid_mode)

        init_path = self.given("init_path")
        if init_path is not None:
            self.require("init_path")
            if version_gte(self.version, _INIT_PATH_REMOVED):
                raise InvalidVersion(
                    f"init_path is not supported from API version {_INIT_PATH_REMOVED} on; the "
                    f"negotiated API version is {self.version}"
                )
            hc["InitPath"] = _as_str("init_path", init_path)

        restart_policy = self.given("restart_policy")
        if restart_policy:
            hc["RestartPolicy"] = _convert_restart_policy(restart_policy)

        for kwarg, fieldname, convert, truthy in _CONVERTED_HOST_FIELDS:
            value = self.given(kwarg)
            if value is None or (truthy and not value):
                continue
            if kwarg in MIN_API_VERSIONS:
                self.require(kwarg)
            hc[fieldname] = convert(value)

        mounts = self.given("mounts")
        if mounts is not None:
            self.require("mounts")
            hc["Mounts"] = _convert_mounts(mounts)
            if any(_mount_subpath(m) for m in hc["Mounts"]):
                self.require("mounts with subpath", _MOUNT_SUBPATH)
        return hc

    # ------------------------------------------------------------------ networking

    def networking(
        self, host_config: dict[str, Any], has_ports: bool
    ) -> tuple[dict[str, Any] | None, str | None]:
        """NetworkMode, NetworkingConfig and where the MAC address goes.

        Returns the ``NetworkingConfig`` body field and the container-wide ``MacAddress``.
        """
        network = self.given("network")
        network_mode = self.given("network_mode")
        networking_config = self.given("networking_config")
        if network and network_mode:
            raise InvalidArgument(
                'the options "network" and "network_mode" cannot be used together'
            )
        if networking_config and not network:
            raise InvalidArgument('the option "networking_config" cannot be used without "network"')
        mode = _as_str("network", network) if network else network_mode or "default"
        if not isinstance(mode, str):
            raise InvalidArgument(f"network_mode must be a string, got {mode!r}")
        host_config["NetworkMode"] = mode
        if mode == "host" and has_ports:
            raise InvalidArgument('network mode "host" is incompatible with ports')

        endpoints: dict[str, dict[str, Any]] | None = None
        if network:
            if networking_config:
                endpoints = _convert_endpoints(network, networking_config)
                if len(endpoints) > 1:
                    self.require("networking_config with several networks", _MULTIPLE_ENDPOINTS)
            else:
                endpoints = {network: {}}

        mac = self.given("mac_address")
        mac_top_level: str | None = None
        if mac:
            mac = _as_str("mac_address", mac)
            if version_lt(self.version, _ENDPOINT_MAC_ADDRESS):
                mac_top_level = mac
            else:
                endpoints = _endpoint_mac_address(mode, endpoints, mac)
        networking = {"EndpointsConfig": endpoints} if endpoints is not None else None
        return networking, mac_top_level


# =========================================================================== simple fields


@dataclass(frozen=True)
class _FieldSpec:
    kwarg: str
    field: str
    convert: Callable[[str, Any], Any]
    #: docker-py leaves these out when falsy (0, "", False, []): the daemon's default is the same.
    truthy: bool = True


def _as_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"{name} must be an integer, got {value!r}")
    return value


def _as_str(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidArgument(f"{name} must be a string, got {value!r}")
    return value


def _as_bool(name: str, value: Any) -> bool:
    # JSON needs a real boolean; docker-py would send 1 and get a decoding error from Go.
    return bool(value)


def _as_dict(name: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidArgument(f"{name} must be a dict, got {value!r}")
    return dict(value)


def _as_list(name: str, value: Any) -> list[Any]:
    if not isinstance(value, (list, tuple)):
        raise InvalidArgument(f"{name} must be a list, got {value!r}")
    return list(value)


def _as_str_list(name: str, value: Any) -> list[str]:
    """A list of strings; a lone string is a list of one (``cap_add="SYS_ADMIN"``)."""
    items = [value] if isinstance(value, str) else _as_list(name, value)
    for item in items:
        if not isinstance(item, str):
            raise InvalidArgument(f"{name} must be a list of strings; {item!r} is not a string")
    return items


def _only_host(name: str, value: Any) -> str:
    if value != "host":
        raise InvalidArgument(
            f"invalid value for {name}: {value!r} (the only valid value is 'host')"
        )
    return "host"


def _cgroupns(name: str, value: Any) -> str:
    if value not in ("private", "host"):
        raise InvalidArgument(f"invalid value for {name}: {value!r} (expected 'private' or 'host')")
    return str(value)


def _volumes_from(name: str, value: Any) -> list[str]:
    if isinstance(value, str):
        return value.split(",")
    return _as_str_list(name, value)


def _sysctls(name: str, value: Any) -> dict[str, str]:
    return {str(key): str(item) for key, item in _as_dict(name, value).items()}


def _group_add(name: str, value: Any) -> list[str]:
    items = [value] if isinstance(value, (str, int)) else _as_list(name, value)
    return [str(item) for item in items]


_SIMPLE_HOST_FIELDS: tuple[_FieldSpec, ...] = (
    _FieldSpec("auto_remove", "AutoRemove", _as_bool),
    _FieldSpec("blkio_weight", "BlkioWeight", _as_int),
    _FieldSpec("blkio_weight_device", "BlkioWeightDevice", _as_list),
    _FieldSpec("cap_add", "CapAdd", _as_str_list),
    _FieldSpec("cap_drop", "CapDrop", _as_str_list),
    _FieldSpec("cgroup_parent", "CgroupParent", _as_str, truthy=False),
    _FieldSpec("cgroupns", "CgroupnsMode", _cgroupns),
    _FieldSpec("cpu_count", "CpuCount", _as_int),
    _FieldSpec("cpu_percent", "CpuPercent", _as_int),
    _FieldSpec("cpu_period", "CpuPeriod", _as_int),
    _FieldSpec("cpu_quota", "CpuQuota", _as_int),
    _FieldSpec("cpu_rt_period", "CPURealtimePeriod", _as_int),
    _FieldSpec("cpu_rt_runtime", "CPURealtimeRuntime", _as_int),
    _FieldSpec("cpu_shares", "CpuShares", _as_int),
    _FieldSpec("cpuset_cpus", "CpusetCpus", _as_str),
    _FieldSpec("cpuset_mems", "CpusetMems", _as_str),
    _FieldSpec("device_cgroup_rules", "DeviceCgroupRules", _as_str_list, truthy=False),
    _FieldSpec("device_read_bps", "BlkioDeviceReadBps", _as_list),
    _FieldSpec("device_read_iops", "BlkioDeviceReadIOps", _as_list),
    _FieldSpec("device_write_bps", "BlkioDeviceWriteBps", _as_list),
    _FieldSpec("device_write_iops", "BlkioDeviceWriteIOps", _as_list),
    _FieldSpec("dns", "Dns", _as_str_list, truthy=False),
    _FieldSpec("dns_opt", "DnsOptions", _as_str_list, truthy=False),
    _FieldSpec("dns_search", "DnsSearch", _as_str_list),
    _FieldSpec("group_add", "GroupAdd", _group_add),
    _FieldSpec("init", "Init", _as_bool, truthy=False),
    _FieldSpec("ipc_mode", "IpcMode", _as_str),
    _FieldSpec("isolation", "Isolation", _as_str),
    _FieldSpec("nano_cpus", "NanoCpus", _as_int),
    _FieldSpec("oom_kill_disable", "OomKillDisable", _as_bool),
    _FieldSpec("oom_score_adj", "OomScoreAdj", _as_int),
    _FieldSpec("pids_limit", "PidsLimit", _as_int),
    _FieldSpec("privileged", "Privileged", _as_bool),
    _FieldSpec("publish_all_ports", "PublishAllPorts", _as_bool),
    _FieldSpec("read_only", "ReadonlyRootfs", _as_bool, truthy=False),
    _FieldSpec("runtime", "Runtime", _as_str),
    _FieldSpec("security_opt", "SecurityOpt", _as_str_list, truthy=False),
    _FieldSpec("storage_opt", "StorageOpt", _as_dict, truthy=False),
    _FieldSpec("sysctls", "Sysctls", _sysctls),
    _FieldSpec("userns_mode", "UsernsMode", _only_host),
    _FieldSpec("uts_mode", "UTSMode", _only_host),
    _FieldSpec("volume_driver", "VolumeDriver", _as_str, truthy=False),
    _FieldSpec("volumes_from", "VolumesFrom", _volumes_from, truthy=False),
)


def _size(name: str, value: Any) -> int:
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


# =========================================================================== converted fields


def _split_command(name: str, value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return shlex.split(value)
    return _as_str_list(name, value)


def _image_reference(image: Any) -> str:
    if isinstance(image, str):
        return image
    ident = getattr(image, "id", None)
    if isinstance(ident, str):
        return ident
    raise InvalidArgument(f"image must be a name, an id or an Image object, got {image!r}")


def _convert_environment(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        env = []
        for key, item in value.items():
            if item is None:
                env.append(str(key))
            else:
                if isinstance(item, bytes):
                    item = item.decode("utf-8")
                env.append(f"{key}={item}")
        return env
    return _as_str_list("environment", value)


def _convert_labels(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        labels = dict(value)
        for key, item in labels.items():
            if not isinstance(key, str) or not isinstance(item, str):
                raise InvalidArgument(
                    f"labels must map strings to strings; {key!r}: {item!r} is not"
                )
        return labels
    return {label: "" for label in _as_str_list("labels", value)}


def _convert_restart_policy(value: Any) -> dict[str, Any]:
    if isinstance(value, RestartPolicy):
        # The Swarm service form; containers only know "what" and "how many times".
        if value.delay or value.window:
            raise InvalidArgument(
                "restart_policy: a container restart policy has no delay or window; pass "
                '{"Name": ..., "MaximumRetryCount": ...}'
            )
        name = {"none": "no", "on-failure": "on-failure", "any": "always"}[value.condition]
        return {"Name": name, "MaximumRetryCount": value.max_attempts}
    if not isinstance(value, Mapping):
        raise InvalidArgument(
            f'restart_policy must be a dict like {{"Name": "on-failure", "MaximumRetryCount": 5}}, '
            f"got {value!r}"
        )
    return dict(value)


def _convert_devices(value: Any) -> list[dict[str, Any]]:
    items = [value] if isinstance(value, (str, Mapping)) else _as_list("devices", value)
    devices: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, Mapping):
            devices.append(dict(item))
            continue
        if not isinstance(item, str) or not item:
            raise InvalidArgument(f"devices: invalid device {item!r}")
        parts = item.split(":")
        if len(parts) > 3:
            raise InvalidArgument(
                f"devices: invalid device {item!r}; expected host_path[:container_path[:perms]]"
            )
        host = parts[0]
        container = parts[1] if len(parts) > 1 and parts[1] else host
        permissions = parts[2] if len(parts) > 2 and parts[2] else "rwm"
        devices.append(
            {"PathOnHost": host, "PathInContainer": container, "CgroupPermissions": permissions}
        )
    return devices


def _convert_extra_hosts(value: Any) -> list[str]:
    if isinstance(value, Mapping):
        return [f"{host}:{address}" for host, address in sorted(value.items())]
    return _as_str_list("extra_hosts", value)


def _convert_links(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (Mapping, list, tuple)):
        raise InvalidArgument(f"links must be a dict of name → alias, got {value!r}")
    return normalize_links(value)


def _convert_lxc_conf(value: Any) -> list[Any]:
    if isinstance(value, Mapping):
        return [{"Key": key, "Value": str(item)} for key, item in value.items()]
    return _as_list("lxc_conf", value)


def _convert_ulimits(value: Any) -> list[Ulimit]:
    limits = []
    for item in _as_list("ulimits", value):
        if isinstance(item, Ulimit):
            limits.append(item)
        elif isinstance(item, Mapping):
            limits.append(_construct(Ulimit, "ulimits", item))
        else:
            raise InvalidArgument(f"ulimits must hold Ulimit objects or dicts, got {item!r}")
    return limits


def _convert_log_config(value: Any) -> LogConfig:
    if isinstance(value, LogConfig):
        return value
    if isinstance(value, Mapping):
        config: LogConfig = _construct(LogConfig, "log_config", value)
        return config
    raise InvalidArgument(f"log_config must be a LogConfig or a dict, got {value!r}")


def _convert_tmpfs(value: Any) -> dict[str, str]:
    if isinstance(value, Mapping):
        return {str(path): "" if opts is None else str(opts) for path, opts in value.items()}
    mounts: dict[str, str] = {}
    for item in [value] if isinstance(value, str) else _as_list("tmpfs", value):
        if not isinstance(item, str):
            raise InvalidArgument(
                f"tmpfs entries must be strings like '/run:size=64m', got {item!r}"
            )
        path, _, options = item.partition(":")
        mounts[path] = options
    return mounts


def _convert_device_requests(value: Any) -> list[DeviceRequest]:
    requests = []
    for item in _as_list("device_requests", value):
        if isinstance(item, DeviceRequest):
            requests.append(item)
        elif isinstance(item, Mapping):
            requests.append(_construct(DeviceRequest, "device_requests", item))
        else:
            raise InvalidArgument(f"device_requests must hold DeviceRequest objects, got {item!r}")
    return requests


def _convert_mounts(value: Any) -> list[dict[str, Any]]:
    mounts: list[dict[str, Any]] = []
    for item in _as_list("mounts", value):
        if isinstance(item, str):
            mounts.append(Mount.parse_mount_string(item))
        elif isinstance(item, Mapping):
            mounts.append(item if isinstance(item, Mount) else dict(item))
        else:
            raise InvalidArgument(f"mounts must hold Mount objects, got {item!r}")
    return mounts


def _mount_subpath(mount: Mapping[str, Any]) -> bool:
    options = mount.get("VolumeOptions")
    return isinstance(options, Mapping) and bool(options.get("Subpath"))


_CONVERTED_HOST_FIELDS: tuple[tuple[str, str, Callable[[Any], Any], bool], ...] = (
    ("devices", "Devices", _convert_devices, True),
    ("extra_hosts", "ExtraHosts", _convert_extra_hosts, False),
    ("links", "Links", _convert_links, False),
    ("lxc_conf", "LxcConf", _convert_lxc_conf, False),
    ("ulimits", "Ulimits", _convert_ulimits, False),
    ("log_config", "LogConfig", _convert_log_config, False),
    ("tmpfs", "Tmpfs", _convert_tmpfs, True),
    ("device_requests", "DeviceRequests", _convert_device_requests, False),
)


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


def _convert_ports(value: Any) -> tuple[dict[str, list[dict[str, str]]], list[str]]:
    """``ports`` → (``HostConfig.PortBindings``, sorted ``ExposedPorts`` keys).

    A container port range is expanded port by port, because the daemon rejects a range as a
    ``PortBindings`` key (the CLI expands ``-p`` ranges the same way).
    """
    if not value:
        return {}, []
    if not isinstance(value, Mapping):
        raise InvalidArgument(
            "ports must be a dict mapping container ports to host ports, e.g. {'2222/tcp': 3333}"
        )
    bindings: dict[str, list[dict[str, str]]] = {}
    for key, host in value.items():
        ports, protocol = _parse_port_key(key)
        for port, entries in zip(ports, _bindings(key, host, len(ports)), strict=True):
            name = f"{port}/{protocol}"
            if name in bindings:
                raise InvalidArgument(f"ports: container port {name} is given more than once")
            bindings[name] = entries
    return bindings, sorted(bindings)


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


def _convert_volumes(value: Any) -> tuple[list[str], list[str]]:
    """``volumes`` → (``HostConfig.Binds``, container paths for the top-level ``Volumes``)."""
    if not value:
        return [], []
    if isinstance(value, Mapping):
        binds, paths = [], []
        for host, spec in value.items():
            bind, target = _bind_from_dict(_text(host, "a host path or volume name"), spec)
            binds.append(bind)
            paths.append(target)
        return binds, paths
    items = [value] if isinstance(value, (str, bytes)) else _as_list("volumes", value)
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


def _convert_endpoints(network: str, value: Any) -> dict[str, dict[str, Any]]:
    """``networking_config`` → ``EndpointsConfig``: one entry per network to attach at creation."""
    if not isinstance(value, Mapping):
        raise InvalidArgument(
            f"networking_config must map network names to EndpointConfig, got {value!r}"
        )
    # Every network listed is attached, the one named by ``network`` first even when the dict
    # has no settings for it (docker-py would drop the whole dict then).
    endpoints: dict[str, dict[str, Any]] = {network: {}}
    for name, item in value.items():
        endpoints[str(name)] = _endpoint_settings(str(name), item)
    return endpoints


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
