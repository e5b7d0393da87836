"""Issue 11: the build options and the image import variants, next to docker-py 7.2.

The first half needs no daemon: one ``build`` (or import) call goes through docker-py's
``APIClient`` and through ctrproto's (sync and asyncio) to a capturing loopback HTTP server, and
the requests - method, path, parsed query, the headers that matter, the body - must be the same;
so must what each library makes of the answer, and the way each refuses a bad argument.  The
second half builds and imports on the testbed daemon through both libraries and compares the
images; every image and tag a test makes is removed at the end, whatever happened.
"""

from __future__ import annotations

import base64
import contextlib
import gzip as gzip_module
import http.server
import io
import json
import re
import tarfile
import threading
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest
from conftest import WriteConfig
from test_both_worlds import World
from testbed import Registry

import ctrproto.errors
from ctrproto import APIClient
from ctrproto.aio import AsyncAPIClient
from ctrproto.errors import NotFound

V = "1.41"
DOCKERFILE = b"FROM busybox:latest\nLABEL from.file=yes\n"
#: What the capture server answers to a build: a daemon's chunked JSON progress.
BUILD_ANSWER = [
    b'{"stream":"Step 1/2 : FROM busybox:latest\\n"}\r\n',
    b'{"aux":{"ID":"sha256:0123456789abcdef"}}\r\n{"stream":"Successfully bu',
    b'ilt 0123456789ab\\n"}\r\n',  # an item split across two chunks
]
IMPORT_ANSWER = [b'{"status":"sha256:0123456789abcdef0123456789abcdef"}\r\n']


# ---------------------------------------------------------------------- the capture server


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes


class CaptureServer:
    """A loopback HTTP/1.1 server that records each request (body included, plain or chunked)
    and answers 200 with ``answer``, sent chunked as the daemon sends its progress."""

    def __init__(self, answer: list[bytes]) -> None:
        self.requests: list[Request] = []
        requests, pieces = self.requests, answer

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _body(self) -> bytes:
                # docker-py's import_image_from_stream says "chunked" yet sends a plain body
                # with a Content-Length (requests knows the length): record what it sent.
                chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
                if chunked and self.headers.get("Content-Length") is None:
                    data = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass  # trailers
                            return data
                        data += self.rfile.read(size)
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _record(self) -> None:
                target = urllib.parse.urlsplit(self.path)
                requests.append(
                    Request(
                        self.command,
                        target.path,
                        urllib.parse.parse_qs(target.query, keep_blank_values=True),
                        {k.lower(): v for k, v in self.headers.items()},
                        self._body(),
                    )
                )
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Api-Version", V)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for piece in pieces:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

            do_GET = do_POST = _record  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@contextlib.contextmanager
def capturing(answer: list[bytes]) -> Iterator[CaptureServer]:
    server = CaptureServer(answer)
    try:
        yield server
    finally:
        server.close()


def _ours(world: World, url: str, version: str = V) -> Any:
    cls = AsyncAPIClient if world.loop is not None else APIClient
    return cls(base_url=url, version=version, timeout=10)


def _theirs(url: str, version: str = V) -> docker.APIClient:
    return docker.APIClient(base_url=url, version=version, timeout=10)


#: docker's strconv.ParseBool: what the daemon makes of a boolean query value.
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}
BOOL_PARAMS = {"q", "nocache", "rm", "forcerm", "pull", "squash"}
JSON_PARAMS = {"buildargs", "labels", "cachefrom"}


def _daemon_bool(value: str) -> bool | str:
    return True if value in _TRUE else False if value in _FALSE else f"not a bool: {value!r}"


def _query(query: dict[str, list[str]]) -> dict[str, Any]:
    """The query as the daemon reads it: booleans parsed (docker-py sends ``True``, ctrproto
    ``1``), JSON values decoded, every other parameter the list of its values."""
    found: dict[str, Any] = {}
    for key, values in query.items():
        if key in BOOL_PARAMS:
            found[key] = [_daemon_bool(v) for v in values]
        elif key in JSON_PARAMS:
            found[key] = [json.loads(v) for v in values]
        else:
            found[key] = values
    return found


