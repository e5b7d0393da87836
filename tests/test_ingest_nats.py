"""The JetStream sink against the testbed's nats-server and daemon (issue 13, first part):
every line once in the stream, in order per container stream, also when a batch that was
published is replayed because its cursors were never committed (a crash between the acks and
the commit)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import nats
import pytest
from test_ingest_run import check_against_daemon, expected_lines, ingest_until, writer

from ctrproto import APIClient
from ctrproto.ingest import StateStore
from ctrproto.ingest.nats_sink import NatsSink, NatsSinkError, parse_nats_output, subject_token
from ctrproto.ingest.nats_state import NatsStateStore
from ctrproto.ingest.records import Lines

pytestmark = pytest.mark.daemon

T = TypeVar("T")


def test_subject_tokens_are_safe_and_reversible() -> None:
    assert subject_token("web-1_a") == "web-1_a"
    assert subject_token("unix:///var/run/docker.sock") == (
        "unix~3A~2F~2F~2Fvar~2Frun~2Fdocker~2Esock"
    )
    assert subject_token("a.b*c>d~ é") == "a~2Eb~2Ac~3Ed~7E~20~C3~A9"
    assert subject_token("") == "~~"


def test_bad_nats_outputs_are_named() -> None:
    assert parse_nats_output("nats://127.0.0.1:4222/logs.prod") == (
        "nats://127.0.0.1:4222", "logs.prod"
    )
    for bad in ("nats://127.0.0.1:4222", "http://h:1/p", "nats://h:1/a..b", "nats://h:1/a*"):
        with pytest.raises(NatsSinkError):
            parse_nats_output(bad)


class _CrashAfterPublish:
    """The NATS sink, but the ``at``-th batch fails AFTER the server acked it: as if the
    process died between the acks and the commit."""

    def __init__(self, sink: NatsSink, at: int) -> None:
        self.sink, self.at, self.calls = sink, at, 0

    def position(self) -> int | None:
        return None

    async def write(self, batch: list[Lines]) -> None:
        await self.sink.write(batch)
        self.calls += 1
        if self.calls == self.at:
            raise RuntimeError("crashed after the acks")

    async def close(self) -> None:
        await self.sink.close()


async def _jetstream(url: str, action: Callable[[Any], Awaitable[T]]) -> T:
    """``action(jetstream context)`` on a connection of its own."""
    nc = await nats.connect(url)
    try:
        return await action(nc.jetstream())
    finally:
        await nc.close()


async def _messages(url: str, stream: str) -> list[dict[str, Any]]:
    async def read(js: Any) -> list[dict[str, Any]]:
        count = (await js.stream_info(stream)).state.messages
        return [json.loads((await js.get_msg(stream, seq)).data) for seq in range(1, count + 1)]

    return await _jetstream(url, read)


async def _drop_bucket(url: str, bucket: str) -> None:
    await _jetstream(url, lambda js: js.delete_key_value(bucket))


async def _drop_stream(url: str, stream: str) -> None:
    await _jetstream(url, lambda js: js.delete_stream(stream))


@pytest.mark.parametrize("where", ["sqlite", "nats"])
def test_every_line_once_in_the_stream_across_a_replayed_batch(
    api: APIClient, docker_host: str, nats_url: str, start_writer: Callable[..., str],
    tag: str, tmp_path: Path, where: str,
) -> None:
    """With the cursors in SQLite, or in a JetStream bucket (each run a new store object, as an
    ingester restarted on another machine)."""
    cids = [start_writer(writer(f"{tag}-{n}", 40, pause="0")) for n in range(2)]
    for cid in cids:
        api.wait(cid, timeout=60)
    want = sum(len(expected_lines(api, cid, s)) for cid in cids for s in ("stdout", "stderr"))
    stream = f"CTRPROTO_TEST_{uuid.uuid4().hex[:8].upper()}"
    output = f"{nats_url}/t{tag}"
    sqlite = StateStore(str(tmp_path / "state.db"))
    bucket = f"T{tag}"

    def state() -> Any:
        return sqlite if where == "sqlite" else NatsStateStore(f"{nats_url}/{bucket}")

    async def run(sink: Any, enough: Callable[[], bool]) -> None:
        await ingest_until(docker_host, tag, sink, state(), enough, batch_records=16)

    async def main() -> list[dict[str, Any]]:
        try:
            crashing = _CrashAfterPublish(NatsSink(output, stream=stream), at=1)
            with pytest.raises(RuntimeError, match="after the acks"):
                await run(crashing, lambda: False)
            published = len(await _messages(nats_url, stream))
            assert 0 < published <= want  # in the stream, and no cursor committed for it
            sink = NatsSink(output, stream=stream)
            done = asyncio.Event()

            async def poll() -> None:
                while len(await _messages(nats_url, stream)) < want:
                    await asyncio.sleep(0.1)
                await asyncio.sleep(0.5)  # anything extra would arrive now
                done.set()

            poller = asyncio.create_task(poll())
            try:
                await run(sink, done.is_set)
            finally:
                poller.cancel()
            # The first batch went out again and the server dropped every message of it.
            assert sink.duplicates >= published
            if where == "nats":  # the cursors are in the bucket, for a third ingester
                kept = NatsStateStore(f"{nats_url}/{bucket}")
                loaded = await kept.aload()
                await kept.arelease()
                assert {(k[1], k[2]) for k in loaded.cursors} == {
                    (cid, s) for cid in cids for s in ("stdout", "stderr")
                }
                assert set(loaded.containers) == {(docker_host, cid) for cid in cids}
            return await _messages(nats_url, stream)
        finally:
            await _drop_stream(nats_url, stream)
            if where == "nats":
                await _drop_bucket(nats_url, bucket)

    try:
        records = asyncio.run(asyncio.wait_for(main(), 120))
    finally:
        sqlite.close()
    check_against_daemon(api, cids, records)
    assert {r["container_id"] for r in records} == set(cids)


@pytest.mark.parametrize("where", ["sqlite", "nats"])
def test_the_cli_writes_into_jetstream(
    api: APIClient, docker_host: str, nats_url: str, start_writer: Callable[..., str],
    tag: str, tmp_path: Path, where: str,
) -> None:
    """``ctrproto ingest --output nats://.../PREFIX --nats-stream NAME`` with an SQLite or a
    ``nats://`` state: every line of the containers in the stream, in order; SIGTERM ends it
    with status 0."""
    cid = start_writer(writer(tag, 30, pause="0"))
    api.wait(cid, timeout=60)
    want = sum(len(expected_lines(api, cid, s)) for s in ("stdout", "stderr"))
    stream = f"CTRPROTO_TEST_{uuid.uuid4().hex[:8].upper()}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ctrproto.ingest", "ingest", "--host", docker_host,
         "--filter", f"label=ctrproto.ingest-test={tag}",
         "--state", str(tmp_path / "s.db") if where == "sqlite" else f"{nats_url}/B{tag}",
         "--output", f"{nats_url}/t{tag}", "--nats-stream", stream],
        stderr=subprocess.PIPE,
    )
    try:
        records: list[dict[str, Any]] = []
        deadline = time.monotonic() + 60
        while len(records) < want and time.monotonic() < deadline:
            time.sleep(0.2)
            with contextlib.suppress(Exception):  # the stream appears with the first batch
                records = asyncio.run(_messages(nats_url, stream))
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        records = asyncio.run(_messages(nats_url, stream))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        asyncio.run(_drop_stream(nats_url, stream))
        if where == "nats":
            asyncio.run(_drop_bucket(nats_url, f"B{tag}"))
    check_against_daemon(api, [cid], records)
    subjects = {r["container_name"] for r in records}
    assert len(subjects) == 1


def test_the_cli_names_a_bad_nats_output(tmp_path: Path) -> None:
    for output, why in (
        ("nats://127.0.0.1:1/p", "NATS at nats://127.0.0.1:1"),
        ("nats://127.0.0.1:4222", "nats://HOST:PORT/PREFIX"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "ctrproto.ingest", "ingest", "--host", "unix:///nonexistent",
             "--state", str(tmp_path / "s.db"), "--output", output],
            capture_output=True, text=True, timeout=60,
        )
        assert done.returncode in (1, 2) and why in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "ctrproto.ingest", "ingest", "--host", "unix:///nonexistent",
         "--state", "nats://127.0.0.1:4222/B", "--output", str(tmp_path / "out.jsonl")],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 2 and "cannot keep a file output" in done.stderr, done.stderr
