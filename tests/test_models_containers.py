"""The containers facade against the real daemon: the collection and every Container method."""

from __future__ import annotations

import io
import json
import tarfile
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from conftest import wait_for
from models_helpers import IMAGE, MISSING_IMAGE

from ctrproto import DockerClient
from ctrproto.api import HijackedSocket
from ctrproto.errors import (
    APIError,
    Conflict,
    ContainerError,
    ImageNotFound,
    InvalidVersion,
    NotFound,
    Timeout,
)
from ctrproto.models import Container, ExecResult

pytestmark = pytest.mark.daemon

Cleanup = Callable[[Any], Any]
Background = Callable[..., Container]


def _gone(client: DockerClient, name: str) -> bool:
    try:
        client.containers.get(name)
    except NotFound:
        return True
    return False


def _unique(prefix: str) -> str:
    return f"ctrproto-{prefix}-{time.monotonic_ns()}"


# =========================================================================== run


def test_run_returns_stdout(client: DockerClient, test_labels: dict[str, str]) -> None:
    out = client.containers.run(
        IMAGE, "sh -c 'echo out; echo err >&2'", labels=test_labels, remove=True
    )
    assert out == b"out\n"


def test_run_stdout_stderr_flags(client: DockerClient, test_labels: dict[str, str]) -> None:
    cmd = ["sh", "-c", "echo out; sleep 0.3; echo err >&2"]
    only_err = client.containers.run(
        IMAGE, cmd, stdout=False, stderr=True, labels=test_labels, remove=True
    )
    assert only_err == b"err\n"
    both = client.containers.run(IMAGE, cmd, stderr=True, labels=test_labels, remove=True)
    assert both == b"out\nerr\n"


def test_run_nonzero_raises_container_error_and_removes(
    client: DockerClient, test_labels: dict[str, str]
) -> None:
    name = _unique("fail")
    cmd = "sh -c 'echo bad >&2; exit 3'"
    with pytest.raises(ContainerError) as info:
        client.containers.run(IMAGE, cmd, name=name, labels=test_labels, remove=True)
    err = info.value
    assert err.exit_status == 3
    assert err.command == cmd
    assert err.image == IMAGE
    assert err.stderr == b"bad\n"
    assert "exit status 3" in str(err)
    assert _gone(client, name)


def test_run_nonzero_without_remove_keeps_container(
    client: DockerClient, test_labels: dict[str, str], cleanup: Cleanup
) -> None:
    name = _unique("keep")
    cleanup(name)
    with pytest.raises(ContainerError) as info:
        client.containers.run(IMAGE, "false", name=name, labels=test_labels)
    assert info.value.container.name == name
    assert client.containers.get(name).status == "exited"


def test_run_remove_on_success(client: DockerClient, test_labels: dict[str, str]) -> None:
    name = _unique("ok")
    assert client.containers.run(IMAGE, "true", name=name, labels=test_labels, remove=True) == b""
    assert _gone(client, name)