def _headers(headers: dict[str, str]) -> dict[str, Any]:
    """The headers that matter: the body's type and encoding, and the decoded registry config."""
    found: dict[str, Any] = {
        name: headers.get(name) for name in ("content-type", "content-encoding")
    }
    config = headers.get("x-registry-config")
    found["x-registry-config"] = (
        None if config is None else json.loads(base64.urlsafe_b64decode(config))
    )
    return found


def _tar_members(body: bytes) -> dict[str, bytes] | bytes:
    """A build context's files and contents (the raw body when it is not a plain tar)."""
    try:
        with tarfile.open(fileobj=io.BytesIO(body), mode="r:") as archive:
            return {
                m.name: archive.extractfile(m).read()  # type: ignore[union-attr]
                for m in archive.getmembers()
                if m.isfile()
            }
    except tarfile.TarError:
        return body


def _observed(request: Request) -> dict[str, Any]:
    return {
        "method": request.method,
        "path": request.path,
        "query": _query(request.query),
        "headers": _headers(request.headers),
        "body": _tar_members(request.body),
    }


def _context_tar(gz: bool = False) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz" if gz else "w") as archive:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(DOCKERFILE)
        archive.addfile(info, io.BytesIO(DOCKERFILE))
    return out.getvalue()


# ---------------------------------------------------------------------- build requests

BUILD_CASES: dict[str, dict[str, Any]] = {
    "defaults": {},
    "booleans": {"pull": True, "forcerm": True, "quiet": True, "nocache": True, "rm": True},
    "booleans-false": {"pull": False, "forcerm": False, "quiet": False, "squash": False},
    "shmsize": {"shmsize": 128 * 1024 * 1024},
    "cache_from": {"cache_from": ["ctrproto/a:1", "ctrproto/b"]},
    "network_mode": {"network_mode": "none"},
    "squash": {"squash": True},
    "extra_hosts-dict": {"extra_hosts": {"zeta.test": "10.0.0.2", "alpha.test": "10.0.0.1"}},
    "extra_hosts-list": {"extra_hosts": ["one.test:10.1.1.1", "two.test:10.1.1.2"]},
    "extra_hosts-empty": {"extra_hosts": {}},
    "platform": {"platform": "linux/amd64"},
    "isolation": {"isolation": "default"},
    "container_limits": {
        "container_limits": {
            "memory": 128 * 1024 * 1024, "memswap": -1, "cpushares": 512, "cpusetcpus": "0-1"
        }
    },
    "labels": {"labels": {"a.b": "1", "with space": "x=y&z", "unicode": "\u00e9"}},
    "buildargs": {"buildargs": {"A": "1", "B": "two words", "C": "a&b=c"}},
    "target": {"target": "stage-two"},
    "tag-dockerfile": {"tag": "ctrproto/built:v1", "dockerfile": "Dockerfile"},
    "decode": {"decode": True},
    "everything": {
        "tag": "ctrproto/all:x", "pull": True, "shmsize": 1 << 26, "cache_from": ["c"],
        "network_mode": "host", "squash": True, "extra_hosts": {"h": "1.2.3.4"},
        "platform": "linux/arm64/v8", "isolation": "process", "quiet": True,
        "container_limits": {"memory": 1 << 27}, "forcerm": True, "labels": {"l": "v"},
        "buildargs": {"X": "y"}, "target": "t", "decode": True,
    },
}


def _build_both(world: World, kwargs: dict[str, Any], context: Callable[[], dict[str, Any]]) -> Any:
    """Run one build through docker-py and through ctrproto; (theirs, ours) requests and
    outputs."""
    with capturing(BUILD_ANSWER) as server:
        their_client = _theirs(server.url)
        try:
            theirs_out = list(their_client.build(**context(), **kwargs))
        finally:
            their_client.close()
        ours_client = _ours(world, server.url)
        try:
            ours_out = world.items(world(ours_client.build(**context(), **kwargs)))
        finally:
            world(ours_client.close())
        assert len(server.requests) == 2, server.requests
        theirs_req, ours_req = server.requests
    return (theirs_req, theirs_out), (ours_req, ours_out)


def _same_output(theirs: list[Any], ours: list[Any], decode: bool) -> None:
    if decode:
        assert ours == theirs
        assert ours[-1] == {"stream": "Successfully built 0123456789ab\n"}
    else:
        assert all(isinstance(piece, bytes) for piece in ours + theirs)
        assert b"".join(ours) == b"".join(theirs) == b"".join(BUILD_ANSWER)


