"""The APIClient attributes code written for docker-py reads: ``base_url``, ``_version``,
``timeout``, ``_general_configs``, ``_proxy_configs``, ``_auth_configs``, and what the CLI's
config.json changes in requests (proxies in new containers, ``detachKeys``, ``HttpHeaders``).

Differential: each scenario goes through docker-py 7.2 (the reference) and ctrproto, and both must
show the same thing.  Request details the daemon does not reveal (``detachKeys``, headers) are read
off a small loopback recorder standing in for the daemon.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import docker
import pytest
import requests
from conftest import WriteConfig
from test_both_worlds import World
from transport_helpers import client_kwargs

from ctrproto import APIClient, DockerClient
from ctrproto.aio import AsyncAPIClient
from ctrproto.errors import NotFound, ReadTimeout

IMAGE = "busybox:latest"
PROXIES = {"httpProxy": "http://proxy.invalid:3128", "noProxy": "localhost,127.0.0.1"}

def _docker_py(**kwargs: Any) -> docker.APIClient:
    kwargs.setdefault("version", "1.41")
    return docker.APIClient(**kwargs)


# ---------------------------------------------------------------------- base_url


def docker_py_base_url(name: str, tb: dict[str, str]) -> str:
    """docker-py's ``base_url`` for the testbed's transport ``name`` (no connection made)."""
    reference: dict[str, Any] = {"base_url": client_kwargs(name, tb)["base_url"]}
    if name == "tls":
        d = tb["CTRPROTO_TESTBED_TLS_DIR"]
        reference["tls"] = docker.tls.TLSConfig(
            client_cert=(f"{d}/cert.pem", f"{d}/key.pem"), ca_cert=f"{d}/ca.pem"
        )
    if name == "ssh":
        # docker-py takes no socket path in an ssh:// URL.
        reference = {"base_url": tb["CTRPROTO_TESTBED_SSH_HOST"], "use_ssh_client": True}
    return str(_docker_py(**reference).base_url)


def test_base_url_is_docker_pys_for_every_transport(tb: dict[str, str]) -> None:
    for name in ("unix", "tcp", "tls", "ssh"):
        ours = client_kwargs(name, tb)
        with APIClient(version="1.41", **ours) as client:
            assert client.base_url == docker_py_base_url(name, tb), name
            assert client.daemon_url == ours["base_url"], name
    assert APIClient(version="1.41").base_url == "http+docker://localhost"


def test_daemon_url_shows_in_the_facades_repr(docker_host: str) -> None:
    with DockerClient(base_url=docker_host) as client:
        assert client.api.base_url == "http+docker://localhost"
        assert docker_host in repr(client)


# ---------------------------------------------------------------------- _version


@pytest.mark.daemon
def test_version_attribute_negotiates_like_docker_py(docker_host: str, tb: dict[str, str]) -> None:
    reference = docker.APIClient(base_url=docker_host, version="auto")
    with APIClient(base_url=docker_host) as client:
        assert client._version == reference._version == tb["CTRPROTO_TESTBED_API_VERSION"]
        assert isinstance(client._version, str)
    with APIClient(base_url=docker_host, version="1.40") as client:
        assert client._version == _docker_py(base_url=docker_host, version="1.40")._version
        assert client.version()["ApiVersion"]  # requests go out as /v1.40/...


@pytest.mark.daemon
def test_async_version_attribute_after_negotiation(docker_host: str, world: World) -> None:
    client = AsyncAPIClient(base_url=docker_host) if world.loop else APIClient(base_url=docker_host)
    try:
        negotiated = world(client.ensure_api_version())
        assert client._version == negotiated == docker.APIClient(base_url=docker_host)._version
    finally:
        client.close()


# ---------------------------------------------------------------------- timeout


@contextlib.contextmanager
def _silent_server() -> Iterator[str]:
    """A loopback 'daemon' that accepts and reads but never answers; it hangs up after a
    while, so a client that ignored a short timeout sees the connection close instead."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        conns: list[socket.socket] = []
        try:
            for _ in range(300):  # ~60 s at most
                if stop.is_set():
                    break
                with contextlib.suppress(TimeoutError):
                    conn, _ = listener.accept()
                    conns.append(conn)
        finally:
            for conn in conns:
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(10)
        listener.close()


