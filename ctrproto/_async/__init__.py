"""THE SOURCE of both clients, written once with async/await over ``_backends.asyncio``.

``scripts/unasync`` generates ``ctrproto._sync`` from it; edit here, never there.  The public
homes are ``ctrproto.aio`` (these classes) and ``ctrproto.api`` / ``ctrproto.models`` (the twins).
"""