@pytest.mark.parametrize("kwargs", list(BUILD_CASES.values()), ids=list(BUILD_CASES))
def test_build_requests_match_docker_py(
    world: World, cli_config: WriteConfig, kwargs: dict[str, Any]
) -> None:
    """The request ctrproto's build sends is docker-py's: method, path, query, headers, body."""
    (theirs, their_out), (ours, our_out) = _build_both(
        world, kwargs, lambda: {"fileobj": io.BytesIO(DOCKERFILE)}
    )
    assert _observed(ours) == _observed(theirs)
    assert ours.path == f"/v{V}/build"
    assert _observed(ours)["body"] == {"Dockerfile": DOCKERFILE}
    assert _observed(ours)["headers"]["content-type"] == "application/tar"
    assert "x-registry-config" not in ours.headers  # the private CLI config holds no auths
    _same_output(their_out, our_out, kwargs.get("decode", False))


def test_build_query_values_as_docker_py_sends_them(world: World, cli_config: WriteConfig) -> None:
    """Spot checks on what the daemon reads for the options (not only that both agree)."""
    (_, _), (ours, _) = _build_both(
        world, BUILD_CASES["everything"], lambda: {"fileobj": io.BytesIO(DOCKERFILE)}
    )
    query = _query(ours.query)
    assert query["extrahosts"] == ["h:1.2.3.4"]
    assert query["shmsize"] == [str(1 << 26)] and query["memory"] == [str(1 << 27)]
    assert query["networkmode"] == ["host"] and query["platform"] == ["linux/arm64/v8"]
    assert query["q"] == query["pull"] == query["forcerm"] == query["squash"] == [True]
    assert query["nocache"] == query["rm"] == [False]
    assert query["labels"] == [{"l": "v"}] and query["cachefrom"] == [["c"]]
    assert query["buildargs"] == [{"X": "y"}]
    (_, _), (sorted_hosts, _) = _build_both(
        world, BUILD_CASES["extra_hosts-dict"], lambda: {"fileobj": io.BytesIO(DOCKERFILE)}
    )
    assert sorted_hosts.query["extrahosts"] == ["alpha.test:10.0.0.1", "zeta.test:10.0.0.2"]


@pytest.mark.parametrize("gz", [False, True], ids=["tar", "tar.gz"])
def test_build_custom_context_requests_match_docker_py(
    world: World, cli_config: WriteConfig, gz: bool
) -> None:
    data = _context_tar(gz)
    extra = {"encoding": "gzip"} if gz else {}
    (theirs, their_out), (ours, our_out) = _build_both(
        world,
        {"custom_context": True, "labels": {"k": "v"}, **extra},
        lambda: {"fileobj": io.BytesIO(data)},
    )
    assert _observed(ours) == _observed(theirs)
    assert ours.body == theirs.body == data  # sent as given, not re-tarred
    assert ours.headers.get("content-encoding") == ("gzip" if gz else None)
    if gz:
        assert gzip_module.decompress(ours.body) == _context_tar()
    _same_output(their_out, our_out, decode=False)


def test_build_directory_and_remote_requests_match_docker_py(
    world: World, cli_config: WriteConfig, tmp_path: Path
) -> None:
    (tmp_path / "Dockerfile").write_bytes(DOCKERFILE)
    (tmp_path / "data.txt").write_text("payload\n")
    (theirs, _), (ours, _) = _build_both(
        world, {"network_mode": "none"}, lambda: {"path": str(tmp_path)}
    )
    assert _observed(ours) == _observed(theirs)
    assert _observed(ours)["body"] == {"Dockerfile": DOCKERFILE, "data.txt": b"payload\n"}
    remote = "https://example.invalid/ctrproto/context.git"
    (theirs, _), (ours, _) = _build_both(world, {"target": "x"}, lambda: {"path": remote})
    assert _observed(ours) == _observed(theirs)
    assert ours.query["remote"] == [remote]
    assert ours.headers.get("content-type") is None and ours.body == b""