def test_setting_timeout_changes_later_requests() -> None:
    with _silent_server() as url:
        reference = _docker_py(base_url=url, timeout=None)
        reference.timeout = 0.5
        with pytest.raises(requests.exceptions.ReadTimeout):
            reference.ping()
        with APIClient(base_url=url, version="1.41", timeout=None) as client:
            client.timeout = 0.5  # the client was made to wait forever
            with pytest.raises(ReadTimeout):
                client.ping()
            assert client.timeout == 0.5


# ---------------------------------------------------------------------- config.json


CONFIG = {
    "auths": {"registry.example:5000": {"auth": "dXNlcjpzZWNyZXQ=", "email": "u@example.com"}},
    "credHelpers": {"helper.example": "ctrtest-absent"},
    "detachKeys": "ctrl-x,x",
    "HttpHeaders": {"X-Ctrproto-Meta": "from-config"},
    "proxies": {"default": PROXIES, "tcp://elsewhere:2375": {"httpProxy": "http://other"}},
    "psFormat": "table {{.ID}}",
}


def test_general_configs_match_docker_py(cli_config: WriteConfig, docker_host: str) -> None:
    cli_config(CONFIG)
    reference = _docker_py(base_url=docker_host)
    with APIClient(base_url=docker_host, version="1.41") as client:
        # As docker-py: the credential sections have moved into _auth_configs.
        assert client._general_configs == reference._general_configs
        assert "auths" not in client._general_configs
        assert client._general_configs["detachKeys"] == "ctrl-x,x"
        assert dict(client._auth_configs) == dict(reference._auth_configs)
        assert client._auth_configs.auths["registry.example:5000"]["username"] == "user"
        assert dict(client._proxy_configs) == dict(reference._proxy_configs)
        assert client._proxy_configs.http == "http://proxy.invalid:3128"
        assert str(client._proxy_configs) == str(reference._proxy_configs)
        assert client._proxy_configs.get_environment() == (
            reference._proxy_configs.get_environment()
        )


def test_proxies_entry_is_chosen_by_the_address_as_given(cli_config: WriteConfig) -> None:
    cli_config(CONFIG)
    for url in ("tcp://elsewhere:2375", "tcp://127.0.0.1:9"):
        with APIClient(base_url=url, version="1.41") as client:
            assert dict(client._proxy_configs) == dict(_docker_py(base_url=url)._proxy_configs)
    with APIClient(base_url="tcp://elsewhere:2375", version="1.41") as client:
        assert client._proxy_configs.http == "http://other"


def test_no_config_file_means_empty_configs(cli_config: WriteConfig, docker_host: str) -> None:
    reference = _docker_py(base_url=docker_host)
    with APIClient(base_url=docker_host, version="1.41") as client:
        assert client._general_configs == reference._general_configs == {}
        assert dict(client._auth_configs) == dict(reference._auth_configs) == {"auths": {}}
        assert dict(client._proxy_configs) == dict(reference._proxy_configs)
        assert not client._proxy_configs.get_environment()


# ---------------------------------------------------------------------- proxies in containers


def _env(inspected: dict[str, Any]) -> list[str]:
    return [e for e in inspected["Config"]["Env"] if not e.startswith("PATH=")]


