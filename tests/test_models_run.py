"""``run()``/``create()`` keyword groups: what inspect records and what the process sees."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from models_helpers import IMAGE

from ctrproto import DockerClient
from ctrproto.models import Container
from ctrproto.types import LogConfig, Mount, RestartPolicy, Ulimit

pytestmark = pytest.mark.daemon


@pytest.fixture
def create(
    client: DockerClient, test_labels: dict[str, str], cleanup: Callable[[Any], Any]
) -> Callable[..., Container]:
    def make(command: Any = "true", **kwargs: Any) -> Container:
        kwargs.setdefault("network_mode", "none")
        container: Container = cleanup(
            client.containers.create(IMAGE, command, labels=test_labels, **kwargs)
        )
        return container

    return make


@pytest.fixture
def run(client: DockerClient, test_labels: dict[str, str]) -> Callable[..., Any]:
    def go(command: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("network_mode", "none")
        labels = {**test_labels, **kwargs.pop("labels", {})}
        return client.containers.run(IMAGE, command, labels=labels, remove=True, **kwargs)

    return go


def test_resources(create: Callable[..., Container]) -> None:
    hc = create(
        mem_limit="64m",
        memswap_limit="128m",
        mem_reservation="32m",
        cpu_shares=256,
        cpu_period=100000,
        cpu_quota=50000,
        cpuset_cpus="0",
        pids_limit=64,
        shm_size="16m",
        oom_score_adj=100,
    ).attrs["HostConfig"]
    assert hc["Memory"] == 64 * 1024**2
    assert hc["MemorySwap"] == 128 * 1024**2
    assert hc["MemoryReservation"] == 32 * 1024**2
    assert (hc["CpuShares"], hc["CpuPeriod"], hc["CpuQuota"]) == (256, 100000, 50000)
    assert hc["CpusetCpus"] == "0" and hc["PidsLimit"] == 64
    assert hc["ShmSize"] == 16 * 1024**2 and hc["OomScoreAdj"] == 100


def test_nano_cpus(create: Callable[..., Container]) -> None:
    assert create(nano_cpus=500_000_000).attrs["HostConfig"]["NanoCpus"] == 500_000_000


def test_ports_forms(client: DockerClient, test_labels: dict[str, str], cleanup: Any) -> None:
    container = cleanup(
        client.containers.create(
            IMAGE,
            "true",
            labels=test_labels,
            ports={
                "2222/tcp": 3333,
                1111: ("127.0.0.1", 4444),
                "53/udp": None,
                "8080/tcp": [5555, 5556],
            },
        )
    )
    bindings = container.attrs["HostConfig"]["PortBindings"]
    assert bindings["2222/tcp"] == [{"HostIp": "", "HostPort": "3333"}]
    assert bindings["1111/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": "4444"}]
    assert bindings["53/udp"] == [{"HostIp": "", "HostPort": ""}]
    assert [b["HostPort"] for b in bindings["8080/tcp"]] == ["5555", "5556"]
    exposed = container.attrs["Config"]["ExposedPorts"]
    assert {"2222/tcp", "1111/tcp", "53/udp", "8080/tcp"} <= set(exposed)


def test_volumes_dict_and_list(
    create: Callable[..., Container], run: Callable[..., Any], tmp_path: Any
) -> None:
    (tmp_path / "f.txt").write_text("from host")
    hc = create(
        volumes={str(tmp_path): {"bind": "/mnt/a", "mode": "ro"}}
    ).attrs["HostConfig"]
    assert hc["Binds"] == [f"{tmp_path}:/mnt/a:ro"]
    assert run("cat /mnt/b/f.txt", volumes=[f"{tmp_path}:/mnt/b"]) == b"from host"
    with pytest.raises(Exception, match="Read-only"):
        run("touch /mnt/a/x", volumes={str(tmp_path): {"bind": "/mnt/a", "mode": "ro"}},
            stderr=True)


def test_tmpfs_and_mounts(run: Callable[..., Any], tmp_path: Any) -> None:
    out = run("sh -c 'grep /scratch /proc/mounts'", tmpfs={"/scratch": "size=1m"})
    assert b"tmpfs" in out and b"size=1024k" in out
    (tmp_path / "m.txt").write_text("mounted")
    mount = Mount(target="/m", source=str(tmp_path), type="bind", read_only=True)
    assert run("cat /m/m.txt", mounts=[mount]) == b"mounted"


def test_environment_and_labels(create: Callable[..., Container], run: Callable[..., Any]) -> None:
    assert run("sh -c 'echo $A-$B'", environment={"A": "1", "B": "two"}) == b"1-two\n"
    assert run("sh -c 'echo $C'", environment=["C=list"]) == b"list\n"
    assert "ctrproto.test" in create().labels


def test_extra_hosts_hostname_dns(run: Callable[..., Any]) -> None:
    out = run("cat /etc/hosts", extra_hosts={"db.example": "10.0.0.5"}, hostname="box")
    assert b"10.0.0.5\tdb.example" in out
    assert run("hostname", hostname="box") == b"box\n"


def test_devices(run: Callable[..., Any]) -> None:
    assert run("sh -c 'echo x > /dev/xnull && echo ok'", devices=["/dev/null:/dev/xnull:rwm"]) \
        == b"ok\n"


def test_healthcheck_string_and_dict(create: Callable[..., Container]) -> None:
    check = create(
        healthcheck={"test": "true", "interval": 1_000_000_000, "retries": 2}
    ).attrs["Config"]["Healthcheck"]
    assert check["Test"] == ["CMD-SHELL", "true"]
    assert check["Interval"] == 1_000_000_000 and check["Retries"] == 2
    listed = create(healthcheck={"test": ["CMD", "true"]}).attrs["Config"]["Healthcheck"]
    assert listed["Test"] == ["CMD", "true"]


def test_healthcheck_reports_health(
    client: DockerClient, test_labels: dict[str, str], cleanup: Any
) -> None:
    from conftest import wait_for

    container = cleanup(
        client.containers.run(
            IMAGE, "sleep 300", detach=True, labels=test_labels, network_mode="none",
            healthcheck={"test": "true", "interval": 100_000_000},
        )
    )

    def healthy() -> bool:
        container.reload()
        return container.health == "healthy"

    assert wait_for(healthy, timeout=20)


def test_restart_policy_ulimits_log_config(create: Callable[..., Container]) -> None:
    hc = create(
        restart_policy={"Name": "on-failure", "MaximumRetryCount": 3},
        ulimits=[Ulimit(name="nofile", soft=1024, hard=2048)],
        log_config=LogConfig(type="json-file", config={"max-size": "1m"}),
    ).attrs["HostConfig"]
    assert hc["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert hc["Ulimits"] == [{"Name": "nofile", "Soft": 1024, "Hard": 2048}]
    assert hc["LogConfig"] == {"Type": "json-file", "Config": {"max-size": "1m"}}
    policy = create(restart_policy={"Name": "always"}).attrs["HostConfig"]
    assert policy["RestartPolicy"]["Name"] == "always"
    assert isinstance(RestartPolicy(condition="on-failure"), dict)


def test_ulimit_is_applied(run: Callable[..., Any]) -> None:
    assert run("sh -c 'ulimit -n'", ulimits=[{"name": "nofile", "soft": 512, "hard": 512}]) \
        == b"512\n"


def test_network_modes(run: Callable[..., Any], create: Callable[..., Container]) -> None:
    assert b"lo" in run("ls /sys/class/net", network_mode="none")
    assert create(network_mode="host").attrs["HostConfig"]["NetworkMode"] == "host"


def test_user_workdir_entrypoint(run: Callable[..., Any]) -> None:
    assert run(None, entrypoint=["sh", "-c", "id -u; pwd"], user=4321, working_dir="/tmp") \
        == b"4321\n/tmp\n"
    assert run("-c 'echo via-entrypoint'", entrypoint="sh") == b"via-entrypoint\n"


def test_misc_host_config(create: Callable[..., Container]) -> None:
    container = create(
        cap_add=["NET_ADMIN"],
        cap_drop=["MKNOD"],
        read_only=True,
        privileged=False,
        sysctls={"net.ipv4.ip_forward": 1},
        security_opt=["no-new-privileges"],
        init=True,
        stop_signal="SIGINT",
        stop_timeout=3,
        tty=True,
        stdin_open=True,
        domainname="example.org",
        group_add=[1234],
        dns=["127.0.0.1"],
        dns_search=["example.org"],
        dns_opt=["ndots:1"],
        oom_kill_disable=False,
    )
    hc, cfg = container.attrs["HostConfig"], container.attrs["Config"]
    assert hc["CapAdd"] == ["NET_ADMIN"] and hc["CapDrop"] == ["MKNOD"]
    assert hc["ReadonlyRootfs"] is True and hc["Init"] is True
    assert hc["Sysctls"] == {"net.ipv4.ip_forward": "1"}
    assert hc["SecurityOpt"] == ["no-new-privileges"]
    assert hc["GroupAdd"] == ["1234"] and hc["Dns"] == ["127.0.0.1"]
    assert hc["DnsSearch"] == ["example.org"] and hc["DnsOptions"] == ["ndots:1"]
    assert cfg["StopSignal"] == "SIGINT" and cfg["StopTimeout"] == 3
    assert cfg["Tty"] is True and cfg["OpenStdin"] is True
    assert cfg["Domainname"] == "example.org"


def test_name_and_auto_remove(
    create: Callable[..., Container], client: DockerClient, test_labels: dict[str, str]
) -> None:
    container = create(name="ctrproto-run-named", auto_remove=False)
    assert container.name == "ctrproto-run-named"
    from ctrproto.errors import Conflict

    with pytest.raises(Conflict):
        client.containers.create(IMAGE, "true", name="ctrproto-run-named", labels=test_labels)
