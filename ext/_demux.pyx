# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, auto_pickle=False
"""Compiled demuxer for Docker's multiplexed stdout/stderr stream (``ctrproto.protocol._demux``).

Same API, output and exceptions as the pure-Python twin ``ctrproto.protocol.demux_py``, which
documents the contract; the tests run every case against both.  The error *messages* are built
by the twin's helpers on purpose: errors are the cold path, and one source of wording is what
keeps the two implementations from drifting apart.

Why this module exists at all: a log pipeline pushes hundreds of MB through here, in frames that
are often a single line.  The hot loops below therefore parse headers with pointer arithmetic
over the caller's buffer, create no Python object per frame when frames are joined, and copy
each payload byte once (twice only for the one frame that straddles two ``feed()`` calls, and
only when it must be joined with what follows it).
"""

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

# Below this size the GIL is kept by demux_buffer: releasing it costs more than it saves.
cdef Py_ssize_t NOGIL_THRESHOLD = 1 << 16

cdef object _EMPTY = b""

cdef extern from "Python.h":
    # Growing a bytes object nobody else holds yet, in place: the Collector's outputs are
    # written where they will be returned, so no final copy is needed.
    int _PyBytes_Resize(PyObject** pv, Py_ssize_t newsize) except -1
    char* _bytes_data "PyBytes_AS_STRING" (PyObject* o) nogil
    Py_ssize_t _bytes_size "PyBytes_GET_SIZE" (PyObject* o) nogil

# First allocation of a Collector output; it then doubles, so growth costs O(1) per byte.
cdef Py_ssize_t COLLECT_MIN = 1 << 16


cdef inline uint32_t _be32(const unsigned char* p) noexcept nogil:
    return ((<uint32_t>p[0]) << 24) | ((<uint32_t>p[1]) << 16) | ((<uint32_t>p[2]) << 8) | p[3]


cdef inline bint _bad_header(const unsigned char* h, uint64_t max_size) noexcept nogil:
    return h[0] > ERR_STREAM or (h[1] | h[2] | h[3]) != 0 or _be32(h + 4) > max_size


cdef inline uint64_t _clamp_max(object max_size):
    # A frame length is a uint32, so any larger maximum means "no limit".
    return <uint64_t>min(max_size, 0xFFFFFFFF)


cdef object _error_for_header(Py_ssize_t offset, const unsigned char* h, object max_size):
    return _header_error(
        offset,
        (<uint32_t>h[0] << 24) | (<uint32_t>h[1] << 16) | (<uint32_t>h[2] << 8) | h[3],
        _be32(h + 4),
        max_size,
        PyBytes_FromStringAndSize(<const char*>h, HDR),
    )


cdef object _again(object error):
    """A fresh copy of the error that poisoned a demuxer, for each later call (the contract in
    the twin's docstring): same class and message, ``partial`` kept, ``frames`` empty."""
    err = type(error)(*error.args)
    if isinstance(err, TruncatedFrameError):
        err.partial = getattr(error, "partial", None)
    err.frames = []
    return err


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


