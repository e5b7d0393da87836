"""Image endpoints of the low-level client, against the real daemon (nothing is pulled)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import pytest
from conftest import IMAGE

from ctrproto import APIClient
from ctrproto._sync.stream_shapes import checked_progress as _checked_progress
from ctrproto.engine.endpoints import encode_auth
from ctrproto.engine.pulls import split_repository_tag
from ctrproto.errors import APIError, ImageNotFound, StreamError

MISSING_IMAGE = "127.0.0.1:1/ctrproto-test/missing:never"


@pytest.fixture
def tagged(api: APIClient) -> Iterator[str]:
    """A private tag of busybox, removed after the test."""
    repo = f"ctrproto-test/tagged-{uuid.uuid4().hex[:8]}"
    assert api.tag(IMAGE, repo, "t1") is True
    yield f"{repo}:t1"
    with contextlib.suppress(ImageNotFound):  # the test may have removed it
        api.remove_image(f"{repo}:t1")


@pytest.mark.daemon
def test_inspect_image(api: APIClient) -> None:
    info = api.inspect_image(IMAGE)
    assert info["Id"].startswith("sha256:")
    assert IMAGE in info["RepoTags"]
    assert api.inspect_image(info["Id"])["Id"] == info["Id"]


@pytest.mark.daemon
def test_inspect_missing_image(api: APIClient) -> None:
    with pytest.raises(ImageNotFound) as info:
        api.inspect_image(MISSING_IMAGE)
    assert info.value.status_code == 404
    assert "missing" in (info.value.explanation or "")


@pytest.mark.daemon
def test_images_list_name_quiet_filters(api: APIClient, tagged: str) -> None:
    everything = api.images()
    assert any(IMAGE in (item.get("RepoTags") or []) for item in everything)
    named = api.images(name=tagged)
    assert [item["RepoTags"] for item in named] == [[tagged, IMAGE]] or (
        len(named) == 1 and tagged in named[0]["RepoTags"]
    )
    ids = api.images(name=tagged, quiet=True)
    assert ids == [api.inspect_image(IMAGE)["Id"]]
    assert api.images(filters={"reference": "ctrproto-test/none-such*"}) == []
    assert len(api.images(all=True)) >= len(everything)


@pytest.mark.daemon
def test_tag_and_remove_image(api: APIClient) -> None:
    repo = f"ctrproto-test/removable-{uuid.uuid4().hex[:8]}"
    assert api.tag(IMAGE, repo) is True  # no tag: "latest"
    assert api.inspect_image(f"{repo}:latest")["Id"] == api.inspect_image(IMAGE)["Id"]
    result = api.remove_image(f"{repo}:latest")
    assert {"Untagged": f"{repo}:latest"} in result
    assert api.inspect_image(IMAGE)  # only the tag went
    with pytest.raises(ImageNotFound):
        api.remove_image(f"{repo}:latest")
    with pytest.raises(ImageNotFound):
        api.tag(MISSING_IMAGE, repo)


@pytest.mark.daemon
def test_remove_image_in_use_is_conflict(
    api: APIClient, make_container: object, tagged: str
) -> None:
    make = make_container
    assert callable(make)
    make(["true"], image=tagged)
    repo_id = api.inspect_image(tagged)["Id"]
    with pytest.raises(APIError) as info:
        api.remove_image(repo_id)  # referenced by several tags and a container
    assert info.value.status_code == 409


@pytest.mark.daemon
@pytest.mark.parametrize("stream", [False, True])
def test_pull_failure_is_an_api_error(api: APIClient, stream: bool) -> None:
    with pytest.raises(APIError) as info:
        result = api.pull(MISSING_IMAGE, stream=stream, decode=stream)
        if not isinstance(result, str):
            list(result)
    assert info.value.status_code in (404, 500)
    assert "127.0.0.1:1" in (info.value.explanation or "")
    with pytest.raises(APIError):
        api.pull("127.0.0.1:1/ctrproto-test/missing", tag="never", all_tags=False)


def test_in_band_pull_errors_raise() -> None:
    pieces = [
        b'{"status":"Pulling"}\n{"status":"Wait',
        b'ing"}\n',
        b'{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}\n',
    ]
    seen: list[bytes] = []
    with pytest.raises(StreamError, match="manifest unknown"):
        for piece in _checked_progress(iter(pieces)):
            seen.append(piece)
    assert seen == pieces[:2]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("busybox", ("busybox", None)),
        ("busybox:1.36", ("busybox", "1.36")),
        ("127.0.0.1:1/ctrproto-test/missing:never", ("127.0.0.1:1/ctrproto-test/missing", "never")),
        ("localhost:5000/a/b", ("localhost:5000/a/b", None)),
        ("a/b@sha256:abc", ("a/b", "sha256:abc")),
        ("busybox:1", ("busybox", "1")),
        ("host:5000/repo", ("host:5000/repo", None)),
        # The two copies this replaced split here differently (first vs last "@").
        ("a@b@sha256:abc", ("a@b", "sha256:abc")),
    ],
)
def test_split_repository_tag(name: str, expected: tuple[str, str | None]) -> None:
    assert split_repository_tag(name) == expected


REFERENCES = [
    "busybox", "busybox:1.36", "host:5000/a/b", "host:5000/a/b:tag", "a/b@sha256:abc",
    "a@b@sha256:abc", "host:5000/a@sha256:abc", "a:b:c", "a/b:c/d", ":tag", "@", "a:", "",
]


@pytest.mark.parametrize("name", REFERENCES)
def test_split_repository_tag_matches_docker_py(name: str) -> None:
    """The one split ctrproto uses (the sync and async clients, pull and run) is docker-py's."""
    docker_utils = pytest.importorskip("docker.utils")
    assert split_repository_tag(name) == docker_utils.parse_repository_tag(name)


def test_encode_auth_is_urlsafe_json() -> None:
    import base64
    import json

    encoded = encode_auth({"username": "u", "password": "p?>"})
    assert json.loads(base64.urlsafe_b64decode(encoded)) == {"username": "u", "password": "p?>"}
