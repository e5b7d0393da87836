"""Daemon addresses: every accepted form, and a clear error for each bad one."""

from __future__ import annotations

import pytest

from ctrproto.errors import InvalidAddress
from ctrproto.transport.address import Address, parse_address, redact


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (None, Address("unix", path="/var/run/docker.sock")),
        ("unix:///tmp/d.sock", Address("unix", path="/tmp/d.sock")),
        ("/tmp/d.sock", Address("unix", path="/tmp/d.sock")),
        ("tcp://127.0.0.1:2375", Address("tcp", host="127.0.0.1", port=2375)),
        ("http://localhost:1234", Address("tcp", host="localhost", port=1234)),
        ("tcp://127.0.0.1", Address("tcp", host="127.0.0.1", port=2375)),
        ("https://127.0.0.1", Address("tcp", host="127.0.0.1", port=2376, tls=True)),
        ("127.0.0.1:4243", Address("tcp", host="127.0.0.1", port=4243)),
        ("tcp://[::1]:2375", Address("tcp", host="::1", port=2375)),
        ("ssh://host", Address("ssh", host="host", port=22)),
        (
            "ssh://me@[::1]:2222/run/user/docker.sock",
            Address("ssh", host="::1", port=2222, user="me", path="/run/user/docker.sock"),
        ),
    ],
)
def test_accepted_forms(url: str | None, expected: Address) -> None:
    got = parse_address(url)
    assert (got.scheme, got.host, got.port, got.path, got.user, got.tls) == (
        expected.scheme,
        expected.host,
        expected.port,
        expected.path,
        expected.user,
        expected.tls,
    )


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://host", "unsupported scheme 'ftp'"),
        ("unix://", "no socket path"),
        ("unix://relative.sock", "must be absolute"),
        ("tcp://:2375", "no host name"),
        ("tcp://host:99999", "out of range"),
        ("tcp://host:abc", "ort"),
        ("tcp://user:pw@host:1", "credentials"),
        ("tcp://host:1/prefix", "path prefix"),
        ("ssh://u:secret@host", "passwords"),
        ("npipe:////./pipe/docker_engine", "Windows"),
        ("tcp://host:1?x=1", "query"),
    ],
)
def test_bad_addresses_name_the_problem(url: str, reason: str) -> None:
    with pytest.raises(InvalidAddress) as info:
        parse_address(url)
    message = str(info.value)
    assert redact(url) in message
    assert reason in message


def test_password_is_not_echoed_back() -> None:
    for url in ("ssh://u:hunter2@host", "tcp://u:hunter2@host:1"):
        with pytest.raises(InvalidAddress) as info:
            parse_address(url)
        assert "hunter2" not in str(info.value)
        assert "***" in str(info.value)
