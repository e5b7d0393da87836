"""Where the daemon is, as the docker CLI would decide: ``DOCKER_HOST``, contexts, TLS material.

Precedence is the CLI's: ``DOCKER_HOST`` > ``DOCKER_CONTEXT`` > ``currentContext`` in
``$DOCKER_CONFIG/config.json`` (default ``~/.docker``) > the local default socket.
``DOCKER_TLS_VERIFY``/``DOCKER_CERT_PATH`` apply to ``DOCKER_HOST`` only; a context carries its
own TLS material under ``contexts/tls/<sha256 of name>/docker/``.

One deliberate difference from docker-py: environment variables never switch certificate
verification off.  ``DOCKER_CERT_PATH`` without ``DOCKER_TLS_VERIFY`` still verifies the daemon
against ``ca.pem``; only a context's explicit ``SkipTLSVerify`` (which warns) disables it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import ContextNotFound, InvalidConfigFile, TLSParameterError
from .transport.address import parse_address
from .transport.tls import TLSConfig

DEFAULT_CONTEXT = "default"


def config_dir(environment: Mapping[str, str]) -> Path:
    """The docker CLI's configuration directory (``$DOCKER_CONFIG`` or ``~/.docker``)."""
    configured = environment.get("DOCKER_CONFIG")
    if configured:
        return Path(configured).expanduser()
    home = environment.get("HOME")
    return (Path(home) if home else Path.home()) / ".docker"


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise InvalidConfigFile(f"{path} is not valid JSON: {exc}") from exc
    except OSError as exc:
        raise InvalidConfigFile(f"cannot read {path}: {exc}") from exc


def current_context_name(environment: Mapping[str, str]) -> str:
    """The context the CLI would use when ``DOCKER_HOST`` is unset."""
    name = environment.get("DOCKER_CONTEXT")
    if name:
        return name
    path = config_dir(environment) / "config.json"
    if not path.is_file():
        return DEFAULT_CONTEXT
    data = _read_json(path)
    current = data.get("currentContext") if isinstance(data, dict) else None
    return str(current) if current else DEFAULT_CONTEXT


def _tls_files(directory: Path, required: bool) -> dict[str, str]:
    """``ca``/``cert``/``key`` paths in ``directory``; a missing one is an error if required."""
    found: dict[str, str] = {}
    for name in ("ca", "cert", "key"):
        path = directory / f"{name}.pem"
        if path.is_file():
            found[name] = str(path)
        elif required:
            raise TLSParameterError(f"TLS file not found: {path}")
    return found


def _tls_config(files: dict[str, str], verify: bool) -> TLSConfig:
    if ("cert" in files) != ("key" in files):
        have, missing = ("cert", "key") if "cert" in files else ("key", "cert")
        raise TLSParameterError(
            f"TLS {have} file {files[have]} has no matching {missing}.pem next to it"
        )
    client = (files["cert"], files["key"]) if "cert" in files else None
    return TLSConfig(client_cert=client, ca_cert=files.get("ca"), verify=verify)


def context_kwargs(name: str, environment: Mapping[str, str]) -> dict[str, Any]:
    """``base_url``/``tls`` for a named docker CLI context."""
    if name == DEFAULT_CONTEXT:
        return {}
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()
    root = config_dir(environment) / "contexts"
    meta_path = root / "meta" / digest / "meta.json"
    if not meta_path.is_file():
        raise ContextNotFound(name)
    meta = _read_json(meta_path)
    endpoint = (meta.get("Endpoints") or {}).get("docker") if isinstance(meta, dict) else None
    if not isinstance(endpoint, dict) or not endpoint.get("Host"):
        raise InvalidConfigFile(f"context {name!r} ({meta_path}) has no docker endpoint Host")
    host = str(endpoint["Host"])
    kwargs: dict[str, Any] = {"base_url": host}
    address = parse_address(host)
    tls_dir = root / "tls" / digest / "docker"
    if address.scheme == "tcp" and (address.tls or tls_dir.is_dir()):
        files = _tls_files(tls_dir, required=False) if tls_dir.is_dir() else {}
        kwargs["tls"] = _tls_config(files, verify=not endpoint.get("SkipTLSVerify", False))
    return kwargs