def test_build_sends_the_config_credentials_and_proxies_as_docker_py(
    world: World, cli_config: WriteConfig
) -> None:
    """X-Registry-Config carries every configured credential (Docker Hub's under its URL too);
    the configured proxies become build args unless ``use_config_proxy=False``."""
    auth = base64.b64encode(b"user:secret").decode()
    cli_config(
        {
            "auths": {"docker.io": {"auth": auth}, "registry.test:5000": {"auth": auth}},
            "proxies": {"default": {"httpProxy": "http://proxy.test:3128", "noProxy": "local"}},
        }
    )
    (theirs, _), (ours, _) = _build_both(
        world, {"buildargs": {"MINE": "1"}}, lambda: {"fileobj": io.BytesIO(DOCKERFILE)}
    )
    assert _observed(ours) == _observed(theirs)
    config = _headers(ours.headers)["x-registry-config"]
    assert set(config) == {"docker.io", "https://index.docker.io/v1/", "registry.test:5000"}
    assert config["registry.test:5000"]["password"] == "secret"
    assert _query(ours.query)["buildargs"] == [
        {
            "MINE": "1",
            "HTTP_PROXY": "http://proxy.test:3128",
            "http_proxy": "http://proxy.test:3128",
            "NO_PROXY": "local",
            "no_proxy": "local",
        }
    ]
    (theirs, _), (ours, _) = _build_both(
        world, {"use_config_proxy": False}, lambda: {"fileobj": io.BytesIO(DOCKERFILE)}
    )
    assert _observed(ours) == _observed(theirs)
    assert "buildargs" not in ours.query
    assert _headers(ours.headers)["x-registry-config"] is not None


# ---------------------------------------------------------------------- build refusals

REFUSALS: dict[str, tuple[str, dict[str, Any]]] = {
    "container_limits-unknown-key": (V, {"container_limits": {"cpu": 1}}),
    "container_limits-typo": (V, {"container_limits": {"memory": 1, "cpusetcpu": "0"}}),
    "bad-tag": (V, {"tag": "Not A Tag"}),
    "gzip-and-encoding": (V, {"gzip": True, "encoding": "gzip"}),
    "nothing-to-build": (V, {"fileobj": None}),
    "custom-context-without-fileobj": (V, {"fileobj": None, "path": ".", "custom_context": True}),
    "not-a-directory": (V, {"fileobj": None, "path": "/nonexistent/ctrproto/dir"}),
    "cache_from-before-1.25": ("1.24", {"cache_from": ["a"]}),
    "network_mode-before-1.25": ("1.24", {"network_mode": "none"}),
    "squash-before-1.25": ("1.24", {"squash": True}),
    "extra_hosts-before-1.27": ("1.26", {"extra_hosts": {"h": "1.1.1.1"}}),
    "target-before-1.29": ("1.28", {"target": "t"}),
    "platform-before-1.32": ("1.31", {"platform": "linux"}),
}


def _refusal(thunk: Callable[[], Any]) -> BaseException:
    try:
        thunk()
    except Exception as exc:  # noqa: BLE001 - the exception is the observation
        return exc
    raise AssertionError("the call was not refused")


@pytest.mark.parametrize(("version", "kwargs"), list(REFUSALS.values()), ids=list(REFUSALS))
def test_build_refusals_match_docker_py(
    world: World, cli_config: WriteConfig, version: str, kwargs: dict[str, Any]
) -> None:
    """A bad argument is refused before anything is sent, with docker-py's exception type
    (ctrproto's class of the same name, under ctrproto's DockerException)."""
    call = {"fileobj": io.BytesIO(DOCKERFILE), **kwargs}
    with capturing(BUILD_ANSWER) as server:
        their_client = _theirs(server.url, version)
        theirs = _refusal(lambda: list(their_client.build(**call)))
        their_client.close()
        call["fileobj"] = kwargs.get("fileobj", io.BytesIO(DOCKERFILE))
        ours_client = _ours(world, server.url, version)
        ours = _refusal(lambda: world.items(world(ours_client.build(**call))))
        world(ours_client.close())
        assert server.requests == []
    assert type(ours).__name__ == type(theirs).__name__
    if isinstance(theirs, docker.errors.DockerException):
        assert isinstance(ours, ctrproto.errors.DockerException)
        assert not isinstance(ours, docker.errors.DockerException)
    else:
        assert isinstance(theirs, TypeError) and str(ours) == str(theirs)
    if "container_limits" in kwargs:
        # docker-py's text here is a copy-paste slip ("invalid tag 'None': invalid reference
        # format"); ctrproto names the offending key instead.
        bad = next(k for k in kwargs["container_limits"] if k != "memory")
        assert "invalid tag" in str(theirs) and repr(bad) in str(ours)
    elif version != V:
        gate = next(iter(kwargs))
        needed = {"cache_from": "1.25", "network_mode": "1.25", "squash": "1.25",
                  "extra_hosts": "1.27", "target": "1.29", "platform": "1.32"}[gate]
        assert needed in str(theirs) and needed in str(ours)
    else:
        assert str(ours) == str(theirs)


