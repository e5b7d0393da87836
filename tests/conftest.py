"""Shared fixtures: the real daemon the integration tests talk to, and leftover checks.

The daemon is the project's testbed (``scripts/testbed``), started once per session the first
time a test asks for it, and stopped at the end.  ``--docker-host`` (or
``CTRPROTO_TEST_DOCKER_HOST``) points the suite at an already running daemon instead, which must
have a ``busybox:latest`` image.  Plain ``DOCKER_HOST`` is deliberately not used: the suite
creates and removes containers, and should never do so on a user's daemon by accident.

Every container a test creates carries the session's label; any such container still present
when the session ends is removed and reported as a failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from test_both_worlds import World
from testbed import Registry, Testbed

from ctrproto import APIClient, DockerClient
from ctrproto.errors import NotFound
from ctrproto.models import Container

REPO = Path(__file__).resolve().parent.parent
TEST_LABEL = "ctrproto.test"
SESSION = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
IMAGE = "busybox:latest"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--docker-host",
        default=os.environ.get("CTRPROTO_TEST_DOCKER_HOST"),
        help="run the daemon tests against this running daemon instead of the testbed",
    )


@pytest.fixture(scope="session")
def testbed(request: pytest.FixtureRequest) -> Iterator[Testbed | None]:
    if request.config.getoption("--docker-host"):
        yield None
        return
    bed = Testbed.up(os.environ.get("CTRPROTO_TESTBED_DIR", str(REPO / ".testbed")))
    try:
        yield bed
    finally:
        if not os.environ.get("CTRPROTO_TESTBED_KEEP"):
            bed.down()


@pytest.fixture(scope="session")
def docker_host(request: pytest.FixtureRequest, testbed: Testbed | None) -> Iterator[str]:
    host: str = request.config.getoption("--docker-host") or (testbed and testbed.docker_host)
    yield host
    leftovers = _session_containers(host)
    if leftovers:
        with APIClient(base_url=host) as client:
            for cid in leftovers:
                client.remove_container(cid, force=True, v=True)
        pytest.fail(f"tests left {len(leftovers)} container(s) behind: {leftovers}")


def _session_containers(host: str) -> list[str]:
    with APIClient(base_url=host) as client:
        found = client.containers(all=True, filters={"label": f"{TEST_LABEL}={SESSION}"})
    return [c["Id"][:12] for c in found]


@pytest.fixture(scope="session")
def tb(testbed: Testbed | None) -> dict[str, str]:
    """The testbed's env.json (ports, key and certificate paths), for the transport tests."""
    if testbed is None:
        pytest.skip("transport tests need the project's testbed (not --docker-host)")
    env = getattr(testbed, "env", None)
    if isinstance(env, dict) and "CTRPROTO_TESTBED_TLS_HOST" in env:
        return env
    directory = Path(os.environ.get("CTRPROTO_TESTBED_DIR", str(REPO / ".testbed")))
    data: dict[str, str] = json.loads((directory / "env.json").read_text())
    return data


@pytest.fixture(scope="session")
def registry(tb: dict[str, str]) -> Registry:
    """The testbed's private registries (plain one with busybox:latest, TLS one with a login)."""
    try:
        return Registry.from_env(tb)
    except KeyError as exc:
        pytest.fail(f"the testbed's env.json has no {exc} (re-run scripts/testbed up)")


@pytest.fixture(scope="session")
def nats_url(tb: dict[str, str]) -> str:
    """The testbed's private ``nats-server -js`` (issue 13), ``nats://127.0.0.1:<port>``."""
    url = tb.get("CTRPROTO_TESTBED_NATS", "")
    if not url.startswith("nats://127.0.0.1:"):
        pytest.fail("the testbed's env.json has no NATS server (re-run scripts/testbed up)")
    return url


@pytest.fixture
def api(docker_host: str) -> Iterator[APIClient]:
    client = APIClient(base_url=docker_host, timeout=60)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def made(api: APIClient) -> Iterator[Callable[[str], str]]:
    """Register an image reference (tag or id) to remove at the end."""
    refs: list[str] = []

    def register(ref: str) -> str:
        refs.append(ref)
        return ref

    yield register
    for ref in reversed(refs):
        with contextlib.suppress(NotFound):
            api.remove_image(ref, force=True)


@pytest.fixture
def created(api: APIClient) -> Iterator[list[str]]:
    """Container ids to force-remove (over the sync client) when the test ends, whatever
    happened."""
    ids: list[str] = []
    yield ids
    for cid in ids:
        with contextlib.suppress(NotFound):  # the test removed it itself
            api.remove_container(cid, force=True, v=True)


@pytest.fixture
def test_labels() -> dict[str, str]:
    """Labels every test container must carry (the leftover check looks for them)."""
    return {TEST_LABEL: SESSION}


