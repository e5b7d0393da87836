"""The JetStream publisher's protocol pieces (sans-IO): the HPUB encoding and the parser of
what the server sends, fed in every split."""

from __future__ import annotations

import pytest

from ctrproto.ingest.nats_wire import AckParser, NatsProtocolError, encode_publishes


def test_hpub_commands_carry_the_id_header_and_exact_sizes() -> None:
    wire = encode_publishes([("logs.h.web", b'{"a":1}', "k:5:0")], "_INBOX.x", 7)
    header = b"NATS/1.0\r\nNats-Msg-Id: k:5:0\r\n\r\n"
    assert wire == (
        b"HPUB logs.h.web _INBOX.x.7 %d %d\r\n" % (len(header), len(header) + 7)
        + header + b'{"a":1}\r\n'
    )


SERVER = (
    b'INFO {"max_payload":1048576}\r\n+OK\r\nPING\r\n'
    b"MSG _INBOX.x.0 1 23\r\n{\"stream\":\"S\", \"seq\":1}\r\n"
    b"HMSG _INBOX.x.1 1 16 18\r\nNATS/1.0 503\r\n\r\nab\r\n"
    b"PONG\r\n"
)


@pytest.mark.parametrize("cut", range(len(SERVER) + 1))
def test_the_parser_gives_the_same_messages_however_the_bytes_arrive(cut: int) -> None:
    parser = AckParser()
    found = parser.feed(SERVER[:cut]) + parser.feed(SERVER[cut:])
    assert found == [
        ("_INBOX.x.0", None, b'{"stream":"S", "seq":1}'),
        ("_INBOX.x.1", b"NATS/1.0 503\r\n\r\n", b"ab"),
    ]
    assert parser.info == {"max_payload": 1048576}
    assert (parser.pings, parser.pongs) == (1, 1)


def test_an_error_from_the_server_ends_the_connection() -> None:
    with pytest.raises(NatsProtocolError, match="Maximum Payload Violation"):
        AckParser().feed(b"-ERR 'Maximum Payload Violation'\r\n")
    with pytest.raises(NatsProtocolError, match="unexpected"):
        AckParser().feed(b"HELLO\r\n")


def test_a_message_over_max_payload_is_refused_before_anything_is_sent() -> None:
    from ctrproto.ingest.nats_wire import ServerRefused

    fits = [("s", b"x" * 10, "id")]
    limit = len(encode_publishes(fits, "_I", 0)) - len("HPUB s _I.0 32 42\r\n") - 2
    assert encode_publishes(fits, "_I", 0, max_payload=limit)
    with pytest.raises(ServerRefused, match="max_payload"):
        encode_publishes(fits, "_I", 0, max_payload=limit - 1)


def test_acks_whose_payloads_hold_crlf_are_cut_by_their_byte_counts() -> None:
    wire = (b"MSG _I.0 1 4\r\na\r\nb\r\nMSG _I.1 1 2\r\nok\r\n"
            b"HMSG _I.2 1 5 7\r\nh\r\n\r\nxy\r\nMSG _I.3 1 0\r\n\r\n")
    for cut in range(len(wire) + 1):
        parser = AckParser()
        found = parser.feed(wire[:cut]) + parser.feed(wire[cut:])
        assert found == [("_I.0", None, b"a\r\nb"), ("_I.1", None, b"ok"),
                         ("_I.2", b"h\r\n\r\n", b"xy"), ("_I.3", None, b"")], cut


def test_acks_of_a_stream_named_error_or_duplicate_are_plain_acks() -> None:
    from ctrproto.ingest.nats_wire import Publisher

    publisher = Publisher("nats://127.0.0.1:1")
    publisher._batch = (0, 4)
    inbox = publisher.inbox
    publisher._on_messages([
        (f"{inbox}.0", None, b'{"stream":"error","seq":1}'),
        (f"{inbox}.1", None, b'{"stream":"duplicate","seq":2}'),
        (f"{inbox}.2", None, b'{"stream":"error","seq":2,"duplicate":true}'),
        (f"{inbox}.3", None, b'{"error":{"code":400,"description":"bad"}}'),
    ])
    assert publisher._acked == 4
    assert publisher._duplicates == 1
    assert publisher._refused == ["bad"]
    assert publisher._failure is None
