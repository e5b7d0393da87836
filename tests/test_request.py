"""Request building: paths, query encoding, bodies and headers, as bytes on the wire."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctrproto.errors import InvalidArgument
from ctrproto.protocol.http import ClientCycle
from ctrproto.protocol.request import build_request, encode_query, path


def wire(**kwargs: object) -> bytes:
    method = kwargs.pop("method", "GET")
    endpoint = kwargs.pop("endpoint", "/containers/json")
    return ClientCycle(build_request(method, endpoint, **kwargs)).start()  # type: ignore[arg-type]


def test_version_prefix_and_query() -> None:
    data = wire(api_version="1.41", params={"all": True, "limit": 3, "size": False})
    assert data.startswith(b"GET /v1.41/containers/json?all=1&limit=3&size=0 HTTP/1.1\r\n")


def test_unversioned_path_has_no_prefix() -> None:
    assert wire(endpoint="/_ping").startswith(b"GET /_ping HTTP/1.1\r\n")


def test_none_values_are_left_out_and_lists_repeat() -> None:
    assert encode_query({"a": None, "b": ["x", "y z"], "c": "1/2"}) == "b=x&b=y%20z&c=1%2F2"


def test_filters_are_json_encoded() -> None:
    query = encode_query({"filters": {"label": ["a=b"], "status": ["exited"]}})
    key, _, value = query.partition("=")
    from urllib.parse import unquote

    assert key == "filters"
    assert json.loads(unquote(value)) == {"label": ["a=b"], "status": ["exited"]}


def test_path_arguments_cannot_escape_their_segment() -> None:
    assert path("/containers/{}/json", "../../images") == "/containers/..%2F..%2Fimages/json"
    assert path("/containers/{}/json", "a b?c") == "/containers/a%20b%3Fc/json"


def test_empty_path_argument_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="empty resource id"):
        path("/containers/{}/json", "")


def test_json_body_sets_length_and_type() -> None:
    data = wire(method="POST", endpoint="/containers/create", json_body={"Image": "busybox"})
    head, _, body = data.partition(b"\r\n\r\n")
    assert json.loads(body) == {"Image": "busybox"}
    assert b"Content-Type: application/json" in head
    assert f"Content-Length: {len(body)}".encode() in head


def test_post_without_body_sends_zero_length() -> None:
    data = wire(method="POST", endpoint="/containers/x/start")
    assert b"Content-Length: 0\r\n" in data
    assert data.endswith(b"\r\n\r\n")


def test_host_and_user_agent_headers() -> None:
    data = wire(host="localhost", user_agent="ua/1")
    assert b"Host: localhost\r\n" in data
    assert b"User-Agent: ua/1\r\n" in data


def test_upgrade_headers_for_hijack() -> None:
    data = wire(method="POST", endpoint="/containers/x/attach", upgrade=True)
    assert b"Connection: Upgrade\r\n" in data
    assert b"Upgrade: tcp\r\n" in data


def test_streamed_body_is_chunked() -> None:
    cycle = ClientCycle(build_request("PUT", "/containers/x/archive", streamed_body=True))
    head = cycle.start()
    assert b"Transfer-Encoding: chunked" in head
    assert cycle.send_body(b"hello") == b"5\r\nhello\r\n"
    assert cycle.end_body() == b"0\r\n\r\n"


def test_caller_headers_replace_defaults() -> None:
    data = wire(headers={"User-Agent": "mine"})
    assert data.count(b"User-Agent") == 1
    assert b"User-Agent: mine\r\n" in data


def test_only_one_body_kind() -> None:
    with pytest.raises(InvalidArgument):
        build_request("POST", "/x", json_body={}, data=b"x")


def test_unsupported_query_value_names_it() -> None:
    with pytest.raises(InvalidArgument, match="object"):
        encode_query({"x": object()})


@settings(max_examples=300, deadline=None)
@given(
    params=st.dictionaries(
        st.text(min_size=1, max_size=8),
        st.one_of(st.text(max_size=12), st.integers(), st.booleans(),
                  st.lists(st.text(max_size=5), max_size=3)),
        max_size=5,
    )
)
def test_query_encoding_matches_urlencode(params: dict[str, Any]) -> None:
    """The shortcut for unreserved text must give exactly urlencode(quote_via=quote, safe="")."""
    from urllib.parse import quote, urlencode

    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        items = value if isinstance(value, list) else [value]
        for item in items:
            text = ("1" if item else "0") if isinstance(item, bool) else str(item)
            pairs.append((key, text))
    assert encode_query(params) == urlencode(pairs, quote_via=quote, safe="")