cdef object _join_run(
    const unsigned char* p, object head, Py_ssize_t start, Py_ssize_t stop, Py_ssize_t total
):
    """One bytes object for a run: ``head`` (a finished straddling frame) + the frames in
    ``p[start:stop]``.  Frames of other streams inside the range are empty, so every payload
    in it is copied.  The size is known in advance: one allocation, one memcpy per frame."""
    cdef Py_ssize_t head_len = 0
    cdef Py_ssize_t q = start
    cdef uint32_t length
    cdef char* dst
    if head is not None:
        if start == stop:
            return head
        head_len = PyBytes_GET_SIZE(head)
    result = PyBytes_FromStringAndSize(NULL, head_len + total)
    dst = PyBytes_AS_STRING(result)
    if head_len:
        memcpy(dst, PyBytes_AS_STRING(head), head_len)
        dst += head_len
    while q < stop:
        length = _be32(p + q + 4)
        memcpy(dst, p + q + HDR, length)
        dst += length
        q += HDR + length
    return result


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
    cdef long long _offset
    cdef unsigned char _hdr[8]
    cdef Py_ssize_t _hdr_len
    cdef bint _in_payload
    cdef int _stream
    cdef Py_ssize_t _length
    cdef object _pending
    cdef Py_ssize_t _fill
    cdef object _error

    def __init__(self, max_frame_size=DEFAULT_MAX_FRAME_SIZE, join=True):
        self._max = _check_max(max_frame_size)
        self._max_c = _clamp_max(self._max)
        self._join = bool(join)
        self._offset = 0
        self._hdr_len = 0
        self._in_payload = False
        self._stream = 0
        self._length = 0
        self._pending = None
        self._fill = 0
        self._error = None

    @property
    def offset(self):
        return self._offset

    @property
    def buffered(self):
        return self._hdr_len + self._fill

    cdef object _poisoned(self):
        return _again(self._error)

    cdef object _fail(self, object err, list frames, long long offset):
        err.frames = frames
        self._error = err
        self._offset = offset
        self._hdr_len = 0
        self._in_payload = False
        self._pending = None
        self._fill = 0
        return err

    def feed(self, data):
        """Consume ``data``; return the frames it completed as ``(stream, payload)``.

        With ``join`` (the default), consecutive payloads of one stream within this call come
        out as one item and empty frames are dropped; without it, one item per frame.
        """
        if self._error is not None:
            raise self._poisoned()
        cdef _Input inp = _Input(data)
        try:
            return self._feed(inp.ptr, inp.size)
        finally:
            inp.release()

    cdef list _feed(self, const unsigned char* p, Py_ssize_t n):
        cdef list out = []
        cdef Py_ssize_t pos = 0
        cdef Py_ssize_t take, end, rest
        cdef Py_ssize_t run_start = 0, run_end = 0, run_total = 0
        cdef int run_stream = 0
        cdef int stream
        cdef uint32_t length
        cdef const unsigned char* h
        cdef object head = None
        cdef object payload
        cdef object failure = None
        cdef bint join = self._join
        cdef uint64_t max_c = self._max_c
        cdef long long base

        if n == 0:
            return out
        base = self._offset + self._hdr_len + self._fill

        if self._hdr_len:
            # Finish the frame that straddles the previous call.
            if not self._in_payload:
                take = min(HDR - self._hdr_len, n)
                memcpy(self._hdr + self._hdr_len, p, take)
                self._hdr_len += take
                pos = take
                if self._hdr_len < HDR:
                    return out
                if _bad_header(self._hdr, max_c):
                    raise self._fail(
                        _error_for_header(self._offset, self._hdr, self._max), out, self._offset
                    )
                length = _be32(self._hdr + 4)
                # Allocated before any state changes, so a MemoryError leaves a state that a
                # later call can resume from.
                self._pending = PyBytes_FromStringAndSize(NULL, length) if length else _EMPTY
                self._fill = 0
                self._length = length
                self._stream = self._hdr[0] if self._hdr[0] else OUT_STREAM
                self._in_payload = True
            take = min(self._length - self._fill, n - pos)
            if take:
                memcpy(PyBytes_AS_STRING(self._pending) + self._fill, p + pos, take)
                self._fill += take
                pos += take
            if self._fill < self._length:
                return out
            payload = self._pending
            stream = self._stream
            if stream == ERR_STREAM:
                raise self._fail(_stream_error(payload), out, self._offset)
            self._hdr_len = 0
            self._in_payload = False
            self._pending = None
            self._fill = 0
            self._offset = base + pos
            if not join:
                out.append((stream, payload))
            elif self._length:
                head = payload
                run_stream = stream
                run_start = pos
                run_end = pos

        while n - pos >= HDR:
            h = p + pos
            if _bad_header(h, max_c):
                failure = _error_for_header(base + pos, h, self._max)
                break
            length = _be32(h + 4)
            end = pos + HDR + length
            if end > n:
                break
            stream = h[0] if h[0] else OUT_STREAM
            if stream == ERR_STREAM:
                failure = _stream_error(PyBytes_FromStringAndSize(<const char*>h + HDR, length))
                break
            if not join:
                out.append((stream, PyBytes_FromStringAndSize(<const char*>h + HDR, length)))
            elif length:
                if stream != run_stream:
                    if run_stream:
                        out.append(
                            (run_stream, _join_run(p, head, run_start, run_end, run_total))
                        )
                        head = None
                    run_stream = stream
                    run_start = pos
                    run_total = 0
                run_total += length
                run_end = end
            pos = end

        if run_stream:
            out.append((run_stream, _join_run(p, head, run_start, run_end, run_total)))
        if failure is not None:
            raise self._fail(failure, out, base + pos)
        self._offset = base + pos

        rest = n - pos
        if rest >= HDR:
            # A valid header (checked in the loop) whose payload has not fully arrived.  Its
            # full size is allocated now (bounded by max_frame_size) and filled in place.
            length = _be32(p + pos + 4)
            self._pending = PyBytes_FromStringAndSize(NULL, length)
            memcpy(PyBytes_AS_STRING(self._pending), p + pos + HDR, rest - HDR)
            self._fill = rest - HDR
            self._length = length
            memcpy(self._hdr, p + pos, HDR)
            self._hdr_len = HDR
            self._stream = self._hdr[0] if self._hdr[0] else OUT_STREAM
            self._in_payload = True
        elif rest:
            memcpy(self._hdr, p + pos, rest)
            self._hdr_len = rest
        return out

    def close(self):
        """Declare the end of the stream: a frame still incomplete is an error, not dropped
        data.  Closing on a frame boundary changes nothing, so it may be called more than once."""
        if self._error is not None:
            raise self._poisoned()
        if not self._hdr_len:
            return
        if self._in_payload:
            err = _truncated_payload(
                self._offset,
                self._stream,
                self._length,
                PyBytes_FromStringAndSize(PyBytes_AS_STRING(self._pending), self._fill),
            )
        else:
            err = _truncated_header(self._offset, self._hdr_len)
        raise self._fail(err, [], self._offset)


