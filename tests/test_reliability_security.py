"""Security: checks that cannot be turned off by accident, hostile values, and secrets kept out
of reprs and error messages.

(test_transports.py covers TLS verify=False warning, tls=True verifying, SSH unknown/changed host
keys rejected by default and hostile *SSH* socket paths; this module adds the rest.)
"""

from __future__ import annotations

import base64
import contextlib
import json
import shutil
import socket
import ssl
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from test_reliability_faults import FakeDaemon, read_request

from ctrproto import APIClient
from ctrproto.engine.endpoints import Call
from ctrproto.errors import (
    APIError,
    DockerException,
    InvalidAddress,
    NotFound,
    ProtocolError,
    TLSError,
)
from ctrproto.transport.tls import InsecureTLSWarning, TLSConfig

HOSTILE = [
    "name with spaces",
    "a;touch PWNED",
    "$(touch PWNED)",
    "`touch PWNED`",
    "x\r\nX-Injected: 1",
    "x\nGET /evil HTTP/1.1",
    "../../version",
    "..%2F..%2Fversion",
    "?all=1&x=",
    "#frag",
]


# ------------------------------------------------------------------ TLS: no accidental opt-out


@pytest.mark.parametrize("value", [None, 0, 1, True, ""])
def test_tls_verification_stays_on_for_falsy_lookalikes(value: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # building a verifying context must not warn
        config = TLSConfig(verify=value)
        assert config.verify is True and config.check_hostname is True
        ctx = config.context()
        assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname


@pytest.mark.parametrize("value", [None, True, 0, ""])
def test_hostname_checking_stays_on_unless_false(value: Any) -> None:
    assert TLSConfig(assert_hostname=value).check_hostname is True


def test_hostname_checking_off_only_explicitly_and_warns() -> None:
    config = TLSConfig(assert_hostname=False)
    assert config.check_hostname is False
    with pytest.warns(InsecureTLSWarning, match="hostname checking is disabled"):
        config.context()


# ------------------------------------------------------------------ hostile values on the wire


@pytest.fixture
def capture() -> Iterator[FakeDaemon]:
    """A fake daemon that records each request head and answers 404 to all of them."""
    with capture_daemon() as server:
        yield server


@contextlib.contextmanager
def capture_daemon() -> Iterator[FakeDaemon]:
    """:func:`capture` for tests outside this module."""
    answer = (
        b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
        b'Content-Length: 27\r\n\r\n{"message": "no such thing"}'[:-1]
    )

    def handler(conn: socket.socket) -> None:
        while True:
            head = read_request(conn)
            if not head:
                return
            server.requests.append(head)
            conn.sendall(answer)

    server = FakeDaemon([handler] * 50)
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_ids_are_one_encoded_path_segment(capture: FakeDaemon, value: str) -> None:
    with APIClient(base_url=capture.url, version="1.41", timeout=5) as client:
        with pytest.raises(NotFound):
            client.inspect_container(value)
        with pytest.raises(NotFound):
            client.logs(value)  # logs inspects first, then would read
    head = capture.requests[0]
    request_line, *headers = head.split(b"\r\n")
    method, target, version = request_line.split(b" ")
    assert method == b"GET" and version == b"HTTP/1.1"
    # The whole value sits, percent-encoded, in ONE path segment of the inspect endpoint.
    assert target.startswith(b"/v1.41/containers/") and target.endswith(b"/json")
    segment = target[len(b"/v1.41/containers/") : -len(b"/json")]
    assert b"/" not in segment and b"?" not in segment and b"#" not in segment
    assert unquote(segment.decode("ascii")) == value
    assert not any(h.lower().startswith(b"x-injected") for h in headers)


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_query_values_are_encoded(capture: FakeDaemon, value: str) -> None:
    with APIClient(base_url=capture.url, version="1.41", timeout=5) as client, pytest.raises(
        NotFound
    ):
        client.containers(all=True, filters={"name": value}, before=value)
    target = capture.requests[0].split(b"\r\n", 1)[0].split(b" ")[1]
    query = parse_qs(urlsplit(target.decode("ascii")).query)
    assert set(query) == {"all", "size", "trunc_cmd", "filters"}
    assert json.loads(query["filters"][0]) == {"name": [value], "before": [value]}


@pytest.mark.parametrize(
    "url",
    [
        "tcp://127.0.0.1:2375\r\nX-Injected: 1",
        "tcp://127.0.0.1:2375/ x",
        "tcp://127.0.0.1;touch PWNED:2375",
        "tcp://$(touch PWNED):2375",
        "unix:///tmp/a\x00b",
    ],
)
def test_hostile_base_urls_are_refused(url: str) -> None:
    with pytest.raises((InvalidAddress, DockerException)):
        client = APIClient(base_url=url, version="1.41", timeout=1)
        try:
            client.ping()
        finally:
            client.close()


def test_hostile_unix_socket_path_is_used_literally(docker_host: str) -> None:
    if not docker_host.startswith("unix://"):
        pytest.skip("needs a unix:// daemon")
    tmp_path = Path(tempfile.mkdtemp(prefix="h", dir="/tmp"))  # sun_path holds 108 bytes
    odd = tmp_path / "s p;$(touch PWNED)`x`"
    odd.mkdir()
    link = odd / "d.sock"
    link.symlink_to(docker_host.removeprefix("unix://"))
    try:
        with APIClient(base_url="unix://" + str(link), timeout=10) as client:
            assert client.ping() is True
        assert not list(tmp_path.rglob("PWNED*")) and not list(Path.cwd().glob("PWNED*"))
    finally:
        shutil.rmtree(tmp_path)


@pytest.mark.daemon
def test_hostile_container_names_on_the_real_daemon(
    api: APIClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "x"
    for value in (f"$(touch {marker})", f"`touch {marker}`", f"a; touch {marker}",
                  "../../version", "../json?all=1", "a\nb"):
        with pytest.raises(NotFound):
            api.inspect_container(value)
        with pytest.raises(NotFound):
            api.kill(value)
    # A name the daemon refuses as a name is an API error, not something it would act on.
    with pytest.raises(APIError):
        api.create_container("busybox:latest", ["true"], name=f"$(touch {marker})")
    assert not marker.exists() and not list(tmp_path.iterdir())


def test_header_injection_through_header_values_is_refused(capture: FakeDaemon) -> None:
    with APIClient(base_url=capture.url, version="1.41", timeout=5) as client, pytest.raises(
        ProtocolError
    ):
        call: Call[None] = Call("GET", "/_ping", headers={"X-Test": "a\r\nX-Injected: 1"})
        client._perform(call)  # noqa: SLF001
    assert not capture.requests


# ------------------------------------------------------------------ secrets out of repr and errors


def _secrets(tb: dict[str, str]) -> list[str]:
    found = []
    for key in ("CTRPROTO_TESTBED_SSH_KEY",):
        text = Path(tb[key]).read_text()
        found.extend(line for line in text.splitlines() if line and "-----" not in line)
    tls_key = Path(tb["CTRPROTO_TESTBED_TLS_DIR"]) / "key.pem"
    found.extend(
        line for line in tls_key.read_text().splitlines() if line and "-----" not in line
    )
    return [s for s in found if len(s) >= 16]


@pytest.fixture
def tb_env(testbed: Any) -> dict[str, str]:
    if testbed is None:
        pytest.skip("needs the project's testbed (not --docker-host)")
    env: dict[str, str] = testbed.env
    return env


def _assert_clean(text: str, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret not in text


@pytest.mark.daemon
def test_no_key_material_in_reprs_or_errors(tb_env: dict[str, str]) -> None:
    secrets = _secrets(tb_env)
    assert secrets
    d = tb_env["CTRPROTO_TESTBED_TLS_DIR"]
    config = TLSConfig(
        client_cert=(f"{d}/cert.pem", f"{d}/key.pem"),
        ca_cert=f"{tb_env['CTRPROTO_TESTBED_TLS_OTHER_DIR']}/ca.pem",  # wrong CA: it fails
    )
    texts: list[str] = []
    with APIClient(base_url=tb_env["CTRPROTO_TESTBED_TLS_HOST"], tls=config, timeout=10) as c:
        texts += [repr(c), repr(c.transport), repr(config), str(vars(config))]
        with pytest.raises(TLSError) as info:
            c.ping()
        texts += [str(info.value), repr(info.value)]
    ssh_url = tb_env["CTRPROTO_TESTBED_SSH_HOST"] + tb_env["CTRPROTO_TESTBED_DOCKER_SOCK"]
    options: dict[str, Any] = {
        "identity_file": tb_env["CTRPROTO_TESTBED_SSH_WRONG_KEY"],
        "known_hosts": tb_env["CTRPROTO_TESTBED_SSH_KNOWN_HOSTS"],
        "allow_agent": False,
        "ssh_config_path": "",
        "ssh_timeout": 10,
    }
    with APIClient(base_url=ssh_url, timeout=10, **options) as c:
        texts += [repr(c), repr(c.transport), repr(getattr(c.transport, "settings", ""))]
        with pytest.raises(DockerException) as err:
            c.ping()
        texts += [str(err.value), repr(err.value)]
    options["identity_file"] = tb_env["CTRPROTO_TESTBED_SSH_KEY"]
    with APIClient(base_url=ssh_url, timeout=10, **options) as c:
        assert c.ping()
        texts += [repr(c), repr(c.transport), repr(getattr(c.transport, "settings", ""))]
    for text in texts:
        _assert_clean(text, secrets)


def test_registry_auth_never_appears_in_errors_or_reprs(capture: FakeDaemon) -> None:
    password = "s3cr3t-Passw0rd-value"
    auth = {"username": "me", "password": password, "serveraddress": "127.0.0.1:1"}
    encoded = base64.urlsafe_b64encode(json.dumps(auth).encode()).decode()
    with APIClient(base_url=capture.url, version="1.41", timeout=5) as client:
        with pytest.raises(DockerException) as info:
            client.pull("127.0.0.1:1/nothing", tag="latest", auth_config=auth)
        texts = [str(info.value), repr(info.value), repr(client), repr(vars(info.value))]
        response = getattr(info.value, "response", None)
        if response is not None:
            texts += [repr(response), repr(vars(response) if hasattr(response, "__dict__") else
                                           [getattr(response, s) for s in response.__slots__])]
    # The header went to the daemon (that is its purpose) ...
    assert encoded.encode() in capture.requests[0]
    # ... and nowhere else.
    for text in texts:
        assert password not in text and encoded not in text and encoded[:24] not in text

