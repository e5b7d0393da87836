"""Container endpoints of the low-level client, against the real daemon."""

from __future__ import annotations

import io
import tarfile
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from conftest import wait_for

from ctrproto import APIClient
from ctrproto.errors import (
    APIError,
    Conflict,
    DeprecatedMethod,
    ImageNotFound,
    InvalidArgument,
    NotFound,
)

pytestmark = pytest.mark.daemon

MISSING_IMAGE = "127.0.0.1:1/ctrproto-test/missing:never"
MakeContainer = Callable[..., str]


def _state(api: APIClient, cid: str) -> dict[str, object]:
    state: dict[str, object] = api.inspect_container(cid)["State"]
    return state


def _tar(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def _untar(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {
            member.name: tar.extractfile(member).read()  # type: ignore[union-attr]
            for member in tar.getmembers()
            if member.isfile()
        }


# --------------------------------------------------------------------------- create


def test_create_container_full_signature(api: APIClient, make_container: MakeContainer) -> None:
    host_config = api.create_host_config(
        mem_limit="64m", tmpfs={"/scratch": "size=1m"}, cap_drop=["NET_RAW"], init=True
    )
    cid = make_container(
        "sh -c 'echo hi'",
        hostname="box",
        domainname="example.test",
        user="nobody",
        ports=[8080, "53/udp", (9000, "tcp")],
        volumes=["/data"],
        environment={"A": "1", "B": None},
        working_dir="/tmp",
        entrypoint=["/bin/sh", "-e"],
        stop_signal="SIGUSR1",
        stop_timeout=7,
        healthcheck={"test": ["CMD", "true"], "interval": 1_000_000_000},
        host_config=host_config,
        stdin_open=True,
        tty=True,
        labels={"extra": "x"},
    )
    info = api.inspect_container(cid)
    config, hc = info["Config"], info["HostConfig"]
    assert config["Hostname"] == "box" and config["Domainname"] == "example.test"
    assert config["User"] == "nobody"
    assert config["Cmd"] == ["sh", "-c", "echo hi"]
    assert config["Entrypoint"] == ["/bin/sh", "-e"]
    assert set(config["ExposedPorts"]) == {"8080/tcp", "53/udp", "9000/tcp"}
    assert config["Volumes"] == {"/data": {}}
    assert config["Env"][:2] == ["A=1", "B"]  # None: the bare name, unset in the container
    assert config["WorkingDir"] == "/tmp"
    assert config["StopSignal"] == "SIGUSR1" and config["StopTimeout"] == 7
    assert config["Healthcheck"]["Test"] == ["CMD", "true"]
    assert config["Tty"] is True and config["OpenStdin"] is True
    assert config["Labels"]["extra"] == "x"
    assert hc["Memory"] == 64 * 1024 * 1024
    assert hc["Tmpfs"] == {"/scratch": "size=1m"}
    assert hc["CapDrop"] == ["NET_RAW"] and hc["Init"] is True


def test_create_container_name_and_networking(
    api: APIClient, make_container: MakeContainer
) -> None:
    name = f"ctrproto-api-{uuid.uuid4().hex[:8]}"
    endpoint = api.create_endpoint_config(aliases=["alias1"])
    cid = make_container(
        ["true"],
        name=name,
        host_config=api.create_host_config(network_mode="none"),
        networking_config=api.create_networking_config({"none": endpoint}),
    )
    info = api.inspect_container(name)
    assert info["Id"] == cid and info["Name"] == f"/{name}"
    assert info["HostConfig"]["NetworkMode"] == "none"
    assert api.create_networking_config() == {}


def test_create_container_missing_image(api: APIClient, test_labels: dict[str, str]) -> None:
    with pytest.raises(ImageNotFound) as info:
        api.create_container(MISSING_IMAGE, ["true"], labels=test_labels)
    assert info.value.status_code == 404
    assert "missing" in (info.value.explanation or "")


def test_create_host_config_validates(api: APIClient) -> None:
    assert api.create_host_config(port_bindings={80: 8080})["PortBindings"] == {
        "80/tcp": [{"HostIp": "", "HostPort": "8080"}]
    }
    assert api.create_host_config(binds=["/a:/b:ro"])["Binds"] == ["/a:/b:ro"]
    with pytest.raises(TypeError, match="nonsense"):
        api.create_host_config(nonsense=1)


# --------------------------------------------------------------------------- lifecycle


def test_start_wait_exit_code(api: APIClient, make_container: MakeContainer) -> None:
    cid = make_container(["sh", "-c", "exit 7"])
    api.start(cid)
    assert api.wait(cid)["StatusCode"] == 7
    assert _state(api, cid)["ExitCode"] == 7
    with pytest.raises(DeprecatedMethod):
        api.start(cid, binds=["/a:/b"])


def test_wait_condition(api: APIClient, make_container: MakeContainer) -> None:
    cid = make_container(["true"])
    api.start(cid)
    api.wait(cid)
    result = api.wait(cid, condition="not-running", timeout=10)
    assert result["StatusCode"] == 0


def test_stop_restart_kill(api: APIClient, make_container: MakeContainer) -> None:
    cid = make_container(["sleep", "60"])
    api.start(cid)
    started = time.monotonic()
    api.stop(cid, timeout=1)  # sleep ignores SIGTERM as PID 1: killed after the grace period
    assert time.monotonic() - started < 10
    assert _state(api, cid)["Running"] is False

    api.restart(cid, timeout=0)
    first = _state(api, cid)
    assert first["Running"] is True
    api.restart(cid, timeout=0)
    assert _state(api, cid)["StartedAt"] != first["StartedAt"]

    api.kill(cid, signal=9)
    assert api.wait(cid)["StatusCode"] == 137
    api.start(cid)
    api.kill(cid, signal="SIGKILL")
    assert api.wait(cid)["StatusCode"] == 137


def test_kill_by_name_reaches_the_process(api: APIClient, make_container: MakeContainer) -> None:
    cid = make_container(["sh", "-c", "trap 'exit 42' USR1; while :; do sleep 0.05; done"])
    api.start(cid)
    assert wait_for(lambda: b"sh" in b"".join(_top_lines(api, cid)))
    time.sleep(0.2)  # the trap is set before the loop starts
    api.kill(cid, "USR1")
    assert api.wait(cid, timeout=20)["StatusCode"] == 42


def _top_lines(api: APIClient, cid: str) -> Iterator[bytes]:
    for process in api.top(cid)["Processes"]:
        yield " ".join(process).encode()


def test_pause_unpause(api: APIClient, make_container: MakeContainer) -> None:
    cid = make_container(["sleep", "60"])
    api.start(cid)
    api.pause(cid)
    assert _state(api, cid)["Paused"] is True
    with pytest.raises(Conflict):
        api.pause(cid)
    api.unpause(cid)
    assert _state(api, cid)["Paused"] is False
    api.kill(cid)


def test_remove_container_and_errors(api: APIClient, make_container: MakeContainer) -> None:
    cid = make_container(["sleep", "60"])
    api.start(cid)
    with pytest.raises(Conflict) as info:
        api.remove_container(cid)
    assert info.value.status_code == 409
    api.remove_container(cid, force=True, v=True)
    with pytest.raises(NotFound) as missing:
        api.inspect_container(cid)
    assert cid[:12] in (missing.value.explanation or "")


def test_prune_containers(api: APIClient, make_container: MakeContainer) -> None:
    marker = uuid.uuid4().hex
    stopped = make_container(["true"], labels={"ctrproto.prune": marker})
    running = make_container(["sleep", "60"], labels={"ctrproto.prune": marker})
    api.start(running)
    result = api.prune_containers(filters={"label": f"ctrproto.prune={marker}"})
    assert result["ContainersDeleted"] == [stopped]
    assert isinstance(result["SpaceReclaimed"], int)
    assert api.inspect_container(running)["State"]["Running"] is True
    api.kill(running)


# --------------------------------------------------------------------------- changes


def test_rename(api: APIClient, make_container: MakeContainer) -> None:
    cid = make_container(["true"])
    name = f"ctrproto-renamed-{uuid.uuid4().hex[:8]}"
    api.rename(cid, name)
    assert api.inspect_container(cid)["Name"] == f"/{name}"


def test_resize_tty(api: APIClient, make_container: MakeContainer) -> None:
    cid = make_container(["sh", "-c", "sleep 0.5; stty size"], tty=True)
    api.start(cid)
    api.resize(cid, height=33, width=101)
    api.wait(cid)
    assert api.logs(cid) == b"33 101\r\n"


def test_top_with_ps_args(api: APIClient, make_container: MakeContainer) -> None:
    cid = make_container(["sleep", "60"])
    api.start(cid)
    plain = api.top(cid)
    assert "PID" in plain["Titles"]
    assert any("sleep 60" in " ".join(p) for p in plain["Processes"])
    custom = api.top(cid, ps_args="-o pid,comm")
    assert custom["Titles"] == ["PID", "COMMAND"]
    api.kill(cid)


def test_diff(api: APIClient, make_container: MakeContainer) -> None:
    cid = make_container(["sh", "-c", "echo x > /tmp/new; rm /bin/true"])
    api.start(cid)
    api.wait(cid)
    changes = {c["Path"]: c["Kind"] for c in api.diff(cid)}
    assert changes["/tmp/new"] == 1  # added
    assert changes["/bin/true"] == 2  # deleted
    assert api.diff(make_container(["true"])) == []


def test_update_container(api: APIClient, make_container: MakeContainer) -> None:
    cid = make_container(["sleep", "60"])
    api.start(cid)
    result = api.update_container(
        cid,
        mem_limit="32m",
        memswap_limit=-1,
        cpu_shares=512,
        restart_policy={"Name": "on-failure", "MaximumRetryCount": 2},
    )
    assert "Warnings" in result
    hc = api.inspect_container(cid)["HostConfig"]
    assert hc["Memory"] == 32 * 1024 * 1024
    assert hc["CpuShares"] == 512
    assert hc["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}
    api.kill(cid)


def test_commit_runs_new_image(api: APIClient, make_container: MakeContainer) -> None:
    repo = f"ctrproto-test/commit-{uuid.uuid4().hex[:8]}"
    cid = make_container(["sh", "-c", "echo committed > /marker"])
    api.start(cid)
    api.wait(cid)
    image = api.commit(
        cid,
        repository=repo,
        tag="v1",
        message="a test commit",
        author="ctrproto",
        changes=["CMD cat /marker", "ENV FROM_COMMIT=yes"],
    )
    try:
        assert image["Id"].startswith("sha256:")
        inspected = api.inspect_image(f"{repo}:v1")
        assert inspected["Id"] == image["Id"]
        assert inspected["Comment"] == "a test commit" and inspected["Author"] == "ctrproto"
        assert "FROM_COMMIT=yes" in inspected["Config"]["Env"]
        run = make_container(image=f"{repo}:v1")
        api.start(run)
        assert api.wait(run)["StatusCode"] == 0
        assert api.logs(run) == b"committed\n"
        api.remove_container(run, force=True)
    finally:
        api.remove_image(image["Id"], force=True)
    with pytest.raises(ImageNotFound):
        api.inspect_image(f"{repo}:v1")


# --------------------------------------------------------------------------- output


def test_logs_tail_since_until(api: APIClient, make_container: MakeContainer) -> None:
    cid = make_container(["sh", "-c", "echo one; sleep 1.2; echo two; echo three"])
    before = time.time()
    api.start(cid)
    api.wait(cid)
    assert api.logs(cid, tail=2) == b"two\nthree\n"
    assert api.logs(cid, tail=0) == b""
    assert api.logs(cid, tail=-1) == b"one\ntwo\nthree\n"
    assert api.logs(cid, since=before + 0.6) == b"two\nthree\n"
    assert api.logs(cid, until=before + 0.6) == b"one\n"
    stamped = api.logs(cid, timestamps=True, tail=1)
    assert isinstance(stamped, bytes) and stamped.endswith(b" three\n")
    with pytest.raises(InvalidArgument):
        api.logs(cid, tail="some")


def test_attach_logs_and_demux(api: APIClient, make_container: MakeContainer) -> None:
    cid = make_container(["sh", "-c", "echo out; sleep 0.3; echo err >&2"])
    api.start(cid)
    api.wait(cid)
    assert api.attach(cid, logs=True) == b"out\nerr\n"
    assert api.attach(cid, logs=True, demux=True) == (b"out\n", b"err\n")
    assert api.attach(cid, logs=True, stderr=False) == b"out\n"
    assert api.attach(cid) == b""  # no replay, nothing live


def test_attach_stream_follows_live_output(
    api: APIClient, make_container: MakeContainer, demux_impl: str
) -> None:
    cid = make_container(["sh", "-c", "sleep 0.5; echo a; sleep 1; echo b >&2"])
    stream = api.attach(cid, stream=True, demux=True)
    assert isinstance(stream, Iterator)
    api.start(cid)
    started = time.monotonic()
    first = next(stream)
    assert first == (b"a\n", None)
    assert time.monotonic() - started < 1.4
    assert list(stream) == [(None, b"b\n")]


def test_attach_socket_refuses_websocket(api: APIClient, make_container: MakeContainer) -> None:
    cid = make_container(["true"])
    with pytest.raises(InvalidArgument, match="websocket"):
        api.attach_socket(cid, ws=True)


def test_export_in_chunks(api: APIClient, make_container: MakeContainer) -> None:
    cid = make_container(["true"])
    chunks = list(api.export(cid, chunk_size=64 * 1024))
    assert len(chunks) > 2
    assert all(len(c) == 64 * 1024 for c in chunks[:-1])
    assert 0 < len(chunks[-1]) <= 64 * 1024
    with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as tar:
        names = tar.getnames()
    assert "bin/busybox" in names or "bin/sh" in names


def test_export_abandoned_stream_frees_connection(
    api: APIClient, make_container: MakeContainer
) -> None:
    cid = make_container(["true"])
    stream = api.export(cid, chunk_size=1024)
    assert len(next(stream)) == 1024
    stream.close()
    assert api.ping() is True


def test_get_archive(api: APIClient, make_container: MakeContainer) -> None:
    script = "mkdir /out; echo hello > /out/a.txt; seq 1 50000 > /out/big"
    cid = make_container(["sh", "-c", script])
    api.start(cid)
    api.wait(cid)
    stream, stat = api.get_archive(cid, "/out/a.txt")
    assert stat["name"] == "a.txt" and stat["size"] == 6 and stat["mode"] & 0o777 == 0o644
    assert _untar(b"".join(stream)) == {"a.txt": b"hello\n"}

    stream, stat = api.get_archive(cid, "/out", chunk_size=4096)
    chunks = list(stream)
    assert all(len(c) == 4096 for c in chunks[:-1])
    files = _untar(b"".join(chunks))
    assert files["out/big"] == b"".join(b"%d\n" % i for i in range(1, 50001))
    assert stat["name"] == "out" and stat["mode"] & 0o20000000000  # a directory

    with pytest.raises(NotFound):
        api.get_archive(cid, "/no/such/path")


def test_archive_stat_without_transfer(api: APIClient, make_container: MakeContainer) -> None:
    cid = make_container(["sh", "-c", "mkdir /out; echo hello > /out/a.txt"])
    api.start(cid)
    api.wait(cid)
    opened = api.pool.opened
    stat = api.archive_stat(cid, "/out/a.txt")
    assert stat["name"] == "a.txt" and stat["size"] == 6
    assert api.archive_stat(cid, "/out")["mode"] & 0o20000000000  # a directory
    assert api.ping()  # the HEAD exchange left the connection reusable
    assert api.pool.opened == opened
    with pytest.raises(NotFound):
        api.archive_stat(cid, "/no/such/path")


def test_put_archive_bytes_file_and_iterable(api: APIClient, make_container: MakeContainer) -> None:
    cid = make_container(["true"])
    assert api.put_archive(cid, "/tmp", _tar({"from-bytes": b"1"})) is True
    assert api.put_archive(cid, "/tmp", io.BytesIO(_tar({"from-file": b"2"}))) is True
    payload = _tar({"from-iter": b"3" * 100_000})
    pieces = (payload[i : i + 7000] for i in range(0, len(payload), 7000))
    assert api.put_archive(cid, "/tmp", pieces) is True
    stream, _ = api.get_archive(cid, "/tmp")
    files = _untar(b"".join(stream))
    assert files["tmp/from-bytes"] == b"1"
    assert files["tmp/from-file"] == b"2"
    assert files["tmp/from-iter"] == b"3" * 100_000
    with pytest.raises(TypeError):
        api.put_archive(cid, "/tmp", "not bytes")
    with pytest.raises(NotFound):
        api.put_archive(cid, "/no/such/dir", _tar({"x": b"x"}))


def test_stats(api: APIClient, make_container: MakeContainer) -> None:
    cid = make_container(["sleep", "60"])
    api.start(cid)
    one = api.stats(cid, stream=False)
    assert isinstance(one, dict) and "memory_stats" in one and "cpu_stats" in one
    quick = api.stats(cid, stream=False, one_shot=True)
    assert isinstance(quick, dict) and "memory_stats" in quick

    decoded = api.stats(cid, decode=True)
    assert isinstance(decoded, Iterator)
    first, second = next(decoded), next(decoded)
    decoded.close()
    assert isinstance(first, dict) and isinstance(second, dict)
    assert second["read"] > first["read"]

    raw = api.stats(cid)
    assert isinstance(raw, Iterator)
    piece = next(raw)
    raw.close()
    assert isinstance(piece, bytes) and piece.lstrip().startswith(b"{")

    with pytest.raises(InvalidArgument):
        api.stats(cid, stream=False, decode=True)
    with pytest.raises(InvalidArgument):
        api.stats(cid, stream=True, one_shot=True)
    api.kill(cid)


def test_missing_container_is_not_found_everywhere(api: APIClient) -> None:
    missing = "ctrproto-no-such-container"
    for call in (
        lambda: api.start(missing),
        lambda: api.stop(missing),
        lambda: api.pause(missing),
        lambda: api.diff(missing),
        lambda: api.top(missing),
        lambda: api.export(missing),
        lambda: api.stats(missing, stream=False),
        lambda: api.rename(missing, "x"),
    ):
        with pytest.raises(NotFound) as info:
            call()
        assert missing in (info.value.explanation or "")
        assert isinstance(info.value, APIError)
