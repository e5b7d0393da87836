# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, auto_pickle=False
"""Compiled demuxer for Docker's multiplexed stdout/stderr stream (``ctrproto.protocol._demux``).

Same API, output and exceptions as the pure-Python twin ``ctrproto.protocol.demux_py``, which
documents the contract; the tests run every case against both.  The error *messages* are built
by the twin's helpers on purpose: errors are the cold path, and one source of wording is what
keeps the two implementations from drifting apart.

The shape is the twin's too: one frame loop (``Demuxer._scan``) reads a header, then its payload,
and hands runs of payloads to a sink: ``_Frames`` makes the demuxer's ``(stream, payload)``
items, ``_Outputs`` gathers the whole outputs of ``Collector`` and ``demux_buffer``.

Why this module exists at all: a log pipeline pushes hundreds of MB through here, in frames that
are often a single line.  The loop therefore parses headers with pointer arithmetic over the
caller's buffer and creates no Python object per frame; a run reaches its sink as a span of
that buffer, and the sink copies its payloads once, into the bytes object that keeps them.  Only
a frame cut by a read boundary is gathered first, in room its sink provides: the Collector's
output itself (so each byte is still copied once), or for an item a bytes object of its own,
handed out as is unless it is joined with what follows it.
"""

cimport cython
from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.object cimport PyObject
from cpython.ref cimport Py_INCREF, Py_XDECREF
from libc.stdint cimport uint32_t, uint64_t
from libc.string cimport memcpy


from ctrproto.errors import TruncatedFrameError
from ctrproto.protocol.demux_py import (
    _check_max,
    _header_error,
    _stream_error,
    _truncated_header,
    _truncated_payload,
)

__all__ = ["DEFAULT_MAX_FRAME_SIZE", "STDERR", "STDOUT", "Collector", "Demuxer", "demux_buffer"]

STDOUT = 1
STDERR = 2
STREAM_ERROR = 3
DEFAULT_MAX_FRAME_SIZE = 64 * 1024 * 1024
HEADER_SIZE = 8

cdef enum:
    HDR = 8
    OUT_STREAM = 1
    ERR_STREAM = 3

cdef extern from "Python.h":
    # Growing a bytes object nobody else holds yet, in place: the Collector's outputs are
    # written where they will be returned, so no final copy is needed.
    int _PyBytes_Resize(PyObject** pv, Py_ssize_t newsize) except -1
    char* _bytes_data "PyBytes_AS_STRING" (PyObject* o) nogil
    Py_ssize_t _bytes_size "PyBytes_GET_SIZE" (PyObject* o) nogil

# First allocation of a Collector output; it then doubles, so growth costs O(1) per byte.
cdef Py_ssize_t COLLECT_MIN = 1 << 16
# demux_buffer's reads of its input: small enough for a run's headers to stay in cache.
cdef Py_ssize_t BUFFER_SLICE = 1 << 18


cdef inline uint32_t _be32(const unsigned char* p) noexcept nogil:
    return ((<uint32_t>p[0]) << 24) | ((<uint32_t>p[1]) << 16) | ((<uint32_t>p[2]) << 8) | p[3]


cdef inline int _stream_of(const unsigned char* h) noexcept nogil:
    return h[0] if h[0] else OUT_STREAM


cdef inline bint _bad_header(const unsigned char* h, uint64_t max_size) noexcept nogil:
    # A stream id of 0-3 then three zero bytes leaves only bits 24-25 of the first word set.
    return (_be32(h) & 0xFCFFFFFFU) != 0 or _be32(h + 4) > max_size


cdef inline uint64_t _clamp_max(object max_size):
    # A frame length is a uint32, so any larger maximum means "no limit".
    return <uint64_t>min(max_size, 0xFFFFFFFF)


cdef object _error_for_header(long long offset, const unsigned char* h, object max_size):
    return _header_error(
        offset, _be32(h), _be32(h + 4), max_size, PyBytes_FromStringAndSize(<const char*>h, HDR)
    )


cdef object _again(object error):
    """A fresh copy of the error that poisoned a demuxer, for each later call (the contract in
    the twin's docstring): same class and message, ``partial`` kept, ``frames`` empty."""
    err = type(error)(*error.args)
    if isinstance(err, TruncatedFrameError):
        err.partial = getattr(error, "partial", None)
    err.frames = []
    return err


