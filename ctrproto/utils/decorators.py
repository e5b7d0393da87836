"""``docker.utils.decorators``: docker-py's method decorators for API mixins.

For code that extends ``APIClient`` the docker-py way: ``check_resource`` takes the resource id
(or an inspect dict holding ``Id``) and refuses an empty one, ``minimum_version`` refuses a call
the negotiated API version lacks, ``update_headers`` adds config.json's ``HttpHeaders``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from ..errors import InvalidVersion, NullResource
from .utils import version_lt

__all__ = ["check_resource", "minimum_version", "update_headers"]

F = TypeVar("F", bound=Callable[..., Any])


def check_resource(resource_name: str) -> Callable[[F], F]:
    def decorator(f: F) -> F:
        @functools.wraps(f)
        def wrapped(self: Any, resource_id: Any = None, *args: Any, **kwargs: Any) -> Any:
            if resource_id is None and kwargs.get(resource_name):
                resource_id = kwargs.pop(resource_name)
            if isinstance(resource_id, dict):
                resource_id = resource_id.get("Id", resource_id.get("ID"))
            if not resource_id:
                raise NullResource("Resource ID was not provided")
            return f(self, resource_id, *args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def _api_version(client: Any) -> str:
    ensure = getattr(client, "ensure_api_version", None)
    if callable(ensure):
        return str(ensure())
    return str(client._version)


def minimum_version(version: str) -> Callable[[F], F]:
    def decorator(f: F) -> F:
        @functools.wraps(f)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            if version_lt(_api_version(self), version):
                raise InvalidVersion(f"{f.__name__} is not available for version < {version}")
            return f(self, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def update_headers(f: F) -> F:
    @functools.wraps(f)
    def inner(self: Any, *args: Any, **kwargs: Any) -> Any:
        extra = (getattr(self, "_general_configs", None) or {}).get("HttpHeaders")
        if extra:
            if not kwargs.get("headers"):
                kwargs["headers"] = extra
            else:
                kwargs["headers"].update(extra)
        return f(self, *args, **kwargs)

    return inner  # type: ignore[return-value]
