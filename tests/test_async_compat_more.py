"""docker-py compatibility in BOTH worlds (issue 11): ``port``, the APIClient attributes code
written for docker-py reads and sets (``timeout``, ``base_url``, ``_version``,
``_general_configs`` / ``_proxy_configs``, ``detachKeys``), login, ``inspect_distribution``,
``search`` and ``images.load`` errors, and detached execs - each test body runs against the sync
and the asyncio client (``world``), next to docker-py 7.2 doing the same.

The fixtures and helpers of the sync-only tests are imported from their modules, not copied.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import docker
import pytest
import requests
from conftest import WriteConfig, wait_for
from test_api_client_compat import (
    CONFIG,
    PROXIES,
    Recorder,
    _docker_py,
    _env,
    _query,
    _silent_server,
    docker_py_base_url,
)
from test_both_worlds import World
from testbed import Registry
from transport_helpers import client_kwargs

from ctrproto import APIClient
from ctrproto.aio import AsyncAPIClient
from ctrproto.errors import APIError, ImageLoadError, NotFound, ReadTimeout

IMAGE = "busybox:latest"


def _api(world: World, **kwargs: Any) -> Any:
    """This world's low-level client."""
    return (AsyncAPIClient if world.loop is not None else APIClient)(**kwargs)


@pytest.fixture
def ours(world: World, docker_host: str) -> Iterator[Any]:
    client = _api(world, base_url=docker_host, timeout=60)
    yield client
    world(client.close())


@pytest.fixture
def theirs(docker_host: str) -> Iterator[docker.APIClient]:
    client = docker.APIClient(base_url=docker_host, version="auto", timeout=60)
    yield client
    client.close()


@pytest.fixture
def rec() -> Iterator[Recorder]:
    server = Recorder()
    yield server
    server.close()


@pytest.fixture
def removed(theirs: docker.APIClient) -> Iterator[list[str]]:
    """Container ids to force-remove at the end of the test."""
    made: list[str] = []
    yield made
    for cid in made:
        with contextlib.suppress(docker.errors.NotFound):
            theirs.remove_container(cid, force=True, v=True)


def _sleeper(
    theirs: docker.APIClient, labels: dict[str, str], removed: list[str], command: str = "sleep 300"
) -> str:
    cid: str = theirs.create_container(
        IMAGE, command, labels=labels,
        host_config=theirs.create_host_config(network_mode="none"),
    )["Id"]
    removed.append(cid)
    theirs.start(cid)
    return cid


# ---------------------------------------------------------------------- 1. port


@pytest.mark.daemon
def test_port_matches_docker_py_in_both_worlds(
    world: World, ours: Any, theirs: docker.APIClient, test_labels: dict[str, str],
    removed: list[str],
) -> None:
    # The default bridge is off (--bridge=none); a network of our own publishes on loopback.
    network = theirs.create_network(f"ctrproto-port-{uuid.uuid4().hex[:8]}",
                                    labels=test_labels)["Id"]
    try:
        cid = theirs.create_container(
            IMAGE, "sleep 300", labels=test_labels, ports=[80, (53, "udp")],
            host_config=theirs.create_host_config(
                network_mode=network, port_bindings={80: ("127.0.0.1", None), "53/udp": None}
            ),
        )["Id"]
        removed.append(cid)
        theirs.start(cid)
        for private in (80, "80", "80/tcp", 53, "53/udp", "53/tcp", 81, "81/tcp"):
            assert world(ours.port(cid, private)) == theirs.port(cid, private), private
        bindings = world(ours.port(cid, 80))
        assert isinstance(bindings, list) and bindings[0]["HostIp"] == "127.0.0.1"
        assert int(bindings[0]["HostPort"]) > 0
        assert world(ours.port(cid, 81)) is None
        assert world(ours.port(cid, "53/udp")) == world(ours.port(cid, 53)) != []
    finally:
        for cid in removed:
            theirs.remove_container(cid, force=True)
        removed.clear()
        theirs.remove_network(network)


# ---------------------------------------------------------------------- 2. attributes


def test_timeout_set_after_creation_takes_effect(world: World) -> None:
    with _silent_server() as url:
        reference = _docker_py(base_url=url, timeout=None)
        reference.timeout = 0.5
        started = time.monotonic()
        with pytest.raises(requests.exceptions.ReadTimeout):
            reference.ping()
        assert time.monotonic() - started < 10
        client = _api(world, base_url=url, version="1.41", timeout=None)
        try:
            client.timeout = 0.5  # made to wait forever
            started = time.monotonic()
            with pytest.raises(ReadTimeout) as info:
                world(client.ping())
            assert time.monotonic() - started < 10
            assert isinstance(info.value, TimeoutError)
            assert client.timeout == 0.5
        finally:
            world(client.close())