cdef inline char* _copy_payloads(
    char* dst, const unsigned char* first, const unsigned char* end
) noexcept nogil:
    """Copy the payloads of the frames in ``[first, end)`` to ``dst``, back to back; return the
    end of the copy.  Their lengths were checked by the frame loop, and the GIL, held since,
    keeps a bytearray input from changing in between."""
    cdef uint32_t length
    while first < end:
        length = _be32(first + 4)
        memcpy(dst, first + HDR, length)
        dst += length
        first += HDR + length
    return dst


cdef PyObject* _new_bytes(Py_ssize_t size) except NULL:
    """An uninitialised bytes object, as an owned reference that ``_PyBytes_Resize`` may grow."""
    obj = PyBytes_FromStringAndSize(NULL, size)
    Py_INCREF(obj)
    return <PyObject*>obj


cdef class _Input:
    """The caller's bytes as a raw pointer, held (and so pinned against resizing) while in use."""

    cdef Py_buffer view
    cdef bint held
    cdef object obj
    cdef const unsigned char* ptr
    cdef Py_ssize_t size

    def __cinit__(self, object data):
        self.held = False
        if type(data) is bytes:
            # Immutable: no buffer export needed, the reference keeps it alive.
            self.obj = data
            self.ptr = <const unsigned char*>PyBytes_AS_STRING(data)
            self.size = PyBytes_GET_SIZE(data)
            return
        if type(data) is not bytearray:
            data = memoryview(data)
            if not data.c_contiguous:
                raise TypeError("data must be a C-contiguous buffer")
        PyObject_GetBuffer(data, &self.view, PyBUF_SIMPLE)
        self.held = True
        self.obj = data
        self.ptr = <const unsigned char*>self.view.buf
        self.size = self.view.len

    cdef void release(self) noexcept:
        if self.held:
            self.held = False
            PyBuffer_Release(&self.view)

    def __dealloc__(self):
        self.release()


# --------------------------------------------------------------------------- sinks


cdef class _Sink:
    """Where the frame loop delivers payloads.

    ``run()`` gets one run: the payload of the frame cut by a read boundary if ``held``, then
    those of the frames in ``[first, end)`` of the input (``total`` bytes, readable only during
    the ``feed()``).  The cut frame's payload is gathered where ``held()`` points, in room
    ``hold()`` made when its header arrived; this base keeps it in a bytes object of its own.
    """

    cdef bytes _held

    cdef int hold(self, int stream, Py_ssize_t length) except -1:
        self._held = PyBytes_FromStringAndSize(NULL, length)
        return 0

    cdef char* held(self) noexcept:
        return PyBytes_AS_STRING(self._held)

    cdef int run(
        self, int stream, bint held, const unsigned char* first, const unsigned char* end,
        Py_ssize_t total,
    ) except -1:
        return 0

    cdef list take(self):
        """End of a ``feed()``: its items."""
        return []


@cython.final
cdef class _Frames(_Sink):
    """The demuxer's own sink: one ``(stream, payload)`` item per run, allocated at its size (the
    payload alone when not ``tagged``)."""

    cdef list _items
    cdef bint _tagged

    def __cinit__(self, bint tagged=True):
        self._items = []
        self._tagged = tagged

    cdef int run(
        self, int stream, bint held, const unsigned char* first, const unsigned char* end,
        Py_ssize_t total,
    ) except -1:
        cdef Py_ssize_t head = PyBytes_GET_SIZE(self._held) if held else 0
        cdef bytes payload
        cdef char* dst
        if held and first == end:
            payload = self._held  # handed out as is: its only copy
        else:
            payload = PyBytes_FromStringAndSize(NULL, head + total)
            dst = PyBytes_AS_STRING(payload)
            if head:
                memcpy(dst, PyBytes_AS_STRING(self._held), head)
            _copy_payloads(dst + head, first, end)
        if held:
            self._held = None
        if self._tagged:
            self._items.append((stream, payload))
        else:
            self._items.append(payload)
        return 0

    cdef list take(self):
        cdef list items = self._items
        self._items = []
        return items


