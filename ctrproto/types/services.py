"""Swarm-service shaped types that containers use too: ``RestartPolicy`` and ``Mount`` (docker-py's
``docker.types.services``; the service specs themselves are out of scope)."""

from __future__ import annotations

import re
from typing import Any, Mapping

from ctrproto.engine.utils import parse_bytes
from ctrproto.errors import InvalidArgument

from ._common import _is_int

__all__ = ["Mount", "RestartConditionTypesEnum", "RestartPolicy"]


# =========================================================================== restart policy


class RestartConditionTypesEnum:
    """Conditions of a *service* restart policy (see :class:`RestartPolicy`)."""

    _values = ("none", "on-failure", "any")
    NONE, ON_FAILURE, ANY = _values


class RestartPolicy(dict[str, Any]):
    """docker-py's restart policy type, in the Swarm *service* form.

    It holds ``{Condition, Delay, MaxAttempts, Window}``.  A container's ``restart_policy`` takes
    the other form, ``{"Name": ..., "MaximumRetryCount": ...}``; ``create()`` translates an
    instance of this class into it (``none``→``no``, ``any``→``always``) when ``delay`` and
    ``window``, which containers cannot express, are left at 0.
    """

    condition_types = RestartConditionTypesEnum

    def __init__(
        self,
        condition: str = RestartConditionTypesEnum.NONE,
        delay: int = 0,
        max_attempts: int = 0,
        window: int = 0,
    ) -> None:
        if condition not in self.condition_types._values:
            raise InvalidArgument(
                f"invalid RestartPolicy condition {condition!r}: expected one of "
                + ", ".join(self.condition_types._values)
            )
        for name, value in (("delay", delay), ("max_attempts", max_attempts), ("window", window)):
            if not _is_int(value) or value < 0:
                raise InvalidArgument(
                    f"RestartPolicy.{name} must be a non-negative integer, got {value!r}"
                )
        super().__init__(Condition=condition, Delay=delay, MaxAttempts=max_attempts, Window=window)

    @property
    def condition(self) -> str:
        return self["Condition"]  # type: ignore[no-any-return]

    @property
    def delay(self) -> int:
        return self["Delay"]  # type: ignore[no-any-return]

    @property
    def max_attempts(self) -> int:
        return self["MaxAttempts"]  # type: ignore[no-any-return]

    @property
    def window(self) -> int:
        return self["Window"]  # type: ignore[no-any-return]


# =========================================================================== mount

_MOUNT_TYPES = ("bind", "volume", "tmpfs", "npipe")
_PROPAGATIONS = ("private", "rprivate", "shared", "rshared", "slave", "rslave")
_CONSISTENCIES = ("default", "consistent", "cached", "delegated")
# A Windows drive path: "C:\...".  A forward slash ("c:/x") is not taken as one, because on a Linux
# daemon that is a volume named "c" mounted at /x.
_DRIVE_RE = re.compile(r"^[A-Za-z]:\\")


