"""HTTP/1.1 heads on the wire: writing requests, and reading the common, well-formed answer.

h11 remains the authority on HTTP: :class:`~ctrproto.protocol.http.ClientCycle` hands it every
response head this module does not recognise as plainly well-formed (informational answers,
unusual framing headers, odd bytes, a head too long or cut short), and h11's verdict - an event
or an error message - is final.  What this module adds is speed on the path every request takes:
the daemon's answers are small, regular heads, and h11's general machinery (an event object per
step, a validation per header, a connection state machine per cycle) costs more than the rest of
a request's client-side work.  The same split as the chunked-body decoder, whose compiled scan
frames the common case and hands the edge cases back to the Python machine.

Requests are written here too, with the checks h11 would apply to them: every method, target,
header name and value is validated, so a caller's value can never smuggle in a line break.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ProtocolError
from .request import Request

_TOKEN = rb"[-!#$%&'*+.^_`|~0-9A-Za-z]+"
_METHOD = re.compile(_TOKEN)
_TARGET = re.compile(rb"[\x21-\x7e]+")
_FIELD_NAME = re.compile(_TOKEN)
# A field value: visible characters (obs-text included) with single spaces or tabs inside.
_VISIBLE = rb"[\x21-\x7e\x80-\xff]"
_FIELD_VALUE = re.compile(
    rb"(?:" + _VISIBLE + rb"(?:[ \t\x21-\x7e\x80-\xff]*" + _VISIBLE + rb")?)?"
)
_STATUS_LINE = re.compile(rb"HTTP/(1\.[01]) ([2-5][0-9][0-9])(?: ([ \t\x21-\x7e\x80-\xff]*))?")
# For bytes.translate(None, ...), which deletes the bytes given: whatever is left is not allowed.
_TOKEN_BYTES = b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_HEAD_BYTES = b"\t\r\n" + bytes(range(0x20, 0x7F)) + bytes(range(0x80, 0x100))


@dataclass(frozen=True)
class ResponseHead:
    status_code: int
    reason: str
    #: Lower-cased names; repeated headers are joined with ", ".
    headers: dict[str, str]
    http_version: str

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


# ---------------------------------------------------------------------- requests


def _bad(request: Request, what: str) -> ProtocolError:
    return ProtocolError(f"cannot send {request.method} {request.target}: {what}")


def request_head(request: Request) -> bytes:
    """The request line and headers, validated; the body (if any) follows as is."""
    try:
        method = request.method.encode("ascii")
        target = request.target.encode("ascii")
    except UnicodeEncodeError as exc:
        raise _bad(request, "method and target must be ASCII") from exc
    if not _METHOD.fullmatch(method):
        raise _bad(request, "illegal method")
    if not _TARGET.fullmatch(target):
        raise _bad(request, "illegal request target")
    lines = [method + b" " + target + b" HTTP/1.1"]
    length: str | None = None
    for name, value in request.headers:
        try:
            raw_name = name.encode("ascii")
            raw_value = value.encode("latin-1")
        except UnicodeEncodeError as exc:
            raise _bad(request, f"header {name!r} cannot be encoded") from exc
        if not _FIELD_NAME.fullmatch(raw_name):
            raise _bad(request, f"illegal header name {name!r}")
        if not _FIELD_VALUE.fullmatch(raw_value):
            raise _bad(request, f"illegal value for header {name!r}")
        if name.lower() == "content-length":
            length = value
        lines.append(raw_name + b": " + raw_value)
    body = request.body or b""
    if length is not None and not request.streamed_body and length != str(len(body)):
        raise _bad(request, f"Content-Length {length} does not match a {len(body)}-byte body")
    lines.append(b"\r\n")
    return b"\r\n".join(lines)


def chunk(data: bytes) -> bytes:
    """One piece of a chunked request body."""
    return b"%x\r\n" % len(data) + data + b"\r\n"


LAST_CHUNK = b"0\r\n\r\n"


# ---------------------------------------------------------------------- responses


def plain_response_head(head: bytes) -> ResponseHead | None:
    """The head (status line and header lines, CRLF-separated, without the blank line) when it
    is a plain final answer this module can vouch for; ``None`` sends it to h11."""
    # One pass in C over the whole head instead of a regex per line: only tab, printable ASCII,
    # obs-text and CR LF pairs; then every value is valid once its outer blanks are stripped.
    if head.translate(None, _HEAD_BYTES) or head.count(b"\r") != head.count(b"\r\n"):
        return None
    lines = head.split(b"\r\n")
    if head.count(b"\n") != len(lines) - 1:
        return None
    status = _STATUS_LINE.fullmatch(lines[0])
    if status is None:
        return None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        raw_name, colon, raw_value = line.partition(b":")
        if not colon or not raw_name or raw_name.translate(None, _TOKEN_BYTES):
            return None
        key = raw_name.decode("ascii").lower()
        value = raw_value.strip(b" \t").decode("latin-1")
        if key in headers:
            if key in ("content-length", "transfer-encoding"):
                return None  # repeated framing headers: h11 decides
            headers[key] = f"{headers[key]}, {value}"
        else:
            headers[key] = value
    length = headers.get("content-length")
    if length is not None and not (length.isdigit() and length.isascii()):
        return None
    coding = headers.get("transfer-encoding")
    if coding is not None:
        if coding.lower() != "chunked":
            return None
        headers["transfer-encoding"] = "chunked"  # h11 reports the value lower-cased
    version, code, reason = status.groups()
    return ResponseHead(
        status_code=int(code),
        reason=(reason or b"").decode("latin-1"),
        headers=headers,
        http_version=version.decode("ascii"),
    )
