"""The testbed's private NATS server (issue 13's bus): JetStream is on, on loopback, and it
de-duplicates by ``Nats-Msg-Id`` - the property the JetStream sink will rest on."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import nats
import pytest

pytestmark = pytest.mark.daemon


def test_the_server_is_private_and_on_loopback(tb: dict[str, str], nats_url: str) -> None:
    pid = Path(tb["CTRPROTO_TESTBED_NATS_PIDFILE"]).read_text().strip()
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    assert cmdline[0].endswith(b"nats-server")
    assert Path(cmdline[2].decode()).is_relative_to(Path(tb["CTRPROTO_TESTBED_DIR"]))


def test_jetstream_drops_a_republished_message_id(nats_url: str) -> None:
    """A batch published twice with the same ids (a replay after a crash) is stored once;
    a new id is stored."""
    name = f"CTRPROTO_TEST_{uuid.uuid4().hex[:8].upper()}"
    subject = f"{name.lower()}.logs"

    async def main() -> None:
        nc = await nats.connect(nats_url)
        try:
            js = nc.jetstream()
            await js.add_stream(name=name, subjects=[f"{name.lower()}.>"], duplicate_window=60)
            try:
                acks = []
                for _ in range(2):
                    for i in range(5):
                        acks.append(await js.publish(
                            subject, f"line {i}".encode(), headers={"Nats-Msg-Id": f"m{i}"}
                        ))
                assert [bool(a.duplicate) for a in acks] == [False] * 5 + [True] * 5
                fresh = await js.publish(subject, b"line 5", headers={"Nats-Msg-Id": "m5"})
                assert not fresh.duplicate
                info = await js.stream_info(name)
                assert info.state.messages == 6
            finally:
                await js.delete_stream(name)
        finally:
            await nc.close()

    asyncio.run(asyncio.wait_for(main(), 60))
