"""``docker.version``: the docker-py version this package stands in for, ``"7.2.0"``.

Under :func:`ctrproto.install_as_docker` this module is ``docker.version``, and
``docker.__version__`` is its ``__version__``.  It reports the docker-py release whose API
ctrproto reproduces, not ctrproto's own version (that stays ``ctrproto.__version__``), because
code reads it as docker-py's: to gate features on the library version, or - as testcontainers
does - passing it where an API version is expected (``EndpointConfig(version.__version__)``).
Reporting ctrproto's ``0.x`` there would make such code believe it runs on an ancient docker-py.
"""

from __future__ import annotations

#: The docker-py release whose public API ctrproto follows.
__version__ = "7.2.0"

__all__ = ["__version__"]
