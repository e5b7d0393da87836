"""``ctrproto.context``: the docker CLI's context store, read and written as docker-py 7.2 does.

Differential: docker-py's own ``docker.context.ContextAPI`` works on the same temporary
``DOCKER_CONFIG``; a context created by either is read identically by both, errors match for
the same bad input, and the docker CLI (/usr/bin/docker) sees what ctrproto wrote.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ctrproto import errors
from ctrproto.client import from_context
from ctrproto.context import Context, ContextAPI
from ctrproto.tls import TLSConfig

docker_context = pytest.importorskip("docker.context")
import docker  # type: ignore[import-untyped]  # noqa: E402 - the reference, after the skip

CLI = shutil.which("docker") or "/usr/bin/docker"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private ``DOCKER_CONFIG`` (with an empty config.json, which docker-py needs to find
    the store there) and a private HOME, so nothing touches the real ~/.docker."""
    config = tmp_path / "docker-config"
    config.mkdir()
    (config / "config.json").write_text("{}")
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    return config


@pytest.fixture
def pems(tmp_path: Path) -> dict[str, str]:
    """TLS files with the CLI's names (the contents are never parsed by these tests)."""
    directory = tmp_path / "pems"
    directory.mkdir()
    paths = {}
    for name in ("ca", "cert", "key"):
        path = directory / f"{name}.pem"
        path.write_text(f"-----BEGIN {name.upper()}-----\n")
        paths[name] = str(path)
    return paths


def view(ctx: Any) -> dict[str, Any]:
    """What both implementations' ``Context`` objects expose, as plain data."""
    tls = ctx.TLSConfig
    return {
        "Name": ctx.Name,
        "Host": ctx.Host,
        "Orchestrator": ctx.Orchestrator,
        "Metadata": json.loads(json.dumps(ctx.Metadata)),
        "TLS": None if tls is None else (tls.ca_cert, tuple(tls.cert) if tls.cert else None),
        "TLSMaterial": ctx.TLSMaterial,
        "Storage": ctx.Storage,
    }


HOSTS = ["unix:///run/some/docker.sock", "tcp://127.0.0.1:2376", "ssh://me@example.test"]


@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize("skip_tls_verify", [False, True])
def test_created_by_ctrproto_read_by_docker_py(
    store: Path, host: str, skip_tls_verify: bool
) -> None:
    ours = ContextAPI.create_context("mine", host=host, skip_tls_verify=skip_tls_verify)
    theirs = docker_context.ContextAPI.get_context("mine")
    assert view(theirs) == view(ContextAPI.get_context("mine"))
    assert theirs.Host == ours.Host
    assert [c.Name for c in docker_context.ContextAPI.contexts()] == ["default", "mine"]


@pytest.mark.parametrize("host", HOSTS)
def test_created_by_docker_py_read_by_ctrproto(store: Path, host: str) -> None:
    docker_context.ContextAPI.create_context("theirs", host=host)
    assert view(ContextAPI.get_context("theirs")) == view(
        docker_context.ContextAPI.get_context("theirs")
    )
    assert [c.Name for c in ContextAPI.contexts()] == ["default", "theirs"]


def test_tls_material_both_ways(store: Path, pems: dict[str, str]) -> None:
    ours_tls = TLSConfig(client_cert=(pems["cert"], pems["key"]), ca_cert=pems["ca"])
    ContextAPI.create_context("t-ours", host="tcp://127.0.0.1:2376", tls_cfg=ours_tls)
    theirs_tls = docker.tls.TLSConfig(
        client_cert=(pems["cert"], pems["key"]), ca_cert=pems["ca"], verify=True
    )
    docker_context.ContextAPI.create_context(
        "t-theirs", host="tcp://127.0.0.1:2376", tls_cfg=theirs_tls
    )
    for name in ("t-ours", "t-theirs"):
        mine, ref = ContextAPI.get_context(name), docker_context.ContextAPI.get_context(name)
        assert view(mine) == view(ref)
        tls_dir = Path(ref.tls_path) / "docker"
        assert mine.TLSConfig.ca_cert == str(tls_dir / "ca.pem")
        assert mine.TLSConfig.cert == (str(tls_dir / "cert.pem"), str(tls_dir / "key.pem"))
        assert mine.TLSMaterial == {"TLSMaterial": {"docker": ["ca.pem", "cert.pem", "key.pem"]}}
    digest = ContextAPI.get_context("t-ours").tls_path
    assert (Path(digest) / "docker" / "key.pem").stat().st_mode & 0o077 == 0
    assert ContextAPI.inspect_context("t-ours") == docker_context.ContextAPI.inspect_context(
        "t-ours"
    )


