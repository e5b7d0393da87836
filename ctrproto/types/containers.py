"""Container-level argument types: ``LogConfig``, ``Ulimit``, ``DeviceRequest`` (docker-py's
``docker.types.containers``).

docker-py's ``ContainerConfig`` and ``HostConfig`` builders have no class here: the create body is
built by :mod:`ctrproto.engine.create_config` from the same keywords (and
``APIClient.create_host_config`` returns that dict).
"""

from __future__ import annotations

from typing import Any, Mapping

from ctrproto.errors import InvalidArgument

from ._common import _first, _is_int, _require_int

__all__ = ["DeviceRequest", "LogConfig", "LogConfigTypesEnum", "Ulimit"]


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
