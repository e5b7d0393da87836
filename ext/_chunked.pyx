# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, auto_pickle=False
"""Compiled fast path of chunked body framing (``ctrproto.protocol._chunked``).

Docker's log and attach bodies are chunked with one chunk per write in the container, often a
single 100-byte line, so a log pipeline crosses hundreds of thousands of chunk boundaries a
second.  :func:`scan` walks the well-formed, complete part of an input - payload runs, plain
``<hex>\\r\\n`` or ``<hex>;ext\\r\\n`` size lines, the CRLF after each chunk - and copies the
payload bytes into one ``bytes`` object, creating no Python object per chunk.

It stops, handing the position and state back, at anything else: an incomplete line, a size
line of another shape, the last chunk and its trailer, or a malformed byte.  The Python state
machine in :mod:`ctrproto.protocol.body` takes over from there, so edge cases and every error
message live in one place and the two paths cannot disagree.
"""

from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.object cimport PyObject
from libc.stdint cimport uint64_t
from libc.string cimport memchr, memcpy

cdef extern from "Python.h":
    # Raw-pointer spellings: the output is allocated at its largest possible size, filled, then
    # shrunk in place (refcount 1, so the resize is legal), which saves a copy of every byte.
    PyObject* _new_bytes "PyBytes_FromStringAndSize"(const char* v, Py_ssize_t n) except NULL
    char* _bytes_data "PyBytes_AS_STRING"(PyObject* o) noexcept
    int _PyBytes_Resize(PyObject** bytes, Py_ssize_t newsize) except -1
    void _decref "Py_DECREF"(PyObject* o) noexcept

# The states of ctrproto.protocol.body.ChunkedBody.
cdef enum:
    SIZE = 0
    DATA = 1
    DATA_END = 2

cdef enum:
    MAX_HEX = 16


cdef inline int _hex(unsigned char c) noexcept nogil:
    if 48 <= c <= 57:
        return c - 48
    if 97 <= c <= 102:
        return c - 87
    if 65 <= c <= 70:
        return c - 55
    return -1


def scan(object data, Py_ssize_t pos, int state, uint64_t chunk_left):
    """Frame as much of ``data[pos:]`` as the fast path allows.

    Returns ``(payload, pos, state, chunk_left, chunks, received)``: the payload bytes found
    (joined), where scanning stopped, the state and chunk remainder there, how many chunk-size
    lines were consumed, and how many payload bytes were taken.
    """
    cdef Py_buffer view
    PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
    cdef const unsigned char* buf = <const unsigned char*>view.buf
    cdef Py_ssize_t n = view.len
    cdef Py_ssize_t capacity = n - pos if n > pos else 0
    cdef PyObject* out
    try:
        out = _new_bytes(NULL, capacity)
    except BaseException:
        PyBuffer_Release(&view)
        raise
    cdef char* dst = _bytes_data(out)
    cdef Py_ssize_t written = 0
    cdef Py_ssize_t chunks = 0
    cdef Py_ssize_t take, i, digits
    cdef uint64_t size
    cdef int d
    cdef const unsigned char* lf
    try:
        with nogil:
            while pos < n:
                if state == DATA:
                    take = n - pos
                    if <uint64_t>take > chunk_left:
                        take = <Py_ssize_t>chunk_left
                    memcpy(dst + written, buf + pos, take)
                    written += take
                    pos += take
                    chunk_left -= take
                    if chunk_left == 0:
                        state = DATA_END
                elif state == DATA_END:
                    if pos + 1 >= n or buf[pos] != 13 or buf[pos + 1] != 10:
                        break
                    pos += 2
                    state = SIZE
                else:
                    # <hex digits> then CRLF, or ';' and an extension up to CRLF.
                    size = 0
                    digits = 0
                    i = pos
                    while i < n and digits <= MAX_HEX:
                        d = _hex(buf[i])
                        if d < 0:
                            break
                        size = (size << 4) | <uint64_t>d
                        digits += 1
                        i += 1
                    if digits == 0 or digits > MAX_HEX or i >= n:
                        break
                    if buf[i] == 59:  # ';': skip the extension to the line end
                        lf = <const unsigned char*>memchr(buf + i, 10, n - i)
                        if lf == NULL or lf - (buf + pos) > 4096 or lf[-1] != 13:
                            break
                        i = lf - buf
                    elif buf[i] == 13 and i + 1 < n and buf[i + 1] == 10:
                        i += 1
                    else:
                        break
                    if size == 0:
                        break  # the last chunk: its trailer is the Python side's business
                    pos = i + 1
                    chunk_left = size
                    chunks += 1
                    state = DATA
    finally:
        PyBuffer_Release(&view)
    cdef object payload
    if written == 0:
        _decref(out)
        payload = b""
    else:
        if written < capacity:
            _PyBytes_Resize(&out, written)  # on failure it released ``out`` itself
        payload = <object>out
        _decref(out)
    return payload, pos, state, chunk_left, chunks, written
