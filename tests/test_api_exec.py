"""Exec endpoints of the low-level client, against the real daemon."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from ctrproto import APIClient
from ctrproto.api import HijackedSocket
from ctrproto.errors import Conflict, InvalidArgument, NotFound

pytestmark = pytest.mark.daemon

MakeContainer = Callable[..., str]


@pytest.fixture
def running(api: APIClient, make_container: MakeContainer) -> Iterator[str]:
    cid = make_container(["sleep", "120"])
    api.start(cid)
    yield cid
    api.kill(cid)


def test_exec_output_and_exit_code(api: APIClient, running: str, demux_impl: str) -> None:
    exec_id = api.exec_create(running, "sh -c 'echo out; sleep 0.3; echo err >&2; exit 3'")["Id"]
    assert api.exec_inspect(exec_id)["Running"] is False
    assert api.exec_start(exec_id) == b"out\nerr\n"
    info = api.exec_inspect({"Id": exec_id})
    assert info["ExitCode"] == 3 and info["ProcessConfig"]["entrypoint"] == "sh"


def test_exec_demux_gives_bytes_on_both_sides(api: APIClient, running: str) -> None:
    exec_id = api.exec_create(running, ["sh", "-c", "echo out; echo err >&2"])["Id"]
    assert api.exec_start(exec_id, demux=True) == (b"out\n", b"err\n")
    silent = api.exec_create(running, ["sh", "-c", "echo only-out"])["Id"]
    assert api.exec_start(silent, demux=True) == (b"only-out\n", b"")
    no_stderr = api.exec_create(running, ["sh", "-c", "echo o; echo e >&2"], stderr=False)["Id"]
    assert api.exec_start(no_stderr) == b"o\n"


def test_exec_large_output(api: APIClient, running: str, demux_impl: str) -> None:
    exec_id = api.exec_create(running, ["seq", "1", "200000"])["Id"]
    out, err = api.exec_start(exec_id, demux=True)
    assert out == b"".join(b"%d\n" % i for i in range(1, 200001)) and err == b""


def test_exec_stream_arrives_while_running(api: APIClient, running: str) -> None:
    exec_id = api.exec_create(running, ["sh", "-c", "echo a; sleep 1; echo b >&2"])["Id"]
    stream = api.exec_start(exec_id, stream=True)
    started = time.monotonic()
    assert next(stream) == b"a\n"
    assert time.monotonic() - started < 0.9
    assert list(stream) == [b"b\n"]
    assert api.exec_inspect(exec_id)["ExitCode"] == 0

    exec_id = api.exec_create(running, ["sh", "-c", "echo a; sleep 0.3; echo b >&2"])["Id"]
    chunks = list(api.exec_start(exec_id, stream=True, demux=True))
    assert chunks == [(b"a\n", None), (None, b"b\n")]


def test_exec_socket_stdin(api: APIClient, running: str) -> None:
    exec_id = api.exec_create(running, ["sh", "-c", "cat; echo bye >&2"], stdin=True)["Id"]
    sock = api.exec_start(exec_id, socket=True)
    assert isinstance(sock, HijackedSocket)
    with sock:
        sock.sendall(b"to stdin\n")
        sock.shutdown_write()
        frames = list(sock.iter_frames())
    assert b"".join(p for s, p in frames if s == 1) == b"to stdin\n"
    assert b"".join(p for s, p in frames if s == 2) == b"bye\n"
    assert api.exec_inspect(exec_id)["ExitCode"] == 0


def test_exec_tty_and_resize(api: APIClient, running: str) -> None:
    exec_id = api.exec_create(running, ["sh", "-c", "sleep 0.5; stty size"], tty=True)["Id"]
    sock = api.exec_start(exec_id, tty=True, socket=True)
    with sock:
        api.exec_resize(exec_id, height=21, width=77)
        output = sock.read()
    assert output == b"21 77\r\n"
    plain = api.exec_create(running, ["sh", "-c", "echo x; echo y >&2"], tty=True)["Id"]
    assert api.exec_start(plain, tty=True) == b"x\r\ny\r\n"  # one stream under a TTY


def test_exec_environment_workdir_user(api: APIClient, running: str) -> None:
    exec_id = api.exec_create(
        running,
        ["sh", "-c", 'echo "$GREETING $EMPTY|$(pwd)|$(id -u)"'],
        environment={"GREETING": "hello", "EMPTY": ""},
        workdir="/etc",
        user="65534",
        detach_keys="ctrl-x,x",
    )["Id"]
    assert api.exec_start(exec_id) == b"hello |/etc|65534\n"
    listed = api.exec_create(running, "env", environment=["LISTED=1"])["Id"]
    output = api.exec_start(listed)
    assert isinstance(output, bytes) and b"LISTED=1\n" in output


def test_exec_privileged_is_requested(api: APIClient, running: str) -> None:
    # The testbed daemon may not grant full capabilities, so check the request, not the run.
    exec_id = api.exec_create(running, ["true"], privileged=True, tty=True, user="nobody")["Id"]
    config = api.exec_inspect(exec_id)["ProcessConfig"]
    assert config["privileged"] is True and config["tty"] is True and config["user"] == "nobody"


def test_exec_detach(api: APIClient, running: str) -> None:
    exec_id = api.exec_create(running, ["sh", "-c", "sleep 0.3; touch /tmp/detached"])["Id"]
    started = time.monotonic()
    assert api.exec_start(exec_id, detach=True) == ""  # docker-py returns the answer text
    assert time.monotonic() - started < 0.3
    deadline = time.monotonic() + 10
    while api.exec_inspect(exec_id)["Running"] and time.monotonic() < deadline:
        time.sleep(0.05)
    check = api.exec_create(running, ["ls", "/tmp/detached"])["Id"]
    assert api.exec_start(check) == b"/tmp/detached\n"
    with pytest.raises(InvalidArgument):
        api.exec_start(exec_id, detach=True, stream=True)


def test_exec_errors(api: APIClient, make_container: MakeContainer) -> None:
    stopped = make_container(["true"])
    with pytest.raises(Conflict) as info:
        api.exec_create(stopped, ["true"])
    assert info.value.status_code == 409 and "not running" in (info.value.explanation or "")
    with pytest.raises(NotFound):
        api.exec_create("ctrproto-no-such-container", ["true"])
    with pytest.raises(NotFound) as missing:
        api.exec_inspect("0" * 64)
    assert missing.value.status_code == 404
    with pytest.raises(NotFound):
        api.exec_start("0" * 64)
