"""Registry credentials as the docker CLI keeps them: config.json ``auths``, ``credsStore`` and
``credHelpers`` (external ``docker-credential-<name>`` programs), with docker-py's names.

The clients hold an :class:`AuthConfig` (``APIClient._auth_configs``); ``login`` adds to it and
pull/push look a registry up in it with :func:`resolve_authconfig`.  A credential helper is asked
with ``docker-credential-<name> get``, the server address on its stdin and a JSON answer
(``Username``, ``Secret``) on its stdout: the protocol of docker/docker-credential-helpers.  This
module runs those programs, so it sits beside :mod:`ctrproto.config`, above the sans-IO parts.
"""

from __future__ import annotations

import base64
import binascii
import errno
import json
import os
import warnings
from collections.abc import Mapping
from typing import Any

from .config import find_config_file
from .errors import DockerException, InvalidConfigFile, InvalidRepository

__all__ = [
    "INDEX_NAME",
    "INDEX_URL",
    "TOKEN_USERNAME",
    "AuthConfig",
    "CredentialsNotFound",
    "Store",
    "StoreError",
    "convert_to_hostname",
    "decode_auth",
    "encode_header",
    "get_config_header",
    "get_credential_store",
    "load_config",
    "parse_auth",
    "resolve_authconfig",
    "resolve_index_name",
    "resolve_repository_name",
    "split_repo_name",
]

INDEX_NAME = "docker.io"
INDEX_URL = f"https://index.{INDEX_NAME}/v1/"
#: The user name a helper answers with when its secret is an identity token.
TOKEN_USERNAME = "<token>"
PROGRAM_PREFIX = "docker-credential-"


# ---------------------------------------------------------------------- names


def split_repo_name(repo_name: str) -> tuple[str, str]:
    """``(registry, remote name)``; names without a registry part belong to Docker Hub."""
    first, sep, rest = repo_name.partition("/")
    if not sep or ("." not in first and ":" not in first and first != "localhost"):
        return INDEX_NAME, repo_name
    return first, rest


def convert_to_hostname(url: str) -> str:
    """``https://host:5000/v1/`` -> ``host:5000`` (legacy config keys are full URLs)."""
    return url.replace("http://", "").replace("https://", "").split("/", 1)[0]


def resolve_index_name(index_name: str) -> str:
    name = convert_to_hostname(index_name)
    return INDEX_NAME if name == f"index.{INDEX_NAME}" else name


def resolve_repository_name(repo_name: str) -> tuple[str, str]:
    """The registry an image reference names (``docker.io`` when none) and the rest of it."""
    if "://" in repo_name:
        raise InvalidRepository(f"Repository name cannot contain a scheme ({repo_name})")
    index_name, remote_name = split_repo_name(repo_name)
    if index_name.startswith("-") or index_name.endswith("-"):
        raise InvalidRepository(
            f"Invalid index name ({index_name}). Cannot begin or end with a hyphen."
        )
    return resolve_index_name(index_name), remote_name


# ---------------------------------------------------------------------- encodings


def decode_auth(auth: str | bytes) -> tuple[str, str]:
    """An ``auths`` entry's ``auth`` field: base64 of ``user:password``."""
    raw = auth.encode("ascii") if isinstance(auth, str) else auth
    try:
        login, _, password = base64.b64decode(raw).partition(b":")
    except (binascii.Error, ValueError) as exc:
        raise InvalidConfigFile(f"an auth entry is not valid base64: {exc}") from exc
    return login.decode("utf-8"), password.decode("utf-8")


def encode_header(auth: Mapping[str, Any]) -> bytes:
    """The ``X-Registry-Auth`` value: URL-safe base64 of the JSON credentials."""
    return base64.urlsafe_b64encode(json.dumps(dict(auth)).encode("ascii"))


# ---------------------------------------------------------------------- credential helpers


class StoreError(RuntimeError):
    """A credential helper failed (docker-py's ``docker.credentials.StoreError``)."""


class CredentialsNotFound(StoreError):
    """The helper has nothing for that server."""


