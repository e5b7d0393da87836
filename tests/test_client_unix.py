"""The low-level client over the Unix socket, against the real testbed daemon."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from ctrproto import APIClient
from ctrproto.engine.versions import MAX_API_VERSION, version_lt
from ctrproto.errors import (
    APIError,
    Conflict,
    DockerConnectionError,
    ImageNotFound,
    InvalidVersion,
    NotFound,
    ReadTimeout,
)

pytestmark = pytest.mark.daemon


def test_ping_version_info(api: APIClient) -> None:
    assert api.ping() is True
    version = api.version()
    assert version["ApiVersion"] and version["Version"]
    info = api.info()
    assert info["ID"] and "Containers" in info


def test_version_is_negotiated_once(api: APIClient) -> None:
    server = api.version(api_version=False)["ApiVersion"]
    expected = server if version_lt(server, MAX_API_VERSION) else MAX_API_VERSION
    assert api.api_version == expected
    opened = api.pool.opened
    for _ in range(5):
        api.info()
    assert api.api_version == expected
    assert api.pool.opened == opened  # no new connection, no renegotiation


def test_explicit_version_is_used_verbatim(docker_host: str) -> None:
    with APIClient(base_url=docker_host, version="1.30") as client:
        assert client.api_version == "1.30"
        assert client.info()["ID"]


def test_malformed_version_is_refused(docker_host: str) -> None:
    with pytest.raises(InvalidVersion, match="1.x"):
        APIClient(base_url=docker_host, version="1.x")


def test_keep_alive_reuses_one_connection(api: APIClient) -> None:
    api.ping()
    opened = api.pool.opened
    for _ in range(50):
        api.ping()
    assert api.pool.opened == opened
    assert api.pool.idle_count == 1


def test_not_found_carries_status_and_explanation(api: APIClient) -> None:
    with pytest.raises(NotFound) as info:
        api.inspect_container("ctrproto-no-such-container")
    err = info.value
    assert err.status_code == 404
    assert err.explanation and "ctrproto-no-such-container" in err.explanation
    assert "404 Client Error" in str(err)
    assert isinstance(err, APIError)


def test_missing_image_is_image_not_found(api: APIClient) -> None:
    with pytest.raises(ImageNotFound) as info:
        api.create_container("127.0.0.1:1/ctrproto-test/missing:never", ["true"])
    assert info.value.status_code == 404


def test_name_conflict_is_conflict(
    api: APIClient, make_container: Callable[..., str]
) -> None:
    name = f"ctrproto-conflict-{time.time_ns()}"
    make_container(["true"], name=name)
    with pytest.raises(Conflict) as info:
        make_container(["true"], name=name)
    assert info.value.status_code == 409
    assert name in (info.value.explanation or "")


def test_bad_request_is_api_error(api: APIClient, make_container: Callable[..., str]) -> None:
    cid = make_container(["true"])
    with pytest.raises(APIError) as info:
        api.kill(cid, signal="NOSUCHSIGNAL")  # not running: 409, or 400 on the signal
    assert info.value.status_code in (400, 409)
    assert info.value.explanation


def test_run_and_logs_in_order(
    api: APIClient, make_container: Callable[..., str], demux_impl: str
) -> None:
    # Two pipes are copied by two goroutines in the daemon: only writes spaced in time have an
    # order the log can keep.
    script = "for i in 1 2 3 4 5; do echo out$i; sleep 0.2; echo err$i >&2; sleep 0.2; done"
    cid = make_container(["sh", "-c", script])
    api.start(cid)
    assert api.wait(cid)["StatusCode"] == 0
    expected = b"".join(b"out%d\nerr%d\n" % (i, i) for i in range(1, 6))
    assert api.logs(cid) == expected
    assert api.logs(cid, stderr=False) == b"".join(b"out%d\n" % i for i in range(1, 6))
    assert b"".join(api.logs(cid, stream=True)) == expected


def test_logs_stream_while_running(
    api: APIClient, make_container: Callable[..., str], demux_impl: str
) -> None:
    cid = make_container(["sh", "-c", "echo first; sleep 2; echo second"])
    api.start(cid)
    stream = api.logs(cid, stream=True, follow=True)
    assert not isinstance(stream, bytes)
    started = time.monotonic()
    first = next(stream)
    assert first == b"first\n"
    assert time.monotonic() - started < 1.9  # arrived before the container went on
    assert b"".join(stream) == b"second\n"


def test_tty_logs_are_raw(api: APIClient, make_container: Callable[..., str]) -> None:
    cid = make_container(["sh", "-c", "echo hello; echo oops >&2"], tty=True)
    api.start(cid)
    api.wait(cid)
    assert api.logs(cid) == b"hello\r\noops\r\n"


def test_large_logs_arrive_whole(
    api: APIClient, make_container: Callable[..., str], demux_impl: str
) -> None:
    # 20000 numbered lines through the chunked, multiplexed path.
    cid = make_container(["sh", "-c", "seq 1 20000; seq 1 100 >&2"])
    api.start(cid)
    api.wait(cid)
    out = api.logs(cid, stderr=False)
    assert out == b"".join(b"%d\n" % i for i in range(1, 20001))


def test_half_read_stream_is_not_reused(
    api: APIClient, make_container: Callable[..., str]
) -> None:
    cid = make_container(["sh", "-c", "seq 1 100000"])
    api.start(cid)
    api.wait(cid)
    api.ping()
    opened = api.pool.opened
    stream = api.logs(cid, stream=True)
    assert not isinstance(stream, bytes)
    next(stream)
    stream.close()  # abandon the body half-read
    assert api.ping() is True  # a fresh connection, not the abandoned one
    assert api.pool.opened == opened + 1


def test_attach_socket_stdin_and_half_close(
    api: APIClient, make_container: Callable[..., str]
) -> None:
    cid = make_container(["sh", "-c", "cat; echo done >&2"], stdin_open=True)
    sock = api.attach_socket(cid, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
    try:
        api.start(cid)
        sock.sendall(b"hello\nworld\n")
        sock.shutdown_write()  # the container's cat sees EOF and exits
        frames = list(sock.iter_frames())
    finally:
        sock.close()
    assert (1, b"hello\nworld\n") in frames or b"".join(
        p for s, p in frames if s == 1
    ) == b"hello\nworld\n"
    assert b"".join(p for s, p in frames if s == 2) == b"done\n"
    assert api.wait(cid)["StatusCode"] == 0


def test_wait_timeout_raises_timeout(
    api: APIClient, make_container: Callable[..., str]
) -> None:
    cid = make_container(["sleep", "30"])
    api.start(cid)
    started = time.monotonic()
    with pytest.raises(ReadTimeout) as info:
        api.wait(cid, timeout=0.5)
    assert isinstance(info.value, TimeoutError)
    assert time.monotonic() - started < 5
    api.kill(cid)


def test_missing_socket_is_a_clear_connection_error(tmp_path: object) -> None:
    with APIClient(base_url="unix:///nonexistent/ctrproto.sock") as client, pytest.raises(
        DockerConnectionError, match="no such socket file"
    ) as info:
        client.ping()
    assert "unix:///nonexistent/ctrproto.sock" in str(info.value)
    assert isinstance(info.value, ConnectionError)


def test_threads_share_one_client(api: APIClient) -> None:
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(50):
                assert api.ping() is True
                assert api.version()["ApiVersion"]
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert api.pool.opened <= 8 + 1
