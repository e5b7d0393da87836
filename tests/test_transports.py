"""Every transport against the real testbed daemon: one shared set of scenarios, plus failures.

The shared set runs over unix, plain tcp (the testbed's relay), tls, ssh with stream-local
forwarding and ssh through ``docker system dial-stdio``.  The failure tests assert the error
class and that the message names the cause.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from transport_helpers import client_kwargs, ssh_options, ssh_url, tls_config

from ctrproto import APIClient
from ctrproto.errors import (
    ConnectTimeout,
    InvalidArgument,
    SSHAuthenticationError,
    SSHError,
    SSHHostKeyError,
    TLSError,
    TLSParameterError,
)
from ctrproto.transport.ssh import InsecureSSHWarning, SSHTransport
from ctrproto.transport.tls import InsecureTLSWarning, TLSConfig

pytestmark = pytest.mark.daemon

IMAGE = "busybox:latest"
REPO = Path(__file__).resolve().parent.parent
TRANSPORTS = ["unix", "tcp", "tls", "ssh", "ssh-dial-stdio"]
BIG = 50 * 1024 * 1024


def client_for(name: str, tb: dict[str, str]) -> APIClient:
    return APIClient(timeout=60, **client_kwargs(name, tb))


@pytest.fixture(params=TRANSPORTS)
def client(request: pytest.FixtureRequest, tb: dict[str, str]) -> Iterator[APIClient]:
    c = client_for(request.param, tb)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def container(client: APIClient, test_labels: dict[str, str]) -> Iterator[Callable[..., str]]:
    created: list[str] = []

    def make(command: Any, **kwargs: Any) -> str:
        cid: str = client.create_container(IMAGE, command, labels=test_labels, **kwargs)["Id"]
        created.append(cid)
        return cid

    yield make
    for cid in created:
        client.remove_container(cid, force=True, v=True)


# ------------------------------------------------------------------ the shared set


def test_ping_version_list(client: APIClient) -> None:
    assert client.ping() is True
    assert client.version()["ApiVersion"]
    assert isinstance(client.containers(all=True), list)


def test_run_and_logs(client: APIClient, container: Callable[..., str]) -> None:
    cid = container(["sh", "-c", "echo out; echo err >&2; exit 3"])
    client.start(cid)
    assert client.wait(cid)["StatusCode"] == 3
    logs = client.logs(cid)
    assert isinstance(logs, bytes)
    assert b"out\n" in logs and b"err\n" in logs


def test_attach_stdin_half_close(client: APIClient, container: Callable[..., str]) -> None:
    cid = container(["sh", "-c", "cat; echo done"], stdin_open=True)
    params = {"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
    with client.attach_socket(cid, params=params) as sock:
        client.start(cid)
        sock.sendall(b"hello over the wire\n")
        sock.shutdown_write()  # cat sees EOF only if the half-close crosses the transport
        sock.settimeout(30)
        out = b"".join(payload for _, payload in sock.iter_frames())
    assert out == b"hello over the wire\ndone\n"
    assert client.wait(cid, timeout=30)["StatusCode"] == 0


def test_exec_demux(client: APIClient, container: Callable[..., str]) -> None:
    if not hasattr(client, "exec_create"):
        pytest.skip("APIClient has no exec_create yet")
    cid = container(["sleep", "60"])
    client.start(cid)
    exec_id = client.exec_create(cid, ["sh", "-c", "echo to-out; echo to-err >&2"])["Id"]
    assert client.exec_start(exec_id, demux=True) == (b"to-out\n", b"to-err\n")


def test_stats_stream(client: APIClient, container: Callable[..., str]) -> None:
    if not hasattr(client, "stats"):
        pytest.skip("APIClient has no stats yet")
    cid = container(["sleep", "60"])
    client.start(cid)
    stream = client.stats(cid, decode=True, stream=True)
    try:
        first = next(iter(stream))  # type: ignore[call-overload]
        second = next(iter(stream))  # type: ignore[call-overload]
    finally:
        stream.close()  # type: ignore[union-attr]
    assert "memory_stats" in first and "read" in second


@pytest.mark.slow
def test_large_log_read(client: APIClient, container: Callable[..., str]) -> None:
    cid = container(["sh", "-c", f"head -c {BIG} /dev/zero | tr '\\0' a"])
    client.start(cid)
    assert client.wait(cid, timeout=120)["StatusCode"] == 0
    total = 0
    bad = 0
    for chunk in client.logs(cid, stream=True):
        total += len(chunk)
        bad += len(chunk) - chunk.count(b"a")
    assert (total, bad) == (BIG, 0)


# ------------------------------------------------------------------ TLS failures


def _tls_client(tb: dict[str, str], config: TLSConfig) -> APIClient:
    return APIClient(base_url=tb["CTRPROTO_TESTBED_TLS_HOST"], tls=config, timeout=15)


def test_tls_without_client_cert(tb: dict[str, str]) -> None:
    config = TLSConfig(ca_cert=f"{tb['CTRPROTO_TESTBED_TLS_DIR']}/ca.pem")
    with _tls_client(tb, config) as c, pytest.raises(TLSError, match="requires a client cert"):
        c.ping()


def test_tls_client_cert_from_other_ca(tb: dict[str, str]) -> None:
    other = tb["CTRPROTO_TESTBED_TLS_OTHER_DIR"]
    config = tls_config(tb, client_cert=(f"{other}/cert.pem", f"{other}/key.pem"))
    with _tls_client(tb, config) as c, pytest.raises(TLSError) as info:
        c.ping()
    assert "rejected our client certificate" in str(info.value) or "rejected our client" in str(
        info.value
    )
    assert f"{other}/cert.pem" in str(info.value)


def test_tls_server_from_unknown_ca(tb: dict[str, str]) -> None:
    other = tb["CTRPROTO_TESTBED_TLS_OTHER_DIR"]
    config = tls_config(tb, ca_cert=f"{other}/ca.pem")
    with _tls_client(tb, config) as c, pytest.raises(TLSError) as info:
        c.ping()
    assert "unknown CA" in str(info.value) and f"{other}/ca.pem" in str(info.value)


def test_tls_hostname_mismatch(tb: dict[str, str]) -> None:
    config = tls_config(tb, assert_hostname="wrong.example")
    with _tls_client(tb, config) as c, pytest.raises(TLSError) as info:
        c.ping()
    assert "hostname mismatch" in str(info.value) and "wrong.example" in str(info.value)


def test_tls_assert_hostname_matching_name(tb: dict[str, str]) -> None:
    with _tls_client(tb, tls_config(tb, assert_hostname="localhost")) as c:
        assert c.ping()


def test_tls_missing_cert_file(tb: dict[str, str], tmp_path: Path) -> None:
    d = tb["CTRPROTO_TESTBED_TLS_DIR"]
    missing = tmp_path / "nope.pem"
    with pytest.raises(TLSParameterError, match=str(missing)):
        TLSConfig(client_cert=(str(missing), f"{d}/key.pem"), ca_cert=f"{d}/ca.pem")
    with pytest.raises(TLSParameterError, match=str(missing)):
        TLSConfig(ca_cert=str(missing))


def test_tls_verify_off_is_explicit_and_warns(tb: dict[str, str]) -> None:
    other = tb["CTRPROTO_TESTBED_TLS_OTHER_DIR"]
    # A CA that does not sign the server: accepted only because verify=False says so.
    config = tls_config(tb, ca_cert=f"{other}/ca.pem", verify=False)
    with (
        pytest.warns(InsecureTLSWarning, match="verification is disabled"),
        _tls_client(tb, config) as c,
    ):
        assert c.ping()


def test_tls_true_means_verified_defaults(tb: dict[str, str]) -> None:
    # tls=True: the system CA store, which does not know the testbed CA.
    with (
        APIClient(base_url=tb["CTRPROTO_TESTBED_TLS_HOST"], tls=True, timeout=15) as c,
        pytest.raises(TLSError, match="unknown CA"),
    ):
        c.ping()


# ------------------------------------------------------------------ SSH failures and behaviour


def test_ssh_wrong_key(tb: dict[str, str]) -> None:
    wrong = tb["CTRPROTO_TESTBED_SSH_WRONG_KEY"]
    with (
        APIClient(base_url=ssh_url(tb), **ssh_options(tb, identity_file=wrong)) as c,
        pytest.raises(SSHAuthenticationError) as info,
    ):
        c.ping()
    assert "authentication" in str(info.value) and wrong in str(info.value)


def test_ssh_unknown_host_rejected_by_default(tb: dict[str, str], tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    with (
        APIClient(base_url=ssh_url(tb), **ssh_options(tb, known_hosts=str(empty))) as c,
        pytest.raises(SSHHostKeyError) as info,
    ):
        c.ping()
    message = str(info.value)
    assert "unknown SSH host key" in message and "SHA256:" in message
    assert "ssh-keyscan" in message and "host_key_policy" in message


def test_ssh_unknown_host_accepted_with_explicit_policy(tb: dict[str, str], tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    options = ssh_options(tb, known_hosts=str(empty), host_key_policy="warn")
    with (
        pytest.warns(InsecureSSHWarning, match="unknown SSH host key"),
        APIClient(base_url=ssh_url(tb), **options) as c,
    ):
        assert c.ping()
    assert empty.read_text() == ""  # accepted for the session, never written
    options["host_key_policy"] = "accept"
    with APIClient(base_url=ssh_url(tb), **options) as c:
        assert c.ping()


def test_ssh_changed_host_key_rejected(tb: dict[str, str], tmp_path: Path) -> None:
    wrong = Path(tb["CTRPROTO_TESTBED_SSH_WRONG_KEY"] + ".pub").read_text().split()[:2]
    hosts = tmp_path / "known_hosts"
    hosts.write_text(f"[127.0.0.1]:{tb['CTRPROTO_TESTBED_SSH_PORT']} {' '.join(wrong)}\n")
    with (
        APIClient(base_url=ssh_url(tb), **ssh_options(tb, known_hosts=str(hosts))) as c,
        pytest.raises(SSHHostKeyError, match="does NOT match"),
    ):
        c.ping()


def _accepted(log: str) -> int:
    return Path(log).read_text(errors="replace").count("Accepted publickey")


def test_ssh_requests_share_one_connection(tb: dict[str, str], test_labels: dict[str, str]) -> None:
    log = tb["CTRPROTO_TESTBED_SSHD_LOG"]
    before = _accepted(log)
    with APIClient(base_url=ssh_url(tb), **ssh_options(tb)) as c:
        for _ in range(30):
            assert c.ping()
        c.containers(all=True)
        # Concurrent requests need several channels (pooled HTTP connections) at once.
        errors: list[BaseException] = []

        def work() -> None:
            try:
                for _ in range(10):
                    c.version()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        transport = c.transport
        assert isinstance(transport, SSHTransport)
        assert transport.sessions_opened == 1
        assert c.pool.opened > 1  # several channels ...
    time.sleep(0.5)
    assert _accepted(log) - before == 1  # ... over one SSH connection


def _sshd_children(pidfile: str) -> set[int]:
    pid = Path(pidfile).read_text().strip()
    out = subprocess.run(["pgrep", "-P", pid], capture_output=True, text=True).stdout
    return {int(p) for p in out.split()}


def test_ssh_reconnects_after_connection_killed(tb: dict[str, str]) -> None:
    pidfile = tb["CTRPROTO_TESTBED_SSHD_PIDFILE"]
    before = _sshd_children(pidfile)
    with APIClient(base_url=ssh_url(tb), **ssh_options(tb)) as c:
        assert c.ping()
        ours = _sshd_children(pidfile) - before
        assert ours, "no sshd child serves our session"
        for pid in ours:
            os.kill(pid, signal.SIGKILL)
        assert c.ping()  # the pooled channel is dead: a new SSH connection is made
        assert c.version()["ApiVersion"]
        transport = c.transport
        assert isinstance(transport, SSHTransport)
        assert transport.sessions_opened == 2


HOSTILE = "s p;$(touch PWNED)`touch PWNED2`\n.sock"


def test_ssh_hostile_socket_path_is_passed_literally(tb: dict[str, str], tmp_path: Path) -> None:
    # A real socket path full of shell syntax: stream-local carries it as data, so it works.
    link = tmp_path / HOSTILE
    link.symlink_to(tb["CTRPROTO_TESTBED_DOCKER_SOCK"])
    url = ssh_url(tb, quote(str(link)))
    with APIClient(base_url=url, **ssh_options(tb, ssh_mode="stream-local")) as c:
        assert c.ping()
    missing = tmp_path / ("x; " + HOSTILE)
    with (
        APIClient(
            base_url=ssh_url(tb, quote(str(missing))), **ssh_options(tb, ssh_mode="stream-local")
        ) as c,
        pytest.raises(SSHError) as info,
    ):
        c.ping()
    assert repr(str(missing)) in str(info.value)
    assert not list(tmp_path.glob("PWNED*")) and not list(Path.cwd().glob("PWNED*"))


def test_ssh_hostile_socket_path_refused_for_dial_stdio(tb: dict[str, str]) -> None:
    url = ssh_url(tb, quote("/tmp/" + HOSTILE), dial_stdio=True)
    with pytest.raises(InvalidArgument, match="cannot be passed"):
        APIClient(base_url=url, **ssh_options(tb, ssh_mode="dial-stdio"))
    # In auto mode the refusal comes when the fallback is needed, before anything runs.
    with (
        APIClient(base_url=url, **ssh_options(tb)) as c,
        pytest.raises(InvalidArgument, match="cannot be passed"),
    ):
        c.ping()


def test_ssh_use_ssh_client_is_refused(tb: dict[str, str]) -> None:
    with pytest.raises(InvalidArgument, match="use_ssh_client"):
        APIClient(base_url=ssh_url(tb), use_ssh_client=True, **ssh_options(tb))


def test_ssh_options_rejected_for_other_schemes(tb: dict[str, str]) -> None:
    with pytest.raises(InvalidArgument, match="ssh:// addresses only"):
        APIClient(base_url=tb["DOCKER_HOST"], identity_file="/nonexistent")


def _ssh_config(tmp_path: Path, tb: dict[str, str], extra: str = "") -> Path:
    config = tmp_path / "ssh_config"
    config.write_text(
        "Host tb-alias\n"
        "  HostName 127.0.0.1\n"
        f"  Port {tb['CTRPROTO_TESTBED_SSH_PORT']}\n"
        "  User root\n"
        f"  IdentityFile {tb['CTRPROTO_TESTBED_SSH_KEY']}\n"
        f"  UserKnownHostsFile {tb['CTRPROTO_TESTBED_SSH_KNOWN_HOSTS']}\n"
        # Ignored on purpose: only an explicit host_key_policy relaxes checking.
        "  StrictHostKeyChecking no\n" + extra
    )
    return config


def test_ssh_config_alias(tb: dict[str, str], tmp_path: Path) -> None:
    config = _ssh_config(tmp_path, tb)
    url = "ssh://tb-alias" + tb["CTRPROTO_TESTBED_DOCKER_SOCK"]
    with APIClient(base_url=url, ssh_config_path=str(config), allow_agent=False) as c:
        assert c.ping()
        transport = c.transport
        assert isinstance(transport, SSHTransport)
        assert transport.settings.port == int(tb["CTRPROTO_TESTBED_SSH_PORT"])


def test_ssh_config_strict_host_key_checking_no_is_ignored(
    tb: dict[str, str], tmp_path: Path
) -> None:
    config = _ssh_config(tmp_path, tb)
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    url = "ssh://tb-alias" + tb["CTRPROTO_TESTBED_DOCKER_SOCK"]
    with (
        APIClient(
            base_url=url, ssh_config_path=str(config), allow_agent=False, known_hosts=str(empty)
        ) as c,
        pytest.raises(SSHHostKeyError),
    ):
        c.ping()


def test_ssh_config_proxy_jump(tb: dict[str, str], tmp_path: Path) -> None:
    # Jump through the stream-local sshd to the dial-stdio one (both on loopback).
    config = tmp_path / "ssh_config"
    config.write_text(
        "Host tb-target\n"
        "  HostName 127.0.0.1\n"
        f"  Port {tb['CTRPROTO_TESTBED_SSH_PORT_DIAL_STDIO']}\n"
        "  User root\n"
        f"  ProxyJump root@127.0.0.1:{tb['CTRPROTO_TESTBED_SSH_PORT']}\n"
    )
    options = ssh_options(tb, ssh_config_path=str(config))
    with APIClient(base_url="ssh://tb-target", **options) as c:
        assert c.ping()
        transport = c.transport
        assert isinstance(transport, SSHTransport)
        assert transport.mode == "dial-stdio"


def test_ssh_config_proxy_command(tb: dict[str, str], tmp_path: Path) -> None:
    relay = tmp_path / "relay.py"
    relay.write_text(
        "import socket, sys, threading\n"
        "s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))\n"
        "def up():\n"
        "    while (d := sys.stdin.buffer.raw.read(65536)):\n"
        "        s.sendall(d)\n"
        "    s.shutdown(socket.SHUT_WR)\n"
        "threading.Thread(target=up, daemon=True).start()\n"
        "while (d := s.recv(65536)):\n"
        "    sys.stdout.buffer.write(d); sys.stdout.buffer.flush()\n"
    )
    config = _ssh_config(tmp_path, tb, f"  ProxyCommand python3 {relay} %p\n")
    url = "ssh://tb-alias" + tb["CTRPROTO_TESTBED_DOCKER_SOCK"]
    with APIClient(base_url=url, ssh_config_path=str(config), allow_agent=False) as c:
        assert c.ping()
        assert c.version()["ApiVersion"]
        transport = c.transport
        assert isinstance(transport, SSHTransport)
        proxy = transport._session(5).sock  # type: ignore[attr-defined]
        process = proxy.process
    # Closing the client reaps the ProxyCommand and closes its pipes: nothing is left behind.
    assert process.returncode is not None
    assert all(p.closed for p in (process.stdin, process.stdout, process.stderr) if p)


def test_ssh_stream_local_refused_without_fallback(tb: dict[str, str]) -> None:
    url = ssh_url(tb, dial_stdio=True)  # this sshd forbids stream-local forwarding
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with (
            APIClient(base_url=url, **ssh_options(tb, ssh_mode="stream-local")) as c,
            pytest.raises(SSHError, match="AllowStreamLocalForwarding no"),
        ):
            c.ping()


def test_ssh_key_from_agent(
    tb: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No key file given: the key comes from an ssh-agent (a private one, for this test)."""
    sock = tmp_path / "agent.sock"
    agent = subprocess.Popen(
        ["ssh-agent", "-D", "-a", str(sock)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            if sock.exists():
                break
            time.sleep(0.05)
        env = {**os.environ, "SSH_AUTH_SOCK": str(sock)}
        subprocess.run(
            ["ssh-add", tb["CTRPROTO_TESTBED_SSH_KEY"]],
            env=env, check=True, capture_output=True,
        )
        monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
        options = ssh_options(tb, identity_file=None, allow_agent=True, look_for_keys=False)
        with APIClient(base_url=ssh_url(tb), **options) as c:
            assert c.ping()
        # Without the agent the same options have no key to offer and authentication fails.
        monkeypatch.delenv("SSH_AUTH_SOCK")
        with (
            APIClient(base_url=ssh_url(tb), **options) as c,
            pytest.raises(SSHAuthenticationError),
        ):
            c.ping()
    finally:
        agent.terminate()
        agent.wait(timeout=10)


def test_ssh_connect_timeout_on_a_silent_server(tb: dict[str, str]) -> None:
    """A server that accepts but never sends its SSH banner: ConnectTimeout, on time."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    try:
        options = ssh_options(tb, ssh_timeout=1.5)
        started = time.monotonic()
        with (
            APIClient(base_url=f"ssh://root@127.0.0.1:{port}", **options) as c,
            pytest.raises(ConnectTimeout) as info,
        ):
            c.ping()
        elapsed = time.monotonic() - started
        assert 1.0 <= elapsed < 6.0, elapsed
        assert f"127.0.0.1:{port}" in str(info.value) and isinstance(info.value, TimeoutError)
    finally:
        listener.close()


def test_ssh_session_negotiates_aes_gcm(tb: dict[str, str]) -> None:
    """An AEAD cipher spares paramiko's per-packet MAC check (see StreamLocalTransport)."""
    with APIClient(base_url=ssh_url(tb), **ssh_options(tb)) as c:
        assert c.ping()
        transport = c.transport
        assert isinstance(transport, SSHTransport)
        session = transport._session(5)
        assert session.local_cipher == "aes128-gcm@openssh.com"  # type: ignore[attr-defined]
        assert session.remote_cipher == "aes128-gcm@openssh.com"  # type: ignore[attr-defined]
        assert c.version()["ApiVersion"]  # and the session carries requests


def test_ssh_keepalive_is_set_on_the_session(tb: dict[str, str]) -> None:
    with APIClient(base_url=ssh_url(tb), **ssh_options(tb, ssh_keepalive=7)) as c:
        assert c.ping()
        transport = c.transport
        assert isinstance(transport, SSHTransport)
        session = transport._session(5)
        assert session.packetizer._Packetizer__keepalive_interval == 7  # type: ignore[attr-defined]
