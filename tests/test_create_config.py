"""create()/run() keywords → POST /containers/create request (no daemon)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctrproto.engine.create_config import (
    CONTAINER_KWARGS,
    CREATE_KWARGS,
    EXTENSION_KWARGS,
    HOST_CONFIG_KWARGS,
    MIN_API_VERSIONS,
    RUN_KWARGS,
    RUN_ONLY_KWARGS,
    SPLIT_KWARGS,
    CreateRequest,
    RunOptions,
    build_create_request,
    build_run_request,
    proxy_environment,
)
from ctrproto.errors import DockerException, InvalidArgument, InvalidVersion
from ctrproto.types import (
    DeviceRequest,
    EndpointConfig,
    Healthcheck,
    LogConfig,
    Mount,
    RestartPolicy,
    Ulimit,
)

V = "1.41"


def body(*args: Any, **kwargs: Any) -> dict[str, Any]:
    version = kwargs.pop("_version", V)
    request = build_create_request(version, "alpine", *args, **kwargs)
    return request.body


def hc(**kwargs: Any) -> dict[str, Any]:
    result: dict[str, Any] = body(**kwargs)["HostConfig"]
    return result


# =========================================================================== keyword sets


def test_keyword_sets_partition_the_table() -> None:
    assert not CONTAINER_KWARGS & HOST_CONFIG_KWARGS
    assert not (CONTAINER_KWARGS | HOST_CONFIG_KWARGS) & SPLIT_KWARGS
    assert CREATE_KWARGS == CONTAINER_KWARGS | HOST_CONFIG_KWARGS | SPLIT_KWARGS | EXTENSION_KWARGS
    assert RUN_KWARGS == CREATE_KWARGS | RUN_ONLY_KWARGS
    assert {"stdout", "stderr", "remove", "stream"} == RUN_ONLY_KWARGS
    assert {"stop_timeout"} == EXTENSION_KWARGS
    assert set(MIN_API_VERSIONS) <= CREATE_KWARGS
    assert len(HOST_CONFIG_KWARGS) == 63 and len(CONTAINER_KWARGS) == 19


def test_keyword_sets_match_docker_py() -> None:
    containers = pytest.importorskip("docker.models.containers")
    assert set(containers.RUN_CREATE_KWARGS) == CONTAINER_KWARGS
    assert set(containers.RUN_HOST_CONFIG_KWARGS) == HOST_CONFIG_KWARGS


def test_unknown_keyword_is_a_type_error_like_docker_py() -> None:
    with pytest.raises(TypeError, match=r"^create\(\) got an unexpected keyword argument 'foo'$"):
        build_create_request(V, "alpine", None, None, foo=1)
    with pytest.raises(
        TypeError, match=r"^create\(\) got unexpected keyword arguments 'bar', 'foo'$"
    ):
        build_create_request(V, "alpine", None, None, foo=1, bar=2)
    with pytest.raises(TypeError, match=r"^run\(\) got an unexpected keyword argument 'foo'$"):
        build_run_request(V, "alpine", None, None, foo=1)


@pytest.mark.parametrize("kwarg", sorted(RUN_ONLY_KWARGS))
def test_run_only_keywords_are_refused_by_create(kwarg: str) -> None:
    with pytest.raises(
        TypeError, match=f"create\\(\\) got an unexpected keyword argument '{kwarg}'"
    ):
        build_create_request(V, "alpine", None, None, **{kwarg: True})
    build_run_request(V, "alpine", None, None, **{kwarg: True})


def test_parameter_names_do_not_shadow_keywords() -> None:
    # The builder's own parameters are positional-only: these are caller keywords.
    with pytest.raises(TypeError, match="unexpected keyword argument 'api_version'"):
        build_create_request(V, "alpine", None, None, api_version="1.41")
    with pytest.raises(TypeError, match="unexpected keyword argument 'proxy_config'"):
        build_create_request(V, "alpine", None, None, proxy_config={})
    with pytest.raises(TypeError, match="multiple values for argument 'image'"):
        build_create_request(V, "alpine", None, None, image="busybox")


# =========================================================================== minimal body


def test_minimal_body_and_defaults() -> None:
    request = build_create_request(V, "alpine")
    assert isinstance(request, CreateRequest)
    assert request.image == "alpine"
    assert request.params == {}
    assert request.platform is None
    assert request.body == {
        "Image": "alpine",
        "Tty": False,
        "OpenStdin": False,
        "StdinOnce": False,
        "AttachStdin": False,
        "AttachStdout": True,
        "AttachStderr": True,
        "NetworkDisabled": False,
        "HostConfig": {"NetworkMode": "default"},
    }


def test_image_object_is_resolved_to_its_id() -> None:
    class Image:
        id = "sha256:abc"

    assert build_create_request(V, Image()).body["Image"] == "sha256:abc"
    with pytest.raises(InvalidArgument):
        build_create_request(V, object())  # type: ignore[arg-type]


def test_malformed_api_version() -> None:
    with pytest.raises(InvalidVersion):
        build_create_request("latest", "alpine")


# =========================================================================== container level


def test_command_and_entrypoint_strings_are_split_like_a_shell() -> None:
    b = body("sh -c 'echo \"a b\"'", entrypoint="/bin/env -i")
    assert b["Cmd"] == ["sh", "-c", 'echo "a b"']
    assert b["Entrypoint"] == ["/bin/env", "-i"]
    assert body(["ls", "-l"])["Cmd"] == ["ls", "-l"]
    assert body("")["Cmd"] == []
    with pytest.raises(InvalidArgument):
        body(["ls", 1])


def test_detach_and_stdin_attach_flags() -> None:
    b = body(stdin_open=True)
    assert (b["AttachStdin"], b["StdinOnce"], b["OpenStdin"]) == (True, True, True)
    b = body(stdin_open=True, detach=True)
    assert (b["AttachStdin"], b["AttachStdout"], b["AttachStderr"]) == (False, False, False)
    assert b["StdinOnce"] is False and b["OpenStdin"] is True


def test_environment_forms() -> None:
    assert body(environment={"A": "1", "B": None, "C": b"x", "D": 2})["Env"] == [
        "A=1",
        "B",
        "C=x",
        "D=2",
    ]
    assert body(environment=["A=1", "B"])["Env"] == ["A=1", "B"]
    assert "Env" not in body(environment={})
    with pytest.raises(InvalidArgument):
        body(environment=[1])


def test_proxy_variables_are_prepended_so_the_callers_win() -> None:
    proxies = {"httpProxy": "http://p:3128", "noProxy": "localhost"}
    request = build_create_request(V, "alpine", None, proxies, environment={"http_proxy": "mine"})
    assert request.body["Env"] == [
        "http_proxy=http://p:3128",
        "HTTP_PROXY=http://p:3128",
        "no_proxy=localhost",
        "NO_PROXY=localhost",
        "http_proxy=mine",
    ]
    request = build_create_request(V, "alpine", None, proxies, use_config_proxy=False)
    assert "Env" not in request.body
    request = build_create_request(V, "alpine", None, {})
    assert "Env" not in request.body


def test_proxy_helpers() -> None:
    assert proxy_environment({"ftpProxy": "ftp://f", "httpProxy": ""}) == [
        "ftp_proxy=ftp://f",
        "FTP_PROXY=ftp://f",
    ]


def test_labels_user_and_plain_fields() -> None:
    b = body(
        labels=["a", "b"],
        user=1000,
        hostname="h",
        domainname="example.com",
        working_dir="/w",
        stop_signal="SIGINT",
        tty=True,
        network_disabled=True,
    )
    assert b["Labels"] == {"a": "", "b": ""}
    assert b["User"] == "1000"
    assert (b["Hostname"], b["Domainname"], b["WorkingDir"]) == ("h", "example.com", "/w")
    assert b["StopSignal"] == "SIGINT" and b["Tty"] is True and b["NetworkDisabled"] is True
    assert body(labels={"k": "v"})["Labels"] == {"k": "v"}
    with pytest.raises(InvalidArgument):
        body(labels={"k": 1})


def test_name_and_platform_go_to_the_query() -> None:
    request = build_create_request(V, "alpine", None, None, name="web", platform="linux/arm64")
    assert request.params == {"name": "web", "platform": "linux/arm64"}
    assert request.platform == "linux/arm64"
    assert "name" not in request.body and "platform" not in request.body
    with pytest.raises(InvalidVersion, match=r"platform needs API version 1\.41.*is 1\.40"):
        build_create_request("1.40", "alpine", None, None, platform="linux/arm64")


def test_healthcheck_forms_and_versions() -> None:
    check = body(healthcheck={"test": "curl -f localhost", "interval": 1_000_000_000})[
        "Healthcheck"
    ]
    assert check["Test"] == ["CMD-SHELL", "curl -f localhost"]
    assert check["Interval"] == 1_000_000_000
    assert body(healthcheck="true")["Healthcheck"]["Test"] == ["CMD-SHELL", "true"]
    assert body(healthcheck=["CMD", "true"])["Healthcheck"]["Test"] == ["CMD", "true"]
    hc_obj = Healthcheck(test=["NONE"])
    assert body(healthcheck=hc_obj)["Healthcheck"] == hc_obj
    assert body(healthcheck={"Test": ["NONE"], "Retries": 2})["Healthcheck"]["Retries"] == 2
    with pytest.raises(InvalidVersion, match="healthcheck needs API version 1.24"):
        body(healthcheck="true", _version="1.23")
    with pytest.raises(InvalidVersion, match="start_period needs API version 1.29"):
        body(healthcheck={"test": "true", "start_period": 2_000_000}, _version="1.28")
    body(healthcheck={"test": "true", "start_period": 2_000_000}, _version="1.29")
    with pytest.raises(InvalidArgument, match="healthcheck"):
        body(healthcheck={"test": "true", "bogus": 1})
    with pytest.raises(InvalidArgument, match="interval"):
        body(healthcheck={"test": "true", "interval": 10})


def test_stop_timeout_extension() -> None:
    assert body(stop_timeout=30)["StopTimeout"] == 30
    with pytest.raises(InvalidVersion, match="stop_timeout"):
        body(stop_timeout=30, _version="1.24")


# =========================================================================== HostConfig


def test_memory_sizes() -> None:
    h = hc(
        mem_limit="64m",
        memswap_limit=-1,
        mem_reservation="1g",
        kernel_memory=1.5e6,
        shm_size="1G",
        mem_swappiness=0,
    )
    assert h["Memory"] == 64 * 1024**2
    assert h["MemorySwap"] == -1
    assert h["MemoryReservation"] == 1024**3
    assert h["KernelMemory"] == 1_500_000 and isinstance(h["KernelMemory"], int)
    assert h["ShmSize"] == 1024**3
    assert h["MemorySwappiness"] == 0
    assert hc(mem_limit=0)["Memory"] == 0
    assert "MemoryReservation" not in hc(mem_reservation=0)
    with pytest.raises(InvalidArgument, match="mem_limit"):
        hc(mem_limit="lots")
    with pytest.raises(InvalidArgument, match="mem_swappiness"):
        hc(mem_swappiness=101)


def test_simple_host_fields() -> None:
    h = hc(
        auto_remove=True,
        cap_add=["SYS_ADMIN"],
        cap_drop="NET_RAW",
        cgroup_parent="/p",
        cgroupns="private",
        cpu_shares=512,
        cpuset_cpus="0-1",
        dns=["8.8.8.8"],
        dns_opt=["ndots:2"],
        dns_search=["example.com"],
        group_add=["audio", 1000],
        init=False,
        ipc_mode="host",
        nano_cpus=10**9,
        oom_kill_disable=True,
        oom_score_adj=-500,
        pid_mode="host",
        pids_limit=-1,
        privileged=True,
        publish_all_ports=True,
        read_only=False,
        runtime="runc",
        security_opt=["no-new-privileges"],
        storage_opt={"size": "10G"},
        sysctls={"net.core.somaxconn": 1024},
        userns_mode="host",
        uts_mode="host",
        volume_driver="local",
        volumes_from="a,b",
    )
    assert h == {
        "AutoRemove": True,
        "CapAdd": ["SYS_ADMIN"],
        "CapDrop": ["NET_RAW"],
        "CgroupParent": "/p",
        "CgroupnsMode": "private",
        "CpuShares": 512,
        "CpusetCpus": "0-1",
        "Dns": ["8.8.8.8"],
        "DnsOptions": ["ndots:2"],
        "DnsSearch": ["example.com"],
        "GroupAdd": ["audio", "1000"],
        "Init": False,
        "IpcMode": "host",
        "NanoCpus": 10**9,
        "OomKillDisable": True,
        "OomScoreAdj": -500,
        "PidMode": "host",
        "PidsLimit": -1,
        "Privileged": True,
        "PublishAllPorts": True,
        "ReadonlyRootfs": False,
        "Runtime": "runc",
        "SecurityOpt": ["no-new-privileges"],
        "StorageOpt": {"size": "10G"},
        "Sysctls": {"net.core.somaxconn": "1024"},
        "UsernsMode": "host",
        "UTSMode": "host",
        "VolumeDriver": "local",
        "VolumesFrom": ["a", "b"],
        "NetworkMode": "default",
    }


def test_falsy_values_are_left_to_the_daemons_defaults() -> None:
    h = hc(privileged=False, cpu_shares=0, auto_remove=False, cap_add=[], dns_search=[], tmpfs={})
    assert h == {"NetworkMode": "default"}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"cpu_shares": "512"}, "cpu_shares must be an integer"),
        ({"cpu_quota": True}, "cpu_quota must be an integer"),
        ({"cpuset_mems": 0.5}, "cpuset_mems must be a string"),
        ({"security_opt": [1]}, "security_opt"),
        ({"userns_mode": "private"}, "userns_mode"),
        ({"uts_mode": "private"}, "uts_mode"),
        ({"cgroupns": "shared"}, "cgroupns"),
        ({"restart_policy": "always"}, "restart_policy must be a dict"),
        ({"ulimits": {"name": "nofile"}}, "ulimits must be a list"),
        ({"ulimits": ["nofile"]}, "ulimits must hold"),
        ({"log_config": "json-file"}, "log_config must be"),
        ({"log_config": {"driver": "x"}}, "log_config"),
        ({"devices": ["/a:/b:rwm:x"]}, "devices"),
        ({"storage_opt": ["size=1G"]}, "storage_opt must be a dict"),
        ({"device_requests": [1]}, "device_requests"),
        ({"mounts": [1]}, "mounts"),
        ({"links": 3}, "links"),
    ],
)
def test_invalid_values_raise_invalid_argument(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidArgument, match=match):
        body(**kwargs)


def test_invalid_argument_is_a_value_error_and_docker_exception() -> None:
    with pytest.raises(ValueError):
        body(cpu_shares="x")
    with pytest.raises(DockerException):
        body(cpu_shares="x")


def test_devices() -> None:
    assert hc(devices=["/dev/sda:/dev/xvda:r", "/dev/null", "/dev/a:/dev/b"])["Devices"] == [
        {"PathOnHost": "/dev/sda", "PathInContainer": "/dev/xvda", "CgroupPermissions": "r"},
        {"PathOnHost": "/dev/null", "PathInContainer": "/dev/null", "CgroupPermissions": "rwm"},
        {"PathOnHost": "/dev/a", "PathInContainer": "/dev/b", "CgroupPermissions": "rwm"},
    ]
    raw = {"PathOnHost": "/x", "PathInContainer": "/y", "CgroupPermissions": "rw"}
    assert hc(devices=[raw])["Devices"] == [raw]


def test_extra_hosts_links_lxc_conf_tmpfs() -> None:
    h = hc(
        extra_hosts={"b": "1.1.1.1", "a": "::1"},
        links={"db": "database", "cache": None},
        lxc_conf={"lxc.cgroup.cpuset.cpus": 0},
        tmpfs=["/run:size=64m,uid=1000", "/tmp"],
    )
    assert h["ExtraHosts"] == ["a:::1", "b:1.1.1.1"]
    assert h["Links"] == ["cache", "db:database"]
    assert h["LxcConf"] == [{"Key": "lxc.cgroup.cpuset.cpus", "Value": "0"}]
    assert h["Tmpfs"] == {"/run": "size=64m,uid=1000", "/tmp": ""}
    assert hc(extra_hosts=["h:1.2.3.4"])["ExtraHosts"] == ["h:1.2.3.4"]
    assert hc(links=[("db", "d")])["Links"] == ["db:d"]
    assert hc(tmpfs={"/run": ""})["Tmpfs"] == {"/run": ""}


def test_restart_policy() -> None:
    policy = {"Name": "on-failure", "MaximumRetryCount": 5}
    assert hc(restart_policy=policy)["RestartPolicy"] == policy
    converted = hc(restart_policy=RestartPolicy(condition="on-failure", max_attempts=3))
    assert converted["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert hc(restart_policy=RestartPolicy("any"))["RestartPolicy"]["Name"] == "always"
    assert hc(restart_policy=RestartPolicy())["RestartPolicy"]["Name"] == "no"
    with pytest.raises(InvalidArgument, match="delay or window"):
        hc(restart_policy=RestartPolicy("any", delay=5))


def test_ulimits_log_config_device_requests_mounts() -> None:
    h = hc(
        ulimits=[Ulimit(name="nofile", soft=1024, hard=2048), {"Name": "nproc", "Soft": 10}],
        log_config={"type": LogConfig.types.SYSLOG, "config": {"tag": "x"}},
        device_requests=[{"driver": "nvidia", "count": -1, "capabilities": [["gpu"]]}],
        mounts=[Mount("/data", "vol"), "/host:/ctr:ro", {"Type": "tmpfs", "Target": "/t"}],
    )
    assert h["Ulimits"] == [
        {"Name": "nofile", "Soft": 1024, "Hard": 2048},
        {"Name": "nproc", "Soft": 10, "Hard": None},
    ]
    assert h["LogConfig"] == {"Type": "syslog", "Config": {"tag": "x"}}
    assert isinstance(h["LogConfig"], LogConfig)
    assert h["DeviceRequests"] == [DeviceRequest(driver="nvidia", count=-1, capabilities=[["gpu"]])]
    assert h["Mounts"][1] == {
        "Target": "/ctr",
        "Source": "/host",
        "Type": "bind",
        "ReadOnly": True,
    }
    assert json.loads(json.dumps(h))  # everything serialises as plain JSON


@pytest.mark.parametrize(
    ("kwargs", "minimum"),
    [
        ({"auto_remove": True}, "1.25"),
        ({"blkio_weight": 300}, "1.22"),
        ({"blkio_weight_device": [{"Path": "/dev/sda", "Weight": 10}]}, "1.22"),
        ({"cpu_count": 2}, "1.25"),
        ({"cpu_percent": 20}, "1.25"),
        ({"cpu_rt_period": 1000}, "1.25"),
        ({"cpu_rt_runtime": 1000}, "1.25"),
        ({"device_cgroup_rules": ["c 1:3 mr"]}, "1.28"),
        ({"device_read_bps": [{"Path": "/dev/sda", "Rate": 1}]}, "1.22"),
        ({"device_write_bps": [{"Path": "/dev/sda", "Rate": 1}]}, "1.22"),
        ({"device_read_iops": [{"Path": "/dev/sda", "Rate": 1}]}, "1.22"),
        ({"device_write_iops": [{"Path": "/dev/sda", "Rate": 1}]}, "1.22"),
        ({"device_requests": [DeviceRequest(count=1)]}, "1.40"),
        ({"init": True}, "1.25"),
        ({"init_path": "/init"}, "1.25"),
        ({"isolation": "hyperv"}, "1.24"),
        ({"mounts": [Mount("/x", "v")]}, "1.30"),
        ({"nano_cpus": 10}, "1.25"),
        ({"oom_score_adj": 10}, "1.22"),
        ({"pids_limit": 10}, "1.23"),
        ({"runtime": "runc"}, "1.25"),
        ({"storage_opt": {"size": "1G"}}, "1.24"),
        ({"tmpfs": ["/run"]}, "1.22"),
        ({"userns_mode": "host"}, "1.23"),
        ({"platform": "linux"}, "1.41"),
        ({"healthcheck": "true"}, "1.24"),
        ({"stop_timeout": 3}, "1.25"),
    ],
)
def test_minimum_versions(kwargs: dict[str, Any], minimum: str) -> None:
    (kwarg,) = kwargs
    major, minor = minimum.split(".")
    older = f"{major}.{int(minor) - 1}"
    with pytest.raises(InvalidVersion) as info:
        body(_version=older, **kwargs)
    message = str(info.value)
    assert kwarg in message and minimum in message and older in message
    body(_version=minimum, **kwargs)


def test_init_path_is_gone_from_1_29() -> None:
    assert hc(init_path="/init", _version="1.28")["InitPath"] == "/init"
    with pytest.raises(InvalidVersion, match="init_path.*1.29"):
        hc(init_path="/init", _version="1.29")


def test_mount_subpath_needs_1_45() -> None:
    mount = Mount("/x", "vol", subpath="sub")
    with pytest.raises(InvalidVersion, match="subpath"):
        hc(mounts=[mount], _version="1.44")
    assert hc(mounts=[mount], _version="1.45")["Mounts"] == [mount]


# =========================================================================== ports


def test_port_forms_from_the_spec() -> None:
    b = body(
        ports={
            "2222/tcp": 3333,
            "2223/tcp": None,
            "1111/tcp": ("127.0.0.1", 1111),
            "1112/tcp": [1234, 4567],
            80: "8080",
            "53/udp": ("0.0.0.0",),
            "54/sctp": (5454,),
            "55": {"HostPort": "5555", "HostIp": "::1"},
        }
    )
    assert b["HostConfig"]["PortBindings"] == {
        "2222/tcp": [{"HostIp": "", "HostPort": "3333"}],
        "2223/tcp": [{"HostIp": "", "HostPort": ""}],
        "1111/tcp": [{"HostIp": "127.0.0.1", "HostPort": "1111"}],
        "1112/tcp": [{"HostIp": "", "HostPort": "1234"}, {"HostIp": "", "HostPort": "4567"}],
        "80/tcp": [{"HostIp": "", "HostPort": "8080"}],
        "53/udp": [{"HostIp": "0.0.0.0", "HostPort": ""}],
        "54/sctp": [{"HostIp": "", "HostPort": "5454"}],
        "55/tcp": [{"HostIp": "::1", "HostPort": "5555"}],
    }
    assert list(b["ExposedPorts"]) == sorted(b["HostConfig"]["PortBindings"])
    assert all(value == {} for value in b["ExposedPorts"].values())


def test_port_ranges_are_expanded() -> None:
    bindings = hc(ports={"8000-8002/udp": "9000-9002", "7000-7001": None})["PortBindings"]
    assert bindings == {
        "8000/udp": [{"HostIp": "", "HostPort": "9000"}],
        "8001/udp": [{"HostIp": "", "HostPort": "9001"}],
        "8002/udp": [{"HostIp": "", "HostPort": "9002"}],
        "7000/tcp": [{"HostIp": "", "HostPort": ""}],
        "7001/tcp": [{"HostIp": "", "HostPort": ""}],
    }
    # One container port may take a host range: the daemon picks a free port in it.
    assert hc(ports={80: "8000-8010"})["PortBindings"] == {
        "80/tcp": [{"HostIp": "", "HostPort": "8000-8010"}]
    }
    assert hc(ports={"80-81": ("127.0.0.1", None)})["PortBindings"]["81/tcp"] == [
        {"HostIp": "127.0.0.1", "HostPort": ""}
    ]


@pytest.mark.parametrize(
    "ports",
    [
        {"80/icmp": 1},
        {"http": 80},
        {"8000-8002": 9000},
        {"8000-8002": "9000-9001"},
        {"0": 1},
        {"9-8": 1},
        {80: "x"},
        {80: 1.5},
        {80: (1, 2, 3)},
        {80: {"HostIp": "1.2.3.4"}},
        {80: 1, "80/tcp": 2},
        [80],
    ],
)
def test_invalid_ports(ports: Any) -> None:
    with pytest.raises(InvalidArgument, match="ports"):
        body(ports=ports)


def test_host_network_mode_is_incompatible_with_ports() -> None:
    with pytest.raises(InvalidArgument, match="host"):
        body(network_mode="host", ports={80: 80})
    with pytest.raises(InvalidArgument, match="host"):
        body(network="host", ports={80: 80})


# =========================================================================== volumes


def test_volumes_dict() -> None:
    b = body(
        volumes={
            "/home/user1/": {"bind": "/mnt/vol2", "mode": "rw"},
            "/var/www": {"bind": "/mnt/vol1", "mode": "ro"},
            "named": {"bind": "/data", "ro": True},
            "/prop": {"bind": "/p", "propagation": "rslave"},
            "/plain": "/mnt/plain",
        }
    )
    assert b["HostConfig"]["Binds"] == [
        "/home/user1/:/mnt/vol2:rw",
        "/var/www:/mnt/vol1:ro",
        "named:/data:ro",
        "/prop:/p:rw,rslave",
        "/plain:/mnt/plain:rw",
    ]
    assert b["Volumes"] == {
        "/mnt/vol2": {},
        "/mnt/vol1": {},
        "/data": {},
        "/p": {},
        "/mnt/plain": {},
    }


def test_volumes_list_and_container_path_parsing() -> None:
    binds = [
        "/home/user1/:/mnt/vol2",
        "/var/www:/mnt/vol1:ro",
        "vol:/data:rw,z",
        "/anonymous",
        "/anon2:ro",
        "C:\\host:C:\\ctr:ro",
        "C:\\only",
    ]
    b = body(volumes=binds)
    assert b["HostConfig"]["Binds"] == binds
    assert list(b["Volumes"]) == [
        "/mnt/vol2",
        "/mnt/vol1",
        "/data",
        "/anonymous",
        "/anon2",
        "C:\\ctr",
        "C:\\only",
    ]
    assert body(volumes="/a:/b")["HostConfig"]["Binds"] == ["/a:/b"]


@pytest.mark.parametrize(
    "volumes",
    [
        {"/a": {"mode": "ro"}},
        {"/a": {"bind": "/b", "mode": "ro", "ro": True}},
        {"/a": {"bind": "/b", "propagation": "sideways"}},
        {"/a": 3},
        [3],
    ],
)
def test_invalid_volumes(volumes: Any) -> None:
    with pytest.raises(InvalidArgument, match="volumes"):
        body(volumes=volumes)


# =========================================================================== networks


def test_network_sets_mode_and_endpoint() -> None:
    b = body(network="backend")
    assert b["HostConfig"]["NetworkMode"] == "backend"
    assert b["NetworkingConfig"] == {"EndpointsConfig": {"backend": {}}}


def test_networking_config_is_used_when_it_names_the_network() -> None:
    endpoint = EndpointConfig(V, aliases=["web"], ipv4_address="10.0.0.5")
    b = body(network="backend", networking_config={"backend": endpoint})
    assert b["NetworkingConfig"] == {
        "EndpointsConfig": {
            "backend": {"Aliases": ["web"], "IPAMConfig": {"IPv4Address": "10.0.0.5"}}
        }
    }
    # A dict naming other networks attaches those too (several networks need API 1.44).
    b = body(network="backend", networking_config={"other": endpoint}, _version="1.44")
    assert b["NetworkingConfig"]["EndpointsConfig"] == {"backend": {}, "other": endpoint}
    with pytest.raises(InvalidVersion, match="several networks needs API version 1.44"):
        body(network="backend", networking_config={"other": endpoint})
    with pytest.raises(InvalidArgument, match="networking_config"):
        body(network="backend", networking_config=["backend"])
    with pytest.raises(InvalidArgument, match="networking_config"):
        body(network="backend", networking_config={"backend": "x"})


def test_several_endpoints_need_1_44() -> None:
    config = {"a": None, "b": {"Aliases": ["x"]}}
    assert body(network="a", networking_config=config, _version="1.44")["NetworkingConfig"] == {
        "EndpointsConfig": {"a": {}, "b": {"Aliases": ["x"]}}
    }
    with pytest.raises(InvalidVersion, match="1.44"):
        body(network="a", networking_config=config, _version="1.43")


def test_network_exclusions() -> None:
    with pytest.raises(InvalidArgument, match="network_mode"):
        body(network="a", network_mode="bridge")
    with pytest.raises(InvalidArgument, match="without"):
        body(networking_config={"a": {}})
    with pytest.raises(InvalidArgument, match="without"):
        build_run_request(V, "alpine", None, None, networking_config={"a": {}})


def test_network_mode_is_always_sent() -> None:
    assert hc()["NetworkMode"] == "default"
    assert hc(network_mode="none")["NetworkMode"] == "none"
    assert hc(network_mode="container:abc")["NetworkMode"] == "container:abc"


def test_mac_address_before_1_44_is_container_wide() -> None:
    b = body(mac_address="02:42:ac:11:00:02", _version="1.43")
    assert b["MacAddress"] == "02:42:ac:11:00:02"
    assert "NetworkingConfig" not in b


def test_mac_address_from_1_44_goes_to_the_main_endpoint() -> None:
    mac = "02:42:ac:11:00:02"
    b = body(mac_address=mac, _version="1.44")
    assert "MacAddress" not in b
    assert b["NetworkingConfig"] == {"EndpointsConfig": {"default": {"MacAddress": mac}}}
    b = body(mac_address=mac, network_mode="bridge", _version="1.45")
    assert b["NetworkingConfig"] == {"EndpointsConfig": {"bridge": {"MacAddress": mac}}}
    caller_config = {"net": {"Aliases": ["a"]}}
    b = body(mac_address=mac, network="net", networking_config=caller_config, _version="1.45")
    assert b["NetworkingConfig"] == {
        "EndpointsConfig": {"net": {"Aliases": ["a"], "MacAddress": mac}}
    }
    assert caller_config == {"net": {"Aliases": ["a"]}}  # not mutated
    with pytest.raises(InvalidArgument, match="differs"):
        body(
            mac_address=mac,
            network="net",
            networking_config={"net": {"MacAddress": "02:00:00:00:00:01"}},
            _version="1.45",
        )
    for mode in ("host", "none", "container:x"):
        with pytest.raises(InvalidArgument, match="mac_address"):
            body(mac_address=mac, network_mode=mode, _version="1.45")


# =========================================================================== run()


def test_run_options_and_auto_remove() -> None:
    request, options = build_run_request(V, "alpine", "true", None)
    assert options == RunOptions()
    assert request.body["Cmd"] == ["true"]
    request, options = build_run_request(
        V, "alpine", None, None, detach=True, remove=True, stdout=False, stderr=True, stream=True
    )
    assert request.body["HostConfig"]["AutoRemove"] is True
    assert options == RunOptions(
        detach=True, stdout=False, stderr=True, remove=True, stream=True, auto_remove=True
    )
    assert request.body["AttachStdout"] is False
    _, options = build_run_request(V, "alpine", None, None, remove=True)
    assert options.remove and not options.auto_remove
    _, options = build_run_request(V, "alpine", None, None, auto_remove=True)
    assert options.auto_remove
    with pytest.raises(InvalidVersion, match="remove"):
        build_run_request("1.24", "alpine", None, None, detach=True, remove=True)


def test_version_keyword_is_accepted_and_ignored() -> None:
    assert body(version="1.10", auto_remove=True)["HostConfig"]["AutoRemove"] is True


# =========================================================================== differential


try:
    import docker as docker_py  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - docker-py is only the reference implementation
    docker_py = None

needs_docker_py = pytest.mark.skipif(docker_py is None, reason="docker-py is not installed")


def docker_py_request(
    version: str, image: str, command: Any = None, proxies: Any = None, **kwargs: Any
) -> tuple[dict[str, Any], str | None, str | None]:
    """What docker-py 7 would POST for ``containers.create(image, command, **kwargs)``."""
    from docker.models.containers import _create_container_args  # type: ignore[import-untyped]
    from docker.utils.proxy import ProxyConfig  # type: ignore[import-untyped]

    client = docker_py.APIClient(base_url="unix:///nonexistent.sock", version=version)
    client._proxy_configs = ProxyConfig.from_dict(proxies or {})
    captured: dict[str, Any] = {}

    def capture(config: Any, name: Any = None, platform: Any = None) -> dict[str, str]:
        captured.update(config=config, name=name, platform=platform)
        return {"Id": "0"}

    client.create_container_from_config = capture
    args = dict(kwargs, image=image, command=command, version=version)
    client.create_container(**_create_container_args(args))
    sent = {key: value for key, value in captured["config"].items() if value is not None}
    return json.loads(json.dumps(sent)), captured["name"], captured["platform"]


def ours(version: str, image: str, command: Any = None, proxies: Any = None, **kwargs: Any) -> Any:
    request = build_create_request(version, image, command, proxies, **kwargs)
    return json.loads(json.dumps(request.body)), request.params


# Values on which the two implementations must agree (the differences are tested above).
POOL: dict[str, list[Any]] = {
    "command": ["echo hello world", ["ls", "-l"], "sh -c 'a b'"],
    "entrypoint": ["/bin/sh -c", ["sh"]],
    "environment": [{"A": "1", "B": None}, ["X=1", "Y"]],
    "hostname": ["h1"],
    "domainname": ["example.com"],
    "user": ["root", 1000],
    "working_dir": ["/tmp"],
    "labels": [{"a": "b"}, ["l1", "l2"]],
    "detach": [True, False],
    "stdin_open": [True, False],
    "tty": [True, False],
    "network_disabled": [True, False],
    "stop_signal": ["SIGINT"],
    "healthcheck": [
        {"test": "true", "interval": 1_000_000_000, "retries": 3},
        {"test": ["CMD", "true"], "timeout": 2_000_000, "start_period": 5_000_000},
        {"test": ["NONE"]},
    ],
    "name": ["web"],
    "platform": ["linux/amd64"],
    "mac_address": ["02:42:ac:11:00:02"],
    "use_config_proxy": [True, False],
    "auto_remove": [True, False],
    "blkio_weight": [500],
    "blkio_weight_device": [[{"Path": "/dev/sda", "Weight": 100}]],
    "cap_add": [["SYS_ADMIN"]],
    "cap_drop": [["NET_RAW", "MKNOD"]],
    "cgroup_parent": ["/parent"],
    "cgroupns": ["private", "host"],
    "cpu_count": [2],
    "cpu_percent": [50],
    "cpu_period": [100000],
    "cpu_quota": [50000],
    "cpu_shares": [512, 0],
    "cpuset_cpus": ["0-1"],
    "cpuset_mems": ["0"],
    "cpu_rt_period": [1000000],
    "cpu_rt_runtime": [950000],
    "device_cgroup_rules": [["c 1:3 mr"]],
    "device_read_bps": [[{"Path": "/dev/sda", "Rate": 1024}]],
    "device_read_iops": [[{"Path": "/dev/sda", "Rate": 10}]],
    "device_write_bps": [[{"Path": "/dev/sda", "Rate": 2048}]],
    "device_write_iops": [[{"Path": "/dev/sda", "Rate": 20}]],
    "devices": [["/dev/sda:/dev/xvda:rwm", "/dev/null", "/dev/a:/dev/b"]],
    "device_requests": [[{"driver": "nvidia", "count": -1, "capabilities": [["gpu"]]}]],
    "dns": [["8.8.8.8"]],
    "dns_opt": [["ndots:2"]],
    "dns_search": [["example.com"]],
    "extra_hosts": [{"h": "1.2.3.4", "a": "::1"}, ["h:1.2.3.4"]],
    "group_add": [["audio", 1000]],
    "init": [True, False],
    "ipc_mode": ["host", "shareable"],
    "isolation": ["default"],
    "kernel_memory": ["64m", 1048576],
    "links": [{"c1": "alias", "c2": None}],
    "log_config": [{"type": "json-file", "config": {"max-size": "10m"}}, {"type": "none"}],
    "lxc_conf": [{"lxc.x": "y"}],
    "mem_limit": ["64m", 1073741824, "1g", "512k", "100000b", "1000"],
    "memswap_limit": [-1, "1g"],
    "mem_reservation": ["32m"],
    "mem_swappiness": [10, 0],
    "mounts": [[{"Target": "/x", "Source": "v", "Type": "volume", "ReadOnly": False}]],
    "nano_cpus": [1000000000],
    "network_mode": ["bridge", "none", "host", "container:other"],
    "oom_kill_disable": [True],
    "oom_score_adj": [100],
    "pid_mode": ["host"],
    "pids_limit": [100, -1],
    "privileged": [True, False],
    "publish_all_ports": [True],
    "read_only": [True, False],
    "restart_policy": [{"Name": "on-failure", "MaximumRetryCount": 3}, {"Name": "always"}],
    "runtime": ["runc"],
    "security_opt": [["no-new-privileges"]],
    "shm_size": ["64m", 67108864],
    "storage_opt": [{"size": "10G"}],
    "sysctls": [{"net.core.somaxconn": 1024}],
    "tmpfs": [{"/run": "size=1m"}, ["/tmp", "/run:size=1m"]],
    "ulimits": [[{"name": "nofile", "soft": 1024, "hard": 2048}]],
    "userns_mode": ["host"],
    "uts_mode": ["host"],
    "volume_driver": ["local"],
    "volumes_from": [["c1"], "c1,c2"],
    "ports": [
        {"2222/tcp": 3333, 80: None, "1111/udp": ("127.0.0.1", 1111), 53: [1234, 4567]},
        {8080: ("0.0.0.0",), "9090/sctp": (9191,)},
    ],
    "volumes": [
        {"/h": {"bind": "/c", "mode": "ro"}, "vol": {"bind": "/d", "ro": False}},
        ["/a:/b", "/c:/d:ro", "vol:/e:rw", "/anon", "/f:ro"],
    ],
}
PROXIES = {"httpProxy": "http://proxy:3128", "noProxy": "localhost"}


def assert_same(version: str, command: Any, proxies: Any, kwargs: dict[str, Any]) -> None:
    expected, name, platform = docker_py_request(version, "alpine", command, proxies, **kwargs)
    actual, params = ours(version, "alpine", command, proxies, **kwargs)
    assert actual == expected, {
        key: (expected.get(key), actual.get(key))
        for key in set(expected) | set(actual)
        if expected.get(key) != actual.get(key)
    }
    assert params.get("name") == name
    assert params.get("platform") == platform


@needs_docker_py
@pytest.mark.parametrize("kwarg", sorted(POOL))
def test_each_keyword_matches_docker_py(kwarg: str) -> None:
    for value in POOL[kwarg]:
        kwargs = {kwarg: value}
        command = kwargs.pop("command", None)
        assert_same("1.43", command, None, kwargs)


@needs_docker_py
@pytest.mark.parametrize("proxies", [None, PROXIES])
def test_everything_at_once_matches_docker_py(proxies: Any) -> None:
    kwargs = {key: values[0] for key, values in POOL.items() if key != "command"}
    kwargs["network_mode"] = "bridge"
    assert_same("1.43", "echo hi", proxies, kwargs)


@st.composite
def keyword_combinations(draw: st.DrawFn) -> dict[str, Any]:
    keys = draw(st.sets(st.sampled_from(sorted(POOL)), max_size=12))
    kwargs = {key: draw(st.sampled_from(POOL[key])) for key in sorted(keys)}
    if kwargs.get("network_mode") == "host" and kwargs.get("ports"):
        del kwargs["ports"]
    return kwargs


@needs_docker_py
@settings(max_examples=300, deadline=None)
@given(
    kwargs=keyword_combinations(),
    version=st.sampled_from(["1.41", "1.42", "1.43"]),
    proxies=st.sampled_from([None, PROXIES]),
)
def test_random_combinations_match_docker_py(
    kwargs: dict[str, Any], version: str, proxies: Any
) -> None:
    command = kwargs.pop("command", None)
    assert_same(version, command, proxies, kwargs)


@needs_docker_py
def test_network_differs_from_docker_py_only_in_the_endpoint_form() -> None:
    expected, _, _ = docker_py_request(V, "alpine", network="net")
    actual, _ = ours(V, "alpine", network="net")
    assert expected.pop("NetworkingConfig") == {"net": None}  # not an EndpointsConfig at all
    assert actual.pop("NetworkingConfig") == {"EndpointsConfig": {"net": {}}}
    assert actual == expected
    config = {"net": {"Aliases": ["a"]}, "other": {}}
    expected, _, _ = docker_py_request("1.44", "alpine", network="net", networking_config=config)
    actual, _ = ours("1.44", "alpine", network="net", networking_config=config)
    assert actual == expected


# =========================================================================== table-wide behaviour


MINIMAL_BODY = build_create_request(V, "alpine").body


@pytest.mark.parametrize("kwarg", sorted(CREATE_KWARGS - {"image", "command"}))
def test_every_keyword_given_as_none_is_left_to_the_daemon(kwarg: str) -> None:
    assert build_create_request(V, "alpine", None, None, **{kwarg: None}).body == MINIMAL_BODY


def test_all_keywords_none_at_once() -> None:
    kwargs = dict.fromkeys(CREATE_KWARGS - {"image", "command"})
    assert build_create_request(V, "alpine", None, None, **kwargs).body == MINIMAL_BODY


def test_field_order_is_stable() -> None:
    # The JSON is byte-for-byte reproducible: the fields come in the table's order.
    b = body(
        "true",
        mounts=[Mount("/m", "vol")],
        network="net",
        volumes=["/a:/b"],
        ports={80: 8080},
        mem_limit="1m",
        cap_add=["NET_ADMIN"],
        mac_address="02:42:ac:11:00:02",
        healthcheck="true",
        stop_timeout=3,
        labels={"a": "b"},
        environment={"A": "1"},
        hostname="h",
        entrypoint="sh",
        _version="1.43",
    )
    assert list(b) == [
        "Image",
        "Cmd",
        "Entrypoint",
        "Hostname",
        "Env",
        "Labels",
        "Tty",
        "OpenStdin",
        "StdinOnce",
        "AttachStdin",
        "AttachStdout",
        "AttachStderr",
        "NetworkDisabled",
        "StopTimeout",
        "Healthcheck",
        "MacAddress",
        "ExposedPorts",
        "Volumes",
        "HostConfig",
        "NetworkingConfig",
    ]
    assert list(b["HostConfig"]) == [
        "CapAdd",
        "Memory",
        "Mounts",
        "PortBindings",
        "Binds",
        "NetworkMode",
    ]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"_image": object(), "cpu_shares": "x"}, InvalidArgument, "^image must be"),
        ({"environment": [1], "cpu_shares": "x"}, InvalidArgument, "^cpu_shares"),
        ({"labels": {"k": 1}, "ports": [80]}, InvalidArgument, "^ports"),
        ({"user": 1, "name": 5, "platform": "linux"}, InvalidArgument, "^name"),
        ({"healthcheck": "true", "tmpfs": ["/t"], "_version": "1.21"}, InvalidVersion, "^tmpfs"),
        ({"network": 5, "network_mode": "bridge"}, InvalidArgument, "cannot be used together"),
        ({"mac_address": 5, "volumes": [3]}, InvalidArgument, "^volumes"),
    ],
)
def test_the_bad_keyword_named_first(kwargs: dict[str, Any], error: type, match: str) -> None:
    # HostConfig is checked before the body (as docker-py builds it first), the query last.
    image = kwargs.pop("_image", "alpine")
    version = kwargs.pop("_version", V)
    with pytest.raises(error, match=match):
        build_create_request(version, image, None, None, **kwargs)


def test_version_rules_inside_one_value() -> None:
    assert hc(pid_mode="host", _version="1.23")["PidMode"] == "host"
    with pytest.raises(InvalidArgument, match="pid_mode 'container:x'.*before 1.24"):
        hc(pid_mode="container:x", _version="1.23")
    assert hc(pid_mode="container:x", _version="1.24")["PidMode"] == "container:x"
    # The version is checked before the value's type.
    with pytest.raises(InvalidVersion, match="init_path"):
        hc(init_path=5, _version="1.29")
    with pytest.raises(InvalidArgument, match="init_path must be a string"):
        hc(init_path=5, _version="1.28")


def test_run_only_keywords_are_booleans_when_given() -> None:
    _, options = build_run_request(V, "alpine", None, None, stdout=None, stream=1)
    assert options == RunOptions(stdout=False, stream=True)
    _, options = build_run_request(V, "alpine", None, None, stderr="yes")
    assert options == RunOptions(stderr=True)
