"""One docker CLI context: its endpoints, TLS material and place in the store.

docker-py's ``docker.context.Context``, reading and writing the CLI's store format.  A context
has endpoints by name (``docker`` for the Engine); each holds ``Host`` and ``SkipTLSVerify``.
The TLS material is saved as the CLI names it, ``ca.pem``/``cert.pem``/``key.pem`` (docker-py
keeps the source files' names, which the CLI does not find unless they already were those).
"""

from __future__ import annotations

import json
import os
import shutil
from typing import Any

from ..errors import ContextException
from ..tls import TLSConfig
from .config import get_context_host, get_meta_dir, get_meta_file, get_tls_dir

__all__ = ["Context"]

IN_MEMORY = "IN MEMORY"


def _endpoint_key(orchestrator: str | None) -> str:
    return "docker" if not orchestrator or orchestrator == "swarm" else orchestrator


class Context:
    """A context, as loaded from the store or built in memory (``save()`` writes it)."""

    def __init__(
        self,
        name: str,
        orchestrator: str | None = None,
        host: str | None = None,
        endpoints: dict[str, Any] | None = None,
        tls: bool = False,
    ) -> None:
        if not name:
            raise ContextException("Name not provided")
        self.name = name
        self.context_type: str | None = None
        self.orchestrator = orchestrator
        self.endpoints: dict[str, dict[str, Any]] = {}
        self.tls_cfg: dict[str, TLSConfig] = {}
        self.meta_path = IN_MEMORY
        self.tls_path = IN_MEMORY
        if not endpoints:
            self.endpoints = {
                _endpoint_key(orchestrator): {
                    "Host": get_context_host(host, tls),
                    "SkipTLSVerify": not tls,
                }
            }
            return
        for key, value in endpoints.items():
            if not isinstance(value, dict):
                raise ContextException(f"Unknown endpoint format for context {name}: {value}")
            self.endpoints[key] = value
            if key == "docker":
                value["Host"] = value.get("Host", get_context_host(host, tls))
                value["SkipTLSVerify"] = bool(value.get("SkipTLSVerify", not tls))

    def set_endpoint(
        self,
        name: str = "docker",
        host: str | None = None,
        tls_cfg: TLSConfig | None = None,
        skip_tls_verify: bool = False,
        def_namespace: str | None = None,
    ) -> None:
        endpoint: dict[str, Any] = {
            "Host": get_context_host(host, not skip_tls_verify),
            "SkipTLSVerify": skip_tls_verify,
        }
        if def_namespace:
            endpoint["DefaultNamespace"] = def_namespace
        self.endpoints[name] = endpoint
        if tls_cfg:
            self.tls_cfg[name] = tls_cfg

    def inspect(self) -> dict[str, Any]:
        return self()

    # ------------------------------------------------------------------ the store

    @classmethod
    def load_context(cls, name: str) -> Context | None:
        """The saved context ``name``, or ``None`` if the store has none of that name."""
        meta = cls._load_meta(name)
        if meta is None:
            return None
        metadata = meta.get("Metadata") or {}
        instance = cls(
            meta["Name"],
            orchestrator=metadata.get("StackOrchestrator"),
            endpoints=meta.get("Endpoints"),
        )
        instance.context_type = metadata.get("Type")
        instance._load_certs()
        instance.meta_path = get_meta_dir(name)
        return instance

    @classmethod
    def _load_meta(cls, name: str) -> dict[str, Any] | None:
        path = get_meta_file(name)
        if not os.path.isfile(path):
            return None
        try:
            with open(path, encoding="utf-8") as handle:
                meta = json.load(handle)
            endpoints = meta["Endpoints"]
            meta["Name"]  # noqa: B018 - a meta file without a name is corrupted too
        except (OSError, KeyError, TypeError, ValueError) as exc:
            raise ContextException(
                f"Detected corrupted meta file for context {name} : {exc}"
            ) from exc
        docker = endpoints.get("docker")
        if isinstance(docker, dict):
            docker["Host"] = docker.get("Host", get_context_host(None, False))
            docker["SkipTLSVerify"] = bool(docker.get("SkipTLSVerify", True))
        return meta  # type: ignore[no-any-return]

    def _load_certs(self) -> None:
        certs: dict[str, TLSConfig] = {}
        tls_dir = get_tls_dir(self.name)
        for endpoint in self.endpoints:
            directory = os.path.join(tls_dir, endpoint)
            if not os.path.isdir(directory):
                continue
            found: dict[str, str] = {}
            for filename in sorted(os.listdir(directory)):
                for kind in ("ca", "cert", "key"):
                    if filename.startswith(kind):
                        found[kind] = os.path.join(directory, filename)
            if len(found) == 3:
                skip = bool(self.endpoints[endpoint].get("SkipTLSVerify", False))
                certs[endpoint] = TLSConfig(
                    client_cert=(found["cert"], found["key"]),
                    ca_cert=found["ca"],
                    verify=not (endpoint == "docker" and skip),
                )
        self.tls_cfg = certs
        self.tls_path = tls_dir

    def save(self) -> None:
        """Write meta.json and copy the TLS material into the store."""
        meta_dir = get_meta_dir(self.name)
        os.makedirs(meta_dir, exist_ok=True)
        with open(get_meta_file(self.name), "w", encoding="utf-8") as handle:
            handle.write(json.dumps(self.Metadata))
        tls_dir = get_tls_dir(self.name)
        for endpoint, tls in self.tls_cfg.items():
            directory = os.path.join(tls_dir, endpoint)
            os.makedirs(directory, exist_ok=True)
            if tls.ca_cert:
                shutil.copyfile(tls.ca_cert, os.path.join(directory, "ca.pem"))
            if tls.cert:
                shutil.copyfile(tls.cert[0], os.path.join(directory, "cert.pem"))
                key = os.path.join(directory, "key.pem")
                shutil.copyfile(tls.cert[1], key)
                os.chmod(key, 0o600)
        self.meta_path = meta_dir
        self.tls_path = tls_dir

    def remove(self) -> None:
        for path in (self.meta_path, self.tls_path):
            if os.path.isdir(path):
                shutil.rmtree(path)

    # ------------------------------------------------------------------ views

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__}: '{self.name}'>"

    def __str__(self) -> str:
        return json.dumps(self(), indent=2)

    def __call__(self) -> dict[str, Any]:
        """What ``docker context inspect`` shows: metadata, TLS material, storage paths."""
        result = self.Metadata
        result.update(self.TLSMaterial)
        result.update(self.Storage)
        return result

    def is_docker_host(self) -> bool:
        return self.context_type is None

    @property
    def Name(self) -> str:  # noqa: N802 - docker-py's (and the CLI's) capitalised names
        return self.name

    @property
    def Host(self) -> str | None:  # noqa: N802
        endpoint = self.endpoints.get(_endpoint_key(self.orchestrator))
        if endpoint is None:
            if _endpoint_key(self.orchestrator) != "docker":
                raise KeyError(self.orchestrator)
            return None
        host: str | None = endpoint.get("Host")
        return host

    @property
    def Orchestrator(self) -> str | None:  # noqa: N802
        return self.orchestrator

    @property
    def Metadata(self) -> dict[str, Any]:  # noqa: N802
        meta = {"StackOrchestrator": self.orchestrator} if self.orchestrator else {}
        return {"Name": self.name, "Metadata": meta, "Endpoints": self.endpoints}

    @property
    def TLSConfig(self) -> TLSConfig | None:  # noqa: N802
        return self.tls_cfg.get(_endpoint_key(self.orchestrator))

    @property
    def TLSMaterial(self) -> dict[str, Any]:  # noqa: N802
        certs: dict[str, list[str]] = {}
        for endpoint, tls in self.tls_cfg.items():
            paths = [tls.ca_cert, *(tls.cert or ())]
            certs[endpoint] = [os.path.basename(path) for path in paths if path]
        return {"TLSMaterial": certs}

    @property
    def Storage(self) -> dict[str, Any]:  # noqa: N802
        return {"Storage": {"MetadataPath": self.meta_path, "TLSPath": self.tls_path}}
