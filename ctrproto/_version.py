"""The package version, kept apart so that every layer can name it in User-Agent without cycles."""

__version__ = "0.1.0"