# ---------------------------------------------------------------------- import requests

IMPORT_CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "data": ("import_image_from_data", {"repository": "ctrproto/imp", "tag": "t"}),
    "data-changes": (
        "import_image_from_data",
        {"repository": "r", "changes": ["ENV A=1", 'CMD ["/x"]']},
    ),
    "src-bytes": ("import_image", {"repository": "r", "tag": "b"}),
    "src-file": ("import_image", {"repository": "r", "changes": ["ENV B=2"]}),
    "src-path": ("import_image", {"repository": "r", "tag": "p"}),
    "from-file": ("import_image_from_file", {"repository": "r", "tag": "f"}),
    "from-stream": ("import_image_from_stream", {"repository": "r", "changes": ['CMD ["/y"]']}),
    "src-url": ("import_image", {"repository": "r", "tag": "u"}),
    "from-url": ("import_image_from_url", {"repository": "r"}),
    "image": ("import_image", {"repository": "r", "tag": "latest"}),
    "from-image": ("import_image_from_image", {"tag": "latest", "changes": ["ENV C=3"]}),
}
URL = "http://127.0.0.1:9/rootfs.tar"


def _import_source(case: str, data: bytes, path: Path) -> dict[str, Any]:
    first = {
        "data": lambda: {"data": data},
        "data-changes": lambda: {"data": data},
        "src-bytes": lambda: {"src": data},
        "src-file": lambda: {"src": io.BytesIO(data)},
        "src-path": lambda: {"src": str(path)},
        "from-file": lambda: {"filename": str(path)},
        "from-stream": lambda: {"stream": io.BytesIO(data)},
        "src-url": lambda: {"src": URL},
        "from-url": lambda: {"url": URL},
        "image": lambda: {"image": "registry.test/busybox"},
        "from-image": lambda: {"image": "registry.test/busybox"},
    }[case]
    return first()


@pytest.mark.parametrize("case", list(IMPORT_CASES))
def test_import_requests_match_docker_py(
    world: World, cli_config: WriteConfig, tmp_path: Path, case: str
) -> None:
    method, kwargs = IMPORT_CASES[case]
    data = _rootfs_tar("hello.txt", b"imported\n")
    path = tmp_path / "rootfs.tar"
    path.write_bytes(data)
    with capturing(IMPORT_ANSWER) as server:
        their_client = _theirs(server.url)
        theirs_out = getattr(their_client, method)(**_import_source(case, data, path), **kwargs)
        their_client.close()
        ours_client = _ours(world, server.url)
        ours_out = world(getattr(ours_client, method)(**_import_source(case, data, path), **kwargs))
        world(ours_client.close())
        theirs, ours = server.requests
    assert type(ours_out) is type(theirs_out) is str
    assert ours_out == theirs_out == b"".join(IMPORT_ANSWER).decode()
    endpoint = ("POST", f"/v{V}/images/create")
    assert (ours.method, ours.path) == (theirs.method, theirs.path) == endpoint
    assert ours.query == theirs.query
    assert ours.query.get("changes", []) == list(kwargs.get("changes", []))
    assert _headers(ours.headers) == _headers(theirs.headers)
    assert ours.body == theirs.body
    with_body = case not in ("src-url", "from-url", "image", "from-image")
    assert ours.body == (data if with_body else b"")
    assert ours.headers.get("content-type") == ("application/tar" if with_body else None)
    if with_body:
        assert ours.query["fromSrc"] == ["-"] and "fromImage" not in ours.query
    elif "image" in case:
        assert ours.query["fromImage"] == ["registry.test/busybox"]
    else:
        assert ours.query["fromSrc"] == [URL]


