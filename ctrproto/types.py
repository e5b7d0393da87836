"""Typed helpers for the structured create() arguments: ulimits, log config, mounts, checks...

Each class is a ``dict`` that already holds the Engine API's JSON form, so an instance can be put
straight into a request body, compared with a plain dict, or passed where docker-py code passes
its own ``docker.types`` objects.  The constructors take docker-py's parameter names (and, where
docker-py does, the Engine's CamelCase names too, so that a dict read back from ``inspect`` can be
fed to them) and check values early: a wrong value raises :class:`~ctrproto.errors.InvalidArgument`
naming the parameter instead of a 400 from the daemon after a round trip.

This module is pure data: besides the standard library it imports only the error hierarchy and
the I/O-free value parsers of :mod:`ctrproto.engine.utils` (sizes, API versions).
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from typing import Any, Mapping, Sequence

from ctrproto.engine.utils import parse_bytes, version_lt
from ctrproto.errors import InvalidArgument, InvalidVersion

__all__ = [
    "DeviceRequest",
    "EndpointConfig",
    "Healthcheck",
    "LogConfig",
    "LogConfigTypesEnum",
    "Mount",
    "RestartConditionTypesEnum",
    "RestartPolicy",
    "Ulimit",
]


def _first(lower: Any, upper: Any) -> Any:
    """docker-py's precedence when both spellings are given: the snake_case one."""
    return lower if lower is not None else upper


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _require_int(owner: str, name: str, value: Any) -> None:
    if value is not None and not _is_int(value):
        raise InvalidArgument(f"{owner}.{name} must be an integer, got {value!r}")


# =========================================================================== log config


class LogConfigTypesEnum:
    """Names of the logging drivers the daemon ships with (plugins may add more)."""

    _values = ("json-file", "syslog", "journald", "gelf", "fluentd", "none")
    JSON, SYSLOG, JOURNALD, GELF, FLUENTD, NONE = _values


class LogConfig(dict[str, Any]):
    """``HostConfig.LogConfig``: which logging driver the container uses and its options.

    ``type`` may be left out to keep the daemon's default driver while passing it options.  Option
    values must be strings because the daemon decodes them into a string map.
    """

    types = LogConfigTypesEnum

    def __init__(
        self,
        type: str | None = None,
        config: Mapping[str, str] | None = None,
        *,
        Type: str | None = None,
        Config: Mapping[str, str] | None = None,
    ) -> None:
        driver = _first(type, Type)
        options = _first(config, Config)
        if driver is not None and not isinstance(driver, str):
            raise InvalidArgument(f"LogConfig.type must be a string, got {driver!r}")
        if options is None:
            options = {}
        if not isinstance(options, Mapping):
            raise InvalidArgument(f"LogConfig.config must be a dict, got {options!r}")
        for key, value in options.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise InvalidArgument(
                    f"LogConfig.config must map strings to strings; {key!r}: {value!r} is not"
                )
        super().__init__(Type=driver, Config=dict(options))

    @property
    def type(self) -> str | None:
        return self["Type"]  # type: ignore[no-any-return]

    @type.setter
    def type(self, value: str | None) -> None:
        self["Type"] = value

    @property
    def config(self) -> dict[str, str]:
        return self["Config"]  # type: ignore[no-any-return]

    def set_config_value(self, key: str, value: str) -> None:
        """Set one driver option (kept in the dict, so the next request carries it)."""
        if not isinstance(value, str):
            raise InvalidArgument(f"LogConfig.config[{key!r}] must be a string, got {value!r}")
        self.config[key] = value

    def unset_config(self, key: str) -> None:
        """Drop one driver option, if present."""
        self.config.pop(key, None)


# =========================================================================== ulimit


