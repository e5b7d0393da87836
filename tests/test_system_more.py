"""Daemon-wide calls beyond ping/version/info: events, df, port, login and the credentials the
CLI's config.json (and its credential helpers) holds.

Differential: docker-py 7.2 and ctrproto take the same scenario and must see the same thing; the
facade calls run in both worlds.  ``login`` goes to the testbed's real private registry (HTTPS,
htpasswd); credential helpers are a tiny fake ``docker-credential-ctrtest`` on ``PATH``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from conftest import WriteConfig
from test_both_worlds import World
from testbed import Registry

from ctrproto import APIClient, auth
from ctrproto.aio import AsyncAPIClient
from ctrproto.errors import APIError, DockerException

IMAGE = "busybox:latest"
EVENT_LABEL = "ctrproto.test.events"

@pytest.fixture
def reference(docker_host: str) -> Iterator[docker.APIClient]:
    client = docker.APIClient(base_url=docker_host, version="1.41", timeout=60)
    yield client
    client.close()


# ---------------------------------------------------------------------- events


def _lifecycle(reference: docker.APIClient, labels: dict[str, str]) -> None:
    """create, start, die, destroy of one labelled container."""
    cid = reference.create_container(
        IMAGE, "true", labels=labels,
        host_config=reference.create_host_config(network_mode="none"),
    )["Id"]
    try:
        reference.start(cid)
        reference.wait(cid, timeout=60)
    finally:
        reference.remove_container(cid, force=True)


def _actions(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(event["Type"], event["Action"]) for event in events]


@pytest.fixture
def event_labels(test_labels: dict[str, str]) -> dict[str, str]:
    return {**test_labels, EVENT_LABEL: uuid.uuid4().hex}


def _label_filter(labels: dict[str, str]) -> dict[str, Any]:
    return {"label": f"{EVENT_LABEL}={labels[EVENT_LABEL]}"}


@pytest.mark.daemon
def test_bounded_events_equal_docker_pys(
    api: APIClient, reference: docker.APIClient, event_labels: dict[str, str]
) -> None:
    since = int(time.time()) - 1
    _lifecycle(reference, event_labels)
    until = int(time.time()) + 1  # the streams end by themselves once the daemon is there
    filters = _label_filter(event_labels)
    theirs = list(reference.events(since=since, until=until, filters=filters, decode=True))
    ours = list(api.events(since=since, until=until, filters=filters, decode=True))
    assert ours == theirs
    assert _actions(ours) == [
        ("container", "create"), ("container", "start"), ("container", "die"),
        ("container", "destroy"),
    ]
    # Undecoded: the bytes of one event per item, as docker-py hands them out.
    raw = list(api.events(since=since, until=until, filters=filters))
    assert raw == list(reference.events(since=since, until=until, filters=filters))
    assert all(isinstance(item, bytes) and item.endswith(b"\n") for item in raw)
    assert [json.loads(item) for item in raw] == ours
    # datetime bounds mean the same instants (whole seconds, as docker-py sends them).
    start = dt.datetime.fromtimestamp(since, dt.timezone.utc)
    end = dt.datetime.fromtimestamp(until, dt.timezone.utc)
    assert list(api.events(since=start, until=end, filters=filters, decode=True)) == theirs


@pytest.mark.daemon
def test_live_events_stream_in_both_worlds(
    world: World, docker_host: str, reference: docker.APIClient, event_labels: dict[str, str]
) -> None:
    since = int(time.time()) - 1
    client = world.docker(docker_host)
    filters = _label_filter(event_labels)
    # Bounded far ahead, so that a broken test cannot hang: the daemon ends it by then.
    stream = world(client.events(until=int(time.time()) + 120, filters=filters, decode=True))
    try:
        _lifecycle(reference, event_labels)  # while the stream is open: the events are live
        seen: list[dict[str, Any]] = []
        while not seen or seen[-1]["Action"] != "destroy":
            seen.append(world(stream.__anext__() if world.loop else next(stream)))
    finally:
        world(stream.aclose() if world.loop else stream.close())
        world(client.close())
    until = int(time.time()) + 1
    theirs = list(reference.events(since=since, until=until, filters=filters, decode=True))
    assert _actions(seen) == _actions(theirs)
    assert [event["id"] for event in seen] == [event["id"] for event in theirs]


@pytest.mark.daemon
def test_events_stream_closes_from_another_thread(
    api: APIClient, reference: docker.APIClient, event_labels: dict[str, str]
) -> None:
    # docker-py's CancellableStream contract: close() from elsewhere ends a blocked iteration.
    stream = api.events(filters=_label_filter(event_labels), decode=True)  # no end of its own
    seen: list[str] = []
    destroyed = threading.Event()
    failures: list[BaseException] = []

    def read() -> None:
        try:
            for event in stream:
                seen.append(event["Action"])
                if event["Action"] == "destroy":
                    destroyed.set()  # the next read blocks: nothing more will come
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            failures.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    _lifecycle(reference, event_labels)
    assert destroyed.wait(60), seen
    stream.close()
    reader.join(60)
    assert not reader.is_alive(), "close() did not end the blocked iteration"
    assert not failures
    assert seen == ["create", "start", "die", "destroy"]
    assert list(stream) == []  # closed: nothing more


@pytest.mark.daemon
def test_facade_bounded_events_in_both_worlds(
    world: World, docker_host: str, reference: docker.APIClient, event_labels: dict[str, str]
) -> None:
    since = int(time.time()) - 1
    _lifecycle(reference, event_labels)
    until = int(time.time()) + 1
    filters = _label_filter(event_labels)
    client = world.docker(docker_host)
    try:
        ours = world.items(world(client.events(since, until, filters, True)))
        raw = world.items(world(client.events(since=since, until=until, filters=filters)))
    finally:
        world(client.close())
    theirs = docker.DockerClient(base_url=docker_host, version="1.41").events(
        since=since, until=until, filters=filters, decode=True
    )
    assert ours == list(theirs)
    assert [json.loads(item) for item in raw] == ours


@pytest.mark.daemon
def test_a_refused_events_request_raises(world: World, docker_host: str) -> None:
    # docker-py sends it too, but its stream swallows the refusal and just ends (its APIError
    # is an OSError, which CancellableStream takes for a closed connection): nothing to
    # compare with, so ctrproto's behaviour is pinned on its own.
    reference = docker.APIClient(base_url=docker_host, version="1.99")
    assert list(reference.events(until=1)) == []
    cls = AsyncAPIClient if world.loop else APIClient
    client = cls(base_url=docker_host, version="1.99")
    try:
        with pytest.raises(APIError) as ours:
            world(client.events(until=1))
    finally:
        client.close()
    assert ours.value.status_code == 400
    assert "too new" in ours.value.explanation


# ---------------------------------------------------------------------- df


@pytest.mark.daemon
def test_df_has_docker_pys_keys(
    world: World, docker_host: str, api: APIClient, reference: docker.APIClient
) -> None:
    theirs = reference.df()
    assert set(api.df()) == set(theirs)
    client = world.docker(docker_host)
    try:
        ours = world(client.df())
    finally:
        world(client.close())
    assert set(ours) == set(theirs) >= {"Images", "Containers", "Volumes", "LayersSize"}
    assert {image["Id"] for image in ours["Images"]} == {i["Id"] for i in theirs["Images"]}


# ---------------------------------------------------------------------- port


@pytest.mark.daemon
def test_port_matches_docker_py(
    api: APIClient, reference: docker.APIClient, test_labels: dict[str, str]
) -> None:
    # The default bridge is off (--bridge=none); a network of our own can publish on loopback.
    network = reference.create_network(f"ctrproto-port-{uuid.uuid4().hex[:8]}",
                                       labels=test_labels)["Id"]
    cid = None
    try:
        cid = reference.create_container(
            IMAGE, "sleep 300", labels=test_labels, ports=[80, (53, "udp")],
            host_config=reference.create_host_config(
                network_mode=network, port_bindings={80: ("127.0.0.1", None), "53/udp": None}
            ),
        )["Id"]
        reference.start(cid)
        for private in (80, "80", "80/tcp", 53, "53/udp", "53/tcp", 81, "81/tcp"):
            assert api.port(cid, private) == reference.port(cid, private), private
        bindings = api.port(cid, 80)
        assert bindings is not None and bindings[0]["HostIp"] == "127.0.0.1"
        assert int(bindings[0]["HostPort"]) > 0
        assert api.port(cid, 81) is None
        assert api.port(cid, "53/udp") and api.port(cid, "53/udp") == api.port(cid, 53)
    finally:
        if cid is not None:
            reference.remove_container(cid, force=True)
        reference.remove_network(network)


@pytest.mark.daemon
def test_port_of_an_unnetworked_container_is_none(
    api: APIClient, reference: docker.APIClient, make_container: Callable[..., str]
) -> None:
    cid = make_container("sleep 300", host_config=api.create_host_config(network_mode="none"))
    api.start(cid)
    assert api.port(cid, 80) is None
    assert reference.port(cid, 80) is None


# ---------------------------------------------------------------------- login (real registry)


@pytest.mark.daemon
def test_login_matches_docker_py(
    cli_config: WriteConfig, registry: Registry, docker_host: str
) -> None:
    theirs_client = docker.APIClient(base_url=docker_host, version="1.41")
    theirs = theirs_client.login(registry.user, registry.password, registry=registry.auth_host,
                                 reauth=True)
    with APIClient(base_url=docker_host) as client:
        ours = client.login(registry.user, registry.password, registry=registry.auth_host,
                            reauth=True)
        assert ours == theirs
        assert ours["Status"] == "Login Succeeded"
        # Kept for pull/push, as docker-py keeps its request data.
        kept = client._auth_configs.auths[registry.auth_host]
        assert kept == theirs_client._auth_configs.auths[registry.auth_host]
        assert kept["username"] == registry.user and kept["password"] == registry.password
        found = client._auth_config_for(f"{registry.auth_host}/some/image")
        assert found == kept
        assert auth.resolve_authconfig(client._auth_configs, registry.auth_host) == kept
        # Known credentials for the same user come back without asking the daemon (a wrong
        # password would be refused by the registry otherwise).
        again = client.login(registry.user, "wrong", registry=registry.auth_host)
        assert again == theirs_client.login(registry.user, "wrong", registry=registry.auth_host)
        assert again == kept


@pytest.mark.daemon
def test_login_with_a_wrong_password_raises_as_docker_py(
    cli_config: WriteConfig, registry: Registry, docker_host: str
) -> None:
    wrong = "wrong-" + registry.password
    with pytest.raises(docker.errors.APIError) as theirs:
        docker.APIClient(base_url=docker_host, version="1.41").login(
            registry.user, wrong, registry=registry.auth_host, reauth=True
        )
    with APIClient(base_url=docker_host) as client:
        with pytest.raises(APIError) as ours:
            client.login(registry.user, wrong, registry=registry.auth_host, reauth=True)
        assert registry.auth_host not in client._auth_configs.auths
    assert ours.value.status_code == theirs.value.status_code
    assert type(ours.value).__name__ == type(theirs.value).__name__


@pytest.mark.daemon
def test_facade_login_in_both_worlds(
    world: World, cli_config: WriteConfig, registry: Registry, docker_host: str
) -> None:
    client = world.docker(docker_host)
    try:
        result = world(client.login(username=registry.user, password=registry.password,
                                    registry=registry.auth_host, reauth=True))
        assert result["Status"] == "Login Succeeded"
        assert client.api._auth_configs.auths[registry.auth_host]["username"] == registry.user
    finally:
        world(client.close())


@pytest.mark.daemon
def test_login_answers_from_dockercfg_path(
    cli_config: WriteConfig, registry: Registry, docker_host: str, tmp_path: Path
) -> None:
    encoded = base64.b64encode(f"{registry.user}:not-checked".encode()).decode()
    path = tmp_path / "elsewhere.json"
    path.write_text(json.dumps({"auths": {f"https://{registry.auth_host}/v1/": {
        "auth": encoded, "email": "me@example.com"}}}))
    theirs = docker.APIClient(base_url=docker_host, version="1.41").login(
        registry.user, registry=registry.auth_host, dockercfg_path=str(path)
    )
    with APIClient(base_url=docker_host) as client:
        ours = client.login(registry.user, registry=registry.auth_host, dockercfg_path=str(path))
    assert ours == theirs
    assert ours["password"] == "not-checked"  # the file's entry: the daemon was not asked


# ---------------------------------------------------------------------- credential helpers


@pytest.fixture
def helper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, Any]], Path]:
    """Install ``docker-credential-ctrtest`` on ``PATH``: it answers ``get`` from the given
    server -> (user, secret) table and logs each question; returns the log's path."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "helper.log"
    table = tmp_path / "helper.json"
    script = bindir / "docker-credential-ctrtest"
    script.write_text(f"""#!{sys.executable}
import json, sys
action, server = sys.argv[1], sys.stdin.read()
with open({str(log)!r}, "a") as log:
    log.write(json.dumps([action, server]) + "\\n")
table = json.load(open({str(table)!r}))
if action == "list":
    print(json.dumps({{key: value[0] for key, value in table.items()}}))
elif server in table:
    user, secret = table[server]
    print(json.dumps({{"ServerURL": server, "Username": user, "Secret": secret}}))
else:
    print("credentials not found in native keychain")
    sys.exit(1)
""")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")

    def install(entries: dict[str, Any]) -> Path:
        table.write_text(json.dumps(entries))
        return log

    return install