def test_import_refusals_match_docker_py(world: World, cli_config: WriteConfig) -> None:
    with capturing(IMPORT_ANSWER) as server:
        their_client = _theirs(server.url)
        theirs = _refusal(lambda: their_client.import_image(repository="r"))
        their_client.close()
        ours_client = _ours(world, server.url)
        ours = _refusal(lambda: world(ours_client.import_image(repository="r")))
        world(ours_client.close())
        assert server.requests == []
    assert type(ours).__name__ == type(theirs).__name__ == "DockerException"
    assert isinstance(ours, ctrproto.errors.DockerException)
    assert str(ours) == str(theirs) == "Must specify src or image to import from"


# ---------------------------------------------------------------------- on the daemon


def _name() -> str:
    return f"ctrproto-h11-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def dpy_api(docker_host: str) -> Iterator[docker.APIClient]:
    client = docker.APIClient(base_url=docker_host, timeout=60)
    yield client
    client.close()


@pytest.fixture
def world_api(world: World, docker_host: str) -> Iterator[Any]:
    cls = AsyncAPIClient if world.loop is not None else APIClient
    client = cls(base_url=docker_host, timeout=60)
    yield client
    world(client.close())


REAL_DOCKERFILE = (
    b"FROM busybox:latest\n"
    b"LABEL from.dockerfile=yes\n"
    # The RUN fails the build unless network_mode, extra_hosts and shmsize were applied.
    b'RUN test "$(ls /sys/class/net)" = lo'
    b" && grep -q '10.11.12.13[[:space:]]*ctrproto-extra.test' /etc/hosts"
    b" && test \"$(df -k /dev/shm | awk 'NR==2{print $2}')\" = 131072\n"
    b'CMD ["/bin/true"]\n'
)


def _built_id(items: list[Any]) -> str:
    assert len(items) == 1, items  # quiet: the id alone
    text = items[0]["stream"] if isinstance(items[0], dict) else items[0].decode()
    assert text.startswith("sha256:") and text.endswith("\n")
    return str(text.strip())


@pytest.mark.daemon
def test_build_options_on_the_daemon_as_docker_py(
    world: World, world_api: Any, dpy_api: docker.APIClient, made: Callable[[str], str]
) -> None:
    options: dict[str, Any] = {
        "network_mode": "none",
        "extra_hosts": {"ctrproto-extra.test": "10.11.12.13"},
        "shmsize": 128 * 1024 * 1024,
        "labels": {"ctrproto.h11": "yes", "with space": "a=b"},
        "buildargs": {"UNUSED_ARG": "1"},
        "quiet": True,
        "nocache": True,
        "forcerm": True,
        "decode": True,
    }
    found: dict[str, dict[str, Any]] = {}
    for who in ("docker-py", "ctrproto"):
        tag = made(f"{_name()}:{who}")
        client = dpy_api if who == "docker-py" else world_api
        progress = world(client.build(fileobj=io.BytesIO(REAL_DOCKERFILE), tag=tag, **options))
        items = world.items(progress)
        assert not any("error" in item for item in items), items
        image_id = _built_id(items)
        attrs = dpy_api.inspect_image(tag)
        assert attrs["Id"] == image_id
        found[who] = attrs
    ours, theirs = found["ctrproto"], found["docker-py"]
    assert ours["Id"] != theirs["Id"]  # nocache: two real builds
    assert ours["Config"]["Labels"] == theirs["Config"]["Labels"] == {
        "from.dockerfile": "yes", "ctrproto.h11": "yes", "with space": "a=b"
    }
    for key in ("Cmd", "Env", "Entrypoint", "WorkingDir"):
        assert ours["Config"][key] == theirs["Config"][key]
    assert ours["Config"]["Cmd"] == ["/bin/true"]
    assert (ours["Os"], ours["Architecture"]) == (theirs["Os"], theirs["Architecture"])


