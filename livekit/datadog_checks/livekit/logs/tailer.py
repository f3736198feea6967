# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Tail the agent log files: file identity, offsets, rotation, bounded reads.

A file is known by its device and inode, checked against a fingerprint (a hash of its first bytes,
up to 1 KiB, so that a reused inode or a truncated-and-rewritten file is not mistaken for the old
one). Its offset always sits at the end of a complete line: a partial line is read again next run.

Rotation, each handled without loss or double counting:
- rename and create: the old inode is looked up in its directory and read to its end before the
  new file (a writer may still append to it until it reopens; it is dropped once idle);
- copytruncate: the original shrinks or its first bytes change; the copy is found in the directory
  by its fingerprint and read from the old offset before the truncated original is read again;
- a new file whose first bytes are those of a known file is a copy of it and starts at its offset;
- NUL-filled holes (a writer that kept its offset after a copytruncate) are skipped.

Lines over `max_line_bytes` are skipped and counted without being held in memory. Each run reads
about `max_bytes_per_run` bytes (plus the rest of the line in progress); the rest is left for the
next runs. One file is open at a time (two while a rotated copy is drained).
"""
import errno
import glob
import hashlib
import logging
import os
import stat
import time
from dataclasses import dataclass, field

from .framing import FORMATS, MAX_LINE_BYTES, Framer, count

STATE_VERSION = 1
FINGERPRINT_BYTES = 1024
READ_BLOCK_BYTES = 1024 * 1024
FINISH_LINE_BLOCK_BYTES = 64 * 1024
MAX_FILES = 10000
ROTATED_IDLE_SECONDS = 300
MAX_COPY_CANDIDATES = 100
START_POSITIONS = ('end', 'beginning')


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
    __slots__ = ('path', 'key', 'offset', 'size', 'mtime', 'fp', 'fp_len', 'skip', 'rotated', 'matched', 'framer')

    def __init__(self, path, key, framer):
        self.path = path
        self.key = key  # (st_dev, st_ino)
        self.offset = 0  # where the next line starts (inside an oversized line when `skip`)
        self.size = 0  # at the last stat, for the backlog
        self.mtime = 0.0
        self.fp = None  # hash of the first `fp_len` bytes
        self.fp_len = 0
        self.skip = False  # the offset is inside an oversized line: discard up to its newline
        self.rotated = False  # moved away from its path: read before the files still in place
        self.matched = True  # matched by a pattern in the last poll
        self.framer = framer

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
            'fp': self.fp,
            'fp_len': self.fp_len,
            'skip': self.skip,
            'rotated': self.rotated,
            'framing': self.framer.dump(),
        }


def _fingerprint(head):
    return hashlib.blake2b(head, digest_size=16).hexdigest()


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
            f.mtime, f.fp, f.skip, f.rotated = item['mtime'], item['fp'], item['skip'], item['rotated']
            ints = (key[0], key[1], f.offset, f.size, f.fp_len)
            if type(f.path) is not str or any(type(v) is not int or v < 0 for v in ints):
                raise ValueError('bad file entry')
            if not isinstance(f.mtime, (int, float)) or type(f.skip) is not bool or type(f.rotated) is not bool:
                raise ValueError('bad file entry')
            if f.fp_len > FINGERPRINT_BYTES or (f.fp is None) != (f.fp_len == 0) or not isinstance(f.fp, (str, type(None))):
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
        self._dirs = {}
        now = time.time()
        self._reconcile(self._discover())
        order = sorted(self._files.values(), key=lambda f: (not f.rotated, f.mtime, f.path))
        for f in order:
            if self._files.get(f.key) is f:
                yield from self._read_guarded(f, now)
        self.stats.files = len(self._files)
        self.stats.backlog_bytes = sum(max(0, f.size - f.offset) for f in self._files.values())

    def _discover(self):
        """{(dev, ino): (path, stat)} of the regular files matched, and the paths that failed."""
        found, failed, seen = {}, set(), set()
        for pattern in self.patterns:
            # Not recursive: `**` could walk a symlink loop for ever.
            paths = []
            for path in glob.iglob(pattern):
                if len(seen) + len(paths) >= self.max_files:
                    self.errors.append((pattern, 'matches more than {} files; the others are not read'.format(self.max_files)))
                    break
                if path not in seen:
                    paths.append(path)
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
                    failed.add(path)
                    continue
                # Known by its real path: a rotated file is looked for next to it, not next to a symlink
                # (`/var/log/containers/*.log` link to the files kubelet rotates in `/var/log/pods`).
                found.setdefault((st.st_dev, st.st_ino), (os.path.realpath(path), st))
        return found, failed

    def _reconcile(self, discovered):
        found, failed = discovered
        files = self._files
        first, self._first = self._first, None
        new = {}
        known = self._fingerprints() if first is None else {}
        for key, (path, st) in found.items():
            if key in files:
                continue
            f = new[key] = _File(path, key, Framer(self.log_format, self.max_line_bytes))
            f.size, f.mtime = st.st_size, st.st_mtime
            try:
                if first == 'end':
                    f.offset, f.skip = self._end_offset(path)
                elif known:
                    self._inherit(f, found, known)
            except OSError as e:
                self.errors.append((path, _reason(e)))
                del new[key]
        for key, f in list(files.items()):
            if key in found:
                path, st = found[key]
                if path != f.path:
                    f.path, f.rotated = path, True
                f.size, f.mtime, f.matched = st.st_size, st.st_mtime, True
            elif f.path not in failed:
                self._locate(f)
        files.update(new)

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
        """{fp_len: {fp: file}} of the known files past their first line."""
        known = {}
        for g in self._files.values():
            if g.fp and g.offset:
                known.setdefault(g.fp_len, {})[g.fp] = g
        return known

    def _inherit(self, f, found, known):
        """A new file whose first bytes are those of a known file is a copy: start at its offset."""
        if f.size < min(known):
            return
        fd = os.open(f.path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            head = os.pread(fd, FINGERPRINT_BYTES, 0)
        finally:
            os.close(fd)
        for fp_len, by_fp in known.items():
            g = by_fp.get(_fingerprint(head[:fp_len])) if len(head) >= fp_len else None
            if g is not None and g.offset <= f.size and g.key in self._files:
                self._copy_position(g, f)
                if g.key not in found:
                    # The known file itself is gone (moved to another filesystem): this is it.
                    del self._files[g.key]
                    f.rotated = g.rotated
                return

    def _copy_position(self, source, copy):
        copy.offset, copy.skip, copy.fp, copy.fp_len = source.offset, source.skip, source.fp, source.fp_len
        copy.framer = source.framer.copy()
        copy.rotated = True

    def _locate(self, f):
        """A known file no pattern matched: find it in its directory (rotated) or forget it."""
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
        if st is not None and (st.st_dev, st.st_ino) == f.key and stat.S_ISREG(st.st_mode):
            if path != f.path:
                f.path, f.rotated = path, True
            f.size, f.mtime, f.matched = st.st_size, st.st_mtime, False
            return
        del self._files[f.key]
        if f.size > f.offset:
            self.errors.append(
                (f.path, 'deleted before it was read to the end ({} bytes unread)'.format(f.size - f.offset))
            )
        f.framer.drop(self.stats.rejected)

    def _read_guarded(self, f, now):
        try:
            yield from self._read(f, now)
        except OSError as e:
            self.errors.append((f.path, _reason(e)))
        except Exception as e:  # a bug must not stop the other files
            self.log.exception('Unexpected error while reading %s', f.path)
            self.errors.append((f.path, 'unexpected error: {!r}'.format(e)))

    def _read(self, f, now):
        try:
            fd = os.open(f.path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as e:
            if e.errno == errno.ENOENT:
                return  # moved or deleted since the glob: the next poll finds it or forgets it
            raise
        try:
            st = os.fstat(fd)
            if (st.st_dev, st.st_ino) != f.key:
                return  # replaced since the glob: the next poll sorts it out
            f.size, f.mtime = st.st_size, st.st_mtime
            head = os.pread(fd, FINGERPRINT_BYTES, 0) if f.fp_len or st.st_size else b''
            if st.st_size < f.offset or (f.fp_len and _fingerprint(head[: f.fp_len]) != f.fp):
                if not f.matched:
                    del self._files[f.key]  # a rotated file that is no longer ours (inode reused)
                    return
                yield from self._truncated(f, now)
            start = f.framer.begin_rebuild()
            if start is not None:
                self._rebuild(f, fd, start)
            eof, tail = yield from self._read_lines(f, fd)
            if f.fp_len < FINGERPRINT_BYTES and len(head) > f.fp_len:
                f.fp, f.fp_len = _fingerprint(head), len(head)
            if eof and not f.matched and now - f.mtime >= self.rotated_idle_seconds:
                yield from self._finish(f, tail)
        finally:
            os.close(fd)

    def _truncated(self, f, now):
        """The file shrank or was rewritten: drain its copy (copytruncate) if there is one, then restart."""
        copy = self._find_copy(f) if f.offset and f.fp_len else None
        if copy is not None:
            self._files[copy.key] = copy
            yield from self._read_guarded(copy, now)
        elif f.fp is None or not any(g.fp == f.fp and g is not f for g in self._files.values()):
            # (a copy that matches a pattern took over the pending lines when it was found)
            f.framer.drop(self.stats.rejected)
        f.reset(Framer(self.log_format, self.max_line_bytes))

    def _find_copy(self, f):
        directory = os.path.dirname(f.path)
        name = os.path.basename(f.path)
        tracked = {key[1] for key in self._files}
        candidates = []
        try:
            with os.scandir(directory or '.') as entries:
                for entry in entries:
                    if entry.inode() in tracked or not entry.is_file(follow_symlinks=False):
                        continue
                    st = entry.stat(follow_symlinks=False)
                    if st.st_size >= f.offset:
                        candidates.append((not entry.name.startswith(name), -st.st_mtime, entry.path, st))
        except OSError:
            return None
        for _, _, path, st in sorted(candidates)[:MAX_COPY_CANDIDATES]:
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                same = _fingerprint(os.pread(fd, f.fp_len, 0)) == f.fp
            finally:
                os.close(fd)
            if same:
                copy = _File(path, (st.st_dev, st.st_ino), None)
                copy.size, copy.mtime, copy.matched = st.st_size, st.st_mtime, False
                self._copy_position(f, copy)
                return copy
        return None

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
                if len(data) > max_line and max(map(len, lines)) > max_line:
                    kept = [line for line in lines if len(line) <= max_line]
                    count(stats.rejected, 'oversized', len(lines) - len(kept))
                    lines = kept
                if b'\0' in data:
                    lines = [line.lstrip(b'\0') for line in lines]
                payloads = f.framer.frame(lines, base, stats.rejected)
                if payloads:
                    stats.lines += len(payloads)
                    yield LineBatch(f.path, payloads)
            if carry[:1] == b'\0':
                carry, carry_start, read_pos = self._skip_hole(fd, carry, carry_start, read_pos)
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
        """Drop the NULs starting the line in progress (a hole left by copytruncate); on a sparse
        file, jump over the hole. None when the hole runs to the end of the file."""
        rest = carry.lstrip(b'\0')
        carry_start += len(carry) - len(rest)
        if not rest:
            try:
                data = os.lseek(fd, read_pos, os.SEEK_DATA)
            except OSError as e:
                if e.errno == errno.ENXIO:
                    return None, carry_start, read_pos
                data = read_pos
            carry_start = read_pos = max(read_pos, data)
        return rest, carry_start, read_pos

    def _finish(self, f, tail):
        """A rotated file that stayed idle at its end: deliver what it still holds, then forget it."""
        rejected = self.stats.rejected
        lines = f.framer.frame([tail], f.offset, rejected) if tail else []
        lines.extend(f.framer.flush(rejected))
        if tail:
            f.offset += len(tail)
        del self._files[f.key]
        if lines:
            self.stats.lines += len(lines)
            yield LineBatch(f.path, lines)