def _asked(log: Path) -> list[list[str]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines()]


HELPER_CONFIG = {
    "auths": {
        "plain.example:5000": {"auth": base64.b64encode(b"alice:pw").decode()},
        "https://legacy.example/v1/": {"auth": base64.b64encode(b"bob:pw2").decode()},
        "token.example": {"identitytoken": "tok"},
        "helped.example": {},
    },
    "credHelpers": {"helped.example": "ctrtest", "missing.example": "ctrtest"},
}


def test_credential_helper_is_asked_and_its_answer_used(
    helper: Callable[[dict[str, Any]], Path]
) -> None:
    log = helper({"helped.example": ["carol", "s3cret"], "https://index.docker.io/v1/":
                  ["<token>", "hub-token"]})
    registries = [None, "docker.io", "plain.example:5000", "legacy.example", "token.example",
                  "helped.example", "missing.example", "unknown.example"]
    for store in (None, "ctrtest"):
        config = dict(HELPER_CONFIG, credsStore=store) if store else HELPER_CONFIG
        for registry in registries:
            ours = auth.resolve_authconfig(json.loads(json.dumps(config)), registry)
            theirs = docker.auth.resolve_authconfig(json.loads(json.dumps(config)), registry)
            assert ours == theirs, (store, registry)
    ours_config = auth.load_config(config_dict=json.loads(json.dumps(HELPER_CONFIG)))
    assert ours_config.resolve_authconfig("helped.example") == {
        "ServerAddress": "helped.example", "Username": "carol", "Password": "s3cret"}
    assert ["get", "helped.example"] in _asked(log)
    # A helper that has nothing falls back to auths (none here for missing.example).
    assert ours_config.resolve_authconfig("missing.example") is None
    assert ["get", "missing.example"] in _asked(log)
    # Docker Hub through credsStore: asked under the full index URL, a token answer.
    hub = auth.resolve_authconfig({"credsStore": "ctrtest"}, None)
    assert hub == {"ServerAddress": "https://index.docker.io/v1/", "IdentityToken": "hub-token"}