@cython.final
cdef class _Outputs(_Sink):
    """The collector's sink: each payload copied once, into the output of its stream (the first
    one for both when merged), which is the bytes object ``result()`` returns.

    Outputs are allocated as bytes, grown with ``_PyBytes_Resize`` while only this object holds
    them, and trimmed to size at the end.  A cut frame is gathered in its output directly:
    nothing else is written there before it completes.  (A cut stream-3 frame, the daemon's
    message, is not output: it goes to the base's bytes.)
    """

    cdef bint _merge
    cdef Py_ssize_t _first_room
    cdef PyObject* _out[2]
    cdef Py_ssize_t _used[2]
    cdef int _cut  # the output the cut frame is gathered in, -1 for the base's bytes
    cdef Py_ssize_t _cut_length

    def __cinit__(self, bint merge=False, Py_ssize_t first_room=COLLECT_MIN):
        self._merge = merge
        self._first_room = first_room
        self._out[0] = NULL
        self._out[1] = NULL
        self._used[0] = 0
        self._used[1] = 0
        self._cut = -1

    def __dealloc__(self):
        Py_XDECREF(self._out[0])
        Py_XDECREF(self._out[1])

    cdef inline int _index(self, int stream) noexcept:
        return 1 if stream == 2 and not self._merge else 0

    cdef inline int _room(self, int i, Py_ssize_t k) except -1:
        """``k`` more bytes of room in output ``i``."""
        if self._out[i] == NULL or self._used[i] + k > _bytes_size(self._out[i]):
            return self._grow(i, self._used[i] + k)
        return 0

    cdef int _grow(self, int i, Py_ssize_t need) except -1:
        """Room for ``need`` bytes in output ``i``, doubling from ``COLLECT_MIN`` (so growth costs
        O(1) per byte, whatever the sizes asked for), or ``first_room`` if that is more and can
        be had."""
        cdef Py_ssize_t size = COLLECT_MIN
        if self._out[i] != NULL:
            size = 2 * _bytes_size(self._out[i])
        while size < need:
            size *= 2
        if self._out[i] == NULL:
            try:
                self._out[i] = _new_bytes(max(size, self._first_room))
            except MemoryError:
                self._out[i] = _new_bytes(size)
        else:
            _PyBytes_Resize(&self._out[i], size)
        return 0

    cdef int append(self, int i, const unsigned char* src, Py_ssize_t k) except -1:
        self._room(i, k)
        memcpy(_bytes_data(self._out[i]) + self._used[i], src, k)
        self._used[i] += k
        return 0

    cdef int hold(self, int stream, Py_ssize_t length) except -1:
        if stream == ERR_STREAM:
            self._cut = -1
            return _Sink.hold(self, stream, length)
        self._cut = self._index(stream)
        self._cut_length = length
        return self._room(self._cut, length)

    cdef char* held(self) noexcept:
        if self._cut < 0:
            return _Sink.held(self)
        return _bytes_data(self._out[self._cut]) + self._used[self._cut]

    cdef int run(
        self, int stream, bint held, const unsigned char* first, const unsigned char* end,
        Py_ssize_t total,
    ) except -1:
        cdef int i = self._index(stream)
        if held:
            self._used[i] += self._cut_length
        if total:
            self._room(i, total)
            _copy_payloads(_bytes_data(self._out[i]) + self._used[i], first, end)
            self._used[i] += total
        return 0

    cdef object _take(self, int i):
        cdef object result
        if self._out[i] == NULL:
            return b""
        _PyBytes_Resize(&self._out[i], self._used[i])
        result = <object>self._out[i]
        Py_XDECREF(self._out[i])
        self._out[i] = NULL
        return result

    cdef tuple result(self):
        return self._take(0), self._take(1)


# --------------------------------------------------------------------------- the frame loop


