# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Known files vs found ones: unchanged, renamed, copied, truncated, new or gone.

Each rotation is handled without loss or double counting:
- rename and create: the old inode is looked up in its directory and read to its end before the
  new file (a writer may still append to it until it reopens; it is left once idle);
- copytruncate: the original shrinks or its first bytes change; the copy is found in the directory
  by its fingerprint and read from the old offset before the truncated original is read again (also
  when the original is gone by then);
- a new file whose first bytes are those of a known file is a copy of it and starts at its offset.
A file cannot be followed when it is created and moved out of the patterns between two runs (never
seen), or copied away before a whole first line of it was seen (nothing to recognize the copy by).
"""

import os
import stat

from .discovery import reason
from .identity import changed_head, read_head, same_file
from .reader import end_offset
from .state import TrackedFile


class Rotation:
    """One poll's reconciliation of the known files (`files`, updated in place) with those found."""

    def __init__(self, files, run, options):
        self.files = files
        self.run = run
        self.options = options
        self._dirs = {}  # directory -> {inode: path}, listed at most once a poll

    def reconcile(self, found, failed, first):
        """Match the files found with the known ones. `first` is where new files start ('end',
        'beginning'; None: at their start, or at the offset of the known file they copy).

        Every decision is taken on the known files as they were at the end of the last poll, before
        any of them is reset, then applied.
        """
        files = self.files
        length = self.options.fingerprint_bytes
        known = self._fingerprints() if first is None else {}
        gone, changed = [], []
        for key, f in list(files.items()):
            if key in found:
                path, st = found[key]
                if path != f.path and not same_file(f, path, length):
                    gone.append(files.pop(key))  # its inode now holds another file
                    continue
                head = changed_head(f, path, length)
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
                _copy_position(f.source, f)  # its inode was reused by a copy of another known file
        copied = {id(f.source) for f in new.values()} | {id(f.source) for f, _, _ in changed}
        for f in truncated:
            # copytruncate: the copy holds what was not read yet; it is read before the file restarts.
            copy = self._find_copy(f, set(files) | set(new))
            if copy is not None:
                new[copy.key] = copy
            elif id(f) not in copied:  # (else a copy matched by a pattern took its pending lines)
                f.framer.drop(self.run.stats.rejected)
            f.reset(self.options.framer())
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
        f = TrackedFile(path, key, self.options.framer())
        f.size, f.mtime = st.st_size, st.st_mtime
        try:
            if first == 'end':
                f.offset, f.skip = end_offset(path, self.options.max_line_bytes)
            elif known:
                self._inherit(f, known)
        except OSError as e:
            self.run.errors.append((path, reason(e)))
            return None
        return f

    def _fingerprints(self):
        """{fp_len: {fp: file}} of the known files past their first line (a shorter fingerprint, of
        a partial first line, may be the start of any line: CRI lines all start alike)."""
        known = {}
        for g in self.files.values():
            if g.fp and g.offset:
                known.setdefault(g.fp_len, {})[g.fp] = g
        return known

    def _inherit(self, f, known):
        """A new file whose first bytes are those of a known file is a copy: start at its offset."""
        if f.size < min(known):
            return
        g = self._source_of(read_head(f.path, self.options.fingerprint_bytes), f.size, f, known)
        if g is not None:
            _copy_position(g, f)
            f.source = g
            if g.key not in self.files:
                f.rotated = g.rotated  # the known file itself is gone (moved to another filesystem): this is it

    @staticmethod
    def _source_of(head, size, f, known):
        """The known file, other than `f`, of which a file starting with `head` is a copy."""
        for fp_len, by_fp in known.items():
            g = by_fp.get(head.fingerprint(fp_len))
            if g is not None and g is not f and g.offset <= size:
                return g
        return None

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
        for _, _, path, st in sorted(candidates)[: self.options.max_copy_candidates]:
            try:
                same = read_head(path, self.options.fingerprint_bytes).fingerprint(f.fp_len) == f.fp
            except OSError:
                continue
            if same:
                copy = TrackedFile(path, (st.st_dev, st.st_ino), None)
                copy.size, copy.mtime, copy.matched = st.st_size, st.st_mtime, False
                _copy_position(f, copy)
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
            and same_file(f, path, self.options.fingerprint_bytes)
        ):
            if path != f.path:
                f.path, f.rotated = path, True
            f.size, f.mtime, f.matched = st.st_size, st.st_mtime, False
            return not f.done or self.run.now - f.mtime < self.options.done_retention_seconds
        return False

    def _lost(self, f):
        """A known file is gone: say so if it still held bytes that were not read."""
        if f.done:
            return
        if f.size > f.offset:
            unread = f.size - f.offset
            message = 'deleted or replaced before it was read to the end ({} bytes unread)'.format(unread)
            self.run.errors.append((f.path, message))
        f.framer.drop(self.run.stats.rejected)


def _copy_position(source, copy):
    copy.offset, copy.skip, copy.fp, copy.fp_len = source.offset, source.skip, source.fp, source.fp_len
    copy.framer = source.framer.copy()
    copy.rotated = True