class Mount(dict[str, Any]):
    """One entry of ``HostConfig.Mounts``: the structured alternative to ``volumes`` strings.

    Options are checked against the mount ``type`` (``bind``, ``volume``, ``tmpfs``, ``npipe``)
    because the daemon rejects, for instance, a propagation mode on a volume.
    """

    def __init__(
        self,
        target: str,
        source: str | None,
        type: str = "volume",
        read_only: bool = False,
        consistency: str | None = None,
        propagation: str | None = None,
        no_copy: bool = False,
        labels: Mapping[str, str] | None = None,
        driver_config: Mapping[str, Any] | None = None,
        tmpfs_size: int | str | None = None,
        tmpfs_mode: int | None = None,
        subpath: str | None = None,
    ) -> None:
        if not isinstance(target, str) or not target:
            raise InvalidArgument(f"Mount.target must be a non-empty string, got {target!r}")
        if source is not None and not isinstance(source, str):
            raise InvalidArgument(f"Mount.source must be a string or None, got {source!r}")
        if type not in _MOUNT_TYPES:
            raise InvalidArgument(
                f"unsupported mount type {type!r}: expected one of {', '.join(_MOUNT_TYPES)}"
            )
        if consistency is not None and consistency not in _CONSISTENCIES:
            raise InvalidArgument(
                f"Mount.consistency must be one of {', '.join(_CONSISTENCIES)}, got {consistency!r}"
            )
        self["Target"] = target
        self["Source"] = source
        self["Type"] = type
        self["ReadOnly"] = bool(read_only)
        if consistency:
            self["Consistency"] = consistency

        def incompatible(*names: str) -> None:
            given = {
                "propagation": propagation,
                "no_copy": no_copy,
                "labels": labels,
                "driver_config": driver_config,
                "tmpfs_size": tmpfs_size,
                "tmpfs_mode": tmpfs_mode,
                "subpath": subpath,
            }
            bad = [name for name in names if given[name]]
            if bad:
                raise InvalidArgument(
                    f"option(s) {', '.join(bad)} cannot be used with a {type!r} mount"
                )

        if type == "bind":
            incompatible(
                "no_copy", "labels", "driver_config", "tmpfs_size", "tmpfs_mode", "subpath"
            )
            if propagation is not None:
                if propagation not in _PROPAGATIONS:
                    raise InvalidArgument(
                        f"Mount.propagation must be one of {', '.join(_PROPAGATIONS)}, "
                        f"got {propagation!r}"
                    )
                self["BindOptions"] = {"Propagation": propagation}
        elif type == "volume":
            incompatible("propagation", "tmpfs_size", "tmpfs_mode")
            volume_options: dict[str, Any] = {}
            if no_copy:
                volume_options["NoCopy"] = True
            if labels:
                volume_options["Labels"] = dict(labels)
            if driver_config:
                volume_options["DriverConfig"] = dict(driver_config)
            if subpath:
                volume_options["Subpath"] = subpath
            if volume_options:
                self["VolumeOptions"] = volume_options
        elif type == "tmpfs":
            incompatible("propagation", "no_copy", "labels", "driver_config", "subpath")
            tmpfs_options: dict[str, Any] = {}
            if tmpfs_mode:
                if not _is_int(tmpfs_mode):
                    raise InvalidArgument(
                        f"Mount.tmpfs_mode must be an integer, got {tmpfs_mode!r}"
                    )
                tmpfs_options["Mode"] = tmpfs_mode
            if tmpfs_size:
                tmpfs_options["SizeBytes"] = parse_bytes(tmpfs_size)
            if tmpfs_options:
                self["TmpfsOptions"] = tmpfs_options
        else:  # npipe: a Windows named pipe takes no options
            incompatible(
                "propagation",
                "no_copy",
                "labels",
                "driver_config",
                "tmpfs_size",
                "tmpfs_mode",
                "subpath",
            )

    @classmethod
    def parse_mount_string(cls, string: str) -> Mount:
        """Build a mount from the CLI's ``-v`` syntax: ``[source:]target[:options]``.

        ``options`` is a comma-separated list of ``ro``/``rw``, a bind propagation mode or
        ``nocopy``.  A source that is an absolute path (POSIX, or a Windows drive path) makes a
        bind mount, anything else names a volume; with no source, an anonymous volume.  SELinux
        relabelling (``z``/``Z``) cannot be expressed as a mount and is refused.
        """
        if not isinstance(string, str) or not string:
            raise InvalidArgument(f"invalid mount format {string!r}")
        parts = _split_mount_string(string)
        if len(parts) > 3 or not all(parts):
            raise InvalidArgument(f"invalid mount format {string!r}")
        if len(parts) == 1:
            return cls(target=parts[0], source=None)
        source, target = parts[0], parts[1]
        options = parts[2].split(",") if len(parts) == 3 else []
        is_bind = source.startswith("/") or source.startswith("\\") or bool(_DRIVE_RE.match(source))
        read_only = False
        propagation: str | None = None
        no_copy = False
        for option in options:
            if option in ("ro", "rw"):
                read_only = option == "ro"
            elif option in _PROPAGATIONS and is_bind:
                propagation = option
            elif option == "nocopy" and not is_bind:
                no_copy = True
            else:
                raise InvalidArgument(
                    f"invalid mount format {string!r}: unsupported option {option!r}"
                )
        return cls(
            target,
            source,
            type="bind" if is_bind else "volume",
            read_only=read_only,
            propagation=propagation,
            no_copy=no_copy,
        )


def _split_mount_string(string: str) -> list[str]:
    """Split ``source:target:options`` on colons, keeping Windows drive letters attached."""
    parts: list[str] = []
    rest = string
    while rest:
        drive, tail = (rest[:2], rest[2:]) if _DRIVE_RE.match(rest) else ("", rest)
        head, sep, rest = tail.partition(":")
        parts.append(drive + head)
        if not sep:
            break
        if not rest:
            parts.append("")  # a trailing colon: an empty part, reported as malformed
    return parts