class Ulimit(dict[str, Any]):
    """One entry of ``HostConfig.Ulimits``: a resource limit such as ``nofile`` or ``nproc``.

    Keys ``Soft``/``Hard`` are always present (``None`` when not given), as with docker-py, so that
    code indexing them keeps working.
    """

    def __init__(
        self,
        name: str | None = None,
        soft: int | None = None,
        hard: int | None = None,
        *,
        Name: str | None = None,
        Soft: int | None = None,
        Hard: int | None = None,
    ) -> None:
        limit_name = _first(name, Name)
        soft_value = _first(soft, Soft)
        hard_value = _first(hard, Hard)
        if not isinstance(limit_name, str) or not limit_name:
            raise InvalidArgument(f"Ulimit.name must be a non-empty string, got {limit_name!r}")
        _require_int("Ulimit", "soft", soft_value)
        _require_int("Ulimit", "hard", hard_value)
        super().__init__(Name=limit_name, Soft=soft_value, Hard=hard_value)

    @property
    def name(self) -> str:
        return self["Name"]  # type: ignore[no-any-return]

    @name.setter
    def name(self, value: str) -> None:
        self["Name"] = value

    @property
    def soft(self) -> int | None:
        return self.get("Soft")

    @soft.setter
    def soft(self, value: int | None) -> None:
        _require_int("Ulimit", "soft", value)
        self["Soft"] = value

    @property
    def hard(self) -> int | None:
        return self.get("Hard")

    @hard.setter
    def hard(self, value: int | None) -> None:
        _require_int("Ulimit", "hard", value)
        self["Hard"] = value


# =========================================================================== device request


class DeviceRequest(dict[str, Any]):
    """One entry of ``HostConfig.DeviceRequests`` (GPUs and other driver-managed devices).

    ``count=-1`` asks for every device; ``count`` and ``device_ids`` exclude each other, which the
    daemon would otherwise only report after the round trip.
    """

    def __init__(
        self,
        driver: str | None = None,
        count: int | None = None,
        device_ids: list[str] | None = None,
        capabilities: list[list[str]] | None = None,
        options: dict[str, str] | None = None,
        *,
        Driver: str | None = None,
        Count: int | None = None,
        DeviceIDs: list[str] | None = None,
        Capabilities: list[list[str]] | None = None,
        Options: dict[str, str] | None = None,
    ) -> None:
        drv = _first(driver, Driver)
        cnt = _first(count, Count)
        ids = _first(device_ids, DeviceIDs)
        caps = _first(capabilities, Capabilities)
        opts = _first(options, Options)
        if drv is None:
            drv = ""
        elif not isinstance(drv, str):
            raise InvalidArgument(f"DeviceRequest.driver must be a string, got {drv!r}")
        if cnt is None:
            cnt = 0
        elif not _is_int(cnt):
            raise InvalidArgument(f"DeviceRequest.count must be an integer, got {cnt!r}")
        if ids is None:
            ids = []
        elif not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise InvalidArgument(
                f"DeviceRequest.device_ids must be a list of strings, got {ids!r}"
            )
        if caps is None:
            caps = []
        elif not isinstance(caps, list) or not all(
            isinstance(group, list) and all(isinstance(c, str) for c in group) for group in caps
        ):
            raise InvalidArgument(
                f"DeviceRequest.capabilities must be a list of lists of strings, got {caps!r}"
            )
        if opts is None:
            opts = {}
        elif not isinstance(opts, dict):
            raise InvalidArgument(f"DeviceRequest.options must be a dict, got {opts!r}")
        if cnt and ids:
            raise InvalidArgument("DeviceRequest: set either count or device_ids, not both")
        super().__init__(Driver=drv, Count=cnt, DeviceIDs=ids, Capabilities=caps, Options=opts)

    @property
    def driver(self) -> str:
        return self["Driver"]  # type: ignore[no-any-return]

    @driver.setter
    def driver(self, value: str) -> None:
        self["Driver"] = value

    @property
    def count(self) -> int:
        return self["Count"]  # type: ignore[no-any-return]

    @count.setter
    def count(self, value: int) -> None:
        self["Count"] = value

    @property
    def device_ids(self) -> list[str]:
        return self["DeviceIDs"]  # type: ignore[no-any-return]

    @device_ids.setter
    def device_ids(self, value: list[str]) -> None:
        self["DeviceIDs"] = value

    @property
    def capabilities(self) -> list[list[str]]:
        return self["Capabilities"]  # type: ignore[no-any-return]

    @capabilities.setter
    def capabilities(self, value: list[list[str]]) -> None:
        self["Capabilities"] = value

    @property
    def options(self) -> dict[str, str]:
        return self["Options"]  # type: ignore[no-any-return]

    @options.setter
    def options(self, value: dict[str, str]) -> None:
        self["Options"] = value