@pytest.mark.daemon
def test_build_on_the_daemon_fails_without_the_options(
    world: World, world_api: Any, made: Callable[[str], str]
) -> None:
    """The RUN check of the previous test does fail when the options are not sent."""
    tag = made(f"{_name()}:plain")
    items = world.items(
        world(
            world_api.build(
                fileobj=io.BytesIO(REAL_DOCKERFILE), tag=tag, network_mode="none",
                forcerm=True, decode=True,
            )
        )
    )
    for item in items:  # the failed build's intermediate images
        for step_id in re.findall(r"---> ([0-9a-f]{12})\b", item.get("stream", "")):
            if step_id != world(world_api.inspect_image("busybox:latest"))["Id"][7:19]:
                made(step_id)
    assert any("error" in item for item in items)
    with pytest.raises(ctrproto.errors.ImageNotFound):
        world(world_api.inspect_image(tag))


def _rootfs_tar(name: str = "hello.txt", data: bytes = b"imported\n") -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as archive:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _status_id(answer: Any) -> str:
    """The image id a body import answers: docker-py's undecoded text, one JSON status."""
    assert type(answer) is str
    lines = answer.strip().splitlines()
    assert len(lines) == 1, answer
    status = json.loads(lines[0])["status"]
    assert isinstance(status, str) and status.startswith("sha256:")
    return status


CHANGES = ["ENV A=1", 'CMD ["/x"]', "WORKDIR /w", "LABEL imported=yes"]

def _pieces(data: bytes) -> Iterator[bytes]:
    """A stream of unknown length (what docker-py's stream import can send, see
    test_stream_import_of_a_file_works_where_docker_py_breaks)."""
    yield data[:700]
    yield data[700:]


#: The body import variants: method, how to pass the tar (data, path, whether for docker-py).
BODY_IMPORTS: dict[str, tuple[str, Callable[[bytes, Path, bool], dict[str, Any]]]] = {
    "src-path": ("import_image", lambda d, p, dpy: {"src": str(p)}),
    "src-bytes": ("import_image", lambda d, p, dpy: {"src": d}),
    "src-fileobj": ("import_image", lambda d, p, dpy: {"src": p.open("rb")}),
    "src-stream": (
        "import_image",
        lambda d, p, dpy: {"src": _pieces(d) if dpy else p.open("rb"), "stream_src": True},
    ),
    "src-generator": ("import_image", lambda d, p, dpy: {"src": _pieces(d)}),
    "from-data": ("import_image_from_data", lambda d, p, dpy: {"data": d}),
    "from-file": ("import_image_from_file", lambda d, p, dpy: {"filename": str(p)}),
    "from-stream": (
        "import_image_from_stream",
        lambda d, p, dpy: {"stream": _pieces(d) if dpy else p.open("rb")},
    ),
    "from-stream-generator": ("import_image_from_stream", lambda d, p, dpy: {"stream": _pieces(d)}),
}


def _close_source(source: dict[str, Any]) -> None:
    for value in source.values():
        if hasattr(value, "close"):
            value.close()


@pytest.mark.daemon
@pytest.mark.parametrize("case", list(BODY_IMPORTS))
def test_body_imports_on_the_daemon_as_docker_py(
    world: World,
    world_api: Any,
    dpy_api: docker.APIClient,
    made: Callable[[str], str],
    tmp_path: Path,
    case: str,
) -> None:
    method, source = BODY_IMPORTS[case]
    repo = _name()
    found: dict[str, dict[str, Any]] = {}
    for who, client in (("docker-py", dpy_api), ("ctrproto", world_api)):
        data = _rootfs_tar("hello.txt", f"{who} {uuid.uuid4().hex}\n".encode())
        path = tmp_path / f"{who}.tar"
        path.write_bytes(data)
        made(f"{repo}:{who}")
        args = source(data, path, who == "docker-py")
        try:
            answer = world(
                getattr(client, method)(**args, repository=repo, tag=who, changes=CHANGES)
            )
        finally:
            _close_source(args)
        image_id = _status_id(answer)
        attrs = dpy_api.inspect_image(f"{repo}:{who}")
        assert attrs["Id"] == image_id and attrs["RepoTags"] == [f"{repo}:{who}"]
        found[who] = attrs
    ours, theirs = found["ctrproto"], found["docker-py"]
    assert ours["Id"] != theirs["Id"]  # different contents
    assert ours["Config"]["Env"] == theirs["Config"]["Env"]
    assert "A=1" in ours["Config"]["Env"]
    assert ours["Config"]["Cmd"] == theirs["Config"]["Cmd"] == ["/x"]
    assert ours["Config"]["WorkingDir"] == theirs["Config"]["WorkingDir"] == "/w"
    assert ours["Config"]["Labels"] == theirs["Config"]["Labels"] == {"imported": "yes"}
    assert len(ours["RootFS"]["Layers"]) == len(theirs["RootFS"]["Layers"]) == 1


