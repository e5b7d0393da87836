"""``docker.tls``: :class:`TLSConfig`, the TLS settings of a ``tcp://`` daemon connection.

It is :class:`ctrproto.transport.tls.TLSConfig`, which takes docker-py's constructor arguments
(``client_cert=(cert, key)``, ``ca_cert``, ``verify``) plus ``ssl_version`` and
``assert_hostname``.  One deliberate difference: ``verify=None`` (docker-py's default, meaning
"do not verify") verifies here; only ``verify=False`` switches the check off, and warns.
"""

from __future__ import annotations

from .transport.tls import InsecureTLSWarning, TLSConfig

__all__ = ["InsecureTLSWarning", "TLSConfig"]
