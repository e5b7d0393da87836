"""Client arguments for each testbed transport, shared by the sync and asyncio transport tests."""

from __future__ import annotations

from typing import Any

from ctrproto.transport.tls import TLSConfig


def tls_config(tb: dict[str, str], **kwargs: Any) -> TLSConfig:
    d = tb["CTRPROTO_TESTBED_TLS_DIR"]
    kwargs.setdefault("client_cert", (f"{d}/cert.pem", f"{d}/key.pem"))
    kwargs.setdefault("ca_cert", f"{d}/ca.pem")
    return TLSConfig(**kwargs)


def ssh_options(tb: dict[str, str], **overrides: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        "identity_file": tb["CTRPROTO_TESTBED_SSH_KEY"],
        "known_hosts": tb["CTRPROTO_TESTBED_SSH_KNOWN_HOSTS"],
        "allow_agent": False,
        "ssh_config_path": "",
        "ssh_timeout": 15,
    }
    options.update(overrides)
    return options


def ssh_url(tb: dict[str, str], path: str | None = None, dial_stdio: bool = False) -> str:
    base = tb["CTRPROTO_TESTBED_SSH_HOST_DIAL_STDIO" if dial_stdio else "CTRPROTO_TESTBED_SSH_HOST"]
    return base + (path if path is not None else tb["CTRPROTO_TESTBED_DOCKER_SOCK"])


def client_kwargs(name: str, tb: dict[str, str]) -> dict[str, Any]:
    """Keyword arguments of ``APIClient`` / ``AsyncAPIClient`` for one named transport."""
    if name == "unix":
        return {"base_url": tb["DOCKER_HOST"]}
    if name == "tcp":
        return {"base_url": tb["CTRPROTO_TESTBED_TCP_HOST"]}
    if name == "tls":
        return {"base_url": tb["CTRPROTO_TESTBED_TLS_HOST"], "tls": tls_config(tb)}
    if name == "ssh":
        return {"base_url": ssh_url(tb), **ssh_options(tb)}
    if name == "ssh-dial-stdio":
        # The path after the host is the testbed socket; dial-stdio reaches it through the
        # sshd's SetEnv DOCKER_HOST, so the URL names the default socket.
        return {"base_url": ssh_url(tb, "", dial_stdio=True), **ssh_options(tb)}
    raise AssertionError(name)
