"""Value conversions shared by every request builder: sizes, filters, timestamps.

These are the small parsers that both the sync and the asyncio facades need when they turn
docker-py style arguments into query strings and JSON bodies.  They are pure functions so that the
two facades cannot drift apart, and so that they can be tested without a daemon.

``version_lt``/``version_gte`` are re-exported from :mod:`ctrproto.engine.versions`, where API
version arithmetic lives, so that callers converting arguments find everything in one place.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Any, Mapping

from ctrproto.engine.versions import version_gte, version_lt
from ctrproto.errors import InvalidArgument

__all__ = [
    "BYTE_UNITS",
    "convert_filters",
    "format_timestamp",
    "parse_bytes",
    "version_gte",
    "version_lt",
]

# --------------------------------------------------------------------------- sizes

#: Binary multipliers, as the docker CLI (go-units ``RAMInBytes``) uses them: "1k" is 1024 bytes.
BYTE_UNITS: Mapping[str, int] = {
    "": 1,
    "b": 1,
    "k": 1024,
    "m": 1024**2,
    "g": 1024**3,
    "t": 1024**4,
    "p": 1024**5,
}

# The CLI's grammar plus a sign (memswap_limit=-1 means "unlimited"):
# "512", "64m", "1.5g", "1 GiB", "100000b", "128MB".
_SIZE_RE = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*([kmgtp]?)(i?)(b?)\s*$", re.IGNORECASE)


def parse_bytes(value: str | int | float) -> int:
    """Turn a memory size given as a number of bytes or a string with a unit into an int.

    An int is returned as is and a float is truncated (the daemon only takes integers; a float
    sent as JSON would be refused).  Strings follow the docker CLI: an optional binary unit
    ``b``/``k``/``m``/``g``/``t``/``p`` (case-insensitive, optionally followed by ``i`` and/or
    ``b``); a bare number means bytes.
    """
    if isinstance(value, bool):
        raise InvalidArgument(f"a size must be an int, a float or a string, not a bool ({value!r})")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidArgument(f"a size must be a finite number, got {value!r}")
        return int(value)
    if not isinstance(value, str):
        raise InvalidArgument(
            f"a size must be an int, a float or a string, not {type(value).__name__} ({value!r})"
        )
    match = _SIZE_RE.match(value)
    if match is None:
        raise InvalidArgument(
            f"invalid size {value!r}: expected a number optionally followed by one of the units "
            "b, k, m, g, t, p (e.g. '512m', '1g')"
        )
    number, unit, binary, byte = match.groups()
    if binary and not unit:
        raise InvalidArgument(f"invalid size {value!r}: 'i' needs a unit before it (e.g. 'MiB')")
    del byte  # "b" alone or after a unit is only decoration
    multiplier = BYTE_UNITS[unit.lower()]
    if "." in number:
        return int(Decimal(number) * multiplier)
    return int(number) * multiplier


# --------------------------------------------------------------------------- filters


def _filter_item(key: str, item: Any) -> str:
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, str):
        return item
    if isinstance(item, (int, float)):
        return str(item)
    raise InvalidArgument(
        f"filter {key!r}: values must be str, int or bool, not {type(item).__name__} ({item!r})"
    )


def convert_filters(filters: Mapping[str, Any]) -> str:
    """Encode a filters mapping the way the daemon's ``filters`` query parameter expects it.

    The daemon takes a JSON object of lists of strings; docker-py users pass scalars, booleans and
    lists.  A ``None`` value means "no such filter" and is left out.
    """
    result: dict[str, list[str]] = {}
    for key, value in filters.items():
        if not isinstance(key, str):
            raise InvalidArgument(f"filter names must be strings, got {key!r}")
        if value is None:
            continue
        if isinstance(value, (list, tuple, set, frozenset)):
            items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else list(value)
            result[key] = [_filter_item(key, item) for item in items]
        else:
            result[key] = [_filter_item(key, value)]
    return json.dumps(result, separators=(",", ":"))


# --------------------------------------------------------------------------- timestamps

_NANOS = Decimal(10) ** -9
_WIDE = Context(prec=400)  # room for any finite float's integer digits plus 9 decimals
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


def _nanosecond_string(seconds: Decimal) -> str:
    exact = seconds.quantize(_NANOS, rounding=ROUND_HALF_EVEN, context=_WIDE)
    seconds_part, _, fraction = f"{exact:f}".partition(".")
    return f"{seconds_part}.{fraction.ljust(9, '0')}"


def format_timestamp(value: _dt.datetime | int | float | Decimal) -> str:
    """Format a ``since``/``until`` value the way the daemon parses it: ``seconds[.nanoseconds]``.

    An int is epoch seconds.  A float is epoch seconds with a fraction (what ``time.time()``
    returns); the fraction is kept to the nanosecond instead of being cut off, so that "logs since
    this instant" does not include the second before it.  A ``Decimal`` is the same, exactly (a
    float cannot hold today's epoch to the nanosecond: the log ingester's cursors need that).  A
    naive ``datetime`` is local time, an aware one is converted from its own zone.
    """
    if isinstance(value, bool):
        raise InvalidArgument(f"a timestamp must be a datetime, an int or a float, not {value!r}")
    if isinstance(value, _dt.datetime):
        aware = value.astimezone(_dt.timezone.utc)  # naive: interpreted as local time
        delta = aware - _EPOCH
        seconds = delta.days * 86400 + delta.seconds
        if seconds < 0:
            raise InvalidArgument(f"timestamp {value!r} is before the Unix epoch")
        if delta.microseconds:
            return f"{seconds}.{delta.microseconds * 1000:09d}"
        return str(seconds)
    if isinstance(value, int):
        if value < 0:
            raise InvalidArgument(f"timestamp {value!r} is before the Unix epoch")
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value) or value < 0:
            raise InvalidArgument(f"timestamp {value!r} is not a finite non-negative number")
        # repr() is the shortest string that round-trips: it holds the digits the caller meant,
        # not the binary noise of the float's exact expansion.
        return _nanosecond_string(Decimal(repr(value)))
    if isinstance(value, Decimal):
        if not value.is_finite() or value < 0:
            raise InvalidArgument(f"timestamp {value!r} is not a finite non-negative number")
        return _nanosecond_string(value)
    raise InvalidArgument(
        f"a timestamp must be a datetime, an int or a float, not {type(value).__name__}"
    )