@pytest.fixture
def make_container(
    api: APIClient, test_labels: dict[str, str]
) -> Iterator[Callable[..., str]]:
    """Create a labelled busybox container; it is force-removed when the test ends."""
    created: list[str] = []

    def make(command: Any = None, image: str = IMAGE, **kwargs: Any) -> str:
        labels = {**test_labels, **kwargs.pop("labels", {})}
        cid: str = api.create_container(image, command, labels=labels, **kwargs)["Id"]
        created.append(cid)
        return cid

    yield make
    for cid in created:
        with contextlib.suppress(Exception):  # the test may have removed it already
            api.remove_container(cid, force=True, v=True)


def wait_for(predicate: Callable[[], bool], timeout: float = 30.0, step: float = 0.05) -> bool:
    """Poll ``predicate`` until it holds (for daemon state that settles asynchronously)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def terminate_pidfile(pidfile: Path, what: str, timeout: float = 60.0) -> None:
    """SIGTERM the process a testbed pidfile names and wait until it is gone (a restart of
    one of the testbed's servers, by the tests that restart one)."""
    pid = int(pidfile.read_text().strip())
    os.kill(pid, signal.SIGTERM)

    def gone() -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False

    assert wait_for(gone, timeout=timeout), f"{what} did not stop"



@pytest.fixture(params=["cython", "python"])
def demux_impl(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a stream test once per demuxer implementation (the compiled one must be built)."""
    from ctrproto.protocol import demux

    impls = demux.implementations()
    name: str = request.param
    if name not in impls:
        if os.environ.get("CTRPROTO_ALLOW_PURE_ONLY"):
            pytest.skip("compiled demuxer not built (CTRPROTO_ALLOW_PURE_ONLY set)")
        pytest.fail("the compiled demuxer is not built: install with `scripts/setup`")
    module = impls[name]
    monkeypatch.setattr(demux, "Demuxer", module.Demuxer)
    monkeypatch.setattr(demux, "demux_buffer", module.demux_buffer)
    return name


# ---------------------------------------------------------------- facade fixtures


@pytest.fixture
def client(docker_host: str) -> Iterator[DockerClient]:
    with DockerClient(base_url=docker_host, timeout=60) as docker:
        yield docker


@pytest.fixture
def cleanup(client: DockerClient) -> Iterator[Callable[[Any], Any]]:
    """Register a container (object, id or name) to force-remove at the end of the test."""
    registered: list[str] = []

    def register(container: Any) -> Any:
        registered.append(container.id if isinstance(container, Container) else str(container))
        return container

    yield register
    for cid in registered:
        with contextlib.suppress(Exception):  # the test may have removed it already
            client.api.remove_container(cid, force=True, v=True)


@pytest.fixture
def background(
    client: DockerClient, test_labels: dict[str, str], cleanup: Callable[[Any], Any]
) -> Callable[..., Container]:
    """Start a labelled busybox that sleeps (or runs ``command``) in the background."""

    def start(command: Any = "sleep 300", **kwargs: Any) -> Container:
        labels = {**test_labels, **kwargs.pop("labels", {})}
        kwargs.setdefault("network_mode", "none")
        container = client.containers.run(
            IMAGE, command, detach=True, labels=labels, **kwargs
        )
        assert isinstance(container, Container)
        cleanup(container)
        return container

    return start


#: Writes the private docker CLI config.json that ``cli_config`` set up; returns its path.
WriteConfig = Callable[[dict[str, Any]], Path]


@pytest.fixture
def cli_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> WriteConfig:
    """A private, empty docker CLI configuration (``HOME`` and ``DOCKER_CONFIG`` in a temporary
    directory); the returned function writes its config.json.  Clients read it when made."""
    home = tmp_path / "home"
    home.mkdir()
    config_dir = tmp_path / "docker-config"
    config_dir.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("DOCKER_CONFIG", str(config_dir))

    def write(content: dict[str, Any]) -> Path:
        path = config_dir / "config.json"
        path.write_text(json.dumps(content))
        return path

    return write


@pytest.fixture(params=["sync", "asyncio"])
def world(request: pytest.FixtureRequest) -> Iterator[World]:
    """The same test body against the sync and the asyncio client (see test_both_worlds)."""
    w = World(request.param)
    yield w
    w.close()


# ---------------------------------------------------------------- ingest fixtures


@pytest.fixture
def tag() -> str:
    """A fresh label value: the containers of one ingest test."""
    return f"ing{uuid.uuid4().hex[:10]}"


@pytest.fixture
def ingest_labels(test_labels: dict[str, str], tag: str) -> dict[str, str]:
    return {**test_labels, "ctrproto.ingest-test": tag}


@pytest.fixture
def start_writer(
    api: APIClient, make_container: Callable[..., str], ingest_labels: dict[str, str]
) -> Callable[..., str]:
    def start(
        command: list[str], tty: bool = False, run: bool = True, driver: str = "json-file"
    ) -> str:
        host_config = api.create_host_config(network_mode="none", log_config={"Type": driver})
        cid = make_container(command, labels=ingest_labels, tty=tty, host_config=host_config)
        if run:
            api.start(cid)
        return cid

    return start
