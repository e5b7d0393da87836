"""Where the docker CLI's context store is, and the current context (``docker.context.config``).

The store is the CLI's: ``$DOCKER_CONFIG`` (default ``~/.docker``) holds ``config.json`` with
``currentContext`` and ``contexts/meta/<sha256 of name>/meta.json`` with its TLS material in
``contexts/tls/<sha256>/<endpoint>/{ca,cert,key}.pem``.  Reading reuses :mod:`ctrproto.config`
(which the clients use to pick their daemon), so both see the same store.

Two deliberate differences from docker-py, where it disagrees with the CLI: the store is always
next to ``$DOCKER_CONFIG/config.json`` even before that file exists (docker-py falls back to
``~/.docker``, or to a relative ``contexts`` folder), and ``DOCKER_CONTEXT`` names the current
context (docker-py only honours it in ``kwargs_from_context``).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from .. import config as _cli
from ..constants import DEFAULT_UNIX_SOCKET, IS_WINDOWS_PLATFORM
from ..errors import DockerException
from ..utils.utils import parse_host

__all__ = [
    "METAFILE",
    "get_context_dir",
    "get_context_host",
    "get_context_id",
    "get_current_context_name",
    "get_meta_dir",
    "get_meta_file",
    "get_tls_dir",
    "write_context_name_to_docker_config",
]

METAFILE = "meta.json"


def _config_file() -> Path:
    return _cli.config_dir(os.environ) / "config.json"


def get_current_context_name() -> str:
    """``DOCKER_CONTEXT``, else config.json's ``currentContext``, else ``"default"``.

    An unreadable config.json means ``default``, as with docker-py.
    """
    try:
        return _cli.current_context_name(os.environ)
    except DockerException:
        return _cli.DEFAULT_CONTEXT


def write_context_name_to_docker_config(name: str | None = None) -> Exception | None:
    """Set (or with ``None``/``"default"`` clear) ``currentContext`` in config.json.

    Other keys are kept.  Returns the error instead of raising, as docker-py does.
    """
    if name == _cli.DEFAULT_CONTEXT:
        name = None
    path = _config_file()
    data: dict[str, object] = {}
    if path.exists():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            return exc
        if isinstance(loaded, dict):
            data = loaded
    if name:
        data["currentContext"] = name
    elif "currentContext" in data:
        del data["currentContext"]
    else:
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=4), encoding="utf-8")
    except OSError as exc:
        return exc
    return None


def get_context_id(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8")).hexdigest()


def get_context_dir() -> str:
    return str(_cli.config_dir(os.environ) / "contexts")


def get_meta_dir(name: str | None = None) -> str:
    meta = os.path.join(get_context_dir(), "meta")
    return os.path.join(meta, get_context_id(name)) if name else meta


def get_meta_file(name: str) -> str:
    return os.path.join(get_meta_dir(name), METAFILE)


def get_tls_dir(name: str | None = None, endpoint: str = "") -> str:
    tls = os.path.join(get_context_dir(), "tls")
    return os.path.join(tls, get_context_id(name), endpoint) if name else tls


def get_context_host(path: str | None = None, tls: bool = False) -> str:
    """A context's ``Host`` in the CLI's own form (``unix://``, ``tcp://``, ``ssh://``...).

    The address is checked with docker-py's rules (:func:`ctrproto.utils.parse_host`, so the
    same input is refused), but written as the CLI writes it: docker-py would store its internal
    ``http+unix://``/``http(s)://`` spelling, which the docker CLI cannot read.
    """
    host = parse_host(path, IS_WINDOWS_PLATFORM, tls)
    if host == DEFAULT_UNIX_SOCKET or host.startswith("http+unix://"):
        return "unix://" + host[len("http+unix://") :]
    for internal in ("http://", "https://"):
        if host.startswith(internal):
            return "tcp://" + host[len(internal) :]
    return host