def test_run_remove_on_keyboard_interrupt(
    client: DockerClient,
    test_labels: dict[str, str],
    cleanup: Cleanup,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    name = _unique("intr")
    cleanup(name)

    def interrupted(self: HijackedSocket, join: bool = True) -> Any:
        raise KeyboardInterrupt  # as if Ctrl-C arrived while the output was being read

    monkeypatch.setattr(HijackedSocket, "iter_frames", interrupted)
    with pytest.raises(KeyboardInterrupt):
        client.containers.run(IMAGE, "sleep 300", name=name, labels=test_labels, remove=True)
    assert _gone(client, name)


def test_run_remove_when_start_fails(client: DockerClient, test_labels: dict[str, str]) -> None:
    name = _unique("nostart")
    with pytest.raises(APIError):
        client.containers.run(
            IMAGE, "/no/such/binary", name=name, labels=test_labels, remove=True
        )
    assert _gone(client, name)


@pytest.mark.slow
def test_run_stream_yields_while_running(
    client: DockerClient, test_labels: dict[str, str]
) -> None:
    name = _unique("stream")
    started = time.monotonic()
    stream = client.containers.run(
        IMAGE,
        ["sh", "-c", "echo first; sleep 3; echo second"],
        name=name,
        labels=test_labels,
        stream=True,
        remove=True,
    )
    assert not isinstance(stream, (bytes, Container)) and stream is not None
    first = next(iter(stream))
    assert first == b"first\n"
    assert time.monotonic() - started < 2.5  # before the container has finished
    rest = b"".join(stream)
    assert rest == b"second\n"
    assert _gone(client, name)


def test_run_stream_abandoned_still_removes(
    client: DockerClient, test_labels: dict[str, str]
) -> None:
    name = _unique("abandon")
    stream = client.containers.run(
        IMAGE,
        ["sh", "-c", "echo first; sleep 300"],
        name=name,
        labels=test_labels,
        stream=True,
        remove=True,
    )
    assert next(iter(stream)) == b"first\n"  # type: ignore[arg-type]
    stream.close()  # type: ignore[union-attr]
    assert _gone(client, name)


def test_run_stream_nonzero_raises_at_end(
    client: DockerClient, test_labels: dict[str, str]
) -> None:
    stream = client.containers.run(
        IMAGE, "sh -c 'echo x; exit 5'", labels=test_labels, stream=True, remove=True
    )
    chunks: list[bytes] = []
    with pytest.raises(ContainerError) as info:
        for chunk in stream:  # type: ignore[union-attr]
            chunks.append(chunk)
    assert chunks == [b"x\n"]
    assert info.value.exit_status == 5


def test_run_detach_returns_container(background: Background) -> None:
    container = background()
    assert isinstance(container, Container)
    container.reload()
    assert container.status == "running"


def test_run_detach_remove_sets_auto_remove(
    client: DockerClient, test_labels: dict[str, str], cleanup: Cleanup
) -> None:
    container = client.containers.run(
        IMAGE, "sleep 1", detach=True, remove=True, labels=test_labels
    )
    assert isinstance(container, Container)
    cleanup(container)
    assert container.attrs["HostConfig"]["AutoRemove"] is True


def test_run_missing_image_pull_fails_as_image_not_found(
    client: DockerClient, test_labels: dict[str, str]
) -> None:
    with pytest.raises(ImageNotFound) as info:
        client.containers.run(MISSING_IMAGE, "true", labels=test_labels, remove=True)
    assert MISSING_IMAGE in str(info.value)


def test_create_missing_image_is_not_pulled(
    client: DockerClient, test_labels: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_pull(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("create() must not pull")

    monkeypatch.setattr(type(client.api), "pull", no_pull, raising=False)
    with pytest.raises(ImageNotFound):
        client.containers.create(MISSING_IMAGE, "true", labels=test_labels)


def test_run_unknown_keyword_is_type_error(client: DockerClient) -> None:
    with pytest.raises(TypeError, match="no_such_option"):
        client.containers.run(IMAGE, "true", no_such_option=1)
    with pytest.raises(TypeError, match="bogus"):
        client.containers.create(IMAGE, "true", bogus=True)


def test_run_keyword_too_new_for_version(docker_host: str) -> None:
    with DockerClient(base_url=docker_host, version="1.24") as old:
        with pytest.raises(InvalidVersion) as info:
            old.containers.run(IMAGE, "true", mounts=[])
        assert "mounts" in str(info.value) and "1.30" in str(info.value)


def test_run_unreadable_log_driver_returns_none(
    client: DockerClient, test_labels: dict[str, str]
) -> None:
    out = client.containers.run(
        IMAGE, "echo hi", labels=test_labels, remove=True, log_config={"Type": "none"}
    )
    assert out is None


def test_create_returns_created_container(
    client: DockerClient, test_labels: dict[str, str], cleanup: Cleanup
) -> None:
    container = cleanup(client.containers.create(IMAGE, "true", labels=test_labels))
    assert container.status == "created"
    assert container.labels == test_labels
    assert container.image is not None and "busybox:latest" in container.image.tags


# =========================================================================== get / list / prune


def test_get_by_id_short_id_and_name(background: Background, client: DockerClient) -> None:
    name = _unique("get")
    container = background(name=name)
    for key in (container.id, container.short_id, name):
        found = client.containers.get(key)
        assert found == container
        assert found.name == name
    with pytest.raises(NotFound) as info:
        client.containers.get("ctrproto-no-such-container")
    assert info.value.status_code == 404


def test_list_all_filters_and_sparse(
    client: DockerClient, background: Background, test_labels: dict[str, str], cleanup: Cleanup
) -> None:
    running = background(labels={"role": "running"})
    stopped = cleanup(
        client.containers.create(IMAGE, "true", labels={**test_labels, "role": "stopped"})
    )
    label = "ctrproto.test={}".format(test_labels["ctrproto.test"])
    default = client.containers.list(filters={"label": label})
    assert running in default and stopped not in default
    everything = client.containers.list(all=True, filters={"label": label})
    assert {running, stopped} <= set(everything)
    assert all("Config" in c.attrs for c in everything)  # inspected
    by_role = client.containers.list(all=True, filters={"label": [label, "role=stopped"]})
    assert by_role == [stopped]
    by_status = client.containers.list(filters={"status": "created", "label": label})
    assert by_status == [stopped]
    sparse = client.containers.list(all=True, sparse=True, filters={"label": label})
    assert set(sparse) == set(everything)
    item = next(c for c in sparse if c == stopped)
    assert "Config" not in item.attrs and item.name == stopped.name
    assert item.status == "created" and item.labels["role"] == "stopped"
    item.reload()
    assert "Config" in item.attrs


def test_list_since_before_limit(
    client: DockerClient, test_labels: dict[str, str], cleanup: Cleanup
) -> None:
    made = [
        cleanup(client.containers.create(IMAGE, "true", labels=test_labels)) for _ in range(3)
    ]
    label = {"label": "ctrproto.test={}".format(test_labels["ctrproto.test"])}
    since = client.containers.list(since=made[0].id, filters=label)  # non-running included
    assert since == [made[2], made[1]]
    before = client.containers.list(before=made[2].name, filters=label)
    assert made[0] in before and made[1] in before and made[2] not in before
    limited = client.containers.list(limit=1, filters=label)
    assert limited == [made[2]]


def test_list_ignore_removed(
    client: DockerClient,
    test_labels: dict[str, str],
    cleanup: Cleanup,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    label = {"label": "ctrproto.test={}".format(test_labels["ctrproto.test"])}
    kept = cleanup(client.containers.create(IMAGE, "true", labels=test_labels))
    doomed: list[Container] = []
    original = client.api.containers

    def list_then_remove(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        client.api.remove_container(doomed.pop().id, force=True)
        return result

    monkeypatch.setattr(client.api, "containers", list_then_remove)
    doomed.append(cleanup(client.containers.create(IMAGE, "true", labels=test_labels)))
    with pytest.raises(NotFound):
        client.containers.list(all=True, filters=label)
    victim = cleanup(client.containers.create(IMAGE, "true", labels=test_labels))
    doomed.append(victim)
    remaining = client.containers.list(all=True, filters=label, ignore_removed=True)
    assert kept in remaining and victim not in remaining


def test_list_inspects_in_parallel(
    client: DockerClient,
    test_labels: dict[str, str],
    cleanup: Cleanup,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for _ in range(6):
        cleanup(client.containers.create(IMAGE, "true", labels=test_labels))
    original = client.api.inspect_container
    active = 0
    peak = 0
    lock = threading.Lock()

    def slow_inspect(container: Any) -> Any:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        try:
            time.sleep(0.2)
            return original(container)
        finally:
            with lock:
                active -= 1

    monkeypatch.setattr(client.api, "inspect_container", slow_inspect)
    label = {"label": "ctrproto.test={}".format(test_labels["ctrproto.test"])}
    started = time.monotonic()
    found = client.containers.list(all=True, filters=label)
    assert len(found) >= 6
    assert peak > 1
    assert time.monotonic() - started < 0.2 * len(found)


def test_prune(client: DockerClient, test_labels: dict[str, str], cleanup: Cleanup) -> None:
    stopped = cleanup(client.containers.create(IMAGE, "true", labels=test_labels))
    label = "ctrproto.test={}".format(test_labels["ctrproto.test"])
    result = client.containers.prune(filters={"label": label})
    assert stopped.id in result["ContainersDeleted"]
    assert isinstance(result["SpaceReclaimed"], int)
    assert _gone(client, stopped.id)


# =========================================================================== model basics


def test_model_equality_hash_repr_and_reload(background: Background) -> None:
    container = background()
    same = container.client.containers.get(container.id)  # type: ignore[union-attr]
    assert same == container and hash(same) == hash(container)
    assert repr(container) == f"<Container: {container.short_id}>"
    assert len(container.short_id) == 12
    cached = container.status
    container.stop(timeout=0)
    assert container.status == cached  # cached until reload()
    container.reload()
    assert container.status == "exited"


# =========================================================================== logs


def test_logs_stdout_stderr_in_order_tail_timestamps(
    client: DockerClient, test_labels: dict[str, str], cleanup: Cleanup
) -> None:
    container = cleanup(
        client.containers.run(
            IMAGE,
            ["sh", "-c", "echo a; sleep 0.2; echo b >&2; sleep 0.2; echo c"],
            detach=True,
            labels=test_labels,
        )
    )
    container.wait()
    assert container.logs() == b"a\nb\nc\n"
    assert container.logs(stderr=False) == b"a\nc\n"
    assert container.logs(stdout=False) == b"b\n"
    assert container.logs(tail=1) == b"c\n"
    stamped = container.logs(timestamps=True).splitlines()
    assert len(stamped) == 3 and stamped[0].endswith(b" a")


@pytest.mark.slow
def test_logs_since_until_forms(background: Background) -> None:
    container = background(["sh", "-c", "echo early; sleep 2; echo late; sleep 300"])
    wait_for(lambda: b"late" in container.logs(), timeout=10)
    start = container.attrs["State"]["StartedAt"]
    assert start
    middle = time.time() - 1.0  # between the two lines
    assert container.logs(since=middle) == b"late\n"
    assert container.logs(until=middle) == b"early\n"
    assert container.logs(since=datetime.now() - timedelta(seconds=1)) == b"late\n"
    assert container.logs(since=int(time.time()) + 10) == b""


def test_logs_stream_follow(background: Background) -> None:
    container = background(["sh", "-c", "for i in 1 2 3; do echo $i; sleep 0.3; done"])
    chunks = list(container.logs(stream=True, follow=True))
    assert b"".join(chunks) == b"1\n2\n3\n"


def test_logs_tty_stream_is_chunked(background: Background) -> None:
    container = background(["sh", "-c", "echo hello-tty"], tty=True)
    container.wait()
    # docker-py's items for a TTY: one byte each; chunks=True is ctrproto's bulk shape.
    assert list(container.logs(stream=True)) == [bytes([b]) for b in b"hello-tty\r\n"]
    chunks = list(container.logs(stream=True, chunks=True))
    assert b"".join(chunks) == b"hello-tty\r\n"
    assert len(chunks) < 5  # chunks, not one byte per item


# =========================================================================== exec_run


def test_exec_run_output_and_exit_code(background: Background) -> None:
    container = background()
    result = container.exec_run("sh -c 'echo hi; exit 4'")
    assert isinstance(result, ExecResult)
    assert result.exit_code == 4 and result.output == b"hi\n"
    code, out = container.exec_run(["sh", "-c", "echo $FOO; pwd; id -u"],
                                   environment={"FOO": "bar"}, workdir="/tmp", user="1234")
    assert code == 0
    assert out == b"bar\n/tmp\n1234\n"


def test_exec_run_demux_gives_empty_bytes(background: Background) -> None:
    container = background()
    code, (out, err) = container.exec_run("echo only-out", demux=True)
    assert code == 0 and out == b"only-out\n" and err == b""
    code, (out, err) = container.exec_run("sh -c 'echo e >&2'", demux=True)
    assert out == b"" and err == b"e\n"


def test_exec_run_stream_exit_code_after_exhaustion(background: Background) -> None:
    container = background()
    result = container.exec_run(
        ["sh", "-c", "echo one; sleep 0.3; echo two; exit 2"], stream=True
    )
    assert result.exit_code is None
    assert b"".join(result.output) == b"one\ntwo\n"
    assert result.exit_code == 2
    assert result.output.exit_code == 2


def test_exec_run_socket(background: Background) -> None:
    container = background()
    result = container.exec_run("cat", stdin=True, socket=True)
    assert result.exit_code is None
    sock = result.output
    try:
        sock.sendall(b"ping\n")
        sock.shutdown_write()
        data = b"".join(payload for _, payload in sock.iter_frames())
    finally:
        sock.close()
    assert data == b"ping\n"


def test_exec_run_detach(background: Background) -> None:
    container = background()
    result = container.exec_run("touch /tmp/detached", detach=True)
    assert result.output == ""  # docker-py's: the text of the daemon's (empty) answer
    assert wait_for(lambda: container.exec_run("test -e /tmp/detached").exit_code == 0)


# =========================================================================== wait / lifecycle


def test_wait_returns_dict_and_timeout_raises(background: Background) -> None:
    container = background()
    with pytest.raises(Timeout) as info:
        container.wait(timeout=0.5)
    assert isinstance(info.value, TimeoutError)
    container.kill()
    assert container.wait()["StatusCode"] == 137
    assert container.wait(condition="not-running")["StatusCode"] == 137


def test_kill_by_name_and_number(background: Background) -> None:
    first = background(["sh", "-c", "trap 'exit 7' USR1; while true; do sleep 0.1; done"])
    time.sleep(0.5)
    first.kill("SIGUSR1")
    assert first.wait(timeout=20)["StatusCode"] == 7
    second = background()
    second.kill(9)
    assert second.wait(timeout=20)["StatusCode"] == 137


def test_stop_restart_pause_unpause(background: Background) -> None:
    container = background()
    container.pause()
    container.reload()
    assert container.status == "paused"
    container.unpause()
    container.restart(timeout=0)
    container.reload()
    assert container.status == "running" and container.attrs["RestartCount"] == 0
    container.stop(timeout=0)
    container.reload()
    assert container.status == "exited"
    container.start()
    container.reload()
    assert container.status == "running"


def test_remove_running_needs_force(background: Background, client: DockerClient) -> None:
    container = background()
    with pytest.raises(Conflict) as info:
        container.remove()
    assert info.value.status_code == 409
    container.remove(force=True, v=True)
    assert _gone(client, container.id)


def test_rename_and_resize(background: Background) -> None:
    container = background(tty=True)
    new_name = _unique("renamed")
    container.rename(new_name)
    container.reload()
    assert container.name == new_name
    container.resize(height=40, width=100)
    assert container.exec_run("true").exit_code == 0


def test_update_returns_warnings(background: Background) -> None:
    container = background()
    result = container.update(cpu_shares=512, restart_policy={"Name": "on-failure",
                                                              "MaximumRetryCount": 2})
    assert "Warnings" in result
    container.reload()
    assert container.attrs["HostConfig"]["CpuShares"] == 512
    assert container.attrs["HostConfig"]["RestartPolicy"]["MaximumRetryCount"] == 2


def test_top_and_diff(background: Background) -> None:
    container = background()
    top = container.top()
    assert "Titles" in top and any("sleep" in " ".join(p) for p in top["Processes"])
    container.exec_run("touch /tmp/newfile")
    changes = container.diff()
    assert {"Path": "/tmp/newfile", "Kind": 1} in changes


def test_commit_creates_runnable_image(
    background: Background, client: DockerClient, test_labels: dict[str, str]
) -> None:
    container = background()
    container.exec_run("sh -c 'echo committed > /marker'")
    image = container.commit(repository="ctrproto-test/committed", tag="t1", message="m")
    try:
        assert "ctrproto-test/committed:t1" in image.tags
        out = client.containers.run(image, "cat /marker", labels=test_labels, remove=True)
        assert out == b"committed\n"
    finally:
        client.images.remove(image.id, force=True)


# =========================================================================== archives / stats


def test_put_and_get_archive(background: Background) -> None:
    container = background()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"hello"))
    assert container.put_archive("/tmp", buffer.getvalue()) is True
    bits, stat = container.get_archive("/tmp/hello.txt", chunk_size=3)
    assert stat["name"] == "hello.txt" and stat["size"] == 5
    data = b"".join(bits)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        member = tar.extractfile("hello.txt")
        assert member is not None and member.read() == b"hello"
    with pytest.raises(NotFound):
        container.get_archive("/no/such/path")


def test_export_streams_chunks(background: Background) -> None:
    container = background()
    pieces = container.export(chunk_size=64 * 1024)
    first = next(iter(pieces))
    assert len(first) <= 64 * 1024
    rest = b"".join(pieces)
    with tarfile.open(fileobj=io.BytesIO(first + rest)) as tar:
        assert "bin/busybox" in tar.getnames() or "bin/sh" in tar.getnames()


def test_stats_single_and_stream(background: Background) -> None:
    container = background()
    one = container.stats(stream=False)
    assert isinstance(one, dict) and "memory_stats" in one
    stream = container.stats(stream=True, decode=True)
    first = next(iter(stream))
    assert isinstance(first, dict) and "cpu_stats" in first
    stream.close()


def test_stats_raw_stream_is_json_bytes(background: Background) -> None:
    container = background()
    stream = container.stats(stream=True, decode=False)
    raw = b""
    for piece in stream:
        assert isinstance(piece, bytes)
        raw += piece
        if raw.count(b"\n") >= 2:
            break
    stream.close()
    first = json.loads(raw.split(b"\n", 1)[0])
    assert "cpu_stats" in first and "memory_stats" in first


def test_exec_run_tty_is_raw(background: Background) -> None:
    container = background()
    code, output = container.exec_run(["sh", "-c", "echo out; echo err >&2; test -t 1"], tty=True)
    assert code == 0  # stdout is a terminal inside the exec
    assert output == b"out\r\nerr\r\n"  # one raw stream: the TTY merged both, with CRLF


# =========================================================================== attach


def test_attach_logs_and_stream(background: Background) -> None:
    container = background(["sh", "-c", "echo before; sleep 1; echo after >&2; sleep 300"])
    assert wait_for(lambda: container.logs() == b"before\n", timeout=10)
    snapshot = container.attach(stdout=True, stderr=True, stream=False, logs=True)
    assert snapshot == b"before\n"
    stream = container.attach(stdout=True, stderr=True, stream=True, logs=False)
    assert next(iter(stream)) == b"after\n"  # arrives while the container runs
    stream.close()


def test_attach_socket_stdin_eof(
    client: DockerClient, test_labels: dict[str, str], cleanup: Cleanup
) -> None:
    container = cleanup(
        client.containers.create(
            IMAGE, "cat", stdin_open=True, labels=test_labels, network_mode="none"
        )
    )
    sock = container.attach_socket(
        params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
    )
    try:
        container.start()
        sock.sendall(b"through stdin\n")
        sock.shutdown_write()
        data = b"".join(payload for _, payload in sock.iter_frames())
    finally:
        sock.close()
    assert data == b"through stdin\n"
    assert container.wait(timeout=20)["StatusCode"] == 0
