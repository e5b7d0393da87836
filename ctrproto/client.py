"""``docker.client``: :class:`DockerClient`, :func:`from_env` and :func:`from_context`.

``from_context`` builds a client from a docker CLI context as docker-py 7.2's does: the named
context, or with no name the current one (``DOCKER_CONTEXT``, then ``currentContext`` in
config.json, then ``default`` - the local socket); explicit keywords win over the context's.
Unlike :func:`from_env`, ``DOCKER_HOST`` is not consulted.
"""

from ._sync.docker_client import DockerClient, from_context, from_env

__all__ = ["DockerClient", "from_context", "from_env"]
