"""``docker.utils.config``: where the docker CLI's config.json is, and its contents.

docker-py's search order: an explicit path, ``$DOCKER_CONFIG/config.json``,
``~/.docker/config.json``, the legacy ``~/.dockercfg``; the first that exists wins.
"""

from __future__ import annotations

import json
import os
from typing import Any

from ..constants import IS_WINDOWS_PLATFORM

__all__ = [
    "DOCKER_CONFIG_FILENAME",
    "LEGACY_DOCKER_CONFIG_FILENAME",
    "config_path_from_environment",
    "find_config_file",
    "home_dir",
    "load_general_config",
]

DOCKER_CONFIG_FILENAME = os.path.join(".docker", "config.json")
LEGACY_DOCKER_CONFIG_FILENAME = ".dockercfg"


def home_dir() -> str:
    """``%USERPROFILE%`` on Windows, ``~`` elsewhere (as the docker CLI)."""
    if IS_WINDOWS_PLATFORM:
        return os.environ.get("USERPROFILE", "")
    return os.path.expanduser("~")


def config_path_from_environment() -> str | None:
    directory = os.environ.get("DOCKER_CONFIG")
    if not directory:
        return None
    return os.path.join(directory, os.path.basename(DOCKER_CONFIG_FILENAME))


def find_config_file(config_path: str | None = None) -> str | None:
    candidates = [
        config_path,
        config_path_from_environment(),
        os.path.join(home_dir(), DOCKER_CONFIG_FILENAME),
        os.path.join(home_dir(), LEGACY_DOCKER_CONFIG_FILENAME),
    ]
    for path in candidates:
        if path and os.path.exists(path):
            return path
    return None


def load_general_config(config_path: str | None = None) -> dict[str, Any]:
    """config.json as a dict; ``{}`` when there is none or it is not JSON (a legacy file)."""
    path = find_config_file(config_path)
    if not path:
        return {}
    try:
        with open(path) as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
