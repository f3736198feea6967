# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Is this the file we knew? Device and inode say where it is; a fingerprint of its first bytes says
it is still the same content (an inode is reused by a new file, a truncated file is rewritten)."""

import hashlib
import os

from .reader import data_from

HOLE_READ_BYTES = 64 * 1024
COMPRESSED_SUFFIXES = ('.gz', '.bz2', '.xz', '.zst', '.zip', '.lz4')


class Head:
    """The first bytes of a file, which identify it: the NULs of a hole it starts with (a writer that
    kept its offset after a copytruncate) are counted, not compared, so that two files that both
    start with a hole are still told apart by what follows."""

    __slots__ = ('nuls', 'data')

    def __init__(self, fd, length):
        nuls = 0
        data = os.pread(fd, length, 0)
        while data[:1] == b'\0':
            rest = data.lstrip(b'\0')
            nuls += len(data) - len(rest)
            if rest:
                data = rest[:length]
                if len(data) < length:
                    data += os.pread(fd, length - len(data), nuls + len(data))
                break
            after = data_from(fd, nuls)  # past a sparse hole at once
            if after is None:
                data = b''
                break
            nuls = after
            data = os.pread(fd, HOLE_READ_BYTES, nuls)
        self.nuls = nuls
        self.data = data[:length]

    @property
    def size(self):
        return self.nuls + len(self.data)

    def fingerprint(self, length=None):
        """Hash of the first `length` bytes (all by default); None when the file is shorter."""
        if length is None:
            length = self.size
        elif length > self.size:
            return None
        nuls = min(self.nuls, length)
        return hashlib.blake2b(b'%d:%s' % (nuls, self.data[: length - nuls]), digest_size=16).hexdigest()


def read_head(path, length):
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return Head(fd, length)
    finally:
        os.close(fd)


def same_file(f, path, length):
    """Whether the file now at `path`, with the inode of `f`, is still `f` and not a new file that
    reused its inode: it starts with the same bytes, or, when `f` was empty, it is named like a
    rotation of it (`agent.log` -> `agent.log.1`, `agent.log-20260101`)."""
    if not f.fp_len:
        name = os.path.basename(path)
        return name.startswith(os.path.basename(f.path)) and not name.endswith(COMPRESSED_SUFFIXES)
    try:
        return read_head(path, length).fingerprint(f.fp_len) == f.fp
    except OSError:
        return True  # the read reports it


def rewritten(f, st, head):
    """Whether the file of `f`, open as (`st`, `head`), shrank below its offset or now starts with
    other bytes: truncated, maybe written again."""
    return st.st_size < f.offset or bool(f.fp_len and head.fingerprint(f.fp_len) != f.fp)


def changed_head(f, path, length):
    """The first bytes of a known file if it shrank or now starts differently, or if it has its
    first bytes since it was seen empty (then it may be a copy that reused the inode); else None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None  # the read reports it
    try:
        st = os.fstat(fd)
        head = Head(fd, length)
    finally:
        os.close(fd)
    if (st.st_dev, st.st_ino) != f.key:
        return None
    if rewritten(f, st, head):
        return head
    if not f.fp_len and not f.offset and head.size:
        return head
    return None
