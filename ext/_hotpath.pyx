# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, auto_pickle=False
"""Compiled per-line loops of the ingester (``ctrproto.ingest._hotpath``).

Same API, results and stopping points as the pure-Python twin ``ctrproto.ingest.hotpath_py``,
which documents the contract; the tests run every case against both.  Why it exists: every
line the ingester delivers passes through both loops, and in Python each costs a handful of
slices, a decode, an int() and a concatenation per line; here it is pointer arithmetic and one
allocation per object the line needs (its time string and text), and one buffer per group.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.object cimport PyObject
from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_GET_SIZE
from cpython.unicode cimport PyUnicode_DecodeASCII
from libc.string cimport memchr, memcmp, memcpy

from ctrproto.ingest.hotpath_py import END, END_PARTIAL, MID, NS_LIMIT


cdef extern from "Python.h":
    const char* PyUnicode_AsUTF8AndSize(object unicode, Py_ssize_t* size) except NULL


# 1 for the bytes that stand for themselves inside a JSON string (the twin's PLAIN).
cdef unsigned char PLAIN_BYTE[256]
for _c in range(256):
    PLAIN_BYTE[_c] = 1 if 0x20 <= _c < 0x7F and _c != 0x22 and _c != 0x5C else 0

cdef bytes _MID = MID
cdef bytes _END = END
cdef bytes _END_PARTIAL = END_PARTIAL
cdef long long _NS_LIMIT = NS_LIMIT


def stamped_lines(
    list payloads, Py_ssize_t start, Py_ssize_t max_text, bytes second, second_ns, seconds_of
):
    cdef list out = []
    cdef Py_ssize_t count = len(payloads)
    cdef Py_ssize_t index = start
    cdef Py_ssize_t size
    cdef const unsigned char* p
    cdef long long fraction
    cdef long long base = second_ns
    cdef long long ns
    cdef int j
    cdef unsigned char c
    cdef bint digits
    while index < count:
        payload = payloads[index]
        if type(payload) is not bytes:
            break
        size = PyBytes_GET_SIZE(payload)
        if size < 32 or size > max_text + 32:
            break
        p = <const unsigned char*>PyBytes_AS_STRING(payload)
        if p[30] != 32 or p[29] != 90 or p[19] != 46 or p[size - 1] != 10:
            break
        fraction = 0
        digits = True
        for j in range(20, 29):
            c = p[j]
            if c < 48 or c > 57:
                digits = False
                break
            fraction = fraction * 10 + (c - 48)
        if not digits or memchr(p + 31, 10, size - 32) != NULL:
            break
        if PyBytes_GET_SIZE(second) != 19 or memcmp(p, PyBytes_AS_STRING(second), 19) != 0:
            head = PyBytes_FromStringAndSize(<const char*>p, 19)
            try:
                found = seconds_of(head)
            except ValueError:
                break
            if not -_NS_LIMIT < found < _NS_LIMIT:
                break
            second = head
            base = found
        out.append((
            PyUnicode_DecodeASCII(<const char*>p, 30, NULL),
            base + fraction,
            PyBytes_FromStringAndSize(<const char*>p + 31, size - 32),
            False,
        ))
        index += 1
    return out, index, second, base


cdef inline object _field(object line, Py_ssize_t k):
    # A Line is a 4-tuple: read it without the generic indexing protocol.
    if type(line) is tuple and PyTuple_GET_SIZE(line) == 4:
        return <object>PyTuple_GET_ITEM(line, k)
    return line[k]


def encode_plain(bytes quote, list lines):
    cdef Py_ssize_t total = 0
    cdef Py_ssize_t qsize = PyBytes_GET_SIZE(quote)
    cdef Py_ssize_t msize = PyBytes_GET_SIZE(_MID)
    cdef Py_ssize_t tsize
    cdef Py_ssize_t xsize
    cdef Py_ssize_t k
    cdef const unsigned char* x
    cdef const char* t
    cdef char* w
    cdef bytes tail
    # Pass 1: every text plain? and the size of the result.
    for line in lines:
        text = _field(line, 2)
        if type(text) is not bytes:
            return None
        x = <const unsigned char*>PyBytes_AS_STRING(text)
        xsize = PyBytes_GET_SIZE(text)
        for k in range(xsize):
            if not PLAIN_BYTE[x[k]]:
                return None
        PyUnicode_AsUTF8AndSize(_field(line, 0), &tsize)
        tail = _END_PARTIAL if _field(line, 3) else _END
        total += qsize + tsize + msize + xsize + PyBytes_GET_SIZE(tail)
    result = PyBytes_FromStringAndSize(NULL, total)
    w = PyBytes_AS_STRING(result)
    cdef char* end = w + total
    # Pass 2: copy the pieces in (checked against the room made: a ``partial`` whose truth
    # test changed the list in between must not write past it).
    for line in lines:
        text = _field(line, 2)
        t = PyUnicode_AsUTF8AndSize(_field(line, 0), &tsize)
        tail = _END_PARTIAL if _field(line, 3) else _END
        if type(text) is not bytes or end - w < (
            qsize + tsize + msize + PyBytes_GET_SIZE(text) + PyBytes_GET_SIZE(tail)
        ):
            raise RuntimeError("the lines changed while they were encoded")
        memcpy(w, PyBytes_AS_STRING(quote), qsize)
        w += qsize
        memcpy(w, t, tsize)
        w += tsize
        memcpy(w, PyBytes_AS_STRING(_MID), msize)
        w += msize
        memcpy(w, PyBytes_AS_STRING(text), PyBytes_GET_SIZE(text))
        w += PyBytes_GET_SIZE(text)
        memcpy(w, PyBytes_AS_STRING(tail), PyBytes_GET_SIZE(tail))
        w += PyBytes_GET_SIZE(tail)
    return result