@pytest.mark.daemon
def test_import_without_tag_or_changes_as_docker_py(
    world: World, world_api: Any, dpy_api: docker.APIClient, made: Callable[[str], str]
) -> None:
    """No repository: an untagged image, the same answer shape; no changes: no Cmd."""
    for client in (dpy_api, world_api):
        data = _rootfs_tar("x.txt", uuid.uuid4().hex.encode())
        image_id = made(_status_id(world(client.import_image_from_data(data))))
        attrs = dpy_api.inspect_image(image_id)
        assert attrs["RepoTags"] == [] and attrs["Config"].get("Cmd") is None


@pytest.mark.daemon
@pytest.mark.parametrize("method", ["import_image", "import_image_from_image"])
def test_import_from_an_image_pulls_it_as_docker_py(
    world: World,
    world_api: Any,
    dpy_api: docker.APIClient,
    api: APIClient,
    registry: Registry,
    made: Callable[[str], str],
    method: str,
) -> None:
    """``image=`` is ``fromImage``: the daemon pulls that image (repository and changes are not
    applied); both libraries return the pull progress as text."""
    repo = f"{registry.host}/ctrproto-h11/{uuid.uuid4().hex[:12]}"
    source = made(f"{repo}:src")
    assert api.tag("busybox:latest", repo, "src")
    for _ in api.push(repo, tag="src", stream=True):
        pass
    busybox_id = api.inspect_image("busybox:latest")["Id"]
    answers: dict[str, str] = {}
    for who, client in (("docker-py", dpy_api), ("ctrproto", world_api)):
        api.remove_image(source)
        with pytest.raises(NotFound):
            api.inspect_image(source)
        kwargs: dict[str, Any] = {"image": repo, "tag": "src", "changes": ["ENV IGNORED=1"]}
        if method == "import_image":
            kwargs["repository"] = f"{_name()}-ignored"
        answer = world(getattr(client, method)(**kwargs))
        assert type(answer) is str
        statuses = [json.loads(line).get("status", "") for line in answer.strip().splitlines()]
        assert statuses[-1].startswith("Status: Downloaded newer image for"), answer
        attrs = api.inspect_image(source)
        assert attrs["Id"] == busybox_id
        assert "IGNORED=1" not in attrs["Config"]["Env"]
        if "repository" in kwargs:
            with pytest.raises(NotFound):
                api.inspect_image(kwargs["repository"])
        answers[who] = statuses[-1]
    assert answers["ctrproto"] == answers["docker-py"]


@pytest.mark.daemon
def test_stream_import_of_a_file_works_where_docker_py_breaks(
    world: World,
    world_api: Any,
    dpy_api: docker.APIClient,
    made: Callable[[str], str],
    tmp_path: Path,
) -> None:
    """docker-py's ``import_image_from_stream`` of a real file sets ``Transfer-Encoding:
    chunked`` by hand while requests sends the file plainly with a ``Content-Length``: the
    daemon fails to parse it (500).  ctrproto sends the file chunked, and the import works."""
    path = tmp_path / "rootfs.tar"
    path.write_bytes(_rootfs_tar())
    repo = _name()
    made(f"{repo}:docker-py")
    with path.open("rb") as f, pytest.raises(docker.errors.APIError) as theirs:
        dpy_api.import_image_from_stream(f, repository=repo, tag="docker-py")
    assert theirs.value.status_code == 500 and "chunk" in str(theirs.value.explanation)
    made(f"{repo}:ctrproto")
    with path.open("rb") as f:
        answer = world(world_api.import_image_from_stream(f, repository=repo, tag="ctrproto"))
    assert dpy_api.inspect_image(f"{repo}:ctrproto")["Id"] == _status_id(answer)