@pytest.mark.daemon
def test_wait_and_the_client_timeout_as_docker_py(
    world: World, ours: Any, theirs: docker.APIClient, test_labels: dict[str, str],
    removed: list[str], docker_host: str,
) -> None:
    """docker-py's ``wait`` sends its own ``timeout`` (``None``: no limit), so a short client
    timeout set later does not cut a wait; a short ``timeout=`` is a ReadTimeout."""
    short = docker.APIClient(base_url=docker_host, version="1.41", timeout=60)
    try:
        short.timeout = ours.timeout = 0.5
        for client in ("docker-py", "ctrproto"):
            cid = _sleeper(theirs, test_labels, removed, "sleep 2")
            started = time.monotonic()
            answer = short.wait(cid) if client == "docker-py" else world(ours.wait(cid))
            assert answer["StatusCode"] == 0 and time.monotonic() - started > 1, client
        running = _sleeper(theirs, test_labels, removed)
        # The daemon sends the answer's head at once, so docker-py's timeout strikes while
        # reading the body: requests wraps it in a ConnectionError (not the documented
        # ReadTimeout); ctrproto raises its ReadTimeout, both OSErrors.
        with pytest.raises(requests.exceptions.ConnectionError, match="Read timed out"):
            short.wait(running, timeout=0.5)
    finally:
        short.close()
    ours.timeout = 60
    started = time.monotonic()
    with pytest.raises(ReadTimeout) as info:
        world(ours.wait(running, timeout=0.5))
    assert time.monotonic() - started < 10 and isinstance(info.value, OSError)
    assert world(ours.inspect_container(running))["State"]["Running"]  # the client still works


def test_base_url_per_transport_in_both_worlds(world: World, tb: dict[str, str]) -> None:
    for name in ("unix", "tcp", "tls", "ssh"):
        kwargs = client_kwargs(name, tb)
        client = _api(world, version="1.41", **kwargs)
        try:
            assert client.base_url == docker_py_base_url(name, tb), name
            assert client.daemon_url == kwargs["base_url"], name
        finally:
            world(client.close())
    client = _api(world, version="1.41")
    try:
        assert client.base_url == "http+docker://localhost"
    finally:
        world(client.close())


@pytest.mark.daemon
def test_version_attribute_after_the_first_request(
    world: World, docker_host: str, theirs: docker.APIClient
) -> None:
    client = _api(world, base_url=docker_host)
    try:
        if world.loop is not None:
            assert client._version is None  # a property cannot await: not negotiated yet
        world(client.containers(all=True))
        assert client._version == theirs._version
        assert isinstance(client._version, str)
    finally:
        world(client.close())


def test_assigned_version_is_the_one_requests_use(world: World, rec: Recorder) -> None:
    reference = _docker_py(base_url=rec.url, timeout=10)
    reference._version = "1.40"
    client = _api(world, base_url=rec.url, version="1.41", timeout=10)
    paths = {}
    try:
        client._version = "1.40"
        assert client._version == reference._version == "1.40"
        for name, call in (("docker-py", lambda: reference.inspect_container("c0ffee")),
                           ("ctrproto", lambda: world(client.inspect_container("c0ffee")))):
            rec.requests.clear()
            assert call()["Id"] == "c0ffee"
            paths[name] = urlsplit(rec.find("GET", "/json")[1]).path
    finally:
        world(client.close())
    assert paths["ctrproto"] == paths["docker-py"] == "/v1.40/containers/c0ffee/json"


def test_general_and_proxy_configs_in_both_worlds(
    world: World, cli_config: WriteConfig, docker_host: str
) -> None:
    cli_config(CONFIG)
    reference = _docker_py(base_url=docker_host)
    client = _api(world, base_url=docker_host, version="1.41")
    try:
        assert client._general_configs == reference._general_configs
        assert "auths" not in client._general_configs
        assert client._general_configs["detachKeys"] == "ctrl-x,x"
        assert dict(client._auth_configs) == dict(reference._auth_configs)
        assert dict(client._proxy_configs) == dict(reference._proxy_configs)
        assert client._proxy_configs.http == "http://proxy.invalid:3128"
        assert client._proxy_configs.get_environment() == (
            reference._proxy_configs.get_environment()
        )
    finally:
        world(client.close())


