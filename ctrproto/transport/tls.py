"""TLS to a daemon's ``tcp://`` listener (``dockerd --tlsverify``).

``TLSConfig`` accepts the arguments docker-py users already pass (``client_cert=(cert, key)``,
``ca_cert``, ``verify``, ``assert_hostname``) but is stricter on purpose: the server certificate
and its name are checked unless the caller explicitly says otherwise, and switching either check
off warns every time.  TLS 1.2 is the floor whatever ``ssl_version`` asks for, because the
older versions are broken and the daemon has never needed them.

Handshake failures are translated into :class:`~ctrproto.errors.TLSError` messages that name
the likely cause (unknown CA, name mismatch, missing client certificate), since a raw OpenSSL
reason code is rarely enough to tell which side's material is wrong.
"""

from __future__ import annotations

import os
import ssl
import threading
import warnings
from typing import Any

from ..errors import ConnectTimeout, DockerConnectionError, TLSError, TLSParameterError
from ..protocol.buffer import Buffer
from .socket_stream import SocketStream
from .tcp import TCPTransport


class InsecureTLSWarning(UserWarning):
    """Certificate verification or hostname checking was switched off."""


def _existing_file(path: Any, what: str) -> str:
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise TLSParameterError(f"{what} must be a file path, got {type(path).__name__}")
    text = os.fspath(path)
    if not os.path.isfile(text):
        raise TLSParameterError(f"{what} file not found: {text}")
    return str(text)


class TLSConfig:
    """TLS settings for a daemon connection; builds one ``ssl.SSLContext`` shared by all streams.

    ``verify``: ``True``/``None`` checks the server certificate (against ``ca_cert`` or the
    system store); a path is a CA bundle; ``False`` disables the check (warns).
    ``assert_hostname``: ``None`` checks the name in the address; a string checks that name
    instead (useful when connecting by IP to a certificate issued for a name); ``False``
    disables name checking (warns).  ``ssl_version`` is accepted for compatibility and ignored.
    """

    def __init__(
        self,
        client_cert: tuple[str, str] | None = None,
        ca_cert: str | None = None,
        verify: bool | str | None = None,
        ssl_version: Any = None,
        assert_hostname: str | bool | None = None,
        assert_fingerprint: Any = None,
    ) -> None:
        del ssl_version  # the floor is TLS 1.2, the ceiling whatever both sides support
        if assert_fingerprint is not None:
            raise TLSParameterError("assert_fingerprint is not supported; use ca_cert instead")
        self.cert: tuple[str, str] | None = None
        if client_cert is not None:
            if not isinstance(client_cert, (tuple, list)) or len(client_cert) != 2:
                raise TLSParameterError("client_cert must be a (cert_file, key_file) pair")
            self.cert = (
                _existing_file(client_cert[0], "client certificate"),
                _existing_file(client_cert[1], "client key"),
            )
        if isinstance(verify, (str, os.PathLike)):
            if ca_cert is None:
                ca_cert = os.fspath(verify)
            verify = True
        self.verify: bool = verify is not False
        self.ca_cert = _existing_file(ca_cert, "CA certificate") if ca_cert else None
        if assert_hostname is True:
            assert_hostname = None
        self.assert_hostname: str | bool | None = assert_hostname
        self._context: ssl.SSLContext | None = None
        self._lock = threading.Lock()

    @property
    def check_hostname(self) -> bool:
        return self.verify and self.assert_hostname is not False

    def server_hostname(self, host: str) -> str:
        """The name the certificate must carry (also sent as SNI)."""
        return self.assert_hostname if isinstance(self.assert_hostname, str) else host

    def context(self) -> ssl.SSLContext:
        """The context, built once: loading CA files and keys costs more than a handshake."""
        with self._lock:
            if self._context is None:
                self._context = self._build()
            return self._context

    def _build(self) -> ssl.SSLContext:
        # Without verification a CA bundle would be loaded for nothing.
        cafile = self.ca_cert if self.verify else None
        try:
            ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile)
        except (ssl.SSLError, OSError) as exc:
            raise TLSParameterError(
                f"cannot load the CA certificate {cafile}: {getattr(exc, 'reason', None) or exc}"
            ) from None
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if not self.verify:
            warnings.warn(
                "TLS certificate verification is disabled (verify=False): the daemon's "
                "identity is not checked",
                InsecureTLSWarning,
                stacklevel=4,
            )
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        elif self.assert_hostname is False:
            warnings.warn(
                "TLS hostname checking is disabled (assert_hostname=False): any certificate "
                "from the trusted CA is accepted",
                InsecureTLSWarning,
                stacklevel=4,
            )
            ctx.check_hostname = False
        if self.cert is not None:
            try:
                ctx.load_cert_chain(*self.cert)
            except (ssl.SSLError, OSError) as exc:
                raise TLSParameterError(
                    f"cannot load the client certificate {self.cert[0]} with key "
                    f"{self.cert[1]}: {getattr(exc, 'reason', None) or exc}"
                ) from None
        return ctx

    def __repr__(self) -> str:
        # Paths only: the key material itself is never held here.
        return (
            f"TLSConfig(client_cert={self.cert!r}, ca_cert={self.ca_cert!r}, "
            f"verify={self.verify!r}, assert_hostname={self.assert_hostname!r})"
        )


