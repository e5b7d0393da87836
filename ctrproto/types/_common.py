"""Helpers the typed argument classes share: docker-py's precedence of spellings, int checks."""

from __future__ import annotations

from typing import Any

from ctrproto.errors import InvalidArgument


def _first(lower: Any, upper: Any) -> Any:
    """docker-py's precedence when both spellings are given: the snake_case one."""
    return lower if lower is not None else upper


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _require_int(owner: str, name: str, value: Any) -> None:
    if value is not None and not _is_int(value):
        raise InvalidArgument(f"{owner}.{name} must be an integer, got {value!r}")
