# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Tail the agent log files: file identity, offsets, rotation, bounded reads.

A file is known by its device and inode, checked against a fingerprint (a hash of its first bytes,
up to 1 KiB, so that a reused inode or a truncated-and-rewritten file is not mistaken for the old
one). Its offset always sits at the end of a complete line: a partial line is read again next run.

Rotation, each handled without loss or double counting:
- rename and create: the old inode is looked up in its directory and read to its end before the
  new file (a writer may still append to it until it reopens; it is left once idle);
- copytruncate: the original shrinks or its first bytes change; the copy is found in the directory
  by its fingerprint and read from the old offset before the truncated original is read again (also
  when the original is gone by then);
- a new file whose first bytes are those of a known file is a copy of it and starts at its offset;
- NUL-filled holes (a writer that kept its offset after a copytruncate) are skipped.
A file cannot be followed when it is created and moved out of the patterns between two runs (never
seen), or copied away before a whole first line of it was seen (nothing to recognize the copy by).

Lines over `max_line_bytes` are skipped and counted without being held in memory. Each run reads
about `max_bytes_per_run` bytes (plus the rest of the line in progress); the rest is left for the
next runs. One file is open at a time (two while a rotated copy is drained).
"""

import errno
import glob
import hashlib
import logging
import os
import re
import stat
import time
from dataclasses import dataclass, field

from .framing import FORMATS, MAX_LINE_BYTES, Framer, count

STATE_VERSION = 1
FINGERPRINT_BYTES = 1024
READ_BLOCK_BYTES = 1024 * 1024
FINISH_LINE_BLOCK_BYTES = 64 * 1024
HOLE_READ_BYTES = 64 * 1024
MAX_FILES = 10000
ROTATED_IDLE_SECONDS = 300
DONE_RETENTION_SECONDS = 3600
MAX_COPY_CANDIDATES = 100
START_POSITIONS = ('end', 'beginning')
_GLOB_MAGIC = re.compile(r'[*?[]')
_SEEK_DATA = getattr(os, 'SEEK_DATA', None)  # Linux, macOS
COMPRESSED_SUFFIXES = ('.gz', '.bz2', '.xz', '.zst', '.zip', '.lz4')


@dataclass
class LineBatch:
    path: str
    lines: list  # payloads, framing removed, without the newline


@dataclass
class TailStats:
    """What the last poll did."""

    bytes_read: int = 0
    lines: int = 0
    rejected: dict = field(default_factory=dict)  # reason (oversized, framing, unfinished) -> lines
    backlog_bytes: int = 0  # bytes of the known files still to read
    files: int = 0


class _File:
    __slots__ = (
        'path',
        'key',
        'offset',
        'size',
        'mtime',
        'read_mtime',
        'fp',
        'fp_len',
        'skip',
        'rotated',
        'done',
        'matched',
        'framer',
        'source',
    )

    def __init__(self, path, key, framer):
        self.path = path
        self.key = key  # (st_dev, st_ino)
        self.offset = 0  # where the next line starts (inside an oversized line when `skip`)
        self.size = 0  # at the last stat, for the backlog
        self.mtime = 0.0  # at the last stat
        self.read_mtime = 0.0  # when it was last read: a copy of it made later is at least as recent
        self.fp = None  # hash of the first `fp_len` bytes
        self.fp_len = 0
        self.skip = False  # the offset is inside an oversized line: discard up to its newline
        self.rotated = False  # moved away from its path: read before the files still in place
        self.done = False  # a rotated file read to its end and idle: kept only so it is not taken for new
        self.matched = True  # matched by a pattern in the last poll
        self.framer = framer
        self.source = None  # while reconciling: the known file this new one is a copy of

    def reset(self, framer):
        self.offset = 0
        self.fp = None
        self.fp_len = 0
        self.skip = False
        self.rotated = False
        self.framer = framer

    def dump(self):
        return {
            'path': self.path,
            'dev': self.key[0],
            'ino': self.key[1],
            'offset': self.offset,
            'size': self.size,
            'mtime': self.mtime,
            'read_mtime': self.read_mtime,
            'fp': self.fp,
            'fp_len': self.fp_len,
            'skip': self.skip,
            'rotated': self.rotated,
            'done': self.done,
            'framing': self.framer.dump(),
        }


class _Head:
    """The first bytes of a file, which identify it: the NULs of a hole it starts with (a writer that
    kept its offset after a copytruncate) are counted, not compared, so that two files that both
    start with a hole are still told apart by what follows."""

    __slots__ = ('nuls', 'data')

    def __init__(self, fd):
        nuls = 0
        data = os.pread(fd, FINGERPRINT_BYTES, 0)
        while data[:1] == b'\0':
            rest = data.lstrip(b'\0')
            nuls += len(data) - len(rest)
            if rest:
                data = rest[:FINGERPRINT_BYTES]
                if len(data) < FINGERPRINT_BYTES:
                    data += os.pread(fd, FINGERPRINT_BYTES - len(data), nuls + len(data))
                break
            after = _data_from(fd, nuls)  # past a sparse hole at once
            if after is None:
                data = b''
                break
            nuls = after
            data = os.pread(fd, HOLE_READ_BYTES, nuls)
        self.nuls = nuls
        self.data = data[:FINGERPRINT_BYTES]

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


def _data_from(fd, pos):
    """Where data starts at or after `pos`, past a sparse hole; None when the hole runs to the end
    (`pos` itself where the filesystem cannot tell)."""
    if _SEEK_DATA is None:
        return pos
    try:
        return max(pos, os.lseek(fd, pos, _SEEK_DATA))
    except OSError as e:
        return None if e.errno == errno.ENXIO else pos


def _head(path):
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return _Head(fd)
    finally:
        os.close(fd)


def _reason(error):
    return error.strerror or str(error)


class LogTailer:
    # Limits, overridable per instance (the tests use small ones).
    max_line_bytes = MAX_LINE_BYTES
    read_block_bytes = READ_BLOCK_BYTES
    max_files = MAX_FILES
    rotated_idle_seconds = ROTATED_IDLE_SECONDS

    def __init__(
        self, patterns, *, log_format='auto', start_position='end', max_bytes_per_run=32 * 1024 * 1024, log=None
    ):
        if log_format not in FORMATS:
            raise ValueError('log_format must be one of {}, not {!r}'.format(', '.join(FORMATS), log_format))
        if start_position not in START_POSITIONS:
            raise ValueError('start_position must be end or beginning, not {!r}'.format(start_position))
        if max_bytes_per_run < 1:
            raise ValueError('max_bytes_per_run must be positive')
        self.patterns = list(patterns)
        self.log_format = log_format
        self.start_position = start_position
        self.max_bytes_per_run = max_bytes_per_run
        self.log = log or logging.getLogger(__name__)
        self.errors = []
        self.stats = TailStats()
        self._files = {}
        self._first = start_position  # start of the files found by the next poll; None: their start
        self._budget = 0
        self._dirs = {}
        self._now = 0.0

    # State

    def restore(self, state):
        """Resume from a `dump_state()`; None for the very first run.

        A state this class cannot read is discarded with a warning; the files that exist now are then
        read from their end, so that nothing already counted is counted again.
        """
        self._files = {}
        if state is None:
            self._first = self.start_position
            return
        try:
            files, first = self._load(state)
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            self.log.warning('Discarding the saved agent log offsets (%s); existing files are read from their end', e)
            self._first = 'end'
            return
        self._files = files
        self._first = first

    def _load(self, state):
        if state.get('version') != STATE_VERSION:
            raise ValueError('unknown state version {!r}'.format(state.get('version')))
        first = state.get('first')
        if first not in START_POSITIONS and first is not None:
            raise ValueError('bad start position {!r}'.format(first))
        files = {}
        for item in state['files']:
            key = (item['dev'], item['ino'])
            f = _File(item['path'], key, Framer(self.log_format, self.max_line_bytes))
            f.offset, f.size, f.fp_len = item['offset'], item['size'], item['fp_len']
            f.mtime, f.read_mtime, f.fp = item['mtime'], item['read_mtime'], item['fp']
            f.skip, f.rotated, f.done = item['skip'], item['rotated'], item['done']
            ints = (key[0], key[1], f.offset, f.size, f.fp_len)
            if type(f.path) is not str or any(type(v) is not int or v < 0 for v in ints):
                raise ValueError('bad file entry')
            if any(not isinstance(v, (int, float)) for v in (f.mtime, f.read_mtime)):
                raise ValueError('bad file entry')
            if any(type(v) is not bool for v in (f.skip, f.rotated, f.done)):
                raise ValueError('bad file entry')
            if (f.fp is None) != (f.fp_len == 0) or not isinstance(f.fp, (str, type(None))):
                raise ValueError('bad fingerprint')
            f.framer.restore(item['framing'])
            files[key] = f
        return files, first

    def dump_state(self):
        """JSON-serializable; the offsets cover exactly the lines yielded so far."""
        return {
            'version': STATE_VERSION,
            'first': self._first,
            'files': [f.dump() for f in self._files.values()],
        }

    # Polling

    def poll(self):
        """Read about `max_bytes_per_run` bytes over all matched files; yield batches of lines."""
        self.errors = []
        self.stats = TailStats()
        self._budget = self.max_bytes_per_run
        self._now = time.time()
        self._dirs = {}
        self._reconcile(*self._discover())
        # Rotated files first: their lines were written before those of the file that took their place.
        for f in sorted(self._files.values(), key=lambda f: (not f.rotated, f.mtime, f.path)):
            if self._files.get(f.key) is f and not f.done:
                yield from self._read_guarded(f)
        live = [f for f in self._files.values() if not f.done]
        self.stats.files = len(live)
        self.stats.backlog_bytes = sum(max(0, f.size - f.offset) for f in live)

    def _discover(self):
        """{(dev, ino): (real path, stat)} of the regular files matched, and the paths that could not be
        looked at (a known file there is kept as it is)."""
        found, failed, seen = {}, set(), set()
        for pattern in self.patterns:
            # Not recursive: `**` could walk a symlink loop for ever.
            paths = []
            for path in glob.iglob(pattern):
                if len(seen) + len(paths) >= self.max_files:
                    self.errors.append(
                        (pattern, 'matches more than {} files; the others are not read'.format(self.max_files))
                    )
                    break
                if path not in seen:
                    paths.append(path)
            else:
                if not paths:
                    self._check_unmatched(pattern)
            seen.update(paths)
            for path in sorted(paths):
                try:
                    st = os.stat(path)
                except OSError as e:
                    if e.errno != errno.ENOENT:  # ENOENT: deleted since the glob, or a dangling link
                        self.errors.append((path, _reason(e)))
                    failed.add(path)
                    continue
                if not stat.S_ISREG(st.st_mode):
                    reason = 'is a directory, not a log file' if stat.S_ISDIR(st.st_mode) else 'is not a regular file'
                    self.errors.append((path, reason))
                    continue
                # Known by its real path: a rotated file is looked for next to it, not next to a symlink
                # (`/var/log/containers/*.log` link to the files kubelet rotates in `/var/log/pods`).
                found.setdefault((st.st_dev, st.st_ino), (os.path.realpath(path), st))
        return found, failed

    def _check_unmatched(self, pattern):
        """A pattern matched nothing: report it if that is because its directory cannot be read."""
        parts = pattern.split(os.sep)
        magic = [i for i, part in enumerate(parts) if _GLOB_MAGIC.search(part)]
        probe = os.sep.join(parts[: magic[0]]) or os.sep if magic else pattern
        try:
            if stat.S_ISDIR(os.stat(probe).st_mode):
                os.scandir(probe).close()
        except OSError as e:
            if e.errno not in (errno.ENOENT, errno.ENOTDIR):
                self.errors.append((probe, _reason(e)))

    def _reconcile(self, found, failed):
        """Match the files found with the known ones: unchanged, truncated, copied, moved, new or gone.

        Every decision is taken on the known files as they were at the end of the last poll, before
        any of them is reset, then applied.
        """
        files = self._files
        first, self._first = self._first, None
        known = self._fingerprints() if first is None else {}
        gone, changed = [], []
        for key, f in list(files.items()):
            if key in found:
                path, st = found[key]
                if path != f.path and not self._same_file(f, path):
                    gone.append(files.pop(key))  # its inode now holds another file
                    continue
                head = self._changed_head(f, path)
                if head is not None:
                    changed.append((f, head, st.st_size))
                if path != f.path:
                    f.path, f.rotated = path, True
                f.size, f.mtime, f.matched = st.st_size, st.st_mtime, True
            elif f.path not in failed and not self._locate(f):
                gone.append(files.pop(key))
        new = {}
        for key, (path, st) in found.items():
            if key not in files:
                f = self._new_file(path, key, st, first, known)
                if f is not None:
                    new[key] = f
        truncated = []
        for f, head, size in changed:
            f.source = self._source_of(head, size, f, known)
            if f.source is None and (f.fp_len or f.offset):
                truncated.append(f)
        for f, _, _ in changed:
            if f.source is not None:
                self._copy_position(f.source, f)  # its inode was reused by a copy of another known file
        copied = {id(f.source) for f in new.values()} | {id(f.source) for f, _, _ in changed}
        for f in truncated:
            # copytruncate: the copy holds what was not read yet; it is read before the file restarts.
            copy = self._find_copy(f, set(files) | set(new))
            if copy is not None:
                new[copy.key] = copy
            elif id(f) not in copied:  # (else a copy matched by a pattern took its pending lines)
                f.framer.drop(self.stats.rejected)
            f.reset(Framer(self.log_format, self.max_line_bytes))
        for f in gone:
            if id(f) in copied:
                continue
            copy = self._find_copy(f, set(files) | set(new))  # copied, then deleted or replaced
            if copy is not None:
                new[copy.key] = copy
            else:
                self._lost(f)
        for f in new.values():
            f.source = None
        for f, _, _ in changed:
            f.source = None
        files.update(new)

    def _new_file(self, path, key, st, first, known):
        f = _File(path, key, Framer(self.log_format, self.max_line_bytes))
        f.size, f.mtime = st.st_size, st.st_mtime
        try:
            if first == 'end':
                f.offset, f.skip = self._end_offset(path)
            elif known:
                self._inherit(f, known)
        except OSError as e:
            self.errors.append((path, _reason(e)))
            return None
        return f

    def _changed_head(self, f, path):
        """The first bytes of a known file if it shrank or now starts differently, or if it has its
        first bytes since it was seen empty (then it may be a copy that reused the inode); else None."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return None  # the read reports it
        try:
            st = os.fstat(fd)
            head = _Head(fd)
        finally:
            os.close(fd)
        if (st.st_dev, st.st_ino) != f.key:
            return None
        if st.st_size < f.offset or (f.fp_len and head.fingerprint(f.fp_len) != f.fp):
            return head
        if not f.fp_len and not f.offset and head.size:
            return head
        return None

    def _end_offset(self, path):
        """(offset, skip) just after the last complete line of a file."""
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            end = os.fstat(fd).st_size
            pos = end
            while pos > 0 and end - pos <= self.max_line_bytes:
                size = min(FINISH_LINE_BLOCK_BYTES, pos)
                pos -= size
                nl = os.pread(fd, size, pos).rfind(b'\n')
                if nl >= 0:
                    return pos + nl + 1, False
            return (0, False) if pos == 0 else (end, True)
        finally:
            os.close(fd)

    def _fingerprints(self):
        """{fp_len: {fp: file}} of the known files past their first line (a shorter fingerprint, of
        a partial first line, may be the start of any line: CRI lines all start alike)."""
        known = {}
        for g in self._files.values():
            if g.fp and g.offset:
                known.setdefault(g.fp_len, {})[g.fp] = g
        return known

    def _inherit(self, f, known):
        """A new file whose first bytes are those of a known file is a copy: start at its offset."""
        if f.size < min(known):
            return
        g = self._source_of(_head(f.path), f.size, f, known)
        if g is not None:
            self._copy_position(g, f)
            f.source = g
            if g.key not in self._files:
                f.rotated = g.rotated  # the known file itself is gone (moved to another filesystem): this is it

    def _source_of(self, head, size, f, known):
        """The known file, other than `f`, of which a file starting with `head` is a copy."""
        for fp_len, by_fp in known.items():
            g = by_fp.get(head.fingerprint(fp_len))
            if g is not None and g is not f and g.offset <= size:
                return g
        return None

    def _copy_position(self, source, copy):
        copy.offset, copy.skip, copy.fp, copy.fp_len = source.offset, source.skip, source.fp, source.fp_len
        copy.framer = source.framer.copy()
        copy.rotated = True

    def _find_copy(self, f, tracked):
        """The copy that copytruncate made of `f`: next to it, at least as long as what was read of
        it, starting with the same bytes, and written after it was last read (an older file may share
        a short first line)."""
        if not f.fp_len:
            return None
        directory = os.path.dirname(f.path)
        name = os.path.basename(f.path)
        inodes = {key[1] for key in tracked}
        candidates = []
        try:
            with os.scandir(directory or '.') as entries:
                for entry in entries:
                    if entry.inode() in inodes or not entry.is_file(follow_symlinks=False):
                        continue
                    st = entry.stat(follow_symlinks=False)
                    if st.st_size >= f.offset and st.st_mtime >= f.read_mtime:
                        candidates.append((not entry.name.startswith(name), -st.st_mtime, entry.path, st))
        except OSError:
            return None
        for _, _, path, st in sorted(candidates)[:MAX_COPY_CANDIDATES]:
            try:
                same = _head(path).fingerprint(f.fp_len) == f.fp
            except OSError:
                continue
            if same:
                copy = _File(path, (st.st_dev, st.st_ino), None)
                copy.size, copy.mtime, copy.matched = st.st_size, st.st_mtime, False
                self._copy_position(f, copy)
                return copy
        return None

    def _locate(self, f):
        """Whether a known file no pattern matched is still there, rotated next to where it was.

        A file read to its end is kept only while it may still be taken for a new one.
        """
        directory = os.path.dirname(f.path)
        if directory not in self._dirs:
            try:
                with os.scandir(directory or '.') as entries:
                    self._dirs[directory] = {e.inode(): e.path for e in entries}
            except OSError:
                self._dirs[directory] = {}
        path = self._dirs[directory].get(f.key[1])
        st = None
        if path is not None:
            try:
                st = os.stat(path)
            except OSError:
                pass
        if (
            st is not None
            and (st.st_dev, st.st_ino) == f.key
            and stat.S_ISREG(st.st_mode)
            and st.st_size >= f.offset
            and self._same_file(f, path)
        ):
            if path != f.path:
                f.path, f.rotated = path, True
            f.size, f.mtime, f.matched = st.st_size, st.st_mtime, False
            return not f.done or self._now - f.mtime < DONE_RETENTION_SECONDS
        return False

    def _lost(self, f):
        """A known file is gone: say so if it still held bytes that were not read."""
        if f.done:
            return
        if f.size > f.offset:
            self.errors.append(
                (
                    f.path,
                    'deleted or replaced before it was read to the end ({} bytes unread)'.format(f.size - f.offset),
                )
            )
        f.framer.drop(self.stats.rejected)

    def _same_file(self, f, path):
        """Whether the file now at `path`, with the inode of `f`, is still `f` and not a new file that
        reused its inode: it starts with the same bytes, or, when `f` was empty, it is named like a
        rotation of it (`agent.log` -> `agent.log.1`, `agent.log-20260101`)."""
        if not f.fp_len:
            name = os.path.basename(path)
            return name.startswith(os.path.basename(f.path)) and not name.endswith(COMPRESSED_SUFFIXES)
        try:
            return _head(path).fingerprint(f.fp_len) == f.fp
        except OSError:
            return True  # the read reports it

    # Reading

    def _read_guarded(self, f):
        try:
            yield from self._read(f)
        except OSError as e:
            self.errors.append((f.path, _reason(e)))
        except Exception as e:  # a bug must not stop the other files
            self.log.exception('Unexpected error while reading %s', f.path)
            self.errors.append((f.path, 'unexpected error: {!r}'.format(e)))

    def _read(self, f):
        try:
            fd = os.open(f.path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as e:
            if e.errno == errno.ENOENT:
                return  # moved or deleted since the glob: the next poll finds it or forgets it
            raise
        try:
            st = os.fstat(fd)
            head = _Head(fd)
            if (st.st_dev, st.st_ino) != f.key:
                return  # replaced since the glob: the next poll sorts it out
            if st.st_size < f.offset or (f.fp_len and head.fingerprint(f.fp_len) != f.fp):
                return  # truncated since the glob: likewise
            f.size, f.mtime = st.st_size, st.st_mtime
            start = f.framer.begin_rebuild()
            if start is not None:
                self._rebuild(f, fd, start)
            eof, tail = yield from self._read_lines(f, fd)
            f.read_mtime = st.st_mtime
            if head.size > f.fp_len:
                f.fp, f.fp_len = head.fingerprint(), head.size
            if eof and not f.matched and self._now - st.st_mtime >= self.rotated_idle_seconds:
                yield from self._finish(f, tail)
        finally:
            os.close(fd)

    def _rebuild(self, f, fd, start):
        """Read again the parts of the lines that were pending when the state was saved."""
        carry = b''
        pos = start
        while pos < f.offset:
            chunk = os.pread(fd, min(self.read_block_bytes, f.offset - pos), pos)
            if not chunk:
                break
            pos += len(chunk)
            lines = (carry + chunk).split(b'\n')
            carry = lines.pop()
            if len(carry) > self.max_line_bytes:
                carry = b''  # an oversized line: its rest comes as a line of its own, which does not parse
            f.framer.rebuild([line.lstrip(b'\0') for line in lines])
        f.framer.end_rebuild()

    def _read_lines(self, f, fd):
        """Yield batches from the offset on; return (reached EOF, the partial line left at EOF)."""
        stats = self.stats
        max_line = self.max_line_bytes
        read_pos = f.offset
        start = None if f.skip else _data_from(fd, read_pos)
        if start is not None:
            read_pos = f.offset = start  # a line starts here: a sparse hole before it is skipped
        carry = b''  # the line in progress, without leading NULs
        carry_start = read_pos  # file offset of carry[0]
        while True:
            finishing = self._budget <= 0
            if finishing and not carry:
                return False, b''
            want = FINISH_LINE_BLOCK_BYTES if finishing else min(self.read_block_bytes, self._budget)
            chunk = os.pread(fd, want, read_pos)
            if not chunk:
                return True, carry
            if finishing and b'\n' in chunk:
                chunk = chunk[: chunk.index(b'\n') + 1]  # only the end of the line in progress
            read_pos += len(chunk)
            self._budget -= len(chunk)
            stats.bytes_read += len(chunk)
            if f.skip:
                nl = chunk.find(b'\n')
                if nl < 0:
                    f.offset = read_pos
                    continue
                f.skip = False
                chunk = chunk[nl + 1 :]
                f.offset = carry_start = read_pos - len(chunk)
            data = carry + chunk if carry else chunk
            nl = data.rfind(b'\n')
            if nl < 0:
                carry = data
            else:
                lines = data.split(b'\n')
                carry = lines.pop()
                base = carry_start
                f.offset = carry_start = carry_start + nl + 1
                if b'\0' in data:
                    lines = [line.lstrip(b'\0') for line in lines]
                # Only the first line can be longer than what was just read.
                if len(lines[0]) > max_line or (len(chunk) > max_line and max(map(len, lines)) > max_line):
                    kept = [line for line in lines if len(line) <= max_line]
                    count(stats.rejected, 'oversized', len(lines) - len(kept))
                    lines = kept
                payloads = f.framer.frame(lines, base, stats.rejected)
                if payloads:
                    stats.lines += len(payloads)
                    yield LineBatch(f.path, payloads)
            if carry[:1] == b'\0':
                carry, carry_start, read_pos = self._skip_hole(fd, carry, carry_start, read_pos)
                if not f.skip:
                    f.offset = carry_start  # the hole is consumed: the next line starts after it
                if carry is None:
                    return True, b''
            if len(carry) > max_line:
                count(stats.rejected, 'oversized')
                carry = b''
                f.offset = carry_start = read_pos
                f.skip = True
            elif finishing and nl >= 0:
                return False, b''

    def _skip_hole(self, fd, carry, carry_start, read_pos):
        """Drop the NULs starting the line in progress: the hole a writer that kept its offset leaves
        after a copytruncate. On a sparse file, jump over it. None when it runs to the end of the file."""
        rest = carry.lstrip(b'\0')
        carry_start += len(carry) - len(rest)
        if not rest:
            data = _data_from(fd, read_pos)
            if data is None:
                return None, carry_start, read_pos
            carry_start = read_pos = data
        return rest, carry_start, read_pos

    def _finish(self, f, tail):
        """A rotated file that stayed idle at its end: deliver what it still holds, then leave it."""
        rejected = self.stats.rejected
        lines = f.framer.frame([tail], f.offset, rejected) if tail else []
        lines.extend(f.framer.flush(rejected))
        f.offset = f.size
        f.done = True
        if lines:
            self.stats.lines += len(lines)
            yield LineBatch(f.path, lines)
