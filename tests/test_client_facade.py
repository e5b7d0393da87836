"""``DockerClient``: construction, from_env, daemon calls, context manager, exports."""

from __future__ import annotations

import pytest

import ctrproto
from ctrproto import APIClient, DockerClient
from ctrproto.errors import DockerConnectionError
from ctrproto.models import ContainerCollection, ImageCollection


@pytest.mark.daemon
def test_ping_version_info(client: DockerClient) -> None:
    assert client.ping() is True
    assert client.version()["ApiVersion"]
    assert "Containers" in client.info()
    assert isinstance(client.api, APIClient)
    assert isinstance(client.containers, ContainerCollection)
    assert isinstance(client.images, ImageCollection)


@pytest.mark.daemon
def test_context_manager_closes(docker_host: str) -> None:
    with DockerClient(base_url=docker_host) as docker:
        assert docker.ping()
        assert docker.api.pool.opened >= 1
    assert docker.api.pool.idle_count == 0


@pytest.mark.daemon
def test_from_env_uses_docker_host(docker_host: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", docker_host)
    monkeypatch.delenv("DOCKER_TLS_VERIFY", raising=False)
    monkeypatch.delenv("DOCKER_CERT_PATH", raising=False)
    with ctrproto.from_env(timeout=30) as docker:
        assert docker.api.daemon_url == docker_host
        assert docker.api.timeout == 30
        assert docker.ping()
    with DockerClient.from_env(environment={"DOCKER_HOST": docker_host}) as docker:
        assert docker.ping()


def test_connection_failure_is_ctrproto_error(tmp_path: object) -> None:
    with DockerClient(base_url=f"unix://{tmp_path}/nothing.sock") as docker, pytest.raises(
        DockerConnectionError
    ):
        docker.ping()


def test_collection_is_not_callable() -> None:
    docker = DockerClient(base_url="unix:///nonexistent.sock")
    with pytest.raises(TypeError, match="client.api.containers"):
        docker.containers()
    docker.close()


def test_exports() -> None:
    assert ctrproto.DockerClient is DockerClient
    assert "DockerClient" in ctrproto.__all__ and "from_env" in ctrproto.__all__
