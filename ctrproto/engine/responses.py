"""Turning the daemon's error answers into exceptions (shared by the sync and async clients)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from ..errors import APIError, ImageNotFound, NotFound, ResponseInfo, status_error_class

#: How much of an error answer's body is read for its message.
MAX_ERROR_BODY = 1024 * 1024
#: The Engine API never redirects, except when its router cleans a path: an id or name holding
#: ``..`` segments (``../../info``) is answered with a redirect to another endpoint.  Following it
#: would return that endpoint's data as if it were the object asked for, so it is NotFound.
REDIRECTS = (301, 302, 303, 307, 308)

_IMAGE_MISSING = re.compile(
    r"no such image|not found: does not exist or no pull access|pull access denied|"
    r"repository does not exist|manifest unknown|not found: manifest",
    re.IGNORECASE,
)


def explanation_from_body(body: bytes) -> str:
    """The daemon's human message: the JSON ``message`` field, else the body text."""
    text = body.decode("utf-8", "replace").strip()
    try:
        decoded = json.loads(text)
    except ValueError:
        return text
    if isinstance(decoded, dict) and isinstance(decoded.get("message"), str):
        return str(decoded["message"])
    return text


def api_error(
    status_code: int,
    reason: str,
    headers: Mapping[str, str],
    body: bytes,
    url: str,
    *,
    image_request: bool = False,
) -> APIError:
    """Build the exception for an error status, refined the way docker-py users expect.

    ``image_request`` marks calls whose 404 means a missing image (create, pull, image inspect),
    where docker-py raises ``ImageNotFound`` rather than plain ``NotFound``.
    """
    explanation = explanation_from_body(body)
    info = ResponseInfo(status_code, reason, headers, body, url)
    cls = status_error_class(status_code)
    if cls is NotFound and (image_request or _IMAGE_MISSING.search(explanation)):
        cls = ImageNotFound
    return cls(explanation, response=info, explanation=explanation)


def redirect_error(
    status_code: int, reason: str, headers: Mapping[str, str], target: str, url: str
) -> NotFound:
    """A redirect is how the daemon's router answers an id holding ``..`` or ``/`` segments.

    Following it would return another endpoint's data as if it were the object asked for, so it
    is a ``NotFound`` instead.
    """
    explanation = (
        f"the daemon redirected {target} to {headers.get('location', '?')!r}: "
        "there is no such object (an id or name with '/' or '..' segments is not followed "
        "to another endpoint)"
    )
    return NotFound(
        explanation,
        response=ResponseInfo(status_code, reason, headers, b"", url),
        explanation=explanation,
    )