def explain_ssl_error(exc: ssl.SSLError, where: str, config: TLSConfig, host: str) -> str:
    """A message naming which side's TLS material is wrong, from OpenSSL's reason codes."""
    reason = (exc.reason or "").upper()
    if isinstance(exc, ssl.SSLCertVerificationError):
        code = exc.verify_code
        detail = exc.verify_message or str(exc)
        if code == 62 or "HOSTNAME" in detail.upper() or "IP ADDRESS" in detail.upper():
            return (
                f"TLS hostname mismatch at {where}: the daemon's certificate is not valid for "
                f"{config.server_hostname(host)!r} ({detail}); connect by a name in the "
                "certificate or pass assert_hostname=<that name>"
            )
        if code in (18, 19, 20, 21, 2):
            trusted = config.ca_cert or "the system CA store"
            return (
                f"TLS certificate verification failed at {where}: the daemon's certificate is "
                f"signed by an unknown CA (not trusted by {trusted}; {detail})"
            )
        return f"TLS certificate verification failed at {where}: {detail}"
    rejected = ("CERTIFICATE_REQUIRED", "BAD_CERTIFICATE", "HANDSHAKE_FAILURE", "UNKNOWN_CA")
    if config.cert is None and any(code in reason for code in rejected):
        return (
            f"the daemon at {where} requires a client certificate and none was given "
            "(pass client_cert=(cert.pem, key.pem) or set DOCKER_CERT_PATH)"
        )
    if "UNKNOWN_CA" in reason or "BAD_CERTIFICATE" in reason or "DECRYPT_ERROR" in reason:
        cert = config.cert[0] if config.cert else "none"
        return (
            f"the daemon at {where} rejected our client certificate ({cert}): it is not "
            f"signed by a CA the daemon trusts ({exc.reason})"
        )
    if "WRONG_VERSION_NUMBER" in reason or "RECORD_LAYER" in reason:
        return f"TLS failure at {where}: the endpoint does not speak TLS ({exc.reason})"
    return f"TLS failure at {where}: {exc.reason or exc}"


