"""ctrproto.engine.utils: sizes, filters, timestamps, API versions."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctrproto.engine.utils import (
    convert_filters,
    format_timestamp,
    parse_bytes,
    version_gte,
    version_lt,
)
from ctrproto.errors import InvalidArgument, InvalidVersion

try:
    import docker.utils as docker_utils  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - docker-py is only the reference implementation
    docker_utils = None

needs_docker_py = pytest.mark.skipif(docker_utils is None, reason="docker-py is not installed")

K, M, G = 1024, 1024**2, 1024**3

# =========================================================================== parse_bytes


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 0),
        (-1, -1),
        (123, 123),
        (1.9, 1),
        (1.5e9, 1_500_000_000),
        ("100000b", 100000),
        ("100000B", 100000),
        ("1000k", 1000 * K),
        ("128m", 128 * M),
        ("64M", 64 * M),
        ("1g", G),
        ("1G", G),
        ("1gb", G),
        ("1GB", G),
        ("1GiB", G),
        ("1 g", G),
        ("512", 512),
        ("1.5g", int(1.5 * G)),
        ("2t", 2 * 1024**4),
        ("1p", 1024**5),
        ("-1", -1),
        (" 64m ", 64 * M),
    ],
)
def test_parse_bytes(value: Any, expected: int) -> None:
    result = parse_bytes(value)
    assert result == expected
    assert isinstance(result, int)


@pytest.mark.parametrize(
    "value",
    ["", "m", "1x", "1.2.3m", "one", "1mm", "1i", "1ib", "1e3", True, None, [1], float("inf")],
)
def test_parse_bytes_errors(value: Any) -> None:
    with pytest.raises(InvalidArgument):
        parse_bytes(value)


@needs_docker_py
@pytest.mark.parametrize(
    "value", [0, 7, "100000b", "1000k", "128m", "1g", "1G", "1gb", "512", "1.5g", "3MB", 1.0]
)
def test_parse_bytes_like_docker_py(value: Any) -> None:
    assert parse_bytes(value) == docker_utils.parse_bytes(value)


# =========================================================================== convert_filters


def test_convert_filters() -> None:
    encoded = convert_filters(
        {
            "status": "running",
            "exited": 0,
            "dangling": True,
            "stale": False,
            "label": ["a=b", "c"],
            "id": ("x", 1, True),
            "ignored": None,
        }
    )
    assert json.loads(encoded) == {
        "status": ["running"],
        "exited": ["0"],
        "dangling": ["true"],
        "stale": ["false"],
        "label": ["a=b", "c"],
        "id": ["x", "1", "true"],
    }
    assert convert_filters({}) == "{}"
    assert json.loads(convert_filters({"name": {"b", "a"}})) == {"name": ["a", "b"]}


@pytest.mark.parametrize("filters", [{"label": {"a": "b"}}, {"label": [None]}, {1: "x"}])
def test_convert_filters_errors(filters: Any) -> None:
    with pytest.raises(InvalidArgument):
        convert_filters(filters)


@needs_docker_py
@pytest.mark.parametrize(
    "filters",
    [
        {"status": "running"},
        {"exited": 0, "dangling": True, "until": False},
        {"label": ["a=b", "c"], "name": "x"},
        {"id": [1, 2]},
    ],
)
def test_convert_filters_like_docker_py(filters: dict[str, Any]) -> None:
    assert json.loads(convert_filters(filters)) == json.loads(docker_utils.convert_filters(filters))


# =========================================================================== format_timestamp


def test_format_timestamp_numbers() -> None:
    assert format_timestamp(0) == "0"
    assert format_timestamp(1700000000) == "1700000000"
    assert format_timestamp(1700000000.5) == "1700000000.500000000"
    assert format_timestamp(1700000000.123456) == "1700000000.123456000"
    assert format_timestamp(0.000000001) == "0.000000001"
    assert format_timestamp(1.0) == "1.000000000"
    assert format_timestamp(1e20) == "100000000000000000000.000000000"


def test_format_timestamp_keeps_time_time_precision() -> None:
    now = time.time()
    seconds, fraction = format_timestamp(now).split(".")
    assert len(fraction) == 9
    assert abs(float(f"{seconds}.{fraction}") - now) < 1e-6


def test_format_timestamp_datetimes() -> None:
    utc = dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.timezone.utc)
    assert format_timestamp(utc) == "1700000000"
    plus_two = dt.datetime(
        2023, 11, 15, 0, 13, 20, 250000, tzinfo=dt.timezone(dt.timedelta(hours=2))
    )
    assert format_timestamp(plus_two) == "1700000000.250000000"
    naive = dt.datetime(2023, 11, 14, 12, 0, 0)  # local time, as docker-py reads it
    assert format_timestamp(naive) == str(int(naive.timestamp()))


@pytest.mark.parametrize("value", [-1, -0.5, float("nan"), float("inf"), True, "1700000000", None])
def test_format_timestamp_errors(value: Any) -> None:
    with pytest.raises(InvalidArgument):
        format_timestamp(value)
    with pytest.raises(InvalidArgument, match="epoch"):
        format_timestamp(dt.datetime(1960, 1, 1, tzinfo=dt.timezone.utc))


@given(st.floats(min_value=0, max_value=4e9, allow_nan=False))
def test_format_timestamp_round_trips_floats(value: float) -> None:
    text = format_timestamp(value)
    seconds, fraction = text.split(".")
    assert len(fraction) == 9 and seconds.isdigit()
    assert abs(float(text) - value) <= 1e-9 + abs(value) * 1e-15


@needs_docker_py
def test_format_timestamp_datetime_like_docker_py() -> None:
    for value in (
        dt.datetime(2023, 11, 14, 12, 0, 0),
        dt.datetime(2023, 11, 14, 12, 0, 0, tzinfo=dt.timezone.utc),
        dt.datetime(2001, 1, 1, 0, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
    ):
        assert format_timestamp(value) == str(docker_utils.datetime_to_timestamp(value))


# =========================================================================== versions


def test_versions() -> None:
    assert version_lt("1.9", "1.10")
    assert version_lt("1.24", "1.41")
    assert not version_lt("1.41", "1.41")
    assert version_gte("1.41", "1.41")
    assert version_gte("1.44", "1.41")
    assert not version_gte("1.40", "1.41")
    with pytest.raises(InvalidVersion):
        version_lt("latest", "1.41")


def test_format_timestamp_keeps_a_decimal_exact_to_the_nanosecond() -> None:
    """Today's epoch to the nanosecond has 19 digits: a float cannot hold it, a Decimal can
    (the log ingester resumes at exactly such an instant)."""
    from decimal import Decimal

    assert format_timestamp(Decimal("1796167036.123456789")) == "1796167036.123456789"
    assert format_timestamp(Decimal("1796167036")) == "1796167036.000000000"
    assert format_timestamp(float("1796167036.123456789")) != "1796167036.123456789"
    for bad in (Decimal("-1"), Decimal("NaN"), Decimal("Infinity")):
        with pytest.raises(InvalidArgument):
            format_timestamp(bad)
