"""ctrproto.types: Engine JSON held in dicts, docker-py's constructors, early validation."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from ctrproto.errors import InvalidArgument, InvalidVersion
from ctrproto.types import (
    DeviceRequest,
    EndpointConfig,
    Healthcheck,
    LogConfig,
    Mount,
    RestartPolicy,
    Ulimit,
    normalize_links,
)

try:
    import docker.types as docker_types  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - docker-py is only the reference implementation
    docker_types = None

needs_docker_py = pytest.mark.skipif(docker_types is None, reason="docker-py is not installed")


def as_json(value: Any) -> Any:
    return json.loads(json.dumps(value))


# =========================================================================== LogConfig


def test_log_config() -> None:
    config = LogConfig(type=LogConfig.types.JSON, config={"max-size": "1g"})
    assert config == {"Type": "json-file", "Config": {"max-size": "1g"}}
    assert isinstance(config, dict)
    assert config.type == "json-file" and config.config == {"max-size": "1g"}
    config.set_config_value("max-file", "3")
    config.unset_config("max-size")
    config.unset_config("absent")
    assert config.config == {"max-file": "3"}
    config.type = LogConfig.types.NONE
    assert config["Type"] == "none"
    assert LogConfig(Type="syslog", Config={"tag": "t"}) == {
        "Type": "syslog",
        "Config": {"tag": "t"},
    }
    assert LogConfig() == {"Type": None, "Config": {}}
    assert (
        LogConfig.types.SYSLOG,
        LogConfig.types.JOURNALD,
        LogConfig.types.GELF,
        LogConfig.types.FLUENTD,
    ) == ("syslog", "journald", "gelf", "fluentd")


@pytest.mark.parametrize(
    "kwargs",
    [{"config": ["x"]}, {"type": 3}, {"config": {"max-file": 3}}],
)
def test_log_config_validation(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgument, match="LogConfig"):
        LogConfig(**kwargs)
    with pytest.raises(InvalidArgument):
        LogConfig().set_config_value("k", 1)  # type: ignore[arg-type]


# =========================================================================== Ulimit


def test_ulimit() -> None:
    limit = Ulimit(name="nofile", soft=1024, hard=2048)
    assert limit == {"Name": "nofile", "Soft": 1024, "Hard": 2048}
    assert (limit.name, limit.soft, limit.hard) == ("nofile", 1024, 2048)
    limit.soft = 10
    limit.hard = 20
    limit.name = "nproc"
    assert limit == {"Name": "nproc", "Soft": 10, "Hard": 20}
    assert Ulimit(Name="core", Soft=0) == {"Name": "core", "Soft": 0, "Hard": None}
    for bad in ({"soft": 1}, {"name": ""}, {"name": "n", "soft": "1"}, {"name": "n", "hard": True}):
        with pytest.raises(InvalidArgument, match="Ulimit"):
            Ulimit(**bad)
    with pytest.raises(InvalidArgument):
        limit.soft = 1.5  # type: ignore[assignment]


# =========================================================================== DeviceRequest


def test_device_request() -> None:
    request = DeviceRequest(driver="nvidia", count=-1, capabilities=[["gpu"]])
    assert request == {
        "Driver": "nvidia",
        "Count": -1,
        "DeviceIDs": [],
        "Capabilities": [["gpu"]],
        "Options": {},
    }
    assert DeviceRequest(DeviceIDs=["0", "1"]).device_ids == ["0", "1"]
    request.count = 2
    request.driver = "x"
    request.options = {"a": "b"}
    request.capabilities = [["compute"]]
    request.device_ids = []
    assert (request.count, request.driver, request.options) == (2, "x", {"a": "b"})
    assert request.capabilities == [["compute"]]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"driver": 1},
        {"count": "1"},
        {"device_ids": "0"},
        {"capabilities": ["gpu"]},
        {"options": []},
        {"count": 1, "device_ids": ["0"]},
    ],
)
def test_device_request_validation(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgument, match="DeviceRequest"):
        DeviceRequest(**kwargs)


# =========================================================================== Healthcheck


def test_healthcheck() -> None:
    check = Healthcheck(test="curl -f localhost", interval=30_000_000_000, retries=3)
    assert check == {
        "Test": ["CMD-SHELL", "curl -f localhost"],
        "Interval": 30_000_000_000,
        "Timeout": None,
        "Retries": 3,
        "StartPeriod": None,
    }
    check.test = "true"
    assert check.test == ["CMD-SHELL", "true"]
    check.test = ["CMD", "true"]
    check.timeout = dt.timedelta(seconds=2)
    check.interval = 30 * 1e9  # a float, as people write it
    check.start_period = 0
    check.retries = 0
    assert check.timeout == 2_000_000_000
    assert check.interval == 30_000_000_000 and isinstance(check.interval, int)
    assert (check.start_period, check.retries) == (0, 0)
    assert Healthcheck(Test=[], StartPeriod=1_000_000)["StartPeriod"] == 1_000_000
    assert Healthcheck(test=("NONE",)).test == ["NONE"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"interval": 999_999},
        {"timeout": -1},
        {"start_period": "1s"},
        {"interval": True},
        {"retries": -1},
        {"retries": 1.0},
        {"test": 1},
        {"test": ["CMD", 1]},
    ],
)
def test_healthcheck_validation(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgument, match="Healthcheck"):
        Healthcheck(**kwargs)


# =========================================================================== RestartPolicy


def test_restart_policy() -> None:
    policy = RestartPolicy(condition=RestartPolicy.condition_types.ON_FAILURE, max_attempts=3)
    assert policy == {"Condition": "on-failure", "Delay": 0, "MaxAttempts": 3, "Window": 0}
    assert (policy.condition, policy.delay, policy.max_attempts, policy.window) == (
        "on-failure",
        0,
        3,
        0,
    )
    with pytest.raises(InvalidArgument, match="condition"):
        RestartPolicy("always")
    with pytest.raises(InvalidArgument, match="delay"):
        RestartPolicy(delay=-1)


# =========================================================================== Mount


def test_mount_types() -> None:
    assert Mount("/data", "vol") == {
        "Target": "/data",
        "Source": "vol",
        "Type": "volume",
        "ReadOnly": False,
    }
    bind = Mount("/c", "/h", type="bind", read_only=True, propagation="rshared")
    assert bind["BindOptions"] == {"Propagation": "rshared"} and bind["ReadOnly"] is True
    volume = Mount(
        "/c",
        "v",
        no_copy=True,
        labels={"a": "b"},
        driver_config={"Name": "local", "Options": {}},
        subpath="sub",
        consistency="cached",
    )
    assert volume["VolumeOptions"] == {
        "NoCopy": True,
        "Labels": {"a": "b"},
        "DriverConfig": {"Name": "local", "Options": {}},
        "Subpath": "sub",
    }
    assert volume["Consistency"] == "cached"
    tmpfs = Mount("/t", None, type="tmpfs", tmpfs_size="64m", tmpfs_mode=0o1777)
    assert tmpfs["TmpfsOptions"] == {"SizeBytes": 64 * 1024**2, "Mode": 0o1777}
    assert Mount("//./pipe/x", "//./pipe/x", type="npipe")["Type"] == "npipe"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"type": "cluster"},
        {"type": "bind", "no_copy": True},
        {"type": "bind", "subpath": "x"},
        {"type": "bind", "propagation": "sideways"},
        {"type": "volume", "propagation": "rshared"},
        {"type": "volume", "tmpfs_size": 1},
        {"type": "tmpfs", "labels": {"a": "b"}},
        {"type": "tmpfs", "tmpfs_mode": "1777"},
        {"type": "npipe", "read_only": True, "no_copy": True},
        {"consistency": "eventual"},
    ],
)
def test_mount_validation(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgument):
        Mount("/c", "s", **kwargs)
    with pytest.raises(InvalidArgument, match="target"):
        Mount("", "s")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("/data", {"Target": "/data", "Source": None, "Type": "volume", "ReadOnly": False}),
        ("vol:/data", {"Target": "/data", "Source": "vol", "Type": "volume", "ReadOnly": False}),
        ("/h:/c", {"Target": "/c", "Source": "/h", "Type": "bind", "ReadOnly": False}),
        ("/h:/c:ro", {"Target": "/c", "Source": "/h", "Type": "bind", "ReadOnly": True}),
        ("/h:/c:rw", {"Target": "/c", "Source": "/h", "Type": "bind", "ReadOnly": False}),
        (
            "/h:/c:ro,rslave",
            {
                "Target": "/c",
                "Source": "/h",
                "Type": "bind",
                "ReadOnly": True,
                "BindOptions": {"Propagation": "rslave"},
            },
        ),
        (
            "v:/c:nocopy",
            {
                "Target": "/c",
                "Source": "v",
                "Type": "volume",
                "ReadOnly": False,
                "VolumeOptions": {"NoCopy": True},
            },
        ),
        (
            "C:\\host:C:\\ctr:ro",
            {"Target": "C:\\ctr", "Source": "C:\\host", "Type": "bind", "ReadOnly": True},
        ),
    ],
)
def test_parse_mount_string(spec: str, expected: dict[str, Any]) -> None:
    mount = Mount.parse_mount_string(spec)
    assert isinstance(mount, Mount)
    assert mount == expected


@pytest.mark.parametrize(
    "spec", ["", "a:b:c:d", "/h:/c:z", "/h:/c:nocopy", "v:/c:rshared", "/h:", ":/c", "/h:/c:"]
)
def test_parse_mount_string_errors(spec: str) -> None:
    with pytest.raises(InvalidArgument, match="mount format"):
        Mount.parse_mount_string(spec)


# =========================================================================== EndpointConfig


def test_endpoint_config() -> None:
    endpoint = EndpointConfig(
        "1.41",
        aliases=["web"],
        links={"db": "database"},
        ipv4_address="10.0.0.2",
        ipv6_address="fd00::2",
        link_local_ips=["169.254.0.2"],
        driver_opt={"k": "v"},
        mac_address="02:42:ac:11:00:02",
    )
    assert endpoint == {
        "Aliases": ["web"],
        "Links": ["db:database"],
        "IPAMConfig": {
            "IPv4Address": "10.0.0.2",
            "IPv6Address": "fd00::2",
            "LinkLocalIPs": ["169.254.0.2"],
        },
        "DriverOpts": {"k": "v"},
        "MacAddress": "02:42:ac:11:00:02",
    }
    assert EndpointConfig("1.41") == {}


@pytest.mark.parametrize(
    ("version", "kwargs", "name"),
    [
        ("1.21", {}, "EndpointConfig"),
        ("1.24", {"mac_address": "02:42:ac:11:00:02"}, "mac_address"),
        ("1.23", {"link_local_ips": []}, "link_local_ips"),
        ("1.31", {"driver_opt": {"a": "b"}}, "driver_opt"),
    ],
)
def test_endpoint_config_versions(version: str, kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(InvalidVersion, match=name):
        EndpointConfig(version, **kwargs)


def test_normalize_links() -> None:
    assert normalize_links({"b": "x", "a": None, "c": ""}) == ["a", "b:x", "c"]
    assert normalize_links([("b", "x"), "a:y", "c"]) == ["a:y", "b:x", "c"]
    with pytest.raises(InvalidArgument):
        normalize_links([1])


# =========================================================================== against docker-py


@needs_docker_py
@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("LogConfig", {"type": "json-file", "config": {"max-size": "1m"}}),
        ("LogConfig", {"Type": "syslog"}),
        ("LogConfig", {}),
        ("Ulimit", {"name": "nofile", "soft": 1, "hard": 2}),
        ("Ulimit", {"Name": "nproc", "Hard": 5}),
        ("DeviceRequest", {"driver": "nvidia", "count": -1, "capabilities": [["gpu"]]}),
        ("DeviceRequest", {"DeviceIDs": ["0"], "Options": {"a": "b"}}),
        ("Healthcheck", {"test": "true", "interval": 1_000_000, "retries": 2}),
        ("Healthcheck", {"Test": ["CMD", "x"], "StartPeriod": 5_000_000}),
        ("RestartPolicy", {"condition": "any", "delay": 5, "max_attempts": 2, "window": 9}),
        ("Mount", {"target": "/c", "source": "v"}),
        ("Mount", {"target": "/c", "source": "/h", "type": "bind", "propagation": "rshared"}),
        ("Mount", {"target": "/c", "source": "v", "no_copy": True, "labels": {"a": "b"}}),
        ("Mount", {"target": "/c", "source": "v", "subpath": "s", "consistency": "cached"}),
        ("Mount", {"target": "/t", "source": None, "type": "tmpfs", "tmpfs_size": "1m"}),
        ("Mount", {"target": "/t", "source": None, "type": "tmpfs", "tmpfs_mode": 0o700}),
    ],
)
def test_same_json_as_docker_py(name: str, kwargs: dict[str, Any]) -> None:
    import ctrproto.types as ours

    assert as_json(getattr(ours, name)(**kwargs)) == as_json(getattr(docker_types, name)(**kwargs))


@needs_docker_py
@pytest.mark.parametrize("spec", ["/data", "vol:/data", "/h:/c", "/h:/c:ro", "v:/c:rw"])
def test_parse_mount_string_like_docker_py(spec: str) -> None:
    assert Mount.parse_mount_string(spec) == docker_types.Mount.parse_mount_string(spec)


@needs_docker_py
def test_endpoint_config_like_docker_py() -> None:
    kwargs: dict[str, Any] = {
        "aliases": ["a"],
        "links": {"x": "y", "z": None},
        "ipv4_address": "10.0.0.2",
        "link_local_ips": ["169.254.1.1"],
        "driver_opt": {"k": "v"},
        "mac_address": "02:42:ac:11:00:02",
    }
    assert EndpointConfig("1.44", **kwargs) == docker_types.EndpointConfig("1.44", **kwargs)


# =========================================================================== networks, IPAM


@needs_docker_py
@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("IPAMPool", {}),
        ("IPAMPool", {"subnet": "10.9.0.0/16", "iprange": "10.9.1.0/24", "gateway": "10.9.0.1"}),
        ("IPAMPool", {"subnet": "10.9.0.0/16", "aux_addresses": {"r1": "10.9.2.1"}}),
        ("IPAMConfig", {}),
        ("IPAMConfig", {"driver": "other", "options": {"o": "v"}}),
        ("NetworkingConfig", {}),
        ("NetworkingConfig", {"endpoints_config": {}}),
        ("NetworkingConfig", {"endpoints_config": {"net": {"Aliases": ["a"]}}}),
    ],
)
def test_network_types_same_json_as_docker_py(name: str, kwargs: dict[str, Any]) -> None:
    import ctrproto.types as ours

    assert as_json(getattr(ours, name)(**kwargs)) == as_json(getattr(docker_types, name)(**kwargs))


@needs_docker_py
def test_ipam_config_with_pools_like_docker_py() -> None:
    import ctrproto.types as ours

    pool = {"subnet": "10.9.0.0/16", "gateway": "10.9.0.1"}
    mine = ours.IPAMConfig(pool_configs=[ours.IPAMPool(**pool)])
    theirs = docker_types.IPAMConfig(pool_configs=[docker_types.IPAMPool(**pool)])
    assert as_json(mine) == as_json(theirs)
    assert mine.driver == "default" and mine.pool_configs[0]["Subnet"] == "10.9.0.0/16"


def test_ipam_options_must_be_a_dict() -> None:
    from ctrproto.types import IPAMConfig

    with pytest.raises(InvalidArgument, match="options"):
        IPAMConfig(options=["not", "a", "dict"])  # type: ignore[arg-type]


@needs_docker_py
@pytest.mark.parametrize("version", [None, "auto", 1.41, "1.21"])
def test_endpoint_config_refuses_what_docker_py_refuses(version: Any) -> None:
    with pytest.raises((AttributeError, ValueError, docker_types.networks.errors.InvalidVersion)):
        docker_types.EndpointConfig(version, aliases=["a"])
    with pytest.raises(InvalidVersion):
        EndpointConfig(version, aliases=["a"])


@pytest.mark.parametrize("version", ["1.24", "1.41", "1.44", "v1.41", "7.2.0", "1.22.0", "2"])
def test_endpoint_config_takes_a_version_string(version: str) -> None:
    assert EndpointConfig(version, aliases=["a"]) == {"Aliases": ["a"]}


@needs_docker_py
@pytest.mark.parametrize(
    ("version", "option"),
    [
        ("7.2.0", "mac_address"),  # testcontainers passes docker-py's package version
        ("1.24.1", "link_local_ips"),
        ("1.24", "mac_address"),
        ("1.31", "driver_opt"),
        ("1.32", "driver_opt"),
    ],
)
def test_endpoint_config_versions_compared_like_docker_py(version: str, option: str) -> None:
    value: Any = {"mac_address": "02:42:ac:11:00:02", "driver_opt": {"k": "v"}}.get(option, [])
    try:
        expected: Any = docker_types.EndpointConfig(version, **{option: value})
    except docker_types.networks.errors.InvalidVersion:
        expected = InvalidVersion
    if expected is InvalidVersion:
        with pytest.raises(InvalidVersion):
            EndpointConfig(version, **{option: value})
    else:
        assert EndpointConfig(version, **{option: value}) == expected


def test_submodules_follow_docker_py_layout() -> None:
    import ctrproto.types as ours
    from ctrproto.types import containers, daemon, healthcheck, networks, services

    assert containers.LogConfig is ours.LogConfig and containers.Ulimit is ours.Ulimit
    assert containers.DeviceRequest is ours.DeviceRequest
    assert healthcheck.Healthcheck is ours.Healthcheck
    assert networks.IPAMConfig is ours.IPAMConfig and networks.EndpointConfig is EndpointConfig
    assert services.Mount is Mount and services.RestartPolicy is RestartPolicy
    assert daemon.CancellableStream is ours.CancellableStream


# =========================================================================== CancellableStream


class _Response:
    def __init__(self) -> None:
        self.closed = 0

    def close(self) -> None:
        self.closed += 1


def test_cancellable_stream_yields_and_closes_the_response() -> None:
    from ctrproto.types import CancellableStream

    response = _Response()
    stream = CancellableStream(iter([1, 2, 3]), response)
    assert next(stream) == 1
    assert list(stream) == [2, 3]
    stream.close()
    assert response.closed == 1


def test_cancellable_stream_ends_quietly_on_a_lost_connection() -> None:
    from ctrproto.errors import ConnectionClosed
    from ctrproto.types import CancellableStream

    def items() -> Any:
        yield "a"
        raise ConnectionClosed("closed from another thread")

    assert list(CancellableStream(items(), _Response())) == ["a"]
