"""``docker.models.volumes``' place: the sync ``Volume`` and ``VolumeCollection``."""

from .._sync.volumes import Volume, VolumeCollection

__all__ = ["Volume", "VolumeCollection"]
