"""``ContextAPI``: create, list, get, inspect, remove and switch docker CLI contexts.

docker-py's class methods over the CLI's store (see :mod:`ctrproto.context.config` for where it
is and the two places where the CLI's rules are followed over docker-py's).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from .. import config as _cli
from ..errors import (
    ContextAlreadyExists,
    ContextException,
    ContextNotFound,
    MissingContextParameter,
)
from ..tls import TLSConfig
from .config import (
    METAFILE,
    get_current_context_name,
    get_meta_dir,
    write_context_name_to_docker_config,
)
from .context import Context

__all__ = ["ContextAPI"]


class ContextAPI:
    """Context management, as ``docker context create/ls/inspect/rm/use``."""

    DEFAULT_CONTEXT = Context("default", "swarm")

    @classmethod
    def create_context(
        cls,
        name: str,
        orchestrator: str | None = None,
        host: str | None = None,
        tls_cfg: TLSConfig | None = None,
        default_namespace: str | None = None,
        skip_tls_verify: bool = False,
    ) -> Context:
        """Create and save a context; ``ContextAlreadyExists`` if the name is taken."""
        if not name:
            raise MissingContextParameter("name")
        if name == _cli.DEFAULT_CONTEXT:
            raise ContextException('"default" is a reserved context name')
        if Context.load_context(name):
            raise ContextAlreadyExists(name)
        endpoint = orchestrator if orchestrator and orchestrator != "swarm" else "docker"
        ctx = Context(name, orchestrator)
        ctx.set_endpoint(
            endpoint,
            host,
            tls_cfg,
            skip_tls_verify=skip_tls_verify,
            def_namespace=default_namespace,
        )
        ctx.save()
        return ctx

    @classmethod
    def get_context(cls, name: str | None = None) -> Context | None:
        """The context ``name`` (the current one if not given), ``None`` if there is none."""
        if not name:
            name = get_current_context_name()
        if name == _cli.DEFAULT_CONTEXT:
            return cls.DEFAULT_CONTEXT
        return Context.load_context(name)

    @classmethod
    def contexts(cls) -> list[Context]:
        """Every context: ``default`` first, then the store's."""
        names: list[str] = []
        for directory, subdirs, files in os.walk(get_meta_dir()):
            for filename in files + subdirs:
                if filename != METAFILE:
                    continue
                try:
                    with open(os.path.join(directory, filename), encoding="utf-8") as handle:
                        names.append(json.load(handle)["Name"])
                except Exception as exc:
                    raise ContextException(f"Failed to load metafile {filename}: {exc}") from exc
        found: list[Context] = [cls.DEFAULT_CONTEXT]
        for name in names:
            ctx = Context.load_context(name)
            if ctx is not None:
                found.append(ctx)
        return found

    @classmethod
    def get_current_context(cls) -> Context | None:
        return cls.get_context()

    @classmethod
    def kwargs_from_context(
        cls, name: str | None = None, environment: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """``base_url``/``tls`` for a client of the context (the current one if not named)."""
        env = os.environ if environment is None else environment
        if name is None:
            name = env.get("DOCKER_CONTEXT")
        ctx = cls.get_context(name)
        if ctx is None or not ctx.Host:
            return {}
        params: dict[str, Any] = {"base_url": ctx.Host}
        if ctx.TLSConfig is not None:
            params["tls"] = ctx.TLSConfig
        return params

    @classmethod
    def set_current_context(cls, name: str = "default") -> None:
        """``docker context use``: write ``currentContext`` (cleared for ``default``)."""
        if not cls.get_context(name):
            raise ContextNotFound(name)
        err = write_context_name_to_docker_config(name)
        if err:
            raise ContextException(f"Failed to set current context: {err}")

    @classmethod
    def remove_context(cls, name: str) -> None:
        """``docker context rm``; the current context falls back to ``default``."""
        if not name:
            raise MissingContextParameter("name")
        if name == _cli.DEFAULT_CONTEXT:
            raise ContextException('context "default" cannot be removed')
        ctx = Context.load_context(name)
        if not ctx:
            raise ContextNotFound(name)
        if name == get_current_context_name():
            write_context_name_to_docker_config(None)
        ctx.remove()

    @classmethod
    def inspect_context(cls, name: str = "default") -> dict[str, Any]:
        """``docker context inspect``: the context as a dict."""
        if not name:
            raise MissingContextParameter("name")
        if name == _cli.DEFAULT_CONTEXT:
            return cls.DEFAULT_CONTEXT()
        ctx = Context.load_context(name)
        if not ctx:
            raise ContextNotFound(name)
        return ctx()
