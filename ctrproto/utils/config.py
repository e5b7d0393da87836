"""``docker.utils.config``: where the docker CLI's config.json is, and its contents.

The search itself is :mod:`ctrproto.config`'s (docker-py's order: an explicit path,
``$DOCKER_CONFIG/config.json``, ``~/.docker/config.json``, the legacy ``~/.dockercfg``); this
module keeps docker-py's names for it.
"""

from __future__ import annotations

import os

from ..config import CONFIG_FILENAME as DOCKER_CONFIG_FILENAME
from ..config import LEGACY_CONFIG_FILENAME as LEGACY_DOCKER_CONFIG_FILENAME
from ..config import find_config_file, load_general_config
from ..constants import IS_WINDOWS_PLATFORM

__all__ = [
    "DOCKER_CONFIG_FILENAME",
    "LEGACY_DOCKER_CONFIG_FILENAME",
    "config_path_from_environment",
    "find_config_file",
    "home_dir",
    "load_general_config",
]


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