@pytest.mark.daemon
def test_create_container_injects_config_proxies(
    cli_config: WriteConfig, docker_host: str, test_labels: dict[str, str]
) -> None:
    cli_config({"proxies": {"default": PROXIES}})
    reference = _docker_py(base_url=docker_host)
    made: list[str] = []
    try:
        with APIClient(base_url=docker_host, version="1.41") as client:
            seen = {}
            for name, api in (("docker-py", reference), ("ctrproto", client)):
                for use_proxy in (True, False):
                    cid = api.create_container(
                        IMAGE, "true", environment={"http_proxy": "mine", "A": "1"},
                        labels=test_labels, use_config_proxy=use_proxy,
                        host_config=api.create_host_config(network_mode="none"),
                    )["Id"]
                    made.append(cid)
                    seen[name, use_proxy] = _env(client.inspect_container(cid))
        assert seen["ctrproto", True] == seen["docker-py", True]
        assert seen["ctrproto", False] == seen["docker-py", False] == ["http_proxy=mine", "A=1"]
        assert seen["ctrproto", True] == [
            "http_proxy=http://proxy.invalid:3128",
            "HTTP_PROXY=http://proxy.invalid:3128",
            "no_proxy=localhost,127.0.0.1",
            "NO_PROXY=localhost,127.0.0.1",
            "http_proxy=mine",
            "A=1",
        ]
    finally:
        for cid in made:
            with contextlib.suppress(docker.errors.NotFound):
                reference.remove_container(cid, force=True)


@pytest.mark.daemon
def test_facade_create_injects_config_proxies(
    cli_config: WriteConfig, docker_host: str, test_labels: dict[str, str], world: World
) -> None:
    cli_config({"proxies": {docker_host: PROXIES}})
    reference = docker.DockerClient(base_url=docker_host, version="1.41")
    ours = world.docker(docker_host)
    made: list[str] = []
    try:
        theirs = reference.containers.create(IMAGE, "true", labels=test_labels,
                                             network_mode="none")
        made.append(theirs.id)
        mine = world(ours.containers.create(IMAGE, "true", labels=test_labels,
                                            network_mode="none"))
        made.append(mine.id)
        expected = _env(reference.api.inspect_container(theirs.id))
        assert "HTTP_PROXY=http://proxy.invalid:3128" in expected
        assert _env(reference.api.inspect_container(mine.id)) == expected
    finally:
        for cid in made:
            with contextlib.suppress(docker.errors.NotFound):
                reference.api.remove_container(cid, force=True)
        world(ours.close())
        reference.close()


# ---------------------------------------------------------------------- a request recorder


