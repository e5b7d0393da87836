"""``docker.models.containers``: the container model and collection of the sync facade."""

from .._sync.containers import Container, ContainerCollection, ExecOutput, ExecResult

__all__ = ["Container", "ContainerCollection", "ExecOutput", "ExecResult"]
