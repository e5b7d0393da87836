"""API version arithmetic and the range this client speaks."""

from __future__ import annotations

from ..errors import InvalidVersion

#: The newest Engine API whose semantics this client implements; newer daemons are asked for it.
MAX_API_VERSION = "1.45"
#: The oldest Engine API this client can drive.
MIN_API_VERSION = "1.24"


def parse_version(version: str) -> tuple[int, int]:
    text = version[1:] if version.startswith("v") else version
    major, sep, minor = text.partition(".")
    if not sep or not major.isdigit() or not minor.isdigit():
        raise InvalidVersion(f"invalid API version {version!r}: expected a form like '1.41'")
    return int(major), int(minor)


def normalize_version(version: str) -> str:
    major, minor = parse_version(version)
    return f"{major}.{minor}"


def version_lt(a: str, b: str) -> bool:
    return parse_version(a) < parse_version(b)


def version_gte(a: str, b: str) -> bool:
    return parse_version(a) >= parse_version(b)


def negotiate(server_api: str, server_min: str | None = None) -> str:
    """The highest version both sides speak, or a clear error when there is none."""
    server_api = normalize_version(server_api)
    chosen = server_api if version_lt(server_api, MAX_API_VERSION) else MAX_API_VERSION
    if version_lt(chosen, MIN_API_VERSION):
        raise InvalidVersion(
            f"the daemon speaks API {server_api}, older than {MIN_API_VERSION}, "
            "the oldest ctrproto supports"
        )
    if server_min and version_lt(chosen, normalize_version(server_min)):
        raise InvalidVersion(
            f"the daemon requires API {server_min} or newer; ctrproto speaks up to "
            f"{MAX_API_VERSION}"
        )
    return chosen