class Store:
    """One credential helper program, ``docker-credential-<name>``, found on ``PATH``.

    ``environment`` overrides variables of the helper's environment (``credstore_env``).
    """

    def __init__(self, program: str, environment: Mapping[str, str] | None = None) -> None:
        import shutil  # here: most clients never start a helper (keeps ``import ctrproto`` quick)

        self.program = PROGRAM_PREFIX + program
        self.environment = environment
        self.exe = shutil.which(self.program)
        if self.exe is None:
            warnings.warn(f"{self.program} not installed or not available in PATH", stacklevel=2)

    def get(self, server: str | bytes) -> dict[str, Any]:
        """``{"Username": ..., "Secret": ...}`` for ``server``; :class:`CredentialsNotFound`
        when the helper has none (an empty answer counts as none, as some helpers give one)."""
        data = server if isinstance(server, bytes) else server.encode("utf-8")
        result = json.loads(self._execute("get", data).decode("utf-8"))
        if not isinstance(result, dict):
            raise StoreError(f"{self.program} answered {result!r}, not a JSON object")
        if result.get("Username", "") == "" and result.get("Secret", "") == "":
            raise CredentialsNotFound(f"No matching credentials in {self.program}")
        return result

    def store(self, server: str, username: str, secret: str) -> bytes:
        payload = {"ServerURL": server, "Username": username, "Secret": secret}
        return self._execute("store", json.dumps(payload).encode("utf-8"))

    def erase(self, server: str | bytes) -> None:
        self._execute("erase", server if isinstance(server, bytes) else server.encode("utf-8"))

    def list(self) -> dict[str, str]:
        """Server URL -> user name of every stored credential."""
        result = json.loads(self._execute("list", None).decode("utf-8"))
        return result if isinstance(result, dict) else {}

    def _execute(self, subcommand: str, data: bytes | None) -> bytes:
        import subprocess

        if self.exe is None:
            raise StoreError(f"{self.program} not installed or not available in PATH")
        env = dict(os.environ)
        env.update(self.environment or {})
        try:
            return subprocess.run(
                [self.exe, subcommand], input=data or b"", env=env, capture_output=True,
                check=True,
            ).stdout
        except subprocess.CalledProcessError as exc:
            message = (exc.stdout or b"").decode("utf-8", "replace").strip()
            if "credentials not found in native keychain" in message:
                raise CredentialsNotFound(f"No matching credentials in {self.program}") from exc
            raise StoreError(f'Credentials store {self.program} exited with "{message}".') from exc
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                raise StoreError(f"{self.program} not installed or not available in PATH") from exc
            raise StoreError(f'Unexpected OS error "{exc.strerror}", errno={exc.errno}') from exc


# ---------------------------------------------------------------------- the configuration