def test_all_credentials_as_a_build_sends_them(
    helper: Callable[[dict[str, Any]], Path]
) -> None:
    helper({"helped.example": ["carol", "s3cret"], "store.example": ["dave", "pw"]})
    config = dict(HELPER_CONFIG, credsStore="ctrtest")
    ours = auth.load_config(config_dict=json.loads(json.dumps(config))).get_all_credentials()
    theirs = docker.auth.load_config(
        config_dict=json.loads(json.dumps(config))
    ).get_all_credentials()
    assert ours == theirs
    assert ours["store.example"]["Username"] == "dave"


def test_client_looks_credentials_up_through_the_helper(
    helper: Callable[[dict[str, Any]], Path], cli_config: WriteConfig, docker_host: str
) -> None:
    log = helper({"helped.example": ["carol", "s3cret"]})
    cli_config(HELPER_CONFIG)
    reference = docker.APIClient(base_url=docker_host, version="1.41")
    expected = docker.auth.get_config_header(reference, "helped.example")
    with APIClient(base_url=docker_host, version="1.41") as client:
        found = client._auth_config_for("helped.example/team/app:1")
        assert found == {"ServerAddress": "helped.example", "Username": "carol",
                         "Password": "s3cret"}
        assert auth.encode_header(found) == expected
        assert auth.get_config_header(client, "helped.example") == expected
        assert client._auth_config_for("busybox") is None  # Hub: nothing configured
    assert _asked(log).count(["get", "helped.example"]) >= 3


def test_a_failing_helper_is_a_docker_exception(
    helper: Callable[[dict[str, Any]], Path], tmp_path: Path
) -> None:
    helper({})
    (tmp_path / "helper.json").write_text("not json")  # the helper now crashes
    config = {"credHelpers": {"broken.example": "ctrtest"}}
    with pytest.raises(docker.errors.DockerException, match="Credentials store error"):
        docker.auth.resolve_authconfig(json.loads(json.dumps(config)), "broken.example")
    with pytest.raises(DockerException, match="Credentials store error"):
        auth.resolve_authconfig(json.loads(json.dumps(config)), "broken.example")


def test_a_missing_helper_warns_and_fails_like_docker_py(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    config = {"credsStore": "ctrtest-not-installed"}
    with pytest.warns(UserWarning, match="not installed"), pytest.raises(
        docker.errors.DockerException, match="not installed"
    ):
        docker.auth.resolve_authconfig(dict(config), "somewhere.example")
    with pytest.warns(UserWarning, match="not installed"), pytest.raises(
        DockerException, match="not installed"
    ):
        auth.resolve_authconfig(dict(config), "somewhere.example")