cdef enum SplitResult:
    SPLIT_OK
    SPLIT_NEED_ROOM
    SPLIT_BAD_HEADER
    SPLIT_TRUNCATED_PAYLOAD
    SPLIT_TRUNCATED_HEADER
    SPLIT_STREAM_ERROR


cdef SplitResult _split(
    const unsigned char* p, Py_ssize_t n, uint64_t max_size, char** dst,
    const Py_ssize_t* room, Py_ssize_t* used, Py_ssize_t* pos_io, int* index_io,
) noexcept nogil:
    """Validate and copy frames from ``pos_io`` on, in one pass, until the end, a bad frame, or
    an output without room for the next payload (``index_io`` says which).  Every bound is
    checked as it is read, so a bytearray rewritten by another thread meanwhile (it cannot be
    resized while exported) can garble the output but never make this read or write astray."""
    cdef Py_ssize_t pos = pos_io[0]
    cdef uint32_t length
    cdef int index
    cdef const unsigned char* h
    cdef SplitResult result = SPLIT_OK
    while n - pos >= HDR:
        h = p + pos
        if _bad_header(h, max_size):
            result = SPLIT_BAD_HEADER
            break
        length = _be32(h + 4)
        if <Py_ssize_t>length > n - pos - HDR:
            result = SPLIT_TRUNCATED_PAYLOAD
            break
        if h[0] == ERR_STREAM:
            result = SPLIT_STREAM_ERROR
            break
        index = 1 if h[0] == 2 else 0
        if <Py_ssize_t>length > room[index] - used[index]:
            index_io[0] = index
            result = SPLIT_NEED_ROOM
            break
        memcpy(dst[index] + used[index], h + HDR, length)
        used[index] += length
        pos += HDR + length
    pos_io[0] = pos
    if result == SPLIT_OK and pos < n:
        result = SPLIT_TRUNCATED_HEADER
    return result


cdef int _make_room(PyObject** out, Py_ssize_t want) except -1:
    """Give ``*out`` (a bytes object only we hold, or NULL) at least ``want`` bytes."""
    cdef object fresh
    if out[0] == NULL:
        fresh = PyBytes_FromStringAndSize(NULL, max(want, 1))
        out[0] = <PyObject*>fresh
        Py_INCREF(fresh)
    else:
        _PyBytes_Resize(out, want)
    return 0


