"""The incremental JSON-stream decoder (stats, events, pull progress)."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctrproto.errors import StreamError, StreamParseError
from ctrproto.protocol.jsonstream import DEFAULT_MAX_VALUE_SIZE, JSONStreamDecoder


def decode_all(chunks: list[bytes], **options: Any) -> list[Any]:
    decoder = JSONStreamDecoder(**options)
    values: list[Any] = []
    for chunk in chunks:
        values += decoder.feed(chunk)
    values += decoder.close()
    return values


def bytewise(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


# =========================================================================== framing


@pytest.mark.parametrize(
    "data",
    [
        b'{"a": 1}\n{"b": 2}\n',
        b'{"a": 1}\r\n{"b": 2}\r\n',
        b'{"a": 1}{"b": 2}',
        b'  {"a": 1}   {"b": 2}\t',
        b'{"a": 1}\n\n\n{"b": 2}',
    ],
)
def test_separators(data: bytes) -> None:
    expected = [{"a": 1}, {"b": 2}]
    assert decode_all([data]) == expected
    assert decode_all(bytewise(data)) == expected


def test_tricky_strings_split_everywhere() -> None:
    values = [
        {"msg": 'braces } { ] [ and "quotes" and \\ backslashes \\'},
        {"unicode": "é€😀", "esc": '\u00e9\n\t"\\/'},
        ["nested", [1, [2, {"x": [3]}]], {}],
        'top-level string with } and \\"',
        {"\\": "\\\\", "": ""},
    ]
    encoded = b"".join(json.dumps(v, ensure_ascii=False).encode() for v in values)
    for split in range(len(encoded) + 1):
        assert decode_all([encoded[:split], encoded[split:]]) == values
    assert decode_all(bytewise(encoded)) == values


def test_split_inside_multibyte_character() -> None:
    data = '{"s": "😀"}'.encode()
    index = data.index(b"\xf0") + 2  # in the middle of the four bytes
    decoder = JSONStreamDecoder()
    assert decoder.feed(data[:index]) == []
    assert decoder.feed(data[index:]) == [{"s": "😀"}]


def test_top_level_scalars() -> None:
    data = b'1 -2.5e3 true false null "s" 3'
    assert decode_all([data]) == [1, -2500.0, True, False, None, "s", 3]
    decoder = JSONStreamDecoder()
    assert decoder.feed(b"12") == []
    assert decoder.feed(b"3") == []
    assert decoder.feed(b"\n") == [123]
    decoder = JSONStreamDecoder()
    assert decoder.feed(b"42") == []
    assert decoder.close() == [42]  # only the end of the stream completes it
    assert decode_all([b'7{"a":1}']) == [7, {"a": 1}]


def test_values_are_returned_as_soon_as_complete() -> None:
    decoder = JSONStreamDecoder()
    assert decoder.feed(b'{"a": [1, 2') == []
    assert decoder.feed(b']}{"b"') == [{"a": [1, 2]}]
    assert decoder.feed(b": 3}") == [{"b": 3}]
    assert decoder.close() == []


def test_empty_feed_and_empty_stream() -> None:
    decoder = JSONStreamDecoder()
    assert decoder.feed(b"") == []
    assert decoder.feed(b"  \n") == []
    assert decoder.close() == []


def test_buffer_holds_at_most_the_pending_value() -> None:
    decoder = JSONStreamDecoder()
    for _ in range(1000):
        decoder.feed(b'{"cpu": 1}\n')
    decoder.feed(b'{"partial": ')
    assert len(decoder._buffer) == len(b'{"partial": ')


def test_escape_at_the_end_of_a_piece() -> None:
    decoder = JSONStreamDecoder()
    assert decoder.feed(b'{"a": "x\\') == []
    assert decoder.feed(b'"y"}') == [{"a": 'x"y'}]


# =========================================================================== errors


def test_close_inside_a_value() -> None:
    decoder = JSONStreamDecoder()
    decoder.feed(b'{"a": 1}\n{"b": [1, ')
    with pytest.raises(StreamParseError, match=r"offset 9.*\{\"b\": \[1, "):
        decoder.close()


def test_close_inside_a_string() -> None:
    decoder = JSONStreamDecoder()
    decoder.feed(b'"abc')
    with pytest.raises(StreamParseError):
        decoder.close()


@pytest.mark.parametrize(
    ("data", "offset"),
    [
        (b"garbage", 0),
        (b'{"a": 1}\n<html>', 9),
        (b'{"a": 1} }', 9),
        (b"\x00", 0),
    ],
)
def test_garbage_names_offset_and_excerpt(data: bytes, offset: int) -> None:
    decoder = JSONStreamDecoder()
    with pytest.raises(StreamParseError, match=f"offset {offset}") as info:
        decoder.feed(data)
        decoder.feed(b"")
        decoder.close()
    assert repr(data[offset : offset + 3])[2:-1] in str(info.value)


def test_invalid_value_inside_brackets() -> None:
    with pytest.raises(StreamParseError, match="offset 0"):
        decode_all([b'{"a": nope}'])
    with pytest.raises(StreamParseError):
        decode_all([b"{]"])
    with pytest.raises(StreamParseError):
        decode_all([b"tru "])
    with pytest.raises(StreamParseError):
        decode_all([b'{"s": "\xff"}'])  # not UTF-8


@pytest.mark.parametrize("data", [b"NaN\n", b"[Infinity]\n", b'{"a": -Infinity}', b"[NaN]"])
def test_non_json_constants_are_refused(data: bytes) -> None:
    with pytest.raises(StreamParseError):
        decode_all([data])


def test_line_with_several_values_and_value_across_lines() -> None:
    data = b'{"a": 1}{"b": 2} 3 "x"\n{"c":\n [1,\n2]}\n'
    assert decode_all([data]) == [{"a": 1}, {"b": 2}, 3, "x", {"c": [1, 2]}]
    assert decode_all(bytewise(data)) == [{"a": 1}, {"b": 2}, 3, "x", {"c": [1, 2]}]


def test_error_comes_after_the_values_that_precede_it() -> None:
    decoder = JSONStreamDecoder()
    assert decoder.feed(b'{"a": 1}\n{"b": 2}\n!!!') == [{"a": 1}, {"b": 2}]
    with pytest.raises(StreamParseError, match="offset 18"):
        decoder.feed(b"more")
    decoder = JSONStreamDecoder()
    assert decoder.feed(b'{"a": 1}\n!!!') == [{"a": 1}]
    with pytest.raises(StreamParseError):
        decoder.close()


def test_decoder_is_unusable_after_an_error() -> None:
    decoder = JSONStreamDecoder()
    with pytest.raises(StreamParseError):
        decoder.feed(b"!")
    with pytest.raises(StreamParseError):
        decoder.feed(b"{}")


def test_max_value_size() -> None:
    assert DEFAULT_MAX_VALUE_SIZE == 64 * 1024 * 1024
    decoder = JSONStreamDecoder(max_value_size=16)
    assert decoder.feed(b'{"a": "0123456"}') == [{"a": "0123456"}]  # exactly 16 bytes
    decoder = JSONStreamDecoder(max_value_size=16)
    with pytest.raises(StreamParseError, match="exceeds 16 bytes"):
        decoder.feed(b'{"a": "01234567"}')
    decoder = JSONStreamDecoder(max_value_size=16)
    decoder.feed(b'{"a": "0123')
    with pytest.raises(StreamParseError, match="exceeds"):
        decoder.feed(b"456789")  # never completed: refused before the end arrives
    with pytest.raises(ValueError):
        JSONStreamDecoder(max_value_size=0)


# =========================================================================== in-band errors


def test_raise_on_error() -> None:
    progress = (
        b'{"status": "Pulling fs layer", "id": "abc"}\n'
        b'{"errorDetail": {"message": "manifest unknown"}, "error": "manifest unknown: x"}\n'
    )
    decoder = JSONStreamDecoder(raise_on_error=True)
    assert decoder.feed(progress) == [{"status": "Pulling fs layer", "id": "abc"}]
    with pytest.raises(StreamError, match="^manifest unknown$"):
        decoder.close()

    with pytest.raises(StreamError, match="^denied$"):
        JSONStreamDecoder(raise_on_error=True).feed(b'{"error": "denied"}')
    with pytest.raises(StreamError, match="code"):
        JSONStreamDecoder(raise_on_error=True).feed(b'{"errorDetail": {"code": 1}}')
    # Without the option the error object is just a value.
    assert decode_all([progress]) == [
        {"status": "Pulling fs layer", "id": "abc"},
        {"errorDetail": {"message": "manifest unknown"}, "error": "manifest unknown: x"},
    ]


# =========================================================================== property


def json_values() -> st.SearchStrategy[Any]:
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**70), max_value=2**70)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text()
    )
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=5)
            | st.dictionaries(st.text(max_size=10), children, max_size=5)
        ),
        max_leaves=20,
    )


def is_bare(value: Any) -> bool:
    """Numbers and literals need a separator from a neighbour of the same kind."""
    return not isinstance(value, (str, list, dict))


def normalise(value: Any) -> Any:
    # -0.0 == 0.0 anyway; floats written as integers come back as floats, compare by value
    if isinstance(value, float) and math.isfinite(value):
        return value
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items()}
    return value


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_random_streams_round_trip(data: st.DataObject) -> None:
    values = data.draw(st.lists(json_values(), max_size=12))
    ascii_only = data.draw(st.booleans())
    separators = st.sampled_from(["", "\n", "\r\n", " ", "\t", "\n\n", " \r\n "])
    pieces: list[str] = []
    for index, value in enumerate(values):
        separator = data.draw(separators)
        if not separator and index and is_bare(values[index - 1]) and is_bare(value):
            separator = " "
        pieces.append(separator)
        pieces.append(json.dumps(value, ensure_ascii=ascii_only))
    pieces.append(data.draw(separators))
    encoded = "".join(pieces).encode("utf-8")
    cuts = sorted(data.draw(st.lists(st.integers(0, len(encoded)), max_size=10)))
    chunks = [encoded[a:b] for a, b in zip([0, *cuts], [*cuts, len(encoded)], strict=True)]
    assert decode_all(chunks) == [normalise(v) for v in values]