def test_current_context_both_ways(store: Path) -> None:
    ContextAPI.create_context("a", host="tcp://127.0.0.1:2375")
    docker_context.ContextAPI.create_context("b", host="tcp://127.0.0.1:2375")
    ContextAPI.set_current_context("b")
    assert docker_context.ContextAPI.get_current_context().Name == "b"
    docker_context.ContextAPI.set_current_context("a")
    assert ContextAPI.get_current_context().Name == "a"
    assert json.loads((store / "config.json").read_text()) == {"currentContext": "a"}
    ContextAPI.remove_context("a")  # the current one: back to default
    assert docker_context.ContextAPI.get_current_context().Name == "default"
    assert docker_context.ContextAPI.get_context("a") is None
    ContextAPI.set_current_context("b")
    ContextAPI.set_current_context("default")
    assert json.loads((store / "config.json").read_text()) == {}


def test_config_json_keys_are_kept(store: Path) -> None:
    (store / "config.json").write_text(json.dumps({"auths": {"r.test": {}}, "x": 1}))
    ContextAPI.create_context("keep", host="tcp://127.0.0.1:2375")
    ContextAPI.set_current_context("keep")
    data = json.loads((store / "config.json").read_text())
    assert data == {"auths": {"r.test": {}}, "x": 1, "currentContext": "keep"}