@pytest.mark.daemon
def test_create_container_injects_config_proxies_in_both_worlds(
    world: World, cli_config: WriteConfig, docker_host: str, test_labels: dict[str, str],
    removed: list[str], theirs: docker.APIClient,
) -> None:
    cli_config({"proxies": {"default": PROXIES}})
    reference = _docker_py(base_url=docker_host)  # made after the config was written
    client = _api(world, base_url=docker_host, version="1.41")
    seen = {}
    try:
        for use_proxy in (True, False):
            for name, call in (("docker-py", reference.create_container),
                               ("ctrproto", client.create_container)):
                cid = world(call(
                    IMAGE, "true", environment={"http_proxy": "mine", "A": "1"},
                    labels=test_labels, use_config_proxy=use_proxy,
                    host_config=reference.create_host_config(network_mode="none"),
                ))["Id"]
                removed.append(cid)
                seen[name, use_proxy] = _env(theirs.inspect_container(cid))
    finally:
        world(client.close())
        reference.close()
    assert seen["ctrproto", True] == seen["docker-py", True]
    assert "HTTP_PROXY=http://proxy.invalid:3128" in seen["ctrproto", True]
    assert seen["ctrproto", False] == seen["docker-py", False] == ["http_proxy=mine", "A=1"]


def _sent_detach_keys(world: World, rec: Recorder, api: Any) -> tuple[Any, Any]:
    """What ``exec_create`` and ``attach_socket`` sent as detach keys (either world)."""
    rec.requests.clear()
    with contextlib.suppress(NotFound, docker.errors.NotFound):
        world(api.exec_create("c0ffee", "true"))
    body = json.loads(rec.find("POST", "/exec")[3])
    exec_keys = {k.lower(): v for k, v in body.items()}.get("detachkeys")
    with contextlib.suppress(NotFound, docker.errors.NotFound):
        world(api.attach_socket("c0ffee"))
    return exec_keys, _query(rec.find("POST", "/attach")[1]).get("detachKeys")


@pytest.mark.parametrize("configured", [True, False])
def test_detach_keys_in_both_worlds(
    world: World, cli_config: WriteConfig, rec: Recorder, configured: bool
) -> None:
    if configured:
        cli_config({"detachKeys": "ctrl-x,x"})
    reference = _docker_py(base_url=rec.url, timeout=10)
    client = _api(world, base_url=rec.url, version="1.41", timeout=10)
    try:
        expected = ("ctrl-x,x", ["ctrl-x,x"]) if configured else (None, None)
        assert _sent_detach_keys(world, rec, client) == expected
        assert _sent_detach_keys(world, rec, reference) == expected
        rec.requests.clear()
        with contextlib.suppress(NotFound):
            world(client.exec_create("c0ffee", "true", detach_keys="ctrl-q"))
        assert json.loads(rec.find("POST", "/exec")[3])["DetachKeys"] == "ctrl-q"
    finally:
        world(client.close())


# ---------------------------------------------------------------------- 3. registry, images


@pytest.mark.daemon
def test_login_matches_docker_py_in_both_worlds(
    world: World, cli_config: WriteConfig, registry: Registry, docker_host: str,
    theirs: docker.APIClient,
) -> None:
    reference = theirs
    expected = reference.login(registry.user, registry.password, registry=registry.auth_host,
                               reauth=True)
    client = _api(world, base_url=docker_host)
    try:
        answer = world(client.login(registry.user, registry.password,
                                    registry=registry.auth_host, reauth=True))
        assert answer == expected and answer["Status"] == "Login Succeeded"
        kept = client._auth_configs.auths[registry.auth_host]
        assert kept == reference._auth_configs.auths[registry.auth_host]
        assert kept["password"] == registry.password
        # Known credentials for the same user come back without asking the daemon.
        again = world(client.login(registry.user, "wrong", registry=registry.auth_host))
        assert again == reference.login(registry.user, "wrong", registry=registry.auth_host)
        assert again == kept
    finally:
        world(client.close())


@pytest.mark.daemon
def test_login_with_a_wrong_password_in_both_worlds(
    world: World, cli_config: WriteConfig, registry: Registry, docker_host: str,
    theirs: docker.APIClient,
) -> None:
    wrong = "wrong-" + registry.password
    with pytest.raises(docker.errors.APIError) as expected:
        theirs.login(registry.user, wrong, registry=registry.auth_host, reauth=True)
    client = _api(world, base_url=docker_host)
    try:
        with pytest.raises(APIError) as raised:
            world(client.login(registry.user, wrong, registry=registry.auth_host, reauth=True))
        assert registry.auth_host not in client._auth_configs.auths
    finally:
        world(client.close())
    assert raised.value.status_code == expected.value.status_code
    assert type(raised.value).__name__ == type(expected.value).__name__


