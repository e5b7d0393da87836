"""``docker.client``: :class:`DockerClient`, :func:`from_env` and :func:`from_context`.

``from_context`` builds a client from a docker CLI context as docker-py 7.2's does: the named
context, or with no name the current one (``DOCKER_CONTEXT``, then ``currentContext`` in
config.json, then ``default`` - the local socket); explicit keywords win over the context's.
Unlike :func:`from_env`, ``DOCKER_HOST`` is not consulted.
"""

from __future__ import annotations

import os
from typing import Any

from ._sync.docker_client import DockerClient, from_env
from .config import context_kwargs, current_context_name

__all__ = ["DockerClient", "from_context", "from_env"]


def from_context(name: str | None = None, **kwargs: Any) -> DockerClient:
    """A client for the docker CLI context ``name`` (the current context when ``None``)."""
    environment = os.environ
    params = context_kwargs(name or current_context_name(environment), environment)
    params.update(kwargs)
    return DockerClient(**params)