def demux_buffer(data, max_frame_size=DEFAULT_MAX_FRAME_SIZE):
    """Split a complete stream into ``(stdout, stderr)`` in one call and one pass: each frame is
    checked and its payload copied into its output as it is read, without the GIL for large
    inputs.  Each output starts with room for the whole input - pages never written cost
    nothing, the excess is trimmed at the end, and growing by doubling instead would copy the
    output again whenever the allocator cannot extend it in place.  Errors are those
    ``Demuxer.feed(data)`` + ``close()`` would raise, and no output escapes with one."""
    cdef object max_py = _check_max(max_frame_size)
    cdef uint64_t max_c = _clamp_max(max_py)
    cdef _Input inp = _Input(data)
    cdef const unsigned char* p = inp.ptr
    cdef Py_ssize_t n = inp.size
    cdef PyObject* out[2]
    cdef char* dst[2]
    cdef Py_ssize_t room[2]
    cdef Py_ssize_t used[2]
    cdef Py_ssize_t pos = 0
    cdef Py_ssize_t at
    cdef int index = 0
    cdef int i
    cdef SplitResult result
    cdef uint32_t length
    out[0] = NULL
    out[1] = NULL
    used[0] = 0
    used[1] = 0
    try:
        for i in range(2):
            try:
                _make_room(&out[i], n)
            except MemoryError:
                _make_room(&out[i], min(n, COLLECT_MIN))
        while True:
            for i in range(2):
                dst[i] = _bytes_data(out[i])
                room[i] = _bytes_size(out[i])
            if n >= NOGIL_THRESHOLD:
                with nogil:
                    result = _split(p, n, max_c, dst, room, used, &pos, &index)
            else:
                result = _split(p, n, max_c, dst, room, used, &pos, &index)
            if result != SPLIT_NEED_ROOM:
                break
            length = _be32(p + pos + 4)
            _make_room(&out[index], max(2 * room[index], used[index] + <Py_ssize_t>length))
        at = pos
        if result == SPLIT_BAD_HEADER:
            raise _error_for_header(at, p + at, max_py)
        if result == SPLIT_TRUNCATED_PAYLOAD:
            length = _be32(p + at + 4)
            raise _truncated_payload(
                at,
                p[at] if p[at] else OUT_STREAM,
                length,
                PyBytes_FromStringAndSize(<const char*>p + at + HDR, n - at - HDR),
            )
        if result == SPLIT_STREAM_ERROR:
            length = _be32(p + at + 4)
            raise _stream_error(PyBytes_FromStringAndSize(<const char*>p + at + HDR, length))
        if result == SPLIT_TRUNCATED_HEADER:
            raise _truncated_header(at, n - at)
        for i in range(2):
            _PyBytes_Resize(&out[i], used[i])
        return <object>out[0], <object>out[1]
    finally:
        inp.release()
        Py_XDECREF(out[0])
        Py_XDECREF(out[1])