@pytest.mark.daemon
def test_inspect_distribution_in_both_worlds(
    world: World, ours: Any, theirs: docker.APIClient, registry: Registry
) -> None:
    image = f"{registry.host}/busybox:latest"
    answer = world(ours.inspect_distribution(image))
    assert answer == theirs.inspect_distribution(image)
    assert answer["Descriptor"]["digest"].startswith("sha256:")
    assert answer["Platforms"]
    missing = f"{registry.host}/ctrproto-h4/none-{uuid.uuid4().hex[:8]}:x"
    with pytest.raises(docker.errors.APIError) as expected:
        theirs.inspect_distribution(missing)
    with pytest.raises(NotFound) as raised:
        world(ours.inspect_distribution(missing))
    assert raised.value.status_code == expected.value.status_code == 404
    assert raised.value.explanation == expected.value.explanation
    # docker-py raises plain NotFound; ctrproto refines "manifest unknown" to its subclass
    # ImageNotFound (deliberately, errors.py), so `except NotFound` code sees the same.
    assert type(expected.value) is docker.errors.NotFound


@pytest.mark.daemon
def test_search_fails_as_docker_py_in_both_worlds(
    world: World, ours: Any, theirs: docker.APIClient
) -> None:
    with pytest.raises(docker.errors.APIError) as expected:
        theirs.search("busybox", limit=1)
    with pytest.raises(APIError) as raised:
        world(ours.search("busybox", limit=1))
    assert raised.value.status_code == expected.value.status_code
    assert type(raised.value).__name__ == type(expected.value).__name__
    assert raised.value.is_server_error() == expected.value.is_server_error()


@pytest.mark.daemon
@pytest.mark.parametrize("data", [b"", b"not a tar archive at all"])
def test_images_load_errors_in_both_worlds(world: World, docker_host: str, data: bytes) -> None:
    reference = docker.DockerClient(base_url=docker_host, version="1.41", timeout=60)
    try:
        with pytest.raises(docker.errors.ImageLoadError) as expected:
            reference.images.load(data)
    finally:
        reference.close()
    client = world.docker(docker_host)
    try:
        with pytest.raises(ImageLoadError) as raised:
            world(client.images.load(data))
    finally:
        world(client.close())
    # The daemon names a fresh temporary directory in the message: compare without it.
    def same(message: object) -> str:
        return re.sub(r"docker-import-\d+", "docker-import-N", str(message))

    assert same(raised.value) == same(expected.value) != ""


# ---------------------------------------------------------------------- 4. detached exec


@pytest.mark.daemon
def test_detached_exec_results_equal_docker_pys(
    world: World, docker_host: str, theirs: docker.APIClient, test_labels: dict[str, str],
    removed: list[str],
) -> None:
    cid = _sleeper(theirs, test_labels, removed)
    reference = docker.DockerClient(base_url=docker_host, version="auto", timeout=60)
    client = world.docker(docker_host)
    try:
        # Low level: exec_start(detach=True) is the answer's (empty) text, a str.
        results = {}
        for name, api in (("docker-py", reference.api), ("ctrproto", client.api)):
            exec_id = world(api.exec_create(cid, ["sh", "-c", "exit 3"]))["Id"]
            started = world(api.exec_start(exec_id, detach=True))
            assert wait_for(lambda i=exec_id: not theirs.exec_inspect(i)["Running"])
            results[name] = (type(started), started, theirs.exec_inspect(exec_id)["ExitCode"])
        assert results["ctrproto"] == results["docker-py"] == (str, "", 3)

        # Facade: exec_run(detach=True) inspects right after the start; a command that is
        # still running has no exit code yet (None) in both.
        theirs_container = reference.containers.get(cid)
        ours_container = world(client.containers.get(cid))
        command = ["sh", "-c", "sleep 3; exit 7"]
        expected = theirs_container.exec_run(command, detach=True)
        result = world(ours_container.exec_run(command, detach=True))
        assert tuple(result) == tuple(expected) == (None, "")
        assert [type(v) for v in result] == [type(v) for v in expected]
        assert (result.exit_code, result.output) == (expected.exit_code, expected.output)

        # Still running, they are the container's ExecIDs (a finished exec leaves that list).
        running = [
            info for info in (theirs.exec_inspect(i)
                              for i in theirs.inspect_container(cid)["ExecIDs"] or [])
            if info["ProcessConfig"]["arguments"] == command[1:]
        ]
        assert len(running) == 2 and all(info["ExitCode"] is None for info in running)
        ids = [info["ID"] for info in running]
        assert wait_for(lambda: not any(theirs.exec_inspect(i)["Running"] for i in ids))
        # Once finished, the ExitCode ctrproto's exec_inspect gives is docker-py's, for both.
        for exec_id in ids:
            code = world(client.api.exec_inspect(exec_id))["ExitCode"]
            assert code == reference.api.exec_inspect(exec_id)["ExitCode"] == 7
    finally:
        world(client.close())
        reference.close()