def explain_stream_error(
    err: DockerConnectionError, where: str, config: TLSConfig, host: str, received: bool
) -> DockerConnectionError:
    """The error of a read or write on an established TLS stream, with the likely cause named.

    Shared by the sync and asyncio TLS streams.  ``received`` says whether the daemon has sent
    anything yet: a fresh TLS 1.3 connection that the daemon hangs up on usually means it
    rejected our client certificate after our side of the handshake had finished.
    """
    cause = err.__cause__
    if not received and (
        isinstance(cause, (ssl.SSLEOFError, ConnectionResetError))
        or (isinstance(cause, ssl.SSLError) and "EOF" in str(cause))
    ):
        cert = config.cert[0] if config.cert else None
        which = (
            f"our client certificate ({cert})"
            if cert
            else "the connection (no client certificate was given)"
        )
        return TLSError(
            f"the daemon at {where} closed the TLS connection before answering: it "
            f"most likely rejected {which}; check that it is signed by a CA the daemon "
            "trusts (--tlscacert)"
        )
    if isinstance(cause, ssl.SSLError):
        return TLSError(explain_ssl_error(cause, where, config, host))
    return err


class TLSSocketStream(SocketStream):
    """A socket stream whose TLS errors say what went wrong.

    With TLS 1.3 the daemon judges our client certificate after our side of the handshake has
    finished, so a missing or foreign certificate surfaces on the first read, not in
    ``do_handshake``; the translation is therefore needed on every read and write.
    """

    def __init__(self, sock: ssl.SSLSocket, where: str, config: TLSConfig, host: str) -> None:
        super().__init__(sock, where)
        self._config = config
        self._host = host
        self._received = False

    def _explain(self, err: DockerConnectionError) -> DockerConnectionError:
        return explain_stream_error(err, self._where, self._config, self._host, self._received)

    def send_all(self, data: Buffer) -> None:
        try:
            super().send_all(data)
        except DockerConnectionError as err:
            raise self._explain(err) from None

    def recv_into(self, buffer: bytearray | memoryview) -> int:
        try:
            n = super().recv_into(buffer)
        except DockerConnectionError as err:
            raise self._explain(err) from None
        self._received = self._received or n > 0
        return n

    def recv(self, size: int) -> bytes:
        try:
            data = super().recv(size)
        except DockerConnectionError as err:
            raise self._explain(err) from None
        self._received = self._received or bool(data)
        return data


class TLSTransport:
    """TCP plus TLS; the context (CA, client key) is shared by every pooled stream."""

    def __init__(self, host: str, port: int, config: TLSConfig | None = None) -> None:
        self._tcp = TCPTransport(host, port)
        self.host = host
        self.port = port
        self.config = config or TLSConfig()
        self.host_header = self._tcp.host_header

    def describe(self) -> str:
        return f"tcp://{self.host_header} (TLS)"

    def connect(self, timeout: float | None) -> TLSSocketStream:
        context = self.config.context()
        raw = self._tcp.open_socket(timeout)
        try:
            sock = context.wrap_socket(raw, server_hostname=self.config.server_hostname(self.host))
        except TimeoutError as exc:
            raw.close()
            raise ConnectTimeout(
                f"timed out during the TLS handshake with {self.describe()}"
            ) from exc
        except ssl.SSLError as exc:
            raw.close()
            raise TLSError(
                explain_ssl_error(exc, self.describe(), self.config, self.host)
            ) from None
        except OSError as exc:
            raw.close()
            raise DockerConnectionError(
                f"the TLS handshake with {self.describe()} failed: {exc}"
            ) from exc
        return TLSSocketStream(sock, self.describe(), self.config, self.host)

    def close(self) -> None:
        """Nothing shared to release (the context is reused if the client reconnects)."""

    def __repr__(self) -> str:
        return f"TLSTransport({self.host!r}, {self.port}, {self.config!r})"


def tls_config_from(value: Any) -> TLSConfig:
    """``tls=True`` means defaults; a :class:`TLSConfig` is used as is."""
    if value is True:
        return TLSConfig()
    if isinstance(value, TLSConfig):
        return value
    raise TLSParameterError(f"tls must be True or a ctrproto TLSConfig, not {type(value).__name__}")


__all__ = [
    "InsecureTLSWarning",
    "TLSConfig",
    "TLSSocketStream",
    "TLSTransport",
    "explain_stream_error",
    "tls_config_from",
]