@cython.final
cdef class Demuxer:
    """Incremental demuxer: bytes in as they arrive, complete frames out.

    ``offset`` is the stream position just past the last complete frame (after an error: the
    position of the offending frame); ``buffered`` counts the bytes received after it and held
    until their frame is complete.  Only the one frame that straddles two ``feed()`` calls is
    ever copied into the internal buffer: a bytes object of the announced size, filled in place
    and handed out as is when the frame completes on its own.
    """

    cdef object _max
    cdef uint64_t _max_c
    cdef bint _join
    cdef bint _tagged
    cdef _Sink _sink
    cdef long long _offset
    # The frame cut by a read boundary: its header as received so far (all 8 bytes, checked,
    # once the sink holds its payload), and how much of that payload has arrived.
    cdef unsigned char _hdr[8]
    cdef Py_ssize_t _hdr_len
    cdef Py_ssize_t _got
    cdef object _error

    def __init__(self, max_frame_size=DEFAULT_MAX_FRAME_SIZE, join=True, tagged=True):
        self._max = _check_max(max_frame_size)
        self._max_c = _clamp_max(self._max)
        self._join = bool(join)
        self._tagged = bool(tagged)
        self._sink = _Frames(self._tagged)
        self._offset = 0
        self._hdr_len = 0
        self._got = 0
        self._error = None

    @property
    def offset(self):
        return self._offset

    @property
    def buffered(self):
        return self._hdr_len + self._got

    cdef int _check(self) except -1:
        if self._error is not None:
            raise _again(self._error)
        return 0

    cdef object _fail(self, object err, list frames):
        """Poison the demuxer; ``offset`` stays at the offending frame."""
        err.frames = frames
        self._error = err
        self._hdr_len = 0
        self._got = 0
        return err

    def feed(self, data):
        """Consume ``data``; return the frames it completed as ``(stream, payload)``.

        With ``join`` (the default), consecutive payloads of one stream within this call come
        out as one item and empty frames are dropped; without it, one item per frame.  With
        ``tagged=False`` the items are bare payloads: ``join`` then joins across streams, and
        without it empty frames are dropped.
        """
        self._check()
        cdef _Input inp = _Input(data)
        try:
            return self._feed(inp.ptr, inp.size)
        finally:
            inp.release()

    cdef list _feed(self, const unsigned char* p, Py_ssize_t n):
        cdef object failure
        cdef list frames
        try:
            failure = self._scan(p, n)
        finally:
            frames = self._sink.take()
        if failure is not None:
            raise self._fail(failure, frames)
        return frames

    cdef object _scan(self, const unsigned char* p, Py_ssize_t n):
        """The frame loop, as the twin's ``Demuxer._scan``: a header, then its payload, for
        each frame in ``p[:n]``; returns the error of a bad frame, which ends it.  A run goes to
        the sink as soon as it ends, as the span of ``p`` its frames fill."""
        cdef const unsigned char* q = p  # where the frame being read starts, or goes on
        cdef const unsigned char* stop = p + n
        cdef Py_ssize_t take, length
        # The stream offset of p[0]: past what has been received of the cut frame.
        cdef long long base = self._offset + self._hdr_len + self._got
        cdef bint cut = self._hdr_len != 0  # reading the frame cut by a read boundary
        cdef bint join = self._join
        cdef bint tagged = self._tagged
        # An empty frame is an item of its own only when frames are handed out tagged, one each.
        cdef bint keep_empty = not join and tagged
        cdef uint64_t max_c = self._max_c
        cdef _Sink sink = self._sink
        cdef int stream
        cdef object failure = None
        # The run being gathered, as _Sink.run() takes it (stream 0: none yet).
        cdef int run_stream = 0
        cdef bint run_held = False
        cdef const unsigned char* run_first = NULL
        cdef const unsigned char* run_end = NULL
        cdef Py_ssize_t run_total = 0
        while q < stop:
            if cut or stop - q < HDR:
                # The frame cut by a read boundary: gathered until whole.
                cut = True
                if self._hdr_len < HDR:
                    take = min(HDR - self._hdr_len, stop - q)
                    memcpy(self._hdr + self._hdr_len, q, take)
                    q += take
                    if self._hdr_len + take < HDR:
                        self._hdr_len += take
                        break
                    if _bad_header(self._hdr, max_c):
                        self._hdr_len = HDR
                        failure = _error_for_header(base + (q - p) - HDR, self._hdr, self._max)
                        break
                    if run_stream:  # its room comes after what came before: sinks write in order
                        sink.run(run_stream, run_held, run_first, run_end, run_total)
                        run_stream = 0
                    sink.hold(_stream_of(self._hdr), _be32(self._hdr + 4))
                    self._hdr_len = HDR  # only now, so that a MemoryError leaves nothing half held
                length = _be32(self._hdr + 4)
                take = min(length - self._got, stop - q)
                memcpy(sink.held() + self._got, q, take)
                self._got += take
                q += take
                if self._got < length:
                    break
                stream = _stream_of(self._hdr)
                if stream == ERR_STREAM:
                    failure = _stream_error(PyBytes_FromStringAndSize(sink.held(), length))
                    break
                self._hdr_len = 0
                self._got = 0
                cut = False
                if not tagged:
                    stream = OUT_STREAM  # untagged runs span streams
                if length or keep_empty:
                    # A cut frame completes at the start of a read, so no run is open: its
                    # payload begins one, which whole frames may extend from here.
                    run_stream = stream
                    run_held = True
                    run_first = run_end = q
                    run_total = 0
                continue
            if _bad_header(q, max_c):
                failure = _error_for_header(base + (q - p), q, self._max)
                break
            length = _be32(q + 4)
            if length > stop - q - HDR:
                cut = True  # from here on, by the branch above
                continue
            stream = _stream_of(q)
            if stream == ERR_STREAM:
                failure = _stream_error(PyBytes_FromStringAndSize(<const char*>q + HDR, length))
                break
            # A whole frame of stdout or stderr, where it lies: into the run.
            if not tagged:
                stream = OUT_STREAM  # untagged runs span streams
            if length or keep_empty:
                if stream != run_stream or not join:
                    if run_stream:
                        sink.run(run_stream, run_held, run_first, run_end, run_total)
                    run_stream = stream
                    run_held = False
                    run_first = q
                    run_total = 0
                run_end = q + HDR + length
                run_total += length
            q += HDR + length
        if run_stream:
            sink.run(run_stream, run_held, run_first, run_end, run_total)
        # The frame being read starts before what has been received of it.
        self._offset = base + (q - p) - self._hdr_len - self._got
        return failure

    def close(self):
        """Declare the end of the stream: a frame still incomplete is an error, not dropped
        data.  Closing on a frame boundary changes nothing, so it may be called more than once."""
        self._check()
        if not self._hdr_len:
            return
        if self._hdr_len == HDR:
            err = _truncated_payload(
                self._offset,
                _stream_of(self._hdr),
                _be32(self._hdr + 4),
                PyBytes_FromStringAndSize(self._sink.held(), self._got),
            )
        else:
            err = _truncated_header(self._offset, self._hdr_len)
        raise self._fail(err, [])


