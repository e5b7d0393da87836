"""``docker.models.images``: the image model and collection of the sync facade."""

from .._sync.images import Image, ImageCollection, RegistryData

__all__ = ["Image", "ImageCollection", "RegistryData"]
