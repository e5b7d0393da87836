"""testcontainers-python on ctrproto: run by tests/test_testcontainers.py in a pytest of its own.

The hook has to run before testcontainers (or anything) imports ``docker``, and it replaces
``docker`` for the whole process - so these checks never share a process with the differential
tests, which need the real docker-py.  Self-contained on purpose (``--confcutdir`` keeps the
suite's conftest out): the outer test hands over the daemon address and the session label.
"""

from __future__ import annotations

import io
import os
import socket
import sys
import tarfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import ctrproto

ctrproto.install_as_docker()

import docker  # noqa: E402
import pytest  # noqa: E402
from testcontainers.core.container import DockerContainer  # noqa: E402
from testcontainers.core.image import DockerImage  # noqa: E402
from testcontainers.core.network import Network  # noqa: E402
from testcontainers.core.wait_strategies import HealthcheckWaitStrategy  # noqa: E402
from testcontainers.core.waiting_utils import wait_for_logs  # noqa: E402

IMAGE = "busybox:latest"
LABELS = {os.environ["CTRPROTO_TC_LABEL"]: os.environ["CTRPROTO_TC_SESSION"]}


def busybox(command: str) -> DockerContainer:
    return DockerContainer(IMAGE, command=["sh", "-c", command], labels=dict(LABELS))


@pytest.fixture
def tmp_dir(tmp_path: Path) -> Path:
    return tmp_path


def test_docker_is_ctrproto() -> None:
    import testcontainers.core.docker_client as tc_client

    assert docker.DockerClient is ctrproto.DockerClient
    assert tc_client.docker is docker
    assert docker.APIClient is ctrproto.APIClient
    assert sys.modules["docker.errors"] is ctrproto.errors
    # Nothing testcontainers imported came from docker-py's own files.
    loaded = {name: m for name, m in sys.modules.items() if name.split(".")[0] == "docker"}
    assert "docker.models.containers" in loaded
    foreign = [n for n, m in loaded.items() if not m.__name__.startswith("ctrproto")]
    assert foreign == []


def test_env_exec_logs_wait_for_logs() -> None:
    container = busybox('echo "FOO=$FOO"; echo ready; exec sleep 300')
    container.with_env("FOO", "bar from env").with_kwargs(network_mode="none")
    with container:
        wait_for_logs(container, "ready", timeout=30)
        stdout, stderr = container.get_logs()
        assert b"FOO=bar from env\n" in stdout
        assert stderr == b""
        code, output = container.exec(["sh", "-c", "echo out; echo err >&2; exit 3"])
        assert code == 3
        assert b"out" in output and b"err" in output
        wrapped = container.get_wrapped_container()
        assert isinstance(wrapped, docker.models.containers.Container)
        container.reload()  # status is cached, as in docker-py
        assert container.status == "running"
        cid = wrapped.id
    client = docker.from_env()
    try:
        with pytest.raises(docker.errors.NotFound):
            client.containers.get(cid)
    finally:
        client.close()


def test_volume_mapping(tmp_dir: Path) -> None:
    (tmp_dir / "in.txt").write_text("from the host\n")
    container = busybox("cat /data/in.txt > /data/out.txt; echo done; exec sleep 300")
    container.with_volume_mapping(str(tmp_dir), "/data", "rw").with_kwargs(network_mode="none")
    with container:
        wait_for_logs(container, "done", timeout=30)
        assert (tmp_dir / "out.txt").read_text() == "from the host\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_network_mode_host(tmp_dir: Path) -> None:
    """A server in the container answers on the host's loopback (the network rule's way)."""
    port = _free_port()
    (tmp_dir / "index.html").write_text("served by busybox httpd\n")
    container = busybox(f"echo up; exec httpd -f -p 127.0.0.1:{port} -h /www")
    container.with_volume_mapping(str(tmp_dir), "/www", "ro").with_kwargs(network_mode="host")
    with container:
        wait_for_logs(container, "up", timeout=30)
        body = b""
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=5) as r:
                    body = r.read()
                break
            except OSError:
                time.sleep(0.1)
        assert body == b"served by busybox httpd\n"


