"""Load and resource hygiene: many threads on one client, many followed streams, backpressure.

The checks that matter for a process that runs for days: answers never cross between threads,
nothing is lost or reordered, and afterwards no file descriptor, thread or container is left.
"""

from __future__ import annotations

import gc
import os
import threading
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest

from ctrproto import APIClient

pytestmark = pytest.mark.daemon

IMAGE = "busybox:latest"


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


def labelled(client: APIClient, labels: dict[str, str]) -> set[str]:
    found = client.containers(all=True, filters={"label": [f"{k}={v}" for k, v in labels.items()]})
    return {c["Id"] for c in found}


@pytest.mark.slow
def test_threads_share_one_client_without_crossing_or_leaking(
    docker_host: str, test_labels: dict[str, str]
) -> None:
    threads_n, total = 16, 5000
    per_thread = total // threads_n + 1
    gc.collect()
    fds_before, threads_before = fd_count(), threading.active_count()
    client = APIClient(base_url=docker_host, timeout=60)
    containers_before = labelled(client, test_labels)
    ids: list[str] = []
    try:
        for i in range(threads_n):
            marker = f"worker-{i}-{os.getpid()}"
            cid = client.create_container(
                IMAGE, ["sh", "-c", f"echo {marker}; exec sleep 600"], name=marker,
                labels={**test_labels, "worker": marker}, stop_signal="SIGKILL",
            )["Id"]
            client.start(cid)
            ids.append(cid)
        done = [0] * threads_n
        errors: list[BaseException] = []

        def work(i: int) -> None:
            cid, marker = ids[i], f"worker-{i}-{os.getpid()}"
            try:
                for n in range(per_thread):
                    kind = n % 10
                    if kind in (0, 1, 2):
                        assert client.ping() is True
                    elif kind in (3, 4):
                        info = client.inspect_container(cid)
                        assert info["Id"] == cid and info["Name"] == "/" + marker
                    elif kind == 5:
                        found = client.containers(filters={"label": f"worker={marker}"})
                        assert [c["Id"] for c in found] == [cid]
                    elif kind in (6, 7, 8):
                        assert client.logs(cid, tail=1) == f"{marker}\n".encode()
                    else:
                        exec_id = client.exec_create(cid, ["echo", f"exec-{marker}-{n}"])["Id"]
                        assert client.exec_start(exec_id) == f"exec-{marker}-{n}\n".encode()
                    done[i] += 1
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        workers = [threading.Thread(target=work, args=(i,)) for i in range(threads_n)]
        for t in workers:
            t.start()
        for t in workers:
            t.join(240)
        assert not errors, errors[:3]
        assert sum(done) >= total
        # Every exec_start hijacks (and so uses up) a connection; the rest are reused, not churned.
        execs = threads_n * sum(1 for n in range(per_thread) if n % 10 == 9)
        assert client.pool.opened <= execs + 2 * threads_n
    finally:
        for cid in ids:
            client.remove_container(cid, force=True)
    assert labelled(client, test_labels) == containers_before
    client.close()
    gc.collect()
    assert fd_count() <= fds_before
    deadline = time.monotonic() + 5
    while threading.active_count() > threads_before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert threading.active_count() <= threads_before


@pytest.mark.slow
def test_fifty_followed_streams_arrive_whole_and_in_order(
    docker_host: str, test_labels: dict[str, str]
) -> None:
    n_containers, lines = 50, 2000
    script = (
        "sleep 1; i=0; while [ $i -lt {n} ]; do echo \"{c} $i\"; i=$((i+1)); done"
    )
    fds_before = fd_count()
    with APIClient(base_url=docker_host, timeout=60) as client:
        ids = []
        try:
            for c in range(n_containers):
                cid = client.create_container(
                    IMAGE, ["sh", "-c", script.format(n=lines, c=c)], labels=test_labels
                )["Id"]
                ids.append(cid)
            for cid in ids:
                client.start(cid)
            got: dict[int, bytes] = {}
            errors: list[BaseException] = []

            def follow(c: int) -> None:
                try:
                    stream: Iterator[bytes] = client.logs(ids[c], stream=True, follow=True)  # type: ignore[assignment]
                    got[c] = b"".join(stream)
                except BaseException as exc:  # noqa: BLE001
                    errors.append(exc)

            readers = [threading.Thread(target=follow, args=(c,)) for c in range(n_containers)]
            for t in readers:
                t.start()
            for t in readers:
                t.join(120)
            assert not errors, errors[:3]
            for c in range(n_containers):
                want = b"".join(b"%d %d\n" % (c, i) for i in range(lines))
                assert got[c] == want, f"container {c}: {len(got[c])} bytes"
        finally:
            for cid in ids:
                client.remove_container(cid, force=True)
    assert fd_count() <= fds_before


def test_slow_follower_applies_backpressure(
    docker_host: str, test_labels: dict[str, str]
) -> None:
    """32 MB are ready in the daemon; a consumer reading one piece every 10 ms makes the client
    hold only what it asked for (a few reads), not the stream."""
    size = 32 * 1024 * 1024
    with APIClient(base_url=docker_host, timeout=60) as client:
        cid = client.create_container(
            IMAGE, ["sh", "-c", f"head -c {size} /dev/zero | tr '\\0' a; exec sleep 600"],
            labels=test_labels, stop_signal="SIGKILL",
        )["Id"]
        try:
            client.start(cid)
            # Wait until the output is written, so the daemon could send all of it at once.
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                top = client.top(cid)
                if not any("head" in " ".join(p) for p in top["Processes"]):
                    break
                time.sleep(0.2)
            stream: Any = client.logs(cid, stream=True, follow=True)
            tracemalloc.start()
            try:
                received = 0
                for i, piece in enumerate(stream):
                    received += len(piece)
                    time.sleep(0.01)
                    # Pieces are one read each (consecutive frames joined), so stop by bytes too.
                    if i == 60 or received >= size // 8:
                        break
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            stream.close()  # abandoned half-read: the connection is closed, not pooled
            assert received < size // 4  # the consumer really is behind the daemon
            assert peak < 4 * 1024 * 1024, f"client buffered {peak} bytes for a slow reader"
            assert client.ping() is True
        finally:
            client.remove_container(cid, force=True)
