"""The testbed's private registries do what the registry-bound client tests rely on.

``scripts/testbed up`` starts a plain-HTTP registry holding ``busybox:latest`` and an HTTPS one
with htpasswd auth, both on loopback.  These tests prove, through docker-py (the reference), that
the testbed daemon pulls from the first and logs in to the second, so a failing ctrproto
registry test points at ctrproto rather than at the testbed.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import ssl
from collections.abc import Iterator
from pathlib import Path

import docker
import docker.errors
import pytest
from testbed import Registry


def _get(
    hostport: str, path: str, ca: Path | None = None, auth: tuple[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    host, port = hostport.rsplit(":", 1)
    conn: http.client.HTTPConnection
    if ca is None:
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
    else:
        ctx = ssl.create_default_context(cafile=str(ca))
        conn = http.client.HTTPSConnection(host, int(port), timeout=10, context=ctx)
    headers = {}
    if auth is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(auth).encode()).decode()
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        # Header names folded to lower case: HTTP's are case-insensitive.
        head = {k.lower(): v for k, v in response.getheaders()}
        return response.status, head, response.read()
    finally:
        conn.close()


@pytest.fixture
def docker_py(docker_host: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[
    docker.APIClient
]:
    """docker-py's low-level client on the testbed daemon, blind to root's ~/.docker."""
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    client = docker.APIClient(base_url=docker_host, timeout=120)
    try:
        yield client
    finally:
        client.close()


def test_registries_listen_on_loopback(registry: Registry) -> None:
    assert registry.host.startswith("127.0.0.1:")
    assert registry.auth_host.startswith("127.0.0.1:")
    assert registry.host != registry.auth_host
    assert registry.ca.is_file()


def test_plain_registry_answers_v2_without_auth(registry: Registry) -> None:
    status, headers, _ = _get(registry.host, "/v2/")
    assert status == 200
    assert headers.get("docker-distribution-api-version") == "registry/2.0"


def test_auth_registry_wants_basic_auth_over_tls(registry: Registry) -> None:
    status, headers, _ = _get(registry.auth_host, "/v2/", ca=registry.ca)
    assert status == 401
    assert headers.get("www-authenticate", "").startswith("Basic ")
    status, _, _ = _get(
        registry.auth_host, "/v2/", ca=registry.ca, auth=(registry.user, registry.password)
    )
    assert status == 200
    wrong = (registry.user, "wrong" + registry.password)
    status, _, _ = _get(registry.auth_host, "/v2/", ca=registry.ca, auth=wrong)
    assert status == 401


def test_auth_registry_certificate_is_from_the_testbed_ca(registry: Registry) -> None:
    # Without the CA the handshake must fail: the certificate is not a public one.
    host, port = registry.auth_host.rsplit(":", 1)
    conn = http.client.HTTPSConnection(
        host, int(port), timeout=10, context=ssl.create_default_context()
    )
    with pytest.raises(ssl.SSLCertVerificationError):
        conn.request("GET", "/v2/")
    conn.close()


def test_catalog_lists_busybox(registry: Registry) -> None:
    status, _, body = _get(registry.host, "/v2/_catalog")
    assert status == 200
    assert "busybox" in json.loads(body)["repositories"]
    status, _, body = _get(registry.host, "/v2/busybox/tags/list")
    assert status == 200
    assert "latest" in json.loads(body)["tags"]


def test_docker_py_pulls_busybox_from_plain_registry(
    registry: Registry, docker_py: docker.APIClient
) -> None:
    ref = f"{registry.host}/busybox:latest"
    try:
        docker_py.pull(f"{registry.host}/busybox", tag="latest")
        pulled = docker_py.inspect_image(ref)
        assert ref in pulled["RepoTags"]
        assert any(d.startswith(f"{registry.host}/busybox@sha256:") for d in pulled["RepoDigests"])
        # The registry holds the testbed's own busybox, so the pull only adds names to it.
        assert pulled["Id"] == docker_py.inspect_image("busybox:latest")["Id"]
    finally:
        with contextlib.suppress(docker.errors.NotFound):
            docker_py.remove_image(ref)
    assert ref not in docker_py.inspect_image("busybox:latest")["RepoTags"]


def test_docker_py_pull_of_missing_repository_fails(
    registry: Registry, docker_py: docker.APIClient
) -> None:
    with pytest.raises(docker.errors.APIError):
        docker_py.pull(f"{registry.host}/ctrproto-no-such-repo", tag="latest")


def test_docker_py_login_to_auth_registry(registry: Registry, docker_py: docker.APIClient) -> None:
    result = docker_py.login(
        registry.user, registry.password, registry=registry.auth_host, reauth=True
    )
    assert result["Status"] == "Login Succeeded"


def test_docker_py_login_with_wrong_password_raises(
    registry: Registry, docker_py: docker.APIClient
) -> None:
    with pytest.raises(docker.errors.APIError) as info:
        docker_py.login(
            registry.user, "wrong-" + registry.password, registry=registry.auth_host, reauth=True
        )
    assert "401" in str(info.value) or "unauthorized" in str(info.value).lower()