cdef class Collector:
    """Gathers a whole stream into ``(stdout, stderr)`` bytes; see the twin for the contract.

    Each payload byte is copied once, from the caller's (reused) read buffer into the bytes
    object that is returned: outputs are allocated as bytes, doubled with ``_PyBytes_Resize``
    while only this object holds them, and trimmed to size by ``close()``.
    """

    cdef object _max
    cdef uint64_t _max_c
    cdef bint _merge
    cdef bint _framed
    cdef bint _closed
    cdef PyObject* _out[2]
    cdef Py_ssize_t _used[2]
    cdef long long _offset
    cdef unsigned char _hdr[8]
    cdef Py_ssize_t _hdr_len
    cdef bint _in_payload
    cdef int _stream
    cdef int _index
    cdef Py_ssize_t _length
    cdef Py_ssize_t _got
    cdef bytearray _daemon_error
    cdef object _error

    def __cinit__(self):
        self._out[0] = NULL
        self._out[1] = NULL
        self._used[0] = 0
        self._used[1] = 0

    def __dealloc__(self):
        Py_XDECREF(self._out[0])
        Py_XDECREF(self._out[1])

    def __init__(self, merge=False, framed=True, max_frame_size=DEFAULT_MAX_FRAME_SIZE):
        self._max = _check_max(max_frame_size)
        self._max_c = _clamp_max(self._max)
        self._merge = bool(merge)
        self._framed = bool(framed)
        self._closed = False
        self._offset = 0
        self._hdr_len = 0
        self._in_payload = False
        self._error = None

    cdef int _append(self, int i, const unsigned char* src, Py_ssize_t k) except -1:
        cdef Py_ssize_t need = self._used[i] + k
        cdef Py_ssize_t size
        cdef object fresh
        if self._out[i] == NULL:
            fresh = PyBytes_FromStringAndSize(NULL, max(need, COLLECT_MIN))
            self._out[i] = <PyObject*>fresh
            Py_INCREF(fresh)
        else:
            size = _bytes_size(self._out[i])
            if need > size:
                if _PyBytes_Resize(&self._out[i], max(need, 2 * size)) < 0:
                    return -1
        memcpy(_bytes_data(self._out[i]) + self._used[i], src, k)
        self._used[i] = need
        return 0

    cdef object _take(self, int i):
        cdef object result
        if self._out[i] == NULL:
            return _EMPTY
        _PyBytes_Resize(&self._out[i], self._used[i])
        result = <object>self._out[i]
        Py_XDECREF(self._out[i])
        self._out[i] = NULL
        return result

    cdef object _fail(self, object err):
        err.frames = []
        self._error = err
        return err

    cdef object _poisoned(self):
        return _again(self._error)

    def feed(self, data):
        if self._closed:
            raise ValueError("feed() on a closed Collector")
        if self._error is not None:
            raise self._poisoned()
        cdef _Input inp = _Input(data)
        try:
            if self._framed:
                self._feed(inp.ptr, inp.size)
            elif inp.size:
                self._append(0, inp.ptr, inp.size)
        finally:
            inp.release()

    cdef int _feed(self, const unsigned char* p, Py_ssize_t n) except -1:
        cdef Py_ssize_t pos = 0
        cdef Py_ssize_t take
        cdef uint32_t length
        cdef int stream
        while pos < n:
            if not self._in_payload:
                take = min(HDR - self._hdr_len, n - pos)
                memcpy(self._hdr + self._hdr_len, p + pos, take)
                self._hdr_len += take
                pos += take
                if self._hdr_len < HDR:
                    return 0
                if _bad_header(self._hdr, self._max_c):
                    raise self._fail(_error_for_header(self._offset, self._hdr, self._max))
                length = _be32(self._hdr + 4)
                stream = self._hdr[0] if self._hdr[0] else OUT_STREAM
                self._stream = stream
                self._index = 1 if stream == 2 and not self._merge else 0
                self._length = length
                self._got = 0
                self._in_payload = True
                if stream == ERR_STREAM:
                    self._daemon_error = bytearray()
            take = min(self._length - self._got, n - pos)
            if take:
                if self._stream == ERR_STREAM:
                    self._daemon_error += PyBytes_FromStringAndSize(<const char*>p + pos, take)
                else:
                    self._append(self._index, p + pos, take)
                self._got += take
                pos += take
            if self._got < self._length:
                return 0
            if self._stream == ERR_STREAM:
                raise self._fail(_stream_error(self._daemon_error))
            self._offset += HDR + self._length
            self._in_payload = False
            self._hdr_len = 0
        return 0

    def close(self):
        """``(stdout, stderr)`` (``(both, b"")`` when merged); an unfinished frame raises."""
        if self._closed:
            raise ValueError("close() on a closed Collector")
        if self._error is not None:
            raise self._poisoned()
        if self._in_payload:
            if self._stream == ERR_STREAM:
                partial = bytes(self._daemon_error)
            else:
                partial = PyBytes_FromStringAndSize(
                    _bytes_data(self._out[self._index]) + self._used[self._index] - self._got,
                    self._got,
                ) if self._got else _EMPTY
            raise self._fail(_truncated_payload(self._offset, self._stream, self._length, partial))
        if self._hdr_len:
            raise self._fail(_truncated_header(self._offset, self._hdr_len))
        self._closed = True
        return self._take(0), self._take(1)
