"""``Healthcheck``: the container's probe command and its timing (docker-py's
``docker.types.healthcheck``)."""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any, Sequence

from ctrproto.errors import InvalidArgument

from ._common import _first, _is_int

__all__ = ["Duration", "Healthcheck"]


# =========================================================================== healthcheck

Duration = int | float | _dt.timedelta
_MIN_DURATION_NS = 1_000_000  # the daemon refuses non-zero intervals under 1 ms


def _duration_ns(name: str, value: Duration | None) -> int | None:
    """Nanoseconds from an int (ns), a float (ns, as ``30 * 1e9`` gives) or a ``timedelta``.

    A float would otherwise reach the daemon as ``3e10``, which Go refuses to decode into a
    duration.
    """
    if value is None:
        return None
    if isinstance(value, _dt.timedelta):
        ns = (value.days * 86400 + value.seconds) * 1_000_000_000 + value.microseconds * 1000
    elif _is_int(value):
        ns = int(value)
    elif isinstance(value, float) and math.isfinite(value):
        ns = round(value)
    else:
        raise InvalidArgument(
            f"Healthcheck.{name} must be nanoseconds as an int (or a timedelta), got {value!r}"
        )
    if ns != 0 and not ns >= _MIN_DURATION_NS:
        raise InvalidArgument(
            f"Healthcheck.{name} must be 0 or at least 1000000 ns (1 ms), got {value!r}"
        )
    return ns


def _health_test(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return ["CMD-SHELL", value]
    if isinstance(value, (list, tuple)) and all(isinstance(part, str) for part in value):
        return list(value)
    raise InvalidArgument(f"Healthcheck.test must be a string or a list of strings, got {value!r}")


class Healthcheck(dict[str, Any]):
    """The container's ``Healthcheck``: the probe command and its timing.

    A string ``test`` is run by the image's shell (``["CMD-SHELL", test]``); ``[]`` inherits the
    image's check and ``["NONE"]`` disables it.  Times are nanoseconds, as in the Engine API; a
    ``timedelta`` is accepted as well.  Unset fields stay ``None`` (the daemon's defaults apply).
    """

    def __init__(
        self,
        test: str | Sequence[str] | None = None,
        interval: Duration | None = None,
        timeout: Duration | None = None,
        retries: int | None = None,
        start_period: Duration | None = None,
        *,
        Test: str | Sequence[str] | None = None,
        Interval: Duration | None = None,
        Timeout: Duration | None = None,
        Retries: int | None = None,
        StartPeriod: Duration | None = None,
    ) -> None:
        retry_count = _first(retries, Retries)
        if retry_count is not None and (not _is_int(retry_count) or retry_count < 0):
            raise InvalidArgument(
                f"Healthcheck.retries must be a non-negative integer, got {retry_count!r}"
            )
        super().__init__(
            Test=_health_test(_first(test, Test)),
            Interval=_duration_ns("interval", _first(interval, Interval)),
            Timeout=_duration_ns("timeout", _first(timeout, Timeout)),
            Retries=retry_count,
            StartPeriod=_duration_ns("start_period", _first(start_period, StartPeriod)),
        )

    @property
    def test(self) -> list[str] | None:
        return self["Test"]  # type: ignore[no-any-return]

    @test.setter
    def test(self, value: str | Sequence[str] | None) -> None:
        self["Test"] = _health_test(value)

    @property
    def interval(self) -> int | None:
        return self["Interval"]  # type: ignore[no-any-return]

    @interval.setter
    def interval(self, value: Duration | None) -> None:
        self["Interval"] = _duration_ns("interval", value)

    @property
    def timeout(self) -> int | None:
        return self["Timeout"]  # type: ignore[no-any-return]

    @timeout.setter
    def timeout(self, value: Duration | None) -> None:
        self["Timeout"] = _duration_ns("timeout", value)

    @property
    def retries(self) -> int | None:
        return self["Retries"]  # type: ignore[no-any-return]

    @retries.setter
    def retries(self, value: int | None) -> None:
        if value is not None and (not _is_int(value) or value < 0):
            raise InvalidArgument(
                f"Healthcheck.retries must be a non-negative integer, got {value!r}"
            )
        self["Retries"] = value

    @property
    def start_period(self) -> int | None:
        return self["StartPeriod"]  # type: ignore[no-any-return]

    @start_period.setter
    def start_period(self, value: Duration | None) -> None:
        self["StartPeriod"] = _duration_ns("start_period", value)