def test_health_check() -> None:
    container = busybox("touch /tmp/healthy; exec sleep 300")
    container.with_kwargs(
        network_mode="none",
        healthcheck={
            "test": ["CMD", "test", "-f", "/tmp/healthy"],
            "interval": 200_000_000,
            "timeout": 1_000_000_000,
            "retries": 3,
        },
    )
    container.waiting_for(HealthcheckWaitStrategy().with_startup_timeout(60))
    with container:
        wrapped = container.get_wrapped_container()
        wrapped.reload()
        assert wrapped.attrs["State"]["Health"]["Status"] == "healthy"


def test_archive_copy(tmp_dir: Path) -> None:
    container = busybox("exec sleep 300").with_kwargs(network_mode="none")
    with container:
        container.copy_into_container(b"copied in\n", "/tmp/copied.txt")
        code, output = container.exec(["cat", "/tmp/copied.txt"])
        assert (code, output) == (0, b"copied in\n")
        target = tmp_dir / "back.txt"
        container.copy_from_container("/tmp/copied.txt", target)
        assert target.read_bytes() == b"copied in\n"
        stream, stat = container.get_wrapped_container().get_archive("/tmp/copied.txt")
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            assert tar.getnames() == ["copied.txt"]
        assert stat["name"] == "copied.txt" and stat["size"] == len(b"copied in\n")


def test_network_aliases_and_exposed_ports() -> None:
    """Ports are only checked through inspect/port(): no traffic to the container's address."""
    with Network() as network:
        container = busybox("exec sleep 300").with_exposed_ports(8080)
        container.with_network(network).with_network_aliases("svc-alias")
        with container:
            port = int(container.get_exposed_port(8080))
            assert 0 < port < 65536
            wrapped = container.get_wrapped_container()
            wrapped.reload()
            networks = wrapped.attrs["NetworkSettings"]["Networks"]
            assert network.name in networks
            assert "svc-alias" in (networks[network.name]["Aliases"] or [])
            bindings = wrapped.attrs["NetworkSettings"]["Ports"]["8080/tcp"]
            assert str(port) in {b["HostPort"] for b in bindings}
            unwrapped = docker.from_env().networks.get(network.id)
            assert [c.id for c in unwrapped.containers] == [wrapped.id]
        network_id = network.id
    client = docker.from_env()
    try:
        with pytest.raises(docker.errors.NotFound):
            client.networks.get(network_id)
    finally:
        client.close()


def test_docker_image_build(tmp_dir: Path) -> None:
    (tmp_dir / "Dockerfile").write_text(
        "FROM busybox:latest\nARG GREETING\nRUN echo \"$GREETING\" > /greeting\n"
    )
    tag = f"ctrproto-tc-{uuid.uuid4().hex[:10]}:latest"
    build_args = {"GREETING": "hi from a build"}
    with DockerImage(path=str(tmp_dir), tag=tag, buildargs=build_args) as image:
        assert str(image) == tag
        assert image.get_wrapped_image().tags == [tag]
        assert any("Step 2/3" in item.get("stream", "") for item in image.get_logs())
        container = DockerContainer(tag, command=["cat", "/greeting"], labels=dict(LABELS))
        container.with_kwargs(network_mode="none")
        with container:
            assert container.wait() == 0
            assert container.get_logs()[0] == b"hi from a build\n"
    client = docker.from_env()
    try:
        with pytest.raises(docker.errors.ImageNotFound):
            client.images.get(tag)
    finally:
        client.close()


@pytest.fixture(autouse=True)
def _no_leftovers() -> Iterator[None]:
    yield
    client = docker.from_env()
    try:
        label = next(iter(LABELS.items()))
        left = client.containers.list(all=True, filters={"label": f"{label[0]}={label[1]}"})
        for c in left:
            c.remove(force=True)
        assert not left, f"left behind: {[c.short_id for c in left]}"
    finally:
        client.close()
