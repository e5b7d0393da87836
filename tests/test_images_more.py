"""The rest of the images API against the testbed daemon, next to docker-py 7.2 doing the same.

Builds use ``FROM busybox:latest`` only (nothing is pulled from outside); registry-bound calls
use the testbed's private registry on loopback.  Every image and tag a test makes is removed at
the end, whatever happened.
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import io
import json
import re
import tarfile
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from test_both_worlds import World
from testbed import Registry

from ctrproto import APIClient, DockerClient
from ctrproto.errors import (
    APIError,
    BuildError,
    DockerException,
    ImageLoadError,
    ImageNotFound,
    InvalidArgument,
    NotFound,
    StreamError,
)

pytestmark = pytest.mark.daemon

FROM = "FROM busybox:latest\n"


def _name() -> str:
    return f"ctrproto-h4-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def dpy(docker_host: str) -> Iterator[docker.DockerClient]:
    client = docker.DockerClient(base_url=docker_host, timeout=60)
    yield client
    client.close()


@pytest.fixture
def world_docker(world: World, docker_host: str) -> Iterator[Any]:
    client = world.docker(docker_host)
    yield client
    world(client.close())


def _context(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _run(client: DockerClient, image: str, command: list[str], labels: dict[str, str]) -> str:
    out = client.containers.run(
        image, command, remove=True, network_mode="none", labels=labels
    )
    assert isinstance(out, bytes)
    return out.decode()


# ---------------------------------------------------------------------- build


IGNORED_CONTEXT = {
    "Dockerfile": FROM + "COPY . /ctx/\n",
    ".dockerignore": "*.log\n!keep.log\nsecrets\n**/*.tmp\ndocs/**\n!docs/README\n",
    "app.txt": "app\n",
    "drop.log": "no\n",
    "keep.log": "yes\n",
    "secrets/key": "no\n",
    "src/deep/x.tmp": "no\n",
    "src/deep/y.txt": "yes\n",
    "docs/guide.html": "no\n",
    "docs/README": "yes\n",
}
KEPT = {
    "/ctx/.dockerignore",
    "/ctx/Dockerfile",
    "/ctx/app.txt",
    "/ctx/keep.log",
    "/ctx/src/deep/y.txt",
    "/ctx/docs/README",
}


def _files_in(client: DockerClient, image: str, labels: dict[str, str]) -> set[str]:
    return set(_run(client, image, ["find", "/ctx", "-type", "f"], labels).split())


def test_build_from_directory_honours_dockerignore(
    world: World,
    world_docker: Any,
    client: DockerClient,
    dpy: docker.DockerClient,
    made: Callable[[str], str],
    tmp_path: Path,
    test_labels: dict[str, str],
) -> None:
    root = _context(tmp_path / "ctx", IGNORED_CONTEXT)
    tag = made(_name() + ":ours")
    image, logs = world(world_docker.images.build(path=str(root), tag=tag, rm=True))
    assert isinstance(image, world.image_class)
    assert tag in image.tags
    log = world.items(logs)
    assert any("Successfully built" in item.get("stream", "") for item in log)
    theirs = made(_name() + ":docker-py")
    dpy.images.build(path=str(root), tag=theirs, rm=True)
    assert _files_in(client, tag, test_labels) == KEPT
    assert _files_in(client, theirs, test_labels) == KEPT


def test_build_from_fileobj_with_buildargs_and_labels(
    world: World,
    world_docker: Any,
    client: DockerClient,
    made: Callable[[str], str],
    test_labels: dict[str, str],
) -> None:
    dockerfile = FROM + 'ARG GREETING=unset\nRUN echo "$GREETING" > /greeting\n'
    tag = made(_name())
    image, _ = world(
        world_docker.images.build(
            fileobj=io.BytesIO(dockerfile.encode()),
            tag=tag,
            rm=True,
            buildargs={"GREETING": "hello-h4"},
            labels={"ctrproto.h4": "built"},
        )
    )
    assert image.labels["ctrproto.h4"] == "built"
    assert _run(client, tag, ["cat", "/greeting"], test_labels) == "hello-h4\n"


def test_build_other_dockerfile_inside_and_outside_the_context(
    api: APIClient,
    client: DockerClient,
    made: Callable[[str], str],
    tmp_path: Path,
    test_labels: dict[str, str],
) -> None:
    root = _context(
        tmp_path / "ctx",
        {"Dockerfile": FROM + "RUN exit 9\n", "Other.df": FROM + "COPY f /f\n", "f": "inside\n"},
    )
    inside = made(_name())
    items = list(api.build(path=str(root), dockerfile="Other.df", tag=inside, rm=True, decode=True))
    assert not any("error" in item for item in items)
    assert _run(client, inside, ["cat", "/f"], test_labels) == "inside\n"
    outside_file = tmp_path / "elsewhere.df"
    outside_file.write_text(FROM + "COPY f /g\n")
    outside = made(_name())
    items = list(
        api.build(path=str(root), dockerfile=str(outside_file), tag=outside, rm=True, decode=True)
    )
    assert not any("error" in item for item in items), items
    assert _run(client, outside, ["cat", "/g"], test_labels) == "inside\n"


def test_build_target_stage(
    world: World,
    world_docker: Any,
    made: Callable[[str], str],
) -> None:
    dockerfile = (
        "FROM busybox:latest AS first\nLABEL stage=first\n"
        "FROM busybox:latest AS second\nLABEL stage=second\n"
    )
    tag = made(_name())
    image, _ = world(
        world_docker.images.build(
            fileobj=io.BytesIO(dockerfile.encode()), tag=tag, target="first", rm=True
        )
    )
    assert image.labels["stage"] == "first"


def _running_in(items: list[dict[str, Any]]) -> list[str]:
    found = []
    for item in items:
        match = re.search(r"Running in ([0-9a-f]+)", item.get("stream", ""))
        if match:
            found.append(match.group(1))
    return found


def _built_ids(items: list[dict[str, Any]], made: Callable[[str], str]) -> None:
    for item in items:
        if "aux" in item:
            made(item["aux"]["ID"])


def test_build_nocache_and_rm(api: APIClient, made: Callable[[str], str]) -> None:
    dockerfile = (FROM + f"RUN echo {uuid.uuid4().hex} > /stamp\n").encode()
    tag = made(_name())
    first = list(api.build(fileobj=io.BytesIO(dockerfile), tag=tag, rm=True, decode=True))
    _built_ids(first, made)
    assert not any("Using cache" in item.get("stream", "") for item in first)
    assert any("Removing intermediate container" in item.get("stream", "") for item in first)
    cached = list(api.build(fileobj=io.BytesIO(dockerfile), tag=tag, rm=True, decode=True))
    assert any("Using cache" in item.get("stream", "") for item in cached)
    kept = list(
        api.build(fileobj=io.BytesIO(dockerfile), tag=tag, nocache=True, rm=False, decode=True)
    )
    _built_ids(kept, made)
    leftovers = _running_in(kept)
    try:
        assert not any("Using cache" in item.get("stream", "") for item in kept)
        assert not any("Removing intermediate" in item.get("stream", "") for item in kept)
        assert leftovers
        for cid in leftovers:
            assert api.inspect_container(cid)["State"]["Status"] == "exited"
    finally:
        for cid in leftovers:
            with contextlib.suppress(NotFound):
                api.remove_container(cid, force=True)


def test_build_stream_is_raw_bytes_or_dicts_as_docker_py(
    api: APIClient, dpy: docker.DockerClient, made: Callable[[str], str]
) -> None:
    dockerfile = (FROM + "LABEL x=1\n").encode()
    tag = made(_name())
    list(api.build(fileobj=io.BytesIO(dockerfile), tag=tag, rm=True))  # now both hit the cache
    raw = api.build(fileobj=io.BytesIO(dockerfile), tag=tag, rm=True)
    pieces = list(raw)
    assert pieces and all(isinstance(piece, bytes) for piece in pieces)
    ours = [json.loads(line) for line in b"".join(pieces).splitlines() if line.strip()]
    theirs = list(dpy.api.build(fileobj=io.BytesIO(dockerfile), tag=tag, rm=True, decode=True))
    assert [sorted(item) for item in ours] == [sorted(item) for item in theirs]
    decoded = list(api.build(fileobj=io.BytesIO(dockerfile), tag=tag, rm=True, decode=True))
    assert decoded == ours


def test_build_gzip_and_custom_context(
    api: APIClient, client: DockerClient, made: Callable[[str], str], tmp_path: Path,
    test_labels: dict[str, str],
) -> None:
    root = _context(tmp_path / "ctx", {"Dockerfile": FROM + "COPY f /f\n", "f": "gz\n"})
    tag = made(_name())
    items = list(api.build(path=str(root), tag=tag, gzip=True, rm=True, decode=True))
    assert not any("error" in item for item in items)
    assert _run(client, tag, ["cat", "/f"], test_labels) == "gz\n"
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as archive:
        for name, data in ((b"Dockerfile", FROM.encode() + b"COPY g /g\n"), (b"g", b"custom\n")):
            info = tarfile.TarInfo(name.decode())
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    context.seek(0)
    other = made(_name())
    items = list(api.build(fileobj=context, custom_context=True, tag=other, rm=True, decode=True))
    assert not any("error" in item for item in items)
    assert _run(client, other, ["cat", "/g"], test_labels) == "custom\n"


@pytest.mark.parametrize(
    "dockerfile",
    [FROM + "RUN echo boom; exit 3\n", FROM + "COPY missing-file /x\n"],
    ids=["failing-run", "copy-of-a-missing-file"],
)
def test_build_error_carries_the_whole_log(
    world: World,
    world_docker: Any,
    dpy: docker.DockerClient,
    dockerfile: str,
) -> None:
    with pytest.raises(BuildError) as ours:
        world(world_docker.images.build(fileobj=io.BytesIO(dockerfile.encode()), forcerm=True))
    with pytest.raises(docker.errors.BuildError) as theirs:
        dpy.images.build(fileobj=io.BytesIO(dockerfile.encode()), forcerm=True)
    assert ours.value.msg == theirs.value.msg
    assert str(ours.value) == str(theirs.value)
    our_log = world.items(ours.value.build_log)
    their_log = list(theirs.value.build_log)
    assert our_log[-1]["error"] == ours.value.msg
    assert [sorted(item) for item in our_log] == [sorted(item) for item in their_log]


def test_unparseable_dockerfile_is_an_api_error_as_docker_py(
    client: DockerClient, dpy: docker.DockerClient
) -> None:
    bad = b"FROMM busybox:latest\n"
    with pytest.raises(docker.errors.APIError) as theirs:
        dpy.images.build(fileobj=io.BytesIO(bad))
    with pytest.raises(APIError) as ours:
        client.images.build(fileobj=io.BytesIO(bad))
    assert not isinstance(ours.value, BuildError)
    assert ours.value.status_code == theirs.value.status_code == 400
    assert ours.value.explanation == theirs.value.explanation


def test_build_naming_no_image_is_a_build_error(monkeypatch: pytest.MonkeyPatch) -> None:
    client = DockerClient(base_url="unix:///nonexistent.sock")
    items = [{"stream": "Step 1/1 : FROM scratch\n"}, {"stream": "nothing built\n"}]
    monkeypatch.setattr(client.api, "build", lambda **kwargs: (item for item in items))
    with pytest.raises(BuildError) as caught:
        client.images.build(fileobj=io.BytesIO(b""))
    assert caught.value.msg == items[-1]
    assert list(caught.value.build_log) == items
    client.close()


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({}, TypeError),
        ({"path": "/nonexistent/dir"}, TypeError),
        ({"fileobj": io.BytesIO(FROM.encode()), "gzip": True, "encoding": "gzip"}, DockerException),
        ({"fileobj": io.BytesIO(FROM.encode()), "tag": "Bad Tag"}, DockerException),
        ({"fileobj": io.BytesIO(FROM.encode()), "container_limits": {"cpu": 1}}, DockerException),
        ({"path": ".", "custom_context": True}, TypeError),
    ],
    ids=["nothing", "not-a-dir", "gzip-and-encoding", "bad-tag", "bad-limit", "custom-no-file"],
)
def test_build_argument_errors_as_docker_py(
    api: APIClient, dpy: docker.DockerClient, kwargs: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        list(api.build(**kwargs))
    their_error = getattr(docker.errors, error.__name__, error)
    with pytest.raises(their_error):
        list(dpy.api.build(**kwargs))


# ---------------------------------------------------------------------- save / load


def _labelled_image(api: APIClient, made: Callable[[str], str]) -> str:
    tag = made(_name() + ":v1")
    dockerfile = (FROM + f"LABEL ctrproto.h4.stamp={uuid.uuid4().hex}\n").encode()
    items = list(api.build(fileobj=io.BytesIO(dockerfile), tag=tag, rm=True, decode=True))
    assert not any("error" in item for item in items)
    return tag


def test_save_then_load_round_trip(
    world: World,
    world_docker: Any,
    api: APIClient,
    made: Callable[[str], str],
) -> None:
    tag = _labelled_image(api, made)
    image = world(world_docker.images.get(tag))
    chunks = world.items(world(image.save(chunk_size=64 * 1024, named=True)))
    assert max(len(chunk) for chunk in chunks) <= 64 * 1024
    data = b"".join(chunks)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        assert "manifest.json" in archive.getnames()
    world(image.remove(force=True))
    with pytest.raises(ImageNotFound):
        api.inspect_image(tag)
    loaded = world(world_docker.images.load(iter([data[:1000], data[1000:]])))
    assert [img.id for img in loaded] == [image.id]
    assert tag in loaded[0].tags


def test_load_progress_and_errors_as_docker_py(
    api: APIClient,
    client: DockerClient,
    dpy: docker.DockerClient,
    made: Callable[[str], str],
    tmp_path: Path,
) -> None:
    tag = _labelled_image(api, made)
    saved = tmp_path / "image.tar"
    with saved.open("wb") as f:
        for chunk in api.get_image(tag):
            f.write(chunk)
    with saved.open("rb") as f:
        ours = list(api.load_image(f))
    theirs = list(dpy.api.load_image(saved.read_bytes()))
    assert ours == theirs == [{"stream": f"Loaded image: {tag}\n"}]
    assert list(api.load_image(saved.read_bytes(), quiet=False))
    with pytest.raises(ImageLoadError):
        client.images.load(b"")
    with pytest.raises(docker.errors.ImageLoadError):
        dpy.images.load(b"")


def test_save_of_a_missing_image_and_a_wrong_name(
    api: APIClient, client: DockerClient, made: Callable[[str], str]
) -> None:
    with pytest.raises(ImageNotFound):
        api.get_image("ctrproto-h4-no-such-image:nope")
    image = client.images.get(_labelled_image(api, made))
    with pytest.raises(InvalidArgument):
        image.save(named="not-one-of-its:tags")


# ---------------------------------------------------------------------- import


def _rootfs_tar() -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as archive:
        data = b"imported\n"
        info = tarfile.TarInfo("hello.txt")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _imported_id(answer: str) -> str:
    assert isinstance(answer, str)
    status = json.loads(answer.strip().splitlines()[-1])["status"]
    assert status.startswith("sha256:")
    return str(status)


def test_import_from_data_file_and_stream(
    api: APIClient, dpy: docker.DockerClient, made: Callable[[str], str], tmp_path: Path
) -> None:
    data = _rootfs_tar()
    repo = _name()
    made(f"{repo}:data")
    first = _imported_id(api.import_image_from_data(data, repository=repo, tag="data"))
    path = tmp_path / "rootfs.tar"
    path.write_bytes(data)
    made(f"{repo}:file")
    second = _imported_id(api.import_image_from_file(str(path), repository=repo, tag="file"))
    made(f"{repo}:stream")
    with path.open("rb") as f:
        third = _imported_id(
            api.import_image_from_stream(f, repository=repo, tag="stream", changes=["CMD [\"x\"]"])
        )
    assert api.inspect_image(f"{repo}:stream")["Config"]["Cmd"] == ["x"]
    assert first == api.inspect_image(f"{repo}:data")["Id"]
    assert second == api.inspect_image(f"{repo}:file")["Id"]
    assert third == api.inspect_image(f"{repo}:stream")["Id"]
    made(f"{repo}:dpy")
    theirs = dpy.api.import_image_from_data(data, repository=repo, tag="dpy")
    assert type(theirs) is str
    assert _imported_id(theirs) == api.inspect_image(f"{repo}:dpy")["Id"]
    with pytest.raises(DockerException):
        api.import_image()


def test_import_from_url_on_loopback(api: APIClient, made: Callable[[str], str]) -> None:
    data = _rootfs_tar()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/rootfs.tar"
        repo = made(_name() + ":url")
        answer = api.import_image_from_url(url, repository=repo.split(":")[0], tag="url")
        assert api.inspect_image(repo)["Id"] == _imported_id(answer)
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------------- history, prune, tags


def test_history_as_docker_py(
    world: World,
    world_docker: Any,
    api: APIClient,
    dpy: docker.DockerClient,
    made: Callable[[str], str],
) -> None:
    tag = _labelled_image(api, made)
    ours = world(world(world_docker.images.get(tag)).history())
    assert ours == api.history(tag) == dpy.api.history(tag)
    assert "LABEL ctrproto.h4.stamp" in ours[0]["CreatedBy"]
    with pytest.raises(ImageNotFound):
        api.history("ctrproto-h4-no-such-image:nope")


def test_prune_with_a_label_filter(
    world: World,
    world_docker: Any,
    api: APIClient,
    client: DockerClient,
    dpy: docker.DockerClient,
    made: Callable[[str], str],
) -> None:
    stamp = uuid.uuid4().hex
    ids = []
    for _ in range(2):
        dockerfile = (FROM + f"LABEL ctrproto.h4.prune={stamp} n={uuid.uuid4().hex}\n").encode()
        image, _ = client.images.build(
            fileobj=io.BytesIO(dockerfile), rm=True
        )
        ids.append(made(image.id))
    filters = {"dangling": False, "label": f"ctrproto.h4.prune={stamp}"}
    untouched = world(world_docker.images.prune(filters={"label": f"ctrproto.h4.prune={stamp}x"}))
    assert untouched["ImagesDeleted"] is None
    ours = world(world_docker.images.prune(filters=filters))
    assert {"ImagesDeleted", "SpaceReclaimed"} <= set(ours)
    assert {entry.get("Deleted") for entry in ours["ImagesDeleted"]} >= set(ids)
    theirs = dpy.images.prune(filters=filters)
    assert set(theirs) == set(ours) and theirs["ImagesDeleted"] is None
    for image_id in ids:
        with pytest.raises(ImageNotFound):
            api.inspect_image(image_id)


def test_tag_and_remove(
    world: World,
    world_docker: Any,
    api: APIClient,
    made: Callable[[str], str],
) -> None:
    tag = _labelled_image(api, made)
    image = world(world_docker.images.get(tag))
    repo = _name()
    made(f"{repo}:extra")
    assert world(image.tag(repo, "extra")) is True
    world(image.reload())
    assert f"{repo}:extra" in image.tags
    assert image.short_id == image.id[:19]
    removed = world(world_docker.images.get(f"{repo}:extra"))
    answer = api.remove_image(f"{repo}:extra")
    assert answer == [{"Untagged": f"{repo}:extra"}]
    assert world(removed.remove(force=True))
    with pytest.raises(ImageNotFound):
        world(world_docker.images.get(tag))


def test_search_fails_cleanly_without_network(docker_host: str) -> None:
    with APIClient(base_url=docker_host, timeout=30) as api, pytest.raises(APIError) as ours:
        api.search("busybox", limit=1)
    theirs_api = docker.APIClient(base_url=docker_host, timeout=30)
    with theirs_api, pytest.raises(docker.errors.APIError) as theirs:
        theirs_api.search("busybox", limit=1)
    assert ours.value.status_code == theirs.value.status_code


# ---------------------------------------------------------------------- the private registry


def test_push_pull_and_registry_data(
    world: World,
    world_docker: Any,
    api: APIClient,
    dpy: docker.DockerClient,
    registry: Registry,
    made: Callable[[str], str],
) -> None:
    source = _labelled_image(api, made)
    repo = f"{registry.host}/ctrproto-h4/{uuid.uuid4().hex[:12]}"
    reference = made(f"{repo}:pushed")
    assert api.tag(source, repo, "pushed")
    progress = world(world_docker.images.push(repo, tag="pushed", stream=True, decode=True))
    items = world.items(progress)
    digests = [item["aux"]["Digest"] for item in items if "aux" in item]
    assert len(digests) == 1 and digests[0].startswith("sha256:")
    data = world(world_docker.images.get_registry_data(reference))
    assert data.id == digests[0]
    assert data.short_id == digests[0][:19]
    assert data.image_name == reference
    assert data.attrs == dpy.images.get_registry_data(reference).attrs
    assert world(data.has_platform("linux"))
    assert not world(data.has_platform("windows/amd64"))
    api.remove_image(reference)
    with pytest.raises(ImageNotFound):
        api.inspect_image(reference)
    pulled = world(world_docker.images.pull(repo, tag="pushed"))
    assert f"{repo}@{digests[0]}" in pulled.attrs["RepoDigests"]
    made(f"{repo}@{digests[0]}")
    by_digest = world(data.pull())
    assert by_digest.id == pulled.id
    text = api.push(repo, tag="pushed")
    assert isinstance(text, str) and digests[0] in text
    assert text.count("\n") >= 1
    their_text = dpy.api.push(repo, tag="pushed")
    assert isinstance(their_text, str) and digests[0] in their_text


def test_push_of_a_missing_image_and_distribution_of_a_missing_tag(
    api: APIClient, dpy: docker.DockerClient, registry: Registry
) -> None:
    """The daemon reports a missing local image inside the push stream: docker-py hands the
    error back as text; ctrproto raises it (as its pull does)."""
    missing = f"{registry.host}/ctrproto-h4/none-{uuid.uuid4().hex[:8]}"
    with pytest.raises(StreamError, match="does not exist locally"):
        api.push(missing, tag="x")
    with pytest.raises(StreamError, match="does not exist locally"):
        list(api.push(missing, tag="x", stream=True, decode=True))
    assert "does not exist locally" in dpy.api.push(missing, tag="x")
    with pytest.raises(APIError) as ours:
        api.inspect_distribution(f"{missing}:x")
    with pytest.raises(docker.errors.APIError) as theirs:
        dpy.api.inspect_distribution(f"{missing}:x")
    assert ours.value.status_code == theirs.value.status_code



def test_push_to_the_login_registry_with_given_and_configured_credentials(
    api: APIClient,
    docker_host: str,
    registry: Registry,
    made: Callable[[str], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = _labelled_image(api, made)
    repo = f"{registry.auth_host}/ctrproto-h4/{uuid.uuid4().hex[:12]}"
    made(f"{repo}:secret")
    assert api.tag(source, repo, "secret")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "empty-config"))
    with APIClient(base_url=docker_host, timeout=60) as anonymous, pytest.raises(StreamError):
        anonymous.push(repo, tag="secret")
    given = {"username": registry.user, "password": registry.password}
    assert '"Digest":"sha256:' in api.push(repo, tag="secret", auth_config=given)
    assert api.inspect_distribution(f"{repo}:secret", auth_config=given)["Descriptor"]
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    token = base64.b64encode(f"{registry.user}:{registry.password}".encode()).decode()
    (config_dir / "config.json").write_text(
        json.dumps({"auths": {registry.auth_host: {"auth": token}}})
    )
    monkeypatch.setenv("DOCKER_CONFIG", str(config_dir))
    with APIClient(base_url=docker_host, timeout=60) as configured:
        assert '"Digest":"sha256:' in configured.push(repo, tag="secret")
        distribution = configured.inspect_distribution(f"{repo}:secret")
        assert distribution["Descriptor"]["digest"].startswith("sha256:")
        api.remove_image(f"{repo}:secret")  # the build must pull it, with X-Registry-Config
        items = list(
            configured.build(
                fileobj=io.BytesIO(f"FROM {repo}:secret\n".encode()), rm=True, decode=True
            )
        )
        assert not any("error" in item for item in items), items
        assert api.inspect_image(f"{repo}:secret")["Id"] == api.inspect_image(source)["Id"]


def test_image_streams_close_from_another_thread(
    api: APIClient, made: Callable[[str], str], tmp_path: Path, registry: Registry
) -> None:
    """Build progress, pull/push progress, save and load all return CancellableStreams:
    ``close()`` from another thread wakes a read blocked on a slow build and the iteration
    ends quietly; the other streams are closable before they are read."""
    from ctrproto._sync.cancellable import CancellableStream

    tag = made(f"{_name()}:slow")
    # A build that prints, then stays silent for a long time: the reader blocks on it.
    context = _context(tmp_path, {"Dockerfile": FROM + "RUN echo started && sleep 60\n"})
    stream = api.build(path=str(context), tag=tag, decode=True, rm=True, forcerm=True)
    assert isinstance(stream, CancellableStream)
    seen: list[Any] = []
    started = threading.Event()
    errors: list[BaseException] = []

    def read() -> None:
        try:
            for item in stream:
                seen.append(item)
                if "started" in item.get("stream", ""):
                    started.set()
        except BaseException as exc:  # the property is "ends quietly": keep what it raised
            errors.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert started.wait(60), f"the build never printed: {seen}"
    stream.close()
    reader.join(10)
    assert not reader.is_alive(), "close() from another thread did not end the iteration"
    assert errors == []
    assert api.ping()  # the client is fine afterwards (the closed connection was not pooled)
    for opened in (api.get_image("busybox:latest"), api.load_image(b"")):
        assert isinstance(opened, CancellableStream)
        opened.close()
        assert list(opened) == []
    made(f"{registry.host}/busybox:latest")
    progress = api.pull(f"{registry.host}/busybox", tag="latest", stream=True, decode=True)
    assert isinstance(progress, CancellableStream)
    assert any("Status" in item.get("status", "") for item in progress)


def test_prune_builds_as_docker_py(
    world: World,
    world_docker: Any,
    api: APIClient,
    dpy: docker.DockerClient,
) -> None:
    """The builder cache prune: the same keys as docker-py's answer; the options' version
    check raises InvalidVersion on an older API, as docker-py's does."""
    from ctrproto.errors import InvalidVersion

    mine = world(world_docker.images.prune_builds())
    theirs = dpy.images.prune_builds()
    assert set(mine) == set(theirs) and "SpaceReclaimed" in mine
    assert isinstance(mine["SpaceReclaimed"], int)
    assert set(api.prune_builds(all=True)) == set(dpy.api.prune_builds(all=True))
    with APIClient(base_url=api.daemon_url, version="1.38") as old, pytest.raises(
        InvalidVersion
    ):
        old.prune_builds(keep_storage=0)
    with docker.APIClient(base_url=api.daemon_url, version="1.38") as their_old, pytest.raises(
        docker.errors.InvalidVersion
    ):
        their_old.prune_builds(keep_storage=0)
