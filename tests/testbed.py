"""The testbed from Python: ``scripts/testbed`` brings it up, ``env.json`` describes it.

Standard library only, so that it works before (or without) the project's dependencies.

    bed = Testbed.up("/tmp/tb")        # no-op when that instance is already up
    daemon_answers(bed.docker_host, 2.0)
    bed.registry.host                   # "127.0.0.1:<port>", holds busybox:latest
    bed.down()                          # keeps the data root (and the imported image)
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "testbed"
DEFAULT_DIR = REPO / ".testbed"


class TestbedError(RuntimeError):
    """``scripts/testbed`` failed; the message carries the tail of its output."""

    __test__: ClassVar[bool] = False


def _run(command: str, directory: Path, *args: str, timeout: float) -> str:
    env = dict(os.environ, CTRPROTO_TESTBED_DIR=str(directory))
    try:
        done = subprocess.run(
            [str(SCRIPT), command, *args],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise TestbedError(f"scripts/testbed {command} timed out after {timeout:.0f} s") from exc
    if done.returncode != 0:
        tail = "\n".join(done.stderr.splitlines()[-40:])
        raise TestbedError(f"scripts/testbed {command} exited with {done.returncode}:\n{tail}")
    return done.stdout


@dataclass(frozen=True)
class Registry:
    """The testbed's two private registries, as ``host:port`` names for image references.

    ``host`` speaks plain HTTP without auth and holds ``busybox:latest``; ``auth_host`` speaks
    HTTPS (certificate from the testbed CA, ``ca``) and wants ``user``/``password``.
    """

    __test__: ClassVar[bool] = False

    host: str
    auth_host: str
    user: str
    password: str = field(repr=False)
    ca: Path

    @classmethod
    def from_env(cls, env: dict[str, str]) -> Registry:
        """Read it from an ``env.json`` mapping; ``KeyError`` when the instance predates it."""
        return cls(
            host=env["CTRPROTO_TESTBED_REGISTRY"],
            auth_host=env["CTRPROTO_TESTBED_REGISTRY_AUTH"],
            user=env["CTRPROTO_TESTBED_REGISTRY_USER"],
            password=env["CTRPROTO_TESTBED_REGISTRY_PASSWORD"],
            ca=Path(env["CTRPROTO_TESTBED_REGISTRY_CA"]),
        )


@dataclass(frozen=True)
class Testbed:
    """One running testbed instance, as described by its ``env.json``."""

    # Keeps pytest from collecting this class where a test module imports it.
    __test__: ClassVar[bool] = False

    dir: Path
    docker_host: str
    docker_sock: Path
    tls_host: str
    tls_dir: Path
    tls_other_dir: Path
    tcp_host: str
    ssh_user: str
    ssh_port: int
    ssh_port_dial_stdio: int
    ssh_key: Path
    ssh_wrong_key: Path
    known_hosts: Path
    api_version: str
    # None only for an env.json written before the registries existed.
    registry: Registry | None
    env: dict[str, str] = field(repr=False)

    @classmethod
    def up(cls, dir: str | os.PathLike[str] | None = None, timeout: float = 300.0) -> Testbed:
        """Start the instance in ``dir`` (default ``<repo>/.testbed``) unless it is up."""
        directory = Path(dir) if dir is not None else DEFAULT_DIR
        _run("up", directory, timeout=timeout)
        return cls.load(directory)

    @classmethod
    def load(cls, dir: str | os.PathLike[str]) -> Testbed:
        """Describe an instance that is already up, without touching it."""
        with open(Path(dir) / "env.json", encoding="utf-8") as f:
            raw = json.load(f)
        if not isinstance(raw, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
        ):
            raise TestbedError(f"{dir}/env.json is not a flat object of strings")
        env: dict[str, str] = raw

        def path(key: str) -> Path:
            return Path(env[f"CTRPROTO_TESTBED_{key}"])

        return cls(
            dir=path("DIR"),
            docker_host=env["DOCKER_HOST"],
            docker_sock=path("DOCKER_SOCK"),
            tls_host=env["CTRPROTO_TESTBED_TLS_HOST"],
            tls_dir=path("TLS_DIR"),
            tls_other_dir=path("TLS_OTHER_DIR"),
            tcp_host=env["CTRPROTO_TESTBED_TCP_HOST"],
            ssh_user=env["CTRPROTO_TESTBED_SSH_USER"],
            ssh_port=int(env["CTRPROTO_TESTBED_SSH_PORT"]),
            ssh_port_dial_stdio=int(env["CTRPROTO_TESTBED_SSH_PORT_DIAL_STDIO"]),
            ssh_key=path("SSH_KEY"),
            ssh_wrong_key=path("SSH_WRONG_KEY"),
            known_hosts=path("SSH_KNOWN_HOSTS"),
            api_version=env["CTRPROTO_TESTBED_API_VERSION"],
            registry=Registry.from_env(env) if "CTRPROTO_TESTBED_REGISTRY" in env else None,
            env=env,
        )

    @property
    def ssh_host(self) -> str:
        """``ssh://`` URL of the sshd that allows stream-local forwarding."""
        return f"ssh://{self.ssh_user}@127.0.0.1:{self.ssh_port}"

    @property
    def ssh_host_dial_stdio(self) -> str:
        """``ssh://`` URL of the sshd that refuses it, so only dial-stdio works there."""
        return f"ssh://{self.ssh_user}@127.0.0.1:{self.ssh_port_dial_stdio}"

    def tls_context(self, other: bool = False) -> ssl.SSLContext:
        """Client context trusting the testbed CA, with the client certificate of the
        testbed CA, or with the one from the unrelated CA when ``other``."""
        ctx = ssl.create_default_context(cafile=str(self.tls_dir / "ca.pem"))
        certs = self.tls_other_dir if other else self.tls_dir
        ctx.load_cert_chain(str(certs / "cert.pem"), str(certs / "key.pem"))
        return ctx

    def down(self, purge: bool = False, timeout: float = 120.0) -> None:
        """Stop everything; ``purge`` also drops the data root and the directory."""
        _run("down", self.dir, *(["--purge"] if purge else []), timeout=timeout)


def daemon_answers(
    docker_host: str, timeout: float, ssl_context: ssl.SSLContext | None = None
) -> bool:
    """Whether ``GET /_ping`` on ``docker_host`` (unix:// or tcp://) answers ``OK`` in time.

    ``tcp://`` speaks plain HTTP unless ``ssl_context`` is given.
    """
    deadline = time.monotonic() + timeout
    url = urlsplit(docker_host)
    try:
        sock = _connect(docker_host, timeout)
    except (OSError, ValueError):
        return False
    data = b""
    try:
        if ssl_context is not None:
            sock = ssl_context.wrap_socket(sock, server_hostname=url.hostname or "localhost")
        # HTTP/1.0: the daemon closes after the answer, so EOF ends the body.
        sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            sock.settimeout(remaining)
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        return False
    finally:
        sock.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0].split()
    return len(status) >= 2 and status[1] == b"200" and body.strip() == b"OK"


def _connect(docker_host: str, timeout: float) -> socket.socket:
    url = urlsplit(docker_host)
    if url.scheme in ("unix", "http+unix"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(url.path)
        except OSError:
            sock.close()
            raise
        return sock
    if url.scheme in ("tcp", "http", "https"):
        if url.hostname is None or url.port is None:
            raise ValueError(f"no host or port in {docker_host!r}")
        return socket.create_connection((url.hostname, url.port), timeout=timeout)
    raise ValueError(f"unsupported DOCKER_HOST scheme in {docker_host!r}")
