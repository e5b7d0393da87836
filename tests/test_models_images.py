"""The minimal images facade: get, list, pull (never a real registry), remove."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from models_helpers import IMAGE, MISSING_IMAGE

from ctrproto import DockerClient
from ctrproto.errors import APIError, ImageNotFound
from ctrproto.models import Container, Image

pytestmark = pytest.mark.daemon


def test_get_image_properties(client: DockerClient) -> None:
    image = client.images.get(IMAGE)
    assert isinstance(image, Image)
    assert image.id.startswith("sha256:") and image.short_id == image.id[:19]
    assert "busybox:latest" in image.tags
    assert isinstance(image.labels, dict)
    assert repr(image) == f"<Image: '{', '.join(image.tags)}'>"
    assert client.images.get(image.id) == image
    with pytest.raises(ImageNotFound):
        client.images.get("ctrproto-test/no-such-image:never")


def test_list_images(client: DockerClient) -> None:
    images = client.images.list()
    assert any("busybox:latest" in image.tags for image in images)
    assert [i.tags for i in client.images.list(name="busybox")] != []


def test_pull_failure_is_reported(client: DockerClient) -> None:
    with pytest.raises(APIError) as info:
        client.images.pull(MISSING_IMAGE)
    assert "127.0.0.1:1" in str(info.value)


def test_remove_committed_image(
    client: DockerClient, background: Callable[..., Container]
) -> None:
    image = background().commit(repository="ctrproto-test/removable", tag="x")
    client.images.remove(image.id, force=True)
    with pytest.raises(ImageNotFound):
        client.images.get(image.id)


def test_container_image_property(client: DockerClient, background: Any) -> None:
    container = background()
    assert container.image == client.images.get(IMAGE)