@cython.final
cdef class Collector:
    """Gathers a whole stream into ``(stdout, stderr)`` bytes; see the twin for the contract.

    A ``Demuxer`` whose sink is an ``_Outputs``: each payload byte is copied once, from the
    caller's (reused) read buffer into the bytes object that is returned.
    """

    cdef Demuxer _demuxer
    cdef _Outputs _outputs
    cdef bint _framed
    cdef bint _closed

    def __init__(self, merge=False, framed=True, max_frame_size=DEFAULT_MAX_FRAME_SIZE):
        self._outputs = _Outputs(bool(merge))
        self._demuxer = Demuxer(max_frame_size)
        self._demuxer._sink = self._outputs
        self._framed = bool(framed)
        self._closed = False

    def feed(self, data):
        if self._closed:
            raise ValueError("feed() on a closed Collector")
        self._demuxer._check()
        cdef _Input inp = _Input(data)
        try:
            if self._framed:
                self._demuxer._feed(inp.ptr, inp.size)
            else:
                self._outputs.append(0, inp.ptr, inp.size)
        finally:
            inp.release()

    def close(self):
        """``(stdout, stderr)`` (``(both, b"")`` when merged); an unfinished frame raises."""
        if self._closed:
            raise ValueError("close() on a closed Collector")
        self._demuxer.close()
        self._closed = True
        return self._outputs.result()


def demux_buffer(data, max_frame_size=DEFAULT_MAX_FRAME_SIZE):
    """Split a complete stream into ``(stdout, stderr)`` in one call: the frame loop with a
    collector's sink whose outputs start with room for the whole input - pages never written
    cost nothing, the excess is trimmed at the end, and growing by doubling instead would copy
    the output again whenever the allocator cannot extend it in place.  The input is fed in
    slices, so that each run is copied while its headers are still in cache (a frame cut by a
    slice goes straight into its output all the same).  Errors are those ``Demuxer.feed(data)``
    + ``close()`` would raise, and no output escapes with one."""
    cdef Demuxer demuxer = Demuxer(max_frame_size)
    cdef _Input inp = _Input(data)
    cdef _Outputs outputs = _Outputs(False, inp.size)
    cdef Py_ssize_t start = 0
    demuxer._sink = outputs
    try:
        while start < inp.size:
            demuxer._feed(inp.ptr + start, min(BUFFER_SLICE, inp.size - start))
            start += BUFFER_SLICE
    finally:
        inp.release()
    demuxer.close()
    return outputs.result()