def test_docker_context_env_names_the_current_context(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the CLI (docker-py honours DOCKER_CONTEXT only in kwargs_from_context)."""
    ContextAPI.create_context("env", host="tcp://127.0.0.1:2375")
    monkeypatch.setenv("DOCKER_CONTEXT", "env")
    assert ContextAPI.get_current_context().Name == "env"
    assert ContextAPI.kwargs_from_context() == docker_context.ContextAPI.kwargs_from_context()
    assert ContextAPI.kwargs_from_context() == {"base_url": "tcp://127.0.0.1:2375"}


def _raised(call: Any) -> str | None:
    try:
        call()
    except Exception as exc:
        return type(exc).__name__
    return None


@pytest.mark.parametrize(
    "action",
    [
        lambda api: api.create_context(""),
        lambda api: api.create_context("default"),
        lambda api: api.create_context("dup", host="tcp://127.0.0.1:2375"),
        lambda api: api.create_context("bad", host="tcp://127.0.0.1"),  # no port
        lambda api: api.create_context("bad", host="ftp://h:1"),
        lambda api: api.remove_context(""),
        lambda api: api.remove_context("default"),
        lambda api: api.remove_context("nope"),
        lambda api: api.inspect_context(""),
        lambda api: api.inspect_context("nope"),
        lambda api: api.set_current_context("nope"),
    ],
)
def test_same_errors_for_the_same_bad_input(store: Path, action: Any) -> None:
    ContextAPI.create_context("dup", host="tcp://127.0.0.1:2375")
    theirs = _raised(lambda: action(docker_context.ContextAPI))
    ours = _raised(lambda: action(ContextAPI))
    assert theirs is not None and ours == theirs
    with pytest.raises(errors.DockerException):
        action(ContextAPI)


def test_get_missing_context_is_none(store: Path) -> None:
    assert ContextAPI.get_context("missing") is None
    assert docker_context.ContextAPI.get_context("missing") is None


def test_corrupted_meta_file_is_a_context_exception(store: Path) -> None:
    ctx = ContextAPI.create_context("broken", host="tcp://127.0.0.1:2375")
    Path(ctx.meta_path, "meta.json").write_text("{not json")
    with pytest.raises(errors.ContextException):
        ContextAPI.contexts()


def test_default_context_matches_docker_py(store: Path) -> None:
    assert view(ContextAPI.DEFAULT_CONTEXT) == view(docker_context.ContextAPI.DEFAULT_CONTEXT)
    assert ContextAPI.inspect_context() == docker_context.ContextAPI.inspect_context()
    assert isinstance(ContextAPI.get_context("default"), Context)


def _cli(store: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "DOCKER_CONTEXT")}
    env["DOCKER_CONFIG"] = str(store)
    proc = subprocess.run(
        [CLI, *args], capture_output=True, text=True, env=env, timeout=60, check=True
    )
    return proc.stdout


@pytest.mark.skipif(not os.path.exists(CLI), reason="no docker CLI")
def test_docker_cli_sees_a_context_ctrproto_created(store: Path, docker_host: str) -> None:
    ContextAPI.create_context("from-ctrproto", host=docker_host, skip_tls_verify=True)
    ContextAPI.set_current_context("from-ctrproto")
    rows = [
        json.loads(line) for line in _cli(store, "context", "ls", "--format", "json").splitlines()
    ]
    row = next(r for r in rows if r["Name"] == "from-ctrproto")
    assert row["DockerEndpoint"] == docker_host and row["Current"] is True
    inspected = json.loads(_cli(store, "context", "inspect", "from-ctrproto"))[0]
    assert inspected["Endpoints"]["docker"]["Host"] == docker_host
    assert inspected["Storage"]["MetadataPath"] == ContextAPI.get_context("from-ctrproto").meta_path
    # and the CLI reaches the daemon through it
    assert _cli(store, "version", "--format", "{{.Server.APIVersion}}").strip()


@pytest.mark.skipif(not os.path.exists(CLI), reason="no docker CLI")
def test_ctrproto_reads_a_context_the_cli_created(store: Path, docker_host: str) -> None:
    _cli(store, "context", "create", "from-cli", "--docker", f"host={docker_host}")
    ctx = ContextAPI.get_context("from-cli")
    assert ctx is not None and ctx.Host == docker_host
    assert view(ctx) == view(docker_context.ContextAPI.get_context("from-cli"))


def test_client_from_current_context_reaches_the_testbed(store: Path, docker_host: str) -> None:
    ContextAPI.create_context("testbed", host=docker_host)
    ContextAPI.set_current_context("testbed")
    client = from_context()
    try:
        assert client.ping() is True
    finally:
        client.close()
    import ctrproto

    client = ctrproto.from_env()  # DOCKER_HOST unset: the current context decides
    try:
        # no daemon at /var/run/docker.sock here: only the context's host answers
        assert client.ping() is True
    finally:
        client.close()


def test_docker_client_from_context_classmethod(store: Path, docker_host: str) -> None:
    """``DockerClient.from_context`` (docker-py 7.2's classmethod) in both worlds; a named
    context wins over the current one, and a missing name raises ContextNotFound."""
    import asyncio

    from ctrproto import DockerClient
    from ctrproto.aio import AsyncDockerClient
    from ctrproto.errors import ContextNotFound

    ContextAPI.create_context("named", host=docker_host)
    ContextAPI.create_context("elsewhere", host="unix:///nonexistent/docker.sock")
    ContextAPI.set_current_context("elsewhere")
    client = DockerClient.from_context("named", timeout=30)
    try:
        assert client.api.daemon_url == docker_host
        assert client.api.timeout == 30
        assert client.ping() is True
    finally:
        client.close()
    assert DockerClient.from_context().api.daemon_url == "unix:///nonexistent/docker.sock"

    async def through_asyncio() -> bool:
        async with AsyncDockerClient.from_context("named") as aclient:
            return await aclient.ping()

    assert asyncio.run(through_asyncio()) is True
    # docker-py falls back to the local default socket for a name it cannot find; a clear
    # error naming the context is what a typo deserves (README, differences).
    with pytest.raises(ContextNotFound, match="no-such-context"):
        DockerClient.from_context("no-such-context")
    theirs = docker.DockerClient.from_context("named")
    try:
        assert theirs.api.base_url == client.api.base_url == "http+docker://localhost"
    finally:
        theirs.close()