def kwargs_from_env(
    environment: Mapping[str, str] | None = None,
    *,
    ssl_version: Any = None,
    assert_hostname: str | bool | None = None,
    use_contexts: bool = True,
) -> dict[str, Any]:
    """Client keyword arguments (``base_url``, ``tls``) from the environment, like the CLI.

    ``ssl_version`` is accepted for docker-py compatibility and ignored (TLS 1.2 minimum).
    Returns ``{}`` when everything points at the local default socket.
    """
    del ssl_version
    env = os.environ if environment is None else environment
    host = env.get("DOCKER_HOST") or None
    tls_verify = bool(env.get("DOCKER_TLS_VERIFY"))
    cert_path = env.get("DOCKER_CERT_PATH") or None

    if host is None and use_contexts:
        kwargs = context_kwargs(current_context_name(env), env)
        if kwargs:
            tls = kwargs.get("tls")
            if isinstance(tls, TLSConfig) and assert_hostname is not None:
                tls.assert_hostname = assert_hostname
            return kwargs

    kwargs = {"base_url": host} if host else {}
    https = host is not None and parse_address(host).tls
    if not (tls_verify or cert_path or https):
        return kwargs
    directory = Path(cert_path).expanduser() if cert_path else config_dir(env)
    files = _tls_files(directory, required=tls_verify or cert_path is not None)
    config = _tls_config(files, verify=True)
    if assert_hostname is not None:
        config.assert_hostname = assert_hostname
    kwargs["tls"] = config
    return kwargs


# ---------------------------------------------------------------------- the CLI's config.json

#: Where the docker CLI keeps its configuration, relative to the home directory.
CONFIG_FILENAME = os.path.join(".docker", "config.json")
#: The pre-1.7 CLI's credentials file, still read when no config.json exists (as docker-py).
LEGACY_CONFIG_FILENAME = ".dockercfg"


def find_config_file(
    config_path: str | None = None, environment: Mapping[str, str] | None = None
) -> str | None:
    """The first existing file of: ``config_path``, ``$DOCKER_CONFIG/config.json``,
    ``~/.docker/config.json``, ``~/.dockercfg`` (docker-py's order); ``None`` if none exists."""
    env = os.environ if environment is None else environment
    home = env.get("HOME") or os.path.expanduser("~")
    candidates = [
        config_path,
        os.path.join(env["DOCKER_CONFIG"], "config.json") if env.get("DOCKER_CONFIG") else None,
        os.path.join(home, CONFIG_FILENAME),
        os.path.join(home, LEGACY_CONFIG_FILENAME),
    ]
    for candidate in candidates:
        if candidate and os.path.exists(candidate):
            return candidate
    return None


def load_general_config(
    config_path: str | None = None, environment: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The CLI's config.json as a dict (``APIClient._general_configs``); ``{}`` when there is
    none or it is not JSON (a legacy ``.dockercfg``), as docker-py answers."""
    path = find_config_file(config_path, environment)
    if path is None:
        return {}
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def proxy_entry(general_config: Mapping[str, Any], base_url: str | None) -> Mapping[str, Any]:
    """The ``proxies`` entry for the address the client was given (``base_url`` exactly as
    passed, ``None`` included), else ``default``: docker-py's choice."""
    proxies = general_config.get("proxies") or {}
    if not isinstance(proxies, Mapping):
        return {}
    entry = proxies[base_url] if base_url in proxies else proxies.get("default", {})
    return entry if isinstance(entry, Mapping) else {}


def requests_base_url(base_url: str | None, tls: Any = False) -> str:
    """docker-py's ``APIClient.base_url`` for a daemon address: the URL prefix its requests
    session uses (``http+docker://localhost`` for a Unix socket, ``http+docker://ssh`` for
    SSH, ``http[s]://host:port`` for TCP).  Code that builds URLs from it keeps working."""
    address = parse_address(base_url)
    if address.scheme == "unix":
        return "http+docker://localhost"
    if address.scheme == "ssh":
        return "http+docker://ssh"
    given = (base_url or "").strip().lower()
    if given.startswith("http://"):
        scheme = "http"
    elif given.startswith("https://"):
        scheme = "https"
    else:
        scheme = "https" if (tls or address.tls) else "http"
    host = f"[{address.host}]" if ":" in address.host else address.host
    return f"{scheme}://{host}:{address.port}"

