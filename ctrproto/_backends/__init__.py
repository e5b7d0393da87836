"""The only code that differs between the sync and the asyncio client: one module per world.

``ctrproto._async`` is written once against ``_backends.asyncio``; ``scripts/unasync`` turns it
into ``ctrproto._sync``, which imports ``_backends.sync`` instead.  Both modules offer the same
names with the same meaning, so a third world (anyio, and with it trio) is one more module:

``make_transport(base_url, tls, use_ssh_client, **options)``
    the world's transport for an address (the streams' reads and writes take deadlines set with
    ``settimeout``, as sockets do);
``Reader(size).read(stream)``
    one network read, into one reused buffer where the world can (no allocation per read);
``sleep(seconds)``, ``monotonic()``
    waiting and the clock the waiting is measured with;
``run_concurrently(func, items, limit)``
    ``func`` over ``items``, at most ``limit`` at once, results in order (threads or tasks);
``Lock``
    held across waits (``async with`` / ``with``);
``StateLock``
    guards a few state changes with no wait inside: a real lock where threads share the object,
    nothing where one event loop runs everything;
``deferred(opener)``
    a stream method of the facade: under asyncio an async generator that opens the stream when
    iteration begins (a property-like call cannot await), in the sync world the stream opened now;
``upload_body(data, chunk_size)``
    an upload body's pieces, checked before the request starts.
"""