class AuthConfig(dict):  # type: ignore[type-arg]  # docker-py's is a plain dict too
    """The credential sections of the CLI's config: ``auths`` (always present), and
    ``credsStore``/``credHelpers`` when configured.  Helpers are started on demand."""

    def __init__(
        self, dct: Mapping[str, Any], credstore_env: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(dct)
        self.setdefault("auths", {})
        self._credstore_env = credstore_env
        self._stores: dict[str, Store] = {}

    @classmethod
    def parse_auth(
        cls, entries: Mapping[str, Any], raise_on_error: bool = False
    ) -> dict[str, dict[str, Any]]:
        """``auths`` entries to credentials: ``{"auth": base64}`` -> username/password,
        ``identitytoken`` -> ``IdentityToken``, ``{}`` stays empty (a helper holds them)."""
        parsed: dict[str, dict[str, Any]] = {}
        for registry, entry in entries.items():
            if not isinstance(entry, dict):
                if raise_on_error:
                    raise InvalidConfigFile(f"Invalid configuration for registry {registry}")
                return {}  # not an auth file at all (the legacy fallback's guess was wrong)
            if "identitytoken" in entry:
                parsed[registry] = {"IdentityToken": entry["identitytoken"]}
            elif "auth" not in entry:
                parsed[registry] = {}
            else:
                username, password = decode_auth(entry["auth"])
                parsed[registry] = {
                    "username": username,
                    "password": password,
                    "email": entry.get("email"),
                    "serveraddress": registry,
                }
        return parsed

    @classmethod
    def load_config(
        cls,
        config_path: str | None = None,
        config_dict: dict[str, Any] | None = None,
        credstore_env: Mapping[str, str] | None = None,
    ) -> AuthConfig:
        """Credentials from ``config_dict`` or else the config file (``config_path``,
        ``$DOCKER_CONFIG``, ``~/.docker/config.json``, ``~/.dockercfg``).

        As docker-py, the credential sections are taken *out of* a given ``config_dict`` (the
        client's ``_general_configs`` keeps the rest), and a file with none of them is read as
        a bare ``auths`` mapping.
        """
        if not config_dict:
            path = find_config_file(config_path)
            if path is None:
                return cls({}, credstore_env)
            try:
                with open(path, encoding="utf-8") as handle:
                    config_dict = json.load(handle)
            except (OSError, ValueError):
                return cls(_load_legacy_config(path), credstore_env)
            if not isinstance(config_dict, dict):
                return cls({}, credstore_env)
        sections: dict[str, Any] = {}
        if config_dict.get("auths"):
            sections["auths"] = cls.parse_auth(config_dict.pop("auths"), raise_on_error=True)
        for key in ("credsStore", "credHelpers"):
            if config_dict.get(key):
                sections[key] = config_dict.pop(key)
        if sections:
            return cls(sections, credstore_env)
        return cls({"auths": cls.parse_auth(config_dict)}, credstore_env)

    @property
    def auths(self) -> dict[str, Any]:
        value: dict[str, Any] = self.get("auths", {})
        return value

    @property
    def creds_store(self) -> str | None:
        value: str | None = self.get("credsStore")
        return value

    @property
    def cred_helpers(self) -> dict[str, str]:
        value: dict[str, str] = self.get("credHelpers", {})
        return value

    @property
    def is_empty(self) -> bool:
        return not self.auths and not self.creds_store and not self.cred_helpers

    def get_credential_store(self, registry: str | None) -> str | None:
        """The helper for ``registry``: its ``credHelpers`` entry, else ``credsStore``."""
        if not registry or registry == INDEX_NAME:
            registry = INDEX_URL
        return self.cred_helpers.get(registry) or self.creds_store

    def resolve_authconfig(self, registry: str | None = None) -> dict[str, Any] | None:
        """The credentials for ``registry`` (Docker Hub when ``None``), or ``None``.

        A configured helper is asked first; then ``auths``, whose legacy full-URL keys match
        by host name.
        """
        if self.creds_store or self.cred_helpers:
            store_name = self.get_credential_store(registry)
            if store_name is not None:
                found = self._resolve_authconfig_credstore(registry, store_name)
                if found is not None:
                    return found
        name = resolve_index_name(registry) if registry else INDEX_NAME
        auths = self.auths
        if name in auths:
            entry: dict[str, Any] = auths[name]
            return entry
        for key, entry in auths.items():
            if resolve_index_name(key) == name:
                return entry
        return None

    def _resolve_authconfig_credstore(
        self, registry: str | None, store_name: str
    ) -> dict[str, Any] | None:
        if not registry or registry == INDEX_NAME:
            registry = INDEX_URL  # Hub credentials are stored under the full index URL
        store = self._get_store_instance(store_name)
        try:
            data = store.get(registry)
        except CredentialsNotFound:
            return None
        except StoreError as exc:
            raise DockerException(f"Credentials store error: {exc!r}") from exc
        result: dict[str, Any] = {"ServerAddress": registry}
        if data.get("Username") == TOKEN_USERNAME:
            result["IdentityToken"] = data.get("Secret")
        else:
            result["Username"] = data.get("Username")
            result["Password"] = data.get("Secret")
        return result

    def _get_store_instance(self, name: str) -> Store:
        if name not in self._stores:
            self._stores[name] = Store(name, environment=self._credstore_env)
        return self._stores[name]

    def get_all_credentials(self) -> dict[str, Any]:
        """Every credential known: ``auths``, then all of ``credsStore``, then ``credHelpers``
        (which win), each also under its host name."""
        result: dict[str, Any] = dict(self.auths)
        if self.creds_store:
            store = self._get_store_instance(self.creds_store)
            for server in store.list():
                found = self._resolve_authconfig_credstore(server, self.creds_store)
                result[server] = result[convert_to_hostname(server)] = found
        for server, store_name in self.cred_helpers.items():
            found = self._resolve_authconfig_credstore(server, store_name)
            result[server] = result[convert_to_hostname(server)] = found
        return result

    def add_auth(self, reg: str, data: Mapping[str, Any]) -> None:
        self["auths"][reg] = data


def _load_legacy_config(path: str) -> dict[str, Any]:
    """A pre-1.7 ``.dockercfg``: ``auth = <base64>`` and ``email = <address>`` lines."""
    try:
        with open(path, encoding="utf-8") as handle:
            values = [line.strip().split(" = ", 1)[1] for line in handle if " = " in line]
        if len(values) < 2:
            return {}
        username, password = decode_auth(values[0])
    except (OSError, IndexError, ValueError, DockerException):
        return {}
    return {
        "auths": {
            INDEX_NAME: {
                "username": username,
                "password": password,
                "email": values[1],
                "serveraddress": INDEX_URL,
            }
        }
    }


def parse_auth(
    entries: Mapping[str, Any], raise_on_error: bool = False
) -> dict[str, dict[str, Any]]:
    return AuthConfig.parse_auth(entries, raise_on_error)


def load_config(
    config_path: str | None = None,
    config_dict: dict[str, Any] | None = None,
    credstore_env: Mapping[str, str] | None = None,
) -> AuthConfig:
    return AuthConfig.load_config(config_path, config_dict, credstore_env)


def resolve_authconfig(
    authconfig: Mapping[str, Any],
    registry: str | None = None,
    credstore_env: Mapping[str, str] | None = None,
) -> dict[str, Any] | None:
    """The credentials for ``registry`` in ``authconfig`` (an :class:`AuthConfig` or a plain
    mapping of its sections), or ``None``: what pull and push send as ``X-Registry-Auth``."""
    if not isinstance(authconfig, AuthConfig):
        authconfig = AuthConfig(dict(authconfig), credstore_env)
    return authconfig.resolve_authconfig(registry)


def get_credential_store(authconfig: Mapping[str, Any], registry: str | None) -> str | None:
    if not isinstance(authconfig, AuthConfig):
        authconfig = AuthConfig(dict(authconfig))
    return authconfig.get_credential_store(registry)


def get_config_header(client: Any, registry: str | None) -> bytes | None:
    """The ``X-Registry-Auth`` header a client sends for ``registry``, or ``None`` (an
    anonymous pull may still work).  ``client`` has ``_auth_configs`` and ``credstore_env``;
    its configuration is read from disk once more if it holds nothing yet."""
    if not client._auth_configs or client._auth_configs.is_empty:
        client._auth_configs = load_config(credstore_env=client.credstore_env)
    found = resolve_authconfig(client._auth_configs, registry, credstore_env=client.credstore_env)
    return encode_header(found) if found else None
