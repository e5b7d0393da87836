"""``APIClient``: the low-level client, one method per Engine API endpoint."""

from __future__ import annotations

from .container_io import ContainerIOMixin
from .containers import ContainerApiMixin
from .exec_api import ExecApiMixin
from .images import ImageApiMixin
from .system import SystemApiMixin


class APIClient(ContainerApiMixin, ContainerIOMixin, ExecApiMixin, ImageApiMixin, SystemApiMixin):
    """Talks to one daemon; thread-safe; share one instance across threads.

    ``base_url`` takes the same forms as ``DOCKER_HOST``; ``version`` is ``"auto"`` (negotiate
    once with the daemon, the default) or an explicit ``"1.41"``; ``timeout`` bounds connecting
    and each read of an ordinary request (streams that follow output are not cut by it).
    """

    def __enter__(self) -> APIClient:
        return self