class Recorder:
    """A loopback HTTP 'daemon' that keeps every request (head and body) and answers an
    inspect with a non-TTY container and anything else with 404."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        self.url = f"tcp://127.0.0.1:{self._listener.getsockname()[1]}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        buffer = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buffer:
                    try:
                        data = conn.recv(65536)
                    except OSError:
                        return
                    if not data:
                        return
                    buffer += data
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                line, *fields = head.decode("latin-1").split("\r\n")
                method, target, _ = line.split(" ")
                headers = {}
                for field in fields:
                    name, _, value = field.partition(":")
                    headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                while len(buffer) < length:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                body, buffer = buffer[:length], buffer[length:]
                self.requests.append((method, target, headers, body))
                if method == "GET" and urlsplit(target).path.endswith("/json"):
                    payload, status = b'{"Id": "c0ffee", "Config": {"Tty": false}}', "200 OK"
                else:
                    payload, status = b'{"message": "recorded"}', "404 Not Found"
                conn.sendall(
                    f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(payload)}\r\n\r\n".encode() + payload
                )

    def find(self, method: str, path_end: str) -> tuple[str, str, dict[str, str], bytes]:
        for request in self.requests:
            if request[0] == method and urlsplit(request[1]).path.endswith(path_end):
                return request
        raise AssertionError(f"no {method} ...{path_end} among {[r[:2] for r in self.requests]}")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._listener.close()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    yield server
    server.close()


def _query(target: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(target).query)


def _sent_detach_keys(recorder: Recorder, api: Any) -> tuple[Any, Any]:
    """What ``exec_create`` and ``attach_socket`` sent as detach keys."""
    recorder.requests.clear()
    with contextlib.suppress(NotFound, docker.errors.NotFound):
        api.exec_create("c0ffee", "true")
    exec_body = json.loads(recorder.find("POST", "/exec")[3])
    exec_keys = {k.lower(): v for k, v in exec_body.items()}.get("detachkeys")
    with contextlib.suppress(NotFound, docker.errors.NotFound):
        api.attach_socket("c0ffee")
    attach_query = _query(recorder.find("POST", "/attach")[1])
    return exec_keys, attach_query.get("detachKeys")


def test_detach_keys_come_from_config(cli_config: WriteConfig, recorder: Recorder) -> None:
    cli_config({"detachKeys": "ctrl-x,x"})
    reference = _docker_py(base_url=recorder.url, timeout=10)
    with APIClient(base_url=recorder.url, version="1.41", timeout=10) as client:
        ours = _sent_detach_keys(recorder, client)
    assert ours == _sent_detach_keys(recorder, reference) == ("ctrl-x,x", ["ctrl-x,x"])
    # An explicit value wins over the config's.
    recorder.requests.clear()
    with APIClient(base_url=recorder.url, version="1.41", timeout=10) as client, \
            contextlib.suppress(NotFound):
        client.exec_create("c0ffee", "true", detach_keys="ctrl-q")
    assert json.loads(recorder.find("POST", "/exec")[3])["DetachKeys"] == "ctrl-q"


def test_no_detach_keys_without_config(cli_config: WriteConfig, recorder: Recorder) -> None:
    reference = _docker_py(base_url=recorder.url, timeout=10)
    with APIClient(base_url=recorder.url, version="1.41", timeout=10) as client:
        ours = _sent_detach_keys(recorder, client)
    assert ours == _sent_detach_keys(recorder, reference) == (None, None)


def test_config_http_headers_and_user_agent_reach_every_request(
    cli_config: WriteConfig, recorder: Recorder
) -> None:
    cli_config({"HttpHeaders": {"X-Ctrproto-Meta": "from-config"}})
    session = uuid.uuid4().hex
    seen = {}
    reference = _docker_py(base_url=recorder.url, timeout=10)
    with APIClient(base_url=recorder.url, version="1.41", timeout=10) as client:
        for name, api in (("docker-py", reference), ("ctrproto", client)):
            api.headers["User-Agent"] = f"agent-{name}"
            api.headers["X-Session"] = session
            recorder.requests.clear()
            with contextlib.suppress(NotFound, docker.errors.NotFound):
                api.ping()
            with contextlib.suppress(NotFound, docker.errors.NotFound):
                api.containers(all=True)
            seen[name] = [
                (h.get("x-ctrproto-meta"), h.get("x-session"), h.get("user-agent"))
                for _, _, h, _ in recorder.requests
            ]
    assert seen["ctrproto"] == [("from-config", session, "agent-ctrproto")] * 2
    assert seen["docker-py"] == [("from-config", session, "agent-docker-py")] * 2


def test_an_assigned_proxy_config_is_what_create_injects(
    cli_config: WriteConfig, recorder: Recorder
) -> None:
    from docker.utils.proxy import ProxyConfig as ReferenceProxyConfig

    from ctrproto.utils.proxy import ProxyConfig

    settings = {"httpsProxy": "http://assigned.invalid:8080", "ftpProxy": "ftp://f.invalid"}
    bodies = {}
    reference = _docker_py(base_url=recorder.url, timeout=10)
    reference._proxy_configs = ReferenceProxyConfig.from_dict(settings)
    with APIClient(base_url=recorder.url, version="1.41", timeout=10) as client:
        assert not client._proxy_configs.get_environment()  # no config.json
        client._proxy_configs = ProxyConfig.from_dict(settings)
        for name, api in (("docker-py", reference), ("ctrproto", client)):
            recorder.requests.clear()
            with contextlib.suppress(NotFound, docker.errors.NotFound):
                api.create_container(IMAGE, "true", environment=["A=1"])
            bodies[name] = json.loads(recorder.find("POST", "/containers/create")[3])
    assert bodies["ctrproto"]["Env"] == bodies["docker-py"]["Env"] == [
        "https_proxy=http://assigned.invalid:8080",
        "HTTPS_PROXY=http://assigned.invalid:8080",
        "ftp_proxy=ftp://f.invalid",
        "FTP_PROXY=ftp://f.invalid",
        "A=1",
    ]