# =========================================================================== healthcheck

Duration = int | float | _dt.timedelta
_MIN_DURATION_NS = 1_000_000  # the daemon refuses non-zero intervals under 1 ms


def _duration_ns(name: str, value: Duration | None) -> int | None:
    """Nanoseconds from an int (ns), a float (ns, as ``30 * 1e9`` gives) or a ``timedelta``.

    A float would otherwise reach the daemon as ``3e10``, which Go refuses to decode into a
    duration.
    """
    if value is None:
        return None
    if isinstance(value, _dt.timedelta):
        ns = (value.days * 86400 + value.seconds) * 1_000_000_000 + value.microseconds * 1000
    elif _is_int(value):
        ns = int(value)
    elif isinstance(value, float) and math.isfinite(value):
        ns = round(value)
    else:
        raise InvalidArgument(
            f"Healthcheck.{name} must be nanoseconds as an int (or a timedelta), got {value!r}"
        )
    if ns != 0 and not ns >= _MIN_DURATION_NS:
        raise InvalidArgument(
            f"Healthcheck.{name} must be 0 or at least 1000000 ns (1 ms), got {value!r}"
        )
    return ns


def _health_test(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return ["CMD-SHELL", value]
    if isinstance(value, (list, tuple)) and all(isinstance(part, str) for part in value):
        return list(value)
    raise InvalidArgument(f"Healthcheck.test must be a string or a list of strings, got {value!r}")


class Healthcheck(dict[str, Any]):
    """The container's ``Healthcheck``: the probe command and its timing.

    A string ``test`` is run by the image's shell (``["CMD-SHELL", test]``); ``[]`` inherits the
    image's check and ``["NONE"]`` disables it.  Times are nanoseconds, as in the Engine API; a
    ``timedelta`` is accepted as well.  Unset fields stay ``None`` (the daemon's defaults apply).
    """

    def __init__(
        self,
        test: str | Sequence[str] | None = None,
        interval: Duration | None = None,
        timeout: Duration | None = None,
        retries: int | None = None,
        start_period: Duration | None = None,
        *,
        Test: str | Sequence[str] | None = None,
        Interval: Duration | None = None,
        Timeout: Duration | None = None,
        Retries: int | None = None,
        StartPeriod: Duration | None = None,
    ) -> None:
        retry_count = _first(retries, Retries)
        if retry_count is not None and (not _is_int(retry_count) or retry_count < 0):
            raise InvalidArgument(
                f"Healthcheck.retries must be a non-negative integer, got {retry_count!r}"
            )
        super().__init__(
            Test=_health_test(_first(test, Test)),
            Interval=_duration_ns("interval", _first(interval, Interval)),
            Timeout=_duration_ns("timeout", _first(timeout, Timeout)),
            Retries=retry_count,
            StartPeriod=_duration_ns("start_period", _first(start_period, StartPeriod)),
        )

    @property
    def test(self) -> list[str] | None:
        return self["Test"]  # type: ignore[no-any-return]

    @test.setter
    def test(self, value: str | Sequence[str] | None) -> None:
        self["Test"] = _health_test(value)

    @property
    def interval(self) -> int | None:
        return self["Interval"]  # type: ignore[no-any-return]

    @interval.setter
    def interval(self, value: Duration | None) -> None:
        self["Interval"] = _duration_ns("interval", value)

    @property
    def timeout(self) -> int | None:
        return self["Timeout"]  # type: ignore[no-any-return]

    @timeout.setter
    def timeout(self, value: Duration | None) -> None:
        self["Timeout"] = _duration_ns("timeout", value)

    @property
    def retries(self) -> int | None:
        return self["Retries"]  # type: ignore[no-any-return]

    @retries.setter
    def retries(self, value: int | None) -> None:
        if value is not None and (not _is_int(value) or value < 0):
            raise InvalidArgument(
                f"Healthcheck.retries must be a non-negative integer, got {value!r}"
            )
        self["Retries"] = value

    @property
    def start_period(self) -> int | None:
        return self["StartPeriod"]  # type: ignore[no-any-return]

    @start_period.setter
    def start_period(self, value: Duration | None) -> None:
        self["StartPeriod"] = _duration_ns("start_period", value)


# =========================================================================== restart policy


class RestartConditionTypesEnum:
    """Conditions of a *service* restart policy (see :class:`RestartPolicy`)."""

    _values = ("none", "on-failure", "any")
    NONE, ON_FAILURE, ANY = _values


class RestartPolicy(dict[str, Any]):
    """docker-py's restart policy type, in the Swarm *service* form.

    It holds ``{Condition, Delay, MaxAttempts, Window}``.  A container's ``restart_policy`` takes
    the other form, ``{"Name": ..., "MaximumRetryCount": ...}``; ``create()`` translates an
    instance of this class into it (``none``→``no``, ``any``→``always``) when ``delay`` and
    ``window``, which containers cannot express, are left at 0.
    """

    condition_types = RestartConditionTypesEnum

    def __init__(
        self,
        condition: str = RestartConditionTypesEnum.NONE,
        delay: int = 0,
        max_attempts: int = 0,
        window: int = 0,
    ) -> None:
        if condition not in self.condition_types._values:
            raise InvalidArgument(
                f"invalid RestartPolicy condition {condition!r}: expected one of "
                + ", ".join(self.condition_types._values)
            )
        for name, value in (("delay", delay), ("max_attempts", max_attempts), ("window", window)):
            if not _is_int(value) or value < 0:
                raise InvalidArgument(
                    f"RestartPolicy.{name} must be a non-negative integer, got {value!r}"
                )
        super().__init__(Condition=condition, Delay=delay, MaxAttempts=max_attempts, Window=window)

    @property
    def condition(self) -> str:
        return self["Condition"]  # type: ignore[no-any-return]

    @property
    def delay(self) -> int:
        return self["Delay"]  # type: ignore[no-any-return]

    @property
    def max_attempts(self) -> int:
        return self["MaxAttempts"]  # type: ignore[no-any-return]

    @property
    def window(self) -> int:
        return self["Window"]  # type: ignore[no-any-return]


# =========================================================================== mount

_MOUNT_TYPES = ("bind", "volume", "tmpfs", "npipe")
_PROPAGATIONS = ("private", "rprivate", "shared", "rshared", "slave", "rslave")
_CONSISTENCIES = ("default", "consistent", "cached", "delegated")
# A Windows drive path: "C:\...".  A forward slash ("c:/x") is not taken as one, because on a Linux
# daemon that is a volume named "c" mounted at /x.
_DRIVE_RE = re.compile(r"^[A-Za-z]:\\")


class Mount(dict[str, Any]):
    """One entry of ``HostConfig.Mounts``: the structured alternative to ``volumes`` strings.

    Options are checked against the mount ``type`` (``bind``, ``volume``, ``tmpfs``, ``npipe``)
    because the daemon rejects, for instance, a propagation mode on a volume.
    """

    def __init__(
        self,
        target: str,
        source: str | None,
        type: str = "volume",
        read_only: bool = False,
        consistency: str | None = None,
        propagation: str | None = None,
        no_copy: bool = False,
        labels: Mapping[str, str] | None = None,
        driver_config: Mapping[str, Any] | None = None,
        tmpfs_size: int | str | None = None,
        tmpfs_mode: int | None = None,
        subpath: str | None = None,
    ) -> None:
        if not isinstance(target, str) or not target:
            raise InvalidArgument(f"Mount.target must be a non-empty string, got {target!r}")
        if source is not None and not isinstance(source, str):
            raise InvalidArgument(f"Mount.source must be a string or None, got {source!r}")
        if type not in _MOUNT_TYPES:
            raise InvalidArgument(
                f"unsupported mount type {type!r}: expected one of {', '.join(_MOUNT_TYPES)}"
            )
        if consistency is not None and consistency not in _CONSISTENCIES:
            raise InvalidArgument(
                f"Mount.consistency must be one of {', '.join(_CONSISTENCIES)}, got {consistency!r}"
            )
        self["Target"] = target
        self["Source"] = source
        self["Type"] = type
        self["ReadOnly"] = bool(read_only)
        if consistency:
            self["Consistency"] = consistency

        def incompatible(*names: str) -> None:
            given = {
                "propagation": propagation,
                "no_copy": no_copy,
                "labels": labels,
                "driver_config": driver_config,
                "tmpfs_size": tmpfs_size,
                "tmpfs_mode": tmpfs_mode,
                "subpath": subpath,
            }
            bad = [name for name in names if given[name]]
            if bad:
                raise InvalidArgument(
                    f"option(s) {', '.join(bad)} cannot be used with a {type!r} mount"
                )

        if type == "bind":
            incompatible(
                "no_copy", "labels", "driver_config", "tmpfs_size", "tmpfs_mode", "subpath"
            )
            if propagation is not None:
                if propagation not in _PROPAGATIONS:
                    raise InvalidArgument(
                        f"Mount.propagation must be one of {', '.join(_PROPAGATIONS)}, "
                        f"got {propagation!r}"
                    )
                self["BindOptions"] = {"Propagation": propagation}
        elif type == "volume":
            incompatible("propagation", "tmpfs_size", "tmpfs_mode")
            volume_options: dict[str, Any] = {}
            if no_copy:
                volume_options["NoCopy"] = True
            if labels:
                volume_options["Labels"] = dict(labels)
            if driver_config:
                volume_options["DriverConfig"] = dict(driver_config)
            if subpath:
                volume_options["Subpath"] = subpath
            if volume_options:
                self["VolumeOptions"] = volume_options
        elif type == "tmpfs":
            incompatible("propagation", "no_copy", "labels", "driver_config", "subpath")
            tmpfs_options: dict[str, Any] = {}
            if tmpfs_mode:
                if not _is_int(tmpfs_mode):
                    raise InvalidArgument(
                        f"Mount.tmpfs_mode must be an integer, got {tmpfs_mode!r}"
                    )
                tmpfs_options["Mode"] = tmpfs_mode
            if tmpfs_size:
                tmpfs_options["SizeBytes"] = parse_bytes(tmpfs_size)
            if tmpfs_options:
                self["TmpfsOptions"] = tmpfs_options
        else:  # npipe: a Windows named pipe takes no options
            incompatible(
                "propagation",
                "no_copy",
                "labels",
                "driver_config",
                "tmpfs_size",
                "tmpfs_mode",
                "subpath",
            )

    @classmethod
    def parse_mount_string(cls, string: str) -> Mount:
        """Build a mount from the CLI's ``-v`` syntax: ``[source:]target[:options]``.

        ``options`` is a comma-separated list of ``ro``/``rw``, a bind propagation mode or
        ``nocopy``.  A source that is an absolute path (POSIX, or a Windows drive path) makes a
        bind mount, anything else names a volume; with no source, an anonymous volume.  SELinux
        relabelling (``z``/``Z``) cannot be expressed as a mount and is refused.
        """
        if not isinstance(string, str) or not string:
            raise InvalidArgument(f"invalid mount format {string!r}")
        parts = _split_mount_string(string)
        if len(parts) > 3 or not all(parts):
            raise InvalidArgument(f"invalid mount format {string!r}")
        if len(parts) == 1:
            return cls(target=parts[0], source=None)
        source, target = parts[0], parts[1]
        options = parts[2].split(",") if len(parts) == 3 else []
        is_bind = source.startswith("/") or source.startswith("\\") or bool(_DRIVE_RE.match(source))
        read_only = False
        propagation: str | None = None
        no_copy = False
        for option in options:
            if option in ("ro", "rw"):
                read_only = option == "ro"
            elif option in _PROPAGATIONS and is_bind:
                propagation = option
            elif option == "nocopy" and not is_bind:
                no_copy = True
            else:
                raise InvalidArgument(
                    f"invalid mount format {string!r}: unsupported option {option!r}"
                )
        return cls(
            target,
            source,
            type="bind" if is_bind else "volume",
            read_only=read_only,
            propagation=propagation,
            no_copy=no_copy,
        )


def _split_mount_string(string: str) -> list[str]:
    """Split ``source:target:options`` on colons, keeping Windows drive letters attached."""
    parts: list[str] = []
    rest = string
    while rest:
        drive, tail = (rest[:2], rest[2:]) if _DRIVE_RE.match(rest) else ("", rest)
        head, sep, rest = tail.partition(":")
        parts.append(drive + head)
        if not sep:
            break
        if not rest:
            parts.append("")  # a trailing colon: an empty part, reported as malformed
    return parts


# =========================================================================== endpoint config


class EndpointConfig(dict[str, Any]):
    """How the container attaches to one network (a value of ``networking_config``).

    Like docker-py's, it takes the negotiated API version first and refuses the options that
    version lacks.
    """

    def __init__(
        self,
        version: str,
        aliases: list[str] | None = None,
        links: Mapping[str, str | None] | Sequence[Any] | None = None,
        ipv4_address: str | None = None,
        ipv6_address: str | None = None,
        link_local_ips: list[str] | None = None,
        driver_opt: Mapping[str, str] | None = None,
        mac_address: str | None = None,
    ) -> None:
        def needs(option: str, minimum: str) -> None:
            if version_lt(version, minimum):
                raise InvalidVersion(
                    f"{option} needs API version {minimum} or later "
                    f"(the negotiated version is {version})"
                )

        needs("EndpointConfig", "1.22")
        if aliases:
            self["Aliases"] = list(aliases)
        if links:
            self["Links"] = normalize_links(links)
        ipam: dict[str, Any] = {}
        if ipv4_address:
            ipam["IPv4Address"] = ipv4_address
        if ipv6_address:
            ipam["IPv6Address"] = ipv6_address
        if mac_address:
            needs("mac_address", "1.25")
            self["MacAddress"] = mac_address
        if link_local_ips is not None:
            needs("link_local_ips", "1.24")
            ipam["LinkLocalIPs"] = list(link_local_ips)
        if ipam:
            self["IPAMConfig"] = ipam
        if driver_opt:
            needs("driver_opt", "1.32")
            if not isinstance(driver_opt, Mapping):
                raise InvalidArgument(
                    f"EndpointConfig.driver_opt must be a dict, got {driver_opt!r}"
                )
            self["DriverOpts"] = dict(driver_opt)


def normalize_links(links: Mapping[str, str | None] | Sequence[Any]) -> list[str]:
    """``{'name': 'alias'}`` or ``[('name', 'alias')]`` → sorted ``["name:alias"]``.

    An empty alias keeps the bare name; a ready-made ``"name:alias"`` string is kept as is.
    """
    pairs: list[tuple[str, str | None]] = []
    items = links.items() if isinstance(links, Mapping) else links
    for item in items:
        if isinstance(item, str):
            name, _, alias = item.partition(":")
            pairs.append((name, alias or None))
        elif isinstance(item, (tuple, list)) and len(item) == 2:
            pairs.append((str(item[0]), None if item[1] is None else str(item[1])))
        else:
            raise InvalidArgument(
                f"links must map container names to aliases, got the entry {item!r}"
            )
    return [f"{name}:{alias}" if alias else name for name, alias in sorted(pairs, key=_link_key)]


def _link_key(pair: tuple[str, str | None]) -> tuple[str, str]:
    return pair[0], pair[1] or ""
